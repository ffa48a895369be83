"""Every shipped experiment's report in a real browser (headless Chromium): the page never
scrolls sideways and every figure lies within the window, at a desktop and a narrow width.
Full-page screenshots are kept as artefacts in ``$TNLAB_ARTEFACTS/screenshots`` (default
``reports/screenshots``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SHIPPED
from tools import require, require_module

WIDTHS = (1400, 800)
"""Window widths the reports are checked at (px): a desktop and a narrow laptop window."""

ARTEFACTS = Path(os.environ.get("TNLAB_ARTEFACTS", "reports")) / "screenshots"

MEASURE = """
const width = document.documentElement.clientWidth;
return {
  width: width,
  scroll: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight,
  images: [...document.images].map(i => {
    const r = i.getBoundingClientRect();
    return [r.left, r.right, i.naturalWidth];
  }),
};
"""


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by chromedriver (selenium)."""
    require_module("selenium", "pip install selenium (the dev extra)")
    driver_path = require("chromedriver", "apt-get install chromium-driver")
    binary = require("chromium", "apt-get install chromium")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.parametrize("name", SHIPPED)
def test_the_report_fits_the_window(browser, small_report, name):
    page = small_report(name).out / "index.html"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        browser.get(page.as_uri())
        found = browser.execute_script(MEASURE)
        assert found["scroll"] <= found["width"], (
            f"{name} at {width}px scrolls sideways: {found['scroll']} > {found['width']}"
        )
        assert found["images"], f"{name}: a report with no figure"
        for left, right, natural in found["images"]:
            assert natural > 0, f"{name}: an image that did not load"
            assert 0 <= left and right <= found["width"] + 0.5, (
                f"{name} at {width}px: an image spans {left:.0f}-{right:.0f}px"
            )
        browser.set_window_size(width, min(found["height"], 20000))
        browser.save_screenshot(str(ARTEFACTS / f"{name}-{width}.png"))
