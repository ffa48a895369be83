"""The voice service on a free port, exercised with real clients (httpx, a WebSocket
client): typed and spoken commands, read-back with yes, no and timeout, undo, the journal,
every kind of bad input (nothing changes and the service keeps answering), and kill -9
losing no acknowledged action."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest
from tools import require, require_module

from models.voice.speech import synthesize

EQUIPMENT = {
    "ports": [1, 2, 3, 4],
    "lines": [1, 2, 3, 4],
    "cross": {"1": 1, "3": 3},
    "numbers": {
        "2125550100": {"state": "available", "holder": None},
        "2125550142": {"state": "assigned", "holder": "phone:lobby"},
    },
    "phones": ["lobby", "alpha"],
    "extensions": {"201": "lobby"},
    "forwarding": {},
    "calls_up": [1],
}


class Service:
    def __init__(self, folder: Path, *extra: str, module=("sim.cli", "serve", "voice")) -> None:
        self.folder = folder
        (folder / "equipment.json").write_text(json.dumps(EQUIPMENT))
        self.args = [
            sys.executable, "-m", *module, "--port", "0",
            "--db", str(folder / "voice.db"), "--equipment", str(folder / "equipment.json"),
            "--confirm-timeout", "1.0", *extra,
        ]  # fmt: skip
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline()
        assert line.startswith("ready http="), line + self.proc.stderr.read()
        self.url = "http://" + line.split("=", 1)[1].strip()
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def say(self, text: str, session: str = "t", who: str = "tester") -> dict:
        r = self.http.post("/command", json={"text": text, "session": session, "who": who})
        assert r.status_code == 200, r.text
        return r.json()

    def state(self) -> dict:
        return self.http.get("/state").json()

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.http.close()
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    s = Service(tmp_path_factory.mktemp("voice"))
    yield s
    code, err = s.stop()
    assert code == 0 and "voice stopped" in err


def test_a_typed_query_is_answered_and_not_journalled(svc):
    r = svc.say("show status of line one")
    assert r["outcome"] == "answered" and r["intent"] == {"action": "status_line", "line": 1}
    assert r["reply"] == "Line one is on port one, with a call up."
    assert svc.http.get("/journal").json() == []


def test_a_change_is_read_back_then_executed_and_journalled_with_who_text_and_confidence(svc):
    r = svc.say("connect port two to line two", who="alice")  # the default policy: changes
    assert r["outcome"] == "confirm" and "2" not in svc.state()["cross"]
    r = svc.say("yes", who="alice")
    assert r["outcome"] == "executed" and r["journal"] is not None
    assert svc.state()["cross"]["2"] == 2
    entry = svc.http.get("/journal").json()[0]
    assert entry["who"] == "alice" and entry["heard"] == "connect port two to line two"
    assert entry["confidence"] == 1.0 and entry["action"] == "connect"
    r = svc.say("undo the last change")  # destructive: read back
    assert r["outcome"] == "confirm" and r["expect"] == "yes_no"
    assert svc.say("perhaps")["reply"] == "Please say yes or no."
    r = svc.say("yes")
    assert r["outcome"] == "executed" and r["reply"].startswith("Undone: Port two connected")
    assert "2" not in svc.state()["cross"]
    assert svc.http.get("/journal").json()[0]["undoes"] == entry["id"]


def test_destructive_commands_wait_for_yes(svc):
    before = svc.state()
    r = svc.say("disconnect port three from line three")
    assert r["outcome"] == "confirm" and r["reply"].startswith("Did you say: disconnect")
    assert svc.state() == before  # nothing done yet
    assert svc.say("no")["outcome"] == "cancelled"
    assert svc.state() == before
    svc.say("disconnect port three from line three")
    assert svc.say("yes")["outcome"] == "executed"
    assert "3" not in svc.state()["cross"]


def test_a_read_back_times_out(svc):
    before = svc.state()
    assert svc.say("release number 2125550142", session="slow")["outcome"] == "confirm"
    time.sleep(1.3)
    r = svc.say("yes", session="slow")
    assert r["outcome"] == "timed_out" and svc.state() == before


def test_missing_equipment_is_explained_never_guessed(svc):
    before = svc.state()
    r = svc.say("connect port nine to line two")
    assert r["outcome"] == "explained" and r["reply"] == "There is no port nine."
    assert svc.say("move extension 201 to phone bravo")["reply"] == "There is no phone named bravo."
    assert svc.state() == before


def _wav(samples: np.ndarray, rate: int = 16_000, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def _tone(seconds: float, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


BAD_AUDIO = {
    "empty": (b"", "not a WAV"),
    "not a WAV": (b"ID3" + b"\x00" * 200, "not a WAV"),
    "truncated header": (b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 40, "unreadable"),
    "silence": (_wav(np.zeros(16_000)), "silence"),
    "too long": (_wav(_tone(12.0)), "longer than"),
    "too short": (_wav(_tone(0.05)), "shorter than"),
    "8 kHz": (_wav(_tone(1.0, 8000), rate=8000), "sample rate"),
    "stereo": (_wav(np.repeat(_tone(1.0), 2), channels=2), "mono"),
}


@pytest.mark.parametrize("case", sorted(BAD_AUDIO))
def test_bad_audio_is_refused_and_nothing_changes(svc, case):
    data, message = BAD_AUDIO[case]
    before = svc.state()
    r = svc.http.post("/audio", content=data, headers={"X-Session": "bad"})
    assert r.status_code in (413, 422), r.text
    assert message in r.json()["error"]
    assert svc.state() == before
    assert svc.say("show status of port one")["outcome"] == "answered"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [(b"{", 400, "not JSON"), (b"[1, 2]", 422, "JSON object"), (b"\xff\xfe", 400, "not JSON"),
     (b'{"text": 5}', 422, "text"), (b'{"text": ""}', 422, "text"),
     (b'{"text": "show status of port one", "extra": 1}', 422, "extra"),
     (json.dumps({"text": "x" * 600}).encode(), 422, "text"),
     (b'{"text": "connect", "session": "a b"}', 422, "session"),
     (b"{" + b" " * 9000 + b"}", 413, "larger")],
)  # fmt: skip
def test_bad_json_is_refused(svc, body, status, message):
    before = svc.state()
    r = svc.http.post("/command", content=body)
    assert r.status_code == status and message in r.json()["error"], r.text
    assert svc.state() == before


def test_unknown_commands_ask_to_repeat(svc):
    before = svc.state()
    for text in ["make me a sandwich", "connect port", "yes"]:
        assert svc.say(text, session="u")["outcome"] == "repeat"
    assert svc.state() == before


@pytest.fixture(scope="module")
def spoken_wavs():
    require("espeak-ng", "apt-get install espeak-ng")
    require_module("pocketsphinx", "pip install pocketsphinx (in requirements.lock)")
    texts = {
        "query": "show status of port four",
        "disconnect": "disconnect port one from line one",
        "yes": "yes",
    }
    return {k: synthesize(t, voice="en-us", rate=150) for k, t in texts.items()}


def test_spoken_commands_are_recognised_read_back_and_confirmed(svc, spoken_wavs):
    h = {"X-Session": "spoken", "X-Who": "bob"}
    r = svc.http.post("/audio", content=spoken_wavs["query"], headers=h).json()
    assert r["intent"] == {"action": "status_port", "port": 4}, r
    assert r["outcome"] == "answered" and 0 <= r["confidence"] <= 1 and r["recognition_ms"] > 0
    r = svc.http.post("/audio", content=spoken_wavs["disconnect"], headers=h).json()
    assert r["outcome"] == "confirm", r
    assert r["intent"] == {"action": "disconnect", "port": 1, "line": 1}
    r = svc.http.post("/audio", content=spoken_wavs["yes"], headers=h).json()
    assert r["outcome"] == "executed", r
    assert "1" not in svc.state()["cross"]
    entry = svc.http.get("/journal").json()[0]
    assert entry["who"] == "bob" and entry["action"] == "disconnect"
    assert entry["heard"] == "disconnect port one from line one"
    # the grammar follows the equipment: the pair is gone, so it can no longer be heard
    r = svc.http.post("/audio", content=spoken_wavs["disconnect"], headers=h).json()
    assert r["intent"] != {"action": "disconnect", "port": 1, "line": 1}, r
    assert "1" not in svc.state()["cross"]


def test_the_next_grammar_is_compiled_after_each_turn_in_the_decoder_thread(tmp_path):
    import asyncio
    import threading

    from models.voice import CONFIRMATION_POLICIES, Equipment
    from models.voice.jsgf import command_grammar
    from models.voice.recognize import in_dictionary
    from services.voice.engine import Engine
    from services.voice.store import Store
    from services.voice.web import Limits, Voice

    class Recorder:  # stands for the recogniser: which grammar it compiled, in which thread
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, str]] = []

        def set_grammar(self, name: str, text: str, *, fillers: bool = False) -> None:
            self.calls.append((name, text, threading.current_thread().name))

    store = Store(str(tmp_path / "voice.db"), Equipment.from_dict(EQUIPMENT))
    engine = Engine(store, CONFIRMATION_POLICIES.build("changes"), repeat_below=0.05, timeout=30)
    voice = Voice(engine, Limits(max_seconds=10, silence_dbfs=-50, max_text=500))
    asyncio.run(voice.text_turn({"text": "show status of port one"}))  # before any speech:
    voice.pool.submit(lambda: None).result()
    assert voice._recognizer is None  # no speech yet: no decoder loaded, nothing compiled
    voice._recognizer = recorder = Recorder()
    asyncio.run(voice.text_turn({"text": "disconnect port one from line one"}))
    asyncio.run(voice.text_turn({"text": "yes"}))
    voice.pool.submit(lambda: None).result()
    assert "1" not in store.equipment.to_dict()["cross"]
    name, text, thread = recorder.calls[-1]
    assert (name, text) == ("command", command_grammar(store.equipment, in_dictionary))
    assert "port one from line one" not in text and thread.startswith("decoder")
    voice.pool.shutdown()
    store.close()


def test_the_websocket_takes_text_and_audio_turns(svc, spoken_wavs):
    import websocket  # websocket-client

    ws = websocket.create_connection(svc.url.replace("http", "ws") + "/ws", timeout=30)
    try:
        ws.send(json.dumps({"text": "show status of port one"}))
        assert json.loads(ws.recv())["outcome"] == "answered"
        ws.send("{nope")
        assert "not JSON" in json.loads(ws.recv())["error"]
        ws.send_binary(b"garbage")
        assert "not a WAV" in json.loads(ws.recv())["error"]
        ws.send_binary(spoken_wavs["query"])
        assert json.loads(ws.recv())["intent"] == {"action": "status_port", "port": 4}
    finally:
        ws.close()


def test_speech_and_page(svc):
    require("espeak-ng", "apt-get install espeak-ng")
    r = svc.http.get("/speech", params={"text": "Port one is free."})
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    assert svc.http.get("/speech", params={"text": ""}).status_code == 422
    page = svc.http.get("/")
    assert page.status_code == 200 and 'id="talk"' in page.text


def test_kill_9_loses_no_acknowledged_action(tmp_path):
    s = Service(tmp_path, module=("services.voice",))  # a faster start than tnlab's
    acked = []
    for port, line in ((2, 2), (4, 4)):
        assert s.say(f"connect port {port} to line {line}")["outcome"] == "confirm"
        r = s.say("yes")
        assert r["outcome"] == "executed"
        acked.append(r["journal"])
    s.say("release number 2125550142")
    assert s.say("yes")["outcome"] == "executed"
    before = s.state()
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(timeout=10)
    s.http.close()
    s.start()  # the same database
    try:
        assert s.state() == before
        journal = s.http.get("/journal").json()
        assert [e["action"] for e in journal] == ["release", "connect", "connect"]
        assert {e["id"] for e in journal} >= set(acked)
    finally:
        code, _ = s.stop()
    assert code == 0


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--port", "70000"], "--port"), (["--policy", "sometimes"], "--policy"),
     (["--threshold", "2"], "--threshold"), (["--confirm-timeout", "nan"], "--confirm-timeout"),
     (["--equipment", "/nonexistent.json"], "--equipment")],
)  # fmt: skip
def test_bad_options_exit_2_with_one_line(option, message, capsys):
    import argparse

    from services.voice.cli import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(option)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
