"""The voice assist page in headless Chromium: a WAV file is the browser's microphone
(--use-fake-device-for-media-stream --use-file-for-fake-audio-capture); the test presses
Talk, lets the command play, presses Talk again, sees the read-back, presses Yes and sees
the equipment change -- the page's own microphone capture, 16 kHz WAV encoding, upload,
recognition and confirmation, end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from tools import require, require_module

from models.voice.speech import RATE, read_wav, synthesize, wav_bytes

EQUIPMENT = {
    "ports": [1, 2, 3, 4],
    "lines": [1, 2, 3, 4],
    "cross": {"1": 1, "3": 3},
    "numbers": {"2125550100": {"state": "available", "holder": None}},
    "phones": ["lobby"],
    "extensions": {"201": "lobby"},
    "forwarding": {},
    "calls_up": [],
}


@pytest.fixture
def service(tmp_path):
    (tmp_path / "equipment.json").write_text(json.dumps(EQUIPMENT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.voice", "--port", "0", "--db", str(tmp_path / "v.db"),
         "--equipment", str(tmp_path / "equipment.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert line.startswith("ready http="), line + proc.stderr.read()
    yield "http://" + line.split("=", 1)[1].strip()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)


def test_speak_confirm_and_see_the_state_change(service, tmp_path):
    require("espeak-ng", "apt-get install espeak-ng")
    chromium = require("chromium", "apt-get install chromium")
    driver_path = require("chromedriver", "apt-get install chromium-driver")
    require_module("selenium", "pip install selenium (in requirements.lock)")
    require_module("pocketsphinx", "pip install pocketsphinx (in requirements.lock)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as Driver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    speech = read_wav(synthesize("disconnect port three from line three", rate=150), max_seconds=10)
    silence = np.zeros(RATE, dtype=np.int16)
    mic = tmp_path / "mic.wav"
    mic.write_bytes(wav_bytes(np.concatenate([silence, speech, silence, silence])))
    seconds = (3 * RATE + len(speech)) / RATE

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={mic}",
                "--autoplay-policy=no-user-gesture-required"):  # fmt: skip
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Driver(executable_path=driver_path), options=options)
    try:
        browser.get(service + "/")
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: '"cross"' in b.find_element(By.ID, "state").text)
        browser.find_element(By.ID, "talk").click()
        time.sleep(seconds - 0.5)  # the fake microphone plays the file from the start
        browser.find_element(By.ID, "talk").click()
        wait.until(lambda b: b.find_element(By.ID, "outcome").text != "")
        heard = browser.find_element(By.ID, "transcript").text
        outcome = browser.find_element(By.ID, "outcome").text
        assert (heard, outcome) == ("disconnect port three from line three", "confirm"), (
            browser.find_element(By.ID, "reply").text
        )
        assert browser.find_element(By.ID, "reply").text.startswith("Did you say: disconnect")
        assert httpx.get(service + "/state").json()["cross"] == {"1": 1, "3": 3}  # not yet
        browser.find_element(By.ID, "yes").click()
        wait.until(lambda b: b.find_element(By.ID, "outcome").text == "executed")
        assert (
            "Port three disconnected from line three" in browser.find_element(By.ID, "reply").text
        )
        assert httpx.get(service + "/state").json()["cross"] == {"1": 1}
        wait.until(lambda b: '"3": 3' not in b.find_element(By.ID, "state").text)
        journal = httpx.get(service + "/journal").json()
        assert journal[0]["who"] == "assist-page" and journal[0]["action"] == "disconnect"
    finally:
        browser.quit()
