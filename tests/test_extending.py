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


RULES = textwrap.dedent('''
    """A call-control policy of one's own: block a number newly assigned (within `days`)
    once it places more than `per_slice` calls in a slice, and flag it."""
    import numpy as np


    class BlockNewBursts:
        def __init__(self, per_slice: int, days: float = 30.0):
            self.per_slice = per_slice
            self.days = days
            self.blocked = None

        def attach(self, context):
            self.context = context
            self.blocked = np.zeros(len(context.numbers), dtype=bool)

        def screen(self, batch):
            ids = batch.caller_id
            own = ids >= 0
            new = np.zeros(len(ids), dtype=bool)
            age = batch.t[own] - self.context.assigned_at(ids[own])
            new[own] = age < self.days * 86400.0  # NaN (assigned before the run): not new
            lines, counts = np.unique(ids[new], return_counts=True)
            over = lines[counts > self.per_slice]
            fresh = over[~self.blocked[over]]
            if len(fresh):
                self.context.flag(batch.t[-1], fresh)
                self.blocked[fresh] = True
            return own & self.blocked[np.where(own, ids, 0)]
''')


@pytest.fixture
def rules(tmp_path, tiny_raw, monkeypatch):
    """A module of one's own with a call-control policy, importable here and by workers,
    and a tiny world with a blaster that rotates to fresh numbers."""
    (tmp_path / "my_rules.py").write_text(RULES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    raw = {**tiny_raw, "record": {"calls": True}, "replications": 2}
    raw["robocallers"] = {
        "campaigns": [
            {
                "name": "blaster",
                "behaviour": "blaster",
                "start_day": 0,
                "days": 2,
                "numbers": 1,
                "calls_per_number_per_day": 20000,
                "rotate": "on_block",
            }
        ]
    }
    return raw


def test_a_policy_named_in_the_config_blocks_flags_and_is_scored(rules, tmp_path):
    from sim import parse_config, run_experiment

    raw = {**rules, "policies": [{"policy": "my_rules:BlockNewBursts", "per_slice": 50}]}
    result = run_experiment(parse_config(raw), tmp_path / "named", progress=False, workers=2)
    metrics = result.metrics.set_index(["replication", "metric"])["value"]
    for r in range(2):
        flags = result.run(0, r).flags
        assert len(flags) >= 2  # the blaster's numbers, each flagged once as it rotates
        assert not flags["number_id"].duplicated().any()
        assert metrics[(r, "detection.robocall_blocked_share")] > 0.5
    bad = {**rules, "policies": [{"policy": "my_rules:BlockNewBursts", "per_slicе": 5}]}
    with pytest.raises(Exception, match=r"policies\.0\.per_slicе: unknown key"):
        parse_config(bad)


def test_run_experiment_takes_policy_objects_and_each_run_gets_a_fresh_copy(rules, tmp_path):
    import my_rules

    from sim import parse_config, run_experiment

    mine = my_rules.BlockNewBursts(per_slice=50)
    result = run_experiment(
        parse_config(rules), tmp_path / "objects", progress=False, workers=1, policies=[mine]
    )
    assert mine.blocked is None  # the object handed in was copied, never attached
    blocked = [result.run(0, r).flags for r in range(2)]
    assert all(len(f) >= 2 for f in blocked)
    pd.testing.assert_frame_equal(blocked[0], result.run(0, 0).flags)
    plain = run_experiment(parse_config(rules), tmp_path / "plain", progress=False, workers=1)
    assert len(plain.run(0, 0).flags) == 0  # no detector configured: the flags were ours
