"""``docs/extending.md`` does what it says: its files written as shown, its commands run as
shown in a fresh folder, its notebook cell run as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str, str]]:
    """(language, info after it, body) of every fenced block of the page."""
    return [(m[1], m[2].strip(), m[3]) for m in BLOCK.finditer(PAGE.read_text())]


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The page's files written and its console commands run, in order, in a fresh folder;
    each command's result."""
    here = tmp_path_factory.mktemp("extending")
    results = []
    for language, info, body in _blocks():
        if info.startswith("file="):
            (here / info.removeprefix("file=")).write_text(body)
        elif language == "console":
            for line in body.splitlines():
                argv = shlex.split(line.removeprefix("$ "))
                assert argv[0] == "tnlab"
                exe = Path(sys.executable).with_name("tnlab")
                done = subprocess.run([exe, *argv[1:]], cwd=here, capture_output=True, text=True)
                results.append((line, done))
    return here, results


def test_every_command_of_the_page_succeeds(walked):
    _, results = walked
    assert [line.split()[2] for line, _ in results] == [
        "validate", "run", "run", "list", "compare"
    ]  # fmt: skip
    for line, done in results:
        assert done.returncode == 0, f"{line}: {done.stderr}"


def test_the_detector_is_scored_and_differs_from_the_built_in(walked):
    here, results = walked
    listing = results[3][1].stdout
    assert "runs/mine" in listing and "runs/builtin" in listing
    assert listing.count("5/5 runs") == 2
    compare = results[4][1].stdout
    assert "paired" in compare.splitlines()[0]
    delivered = [ln for ln in compare.splitlines() if "detection.robocalls_delivered" in ln]
    assert len(delivered) == 1  # printed only when the interval of B - A excludes 0
    assert "B - A -" in delivered[0]  # the rapid-fire rule lets fewer robocalls through
    report = (here / "runs" / "mine" / "index.html").read_text()
    assert "my_detectors:RapidFire" in report


def test_a_misspelt_parameter_is_the_one_line_the_page_quotes(walked):
    here, _ = walked
    exe = Path(sys.executable).with_name("tnlab")
    key = 'detection.detectors."my_detectors:RapidFire".callz=8'
    bad = subprocess.run(
        [exe, "validate", "my_experiment.toml", "--set", key],
        cwd=here,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert lines == [
        'tnlab: error: detection.detectors."my_detectors:RapidFire".callz: unknown key '
        "(parameters of my_detectors:RapidFire: calls, gap_seconds)"
    ]


def test_the_notebook_cell_runs_a_class_defined_in_the_notebook(walked, monkeypatch):
    here, _ = walked
    monkeypatch.chdir(here)  # a notebook's kernel imports from its folder
    monkeypatch.syspath_prepend(str(here))
    source = next(body for lang, info, body in _blocks() if info == "file=my_detectors.py")
    cell = next(body for lang, info, body in _blocks() if lang == "python" and not info)
    notebook = {"__name__": "__main__"}  # as in a notebook: not importable by workers
    exec(compile(source, "<notebook cell 1>", "exec", dont_inherit=True), notebook)
    cell = cell.replace("workers=2", "workers=2, progress=False")
    exec(compile(cell, "<notebook cell 2>", "exec", dont_inherit=True), notebook)
    result = notebook["result"]
    delivered = result.metrics.query("metric == 'detection.robocalls_delivered'")
    assert len(delivered) == 5 and (delivered["value"] >= 0).all()
