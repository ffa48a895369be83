"""A researcher's own detector, registered from a module outside tnlab, runs through the
same config, CLI and pipeline as the built-ins (one class, one registration, its table)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

TOY = textwrap.dedent('''
    """A toy detector: flags a number at its n-th call in a window (the fixed window, with
    its own parameter)."""
    from models.burst import DETECTORS, AlarmRule, FixedWindow


    @DETECTORS.register("toy_nth_call")
    class NthCall(FixedWindow):
        @classmethod
        def from_rule(cls, rule: AlarmRule, *, calls: int) -> "NthCall":
            return cls(calls, rule.window_seconds)
''')


@pytest.fixture
def plugin(tmp_path, tiny_raw):
    (tmp_path / "my_detectors.py").write_text(TOY)
    config = tmp_path / "toy.toml"
    import tomli_w

    raw = {**tiny_raw, "plugins": ["my_detectors"], "scenario": {"days": 2}}
    raw["detection"] = {
        "detector": "toy_nth_call",
        "window_seconds": 3600,
        "detectors": {"toy_nth_call": {"calls": 1}},
    }
    config.write_text(tomli_w.dumps(raw))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return config, env


def _tnlab(*args, env):
    exe = Path(sys.executable).with_name("tnlab")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env)


def test_validate_and_simulate_run_a_detector_from_outside(plugin, tmp_path):
    config, env = plugin
    ok = _tnlab("validate", config, env=env)
    assert ok.returncode == 0, ok.stderr
    out = tmp_path / "run"
    done = _tnlab("simulate", config, "--out", out, env=env)
    assert done.returncode == 0, done.stderr
    flags = pd.read_parquet(out / "flags.parquet")
    calls = pd.read_parquet(out / "calls.parquet")
    assert len(flags) > 0  # new business lines make two calls in an hour
    # a flagged number's calls after the flag are blocked by the policy
    first = flags.groupby("number_id")["t"].min()
    after = calls[calls["caller_id"].isin(first.index)]
    after = after[after["t"] > after["caller_id"].map(first)]
    assert len(after) > 0 and (after["outcome"] == "blocked").all()


def test_its_table_is_checked_like_a_built_in(plugin):
    config, env = plugin
    bad = _tnlab("validate", config, "--set", "detection.detectors.toy_nth_call.callz=3", env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "tnlab: error: detection.detectors.toy_nth_call.callz: unknown key (parameters of "
        "toy_nth_call: calls)"
    ]


def test_a_plugin_that_does_not_import_is_one_line(plugin):
    config, env = plugin
    bad = _tnlab("validate", config, "--set", "plugins=['no_such_module']", env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("tnlab: error: plugins: cannot import 'no_such_module'")
    assert len(bad.stderr.strip().splitlines()) == 1
