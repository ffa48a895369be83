"""The tnlab command line: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_file(tmp_path, tiny_raw) -> Path:
    path = tmp_path / "tiny.toml"
    tiny_raw["scenario"]["days"] = 1
    path.write_text(tomli_w.dumps(tiny_raw))
    return path


def test_validate_ok(tiny_file, capsys):
    """A valid config exits 0 and says so."""
    assert main(["validate", str(tiny_file)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["validate", "simulate", "run"])
@pytest.mark.parametrize(
    "override, key",
    [
        ("scenario.days=-1", "scenario.days"),
        ("scenario.bogus=1", "scenario.bogus"),
        ("inventory.area_codes=[1]", "inventory.area_codes"),
        ("nonsense", "--set 'nonsense'"),
    ],
)
def test_bad_override_exits_2_with_one_line_and_writes_nothing(
    tiny_file, tmp_path, capsys, command, override, key
):
    """Every command rejects a bad --set with status 2, one stderr line naming the key, no files."""
    out = tmp_path / "out"
    argv = [command, str(tiny_file), "--set", override]
    if command != "validate":
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and key in err, err
    assert not out.exists()


def test_missing_config_file(tmp_path, capsys):
    """A missing file is one line and status 2."""
    assert main(["simulate", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_usage_errors_are_one_line(capsys):
    """Argument errors (unknown command, missing --out) are one line with status 2."""
    for argv in (["frobnicate"], ["simulate", "x.toml"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_out_must_be_a_folder(tiny_file, tmp_path, capsys):
    """--out pointing at a file is refused before anything runs."""
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["simulate", str(tiny_file), "--out", str(target)]) == 2
    assert target.read_text() == "keep me"


def test_simulate_writes_tables_and_manifest(tiny_file, tmp_path):
    """simulate writes every table as Parquet plus manifest.json, honouring --set."""
    out = tmp_path / "run"
    assert main(["simulate", str(tiny_file), "--out", str(out), "--set", "scenario.days=0.5"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "calls.parquet",
        "ledger.parquet",
        "subscribers.parquet",
        "daily.parquet",
        "daily_calls.parquet",
        "states.parquet",
        "exhaustion.parquet",
        "manifest.json",
    } <= names
    assert not [n for n in names if n.endswith(".part") or n.endswith(".tmp")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and len(manifest["config_sha256"]) == 64
    states = pd.read_parquet(out / "states.parquet")
    assert states["t"].max() == pytest.approx(0.5 * 86400)


def test_console_script_runs_in_a_fresh_process(tiny_file):
    """The installed `tnlab` entry point works and reports bad input with status 2."""
    exe = Path(sys.executable).with_name("tnlab")
    ok = subprocess.run([exe, "validate", str(tiny_file)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [exe, "validate", str(tiny_file), "--set", "seed=x y"],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_simulate_refuses_a_folder_of_another_configuration(tiny_file, tmp_path, capsys):
    """A folder holding another configuration's run is refused (one line, status 2, left
    as it was); the same configuration again replaces the folder whole."""
    out = tmp_path / "run"
    assert main(["simulate", str(tiny_file), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    code = main(["simulate", str(tiny_file), "--out", str(out), "--set", "record.calls=false"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "holds the results of another configuration" in err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["simulate", str(tiny_file), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == set(before)
    assert not list(tmp_path.glob(".run.tmp-*")) + list(tmp_path.glob(".run.old-*"))
