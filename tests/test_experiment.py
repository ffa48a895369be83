"""tnlab run: sweep x replications, tidy metrics, resolved config, manifest and report."""

from __future__ import annotations

import json
import re
import tomllib

import pandas as pd
import pytest

from sim import load_runs, run_experiment
from sim.config import parse_config


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, tiny_template):
    raw = tiny_template()
    raw["scenario"]["days"] = 1
    raw["replications"] = 2
    raw["record"] = {"calls": False}
    raw["sweep"] = {"inventory.blocks_per_area_code": [3, 2]}
    out = tmp_path_factory.mktemp("exp")
    return run_experiment(parse_config(raw), out, progress=False)


def test_metrics_are_tidy_with_sweep_columns(experiment):
    """metrics.parquet has one row per point x replication x metric, parameters as columns."""
    metrics = pd.read_parquet(experiment.out / "metrics.parquet")
    assert list(metrics.columns) == [
        "point",
        "replication",
        "inventory.blocks_per_area_code",
        "metric",
        "value",
    ]
    per_run = metrics.groupby(["point", "replication"]).size()
    assert len(per_run) == 4 and per_run.nunique() == 1
    assert not metrics.duplicated(["point", "replication", "metric"]).any()
    blocks = metrics.groupby("point")["inventory.blocks_per_area_code"].first()
    assert blocks.to_dict() == {0: 3, 1: 2}


def test_tighter_inventory_has_higher_utilisation(experiment):
    """The metrics respond to the swept parameter as they must: fewer numbers, fuller pool."""
    m = experiment.metrics
    util = m[m["metric"] == "utilisation_mean"].groupby("point")["value"].mean()
    assert util[1] > util[0]


def test_replications_differ_and_are_reproducible(experiment, tmp_path):
    """Replications use different streams; re-running one point reproduces its metrics exactly."""
    m = experiment.metrics
    calls = m[m["metric"] == "calls_per_day.residential"].set_index(["point", "replication"])
    assert calls.loc[(0, 0), "value"] != calls.loc[(0, 1), "value"]
    again = run_experiment(experiment.config, tmp_path, progress=False).metrics
    pd.testing.assert_frame_equal(again, m)


def test_resolved_config_and_manifest(experiment):
    """config.resolved.toml re-validates to the same config; the manifest has provenance."""
    resolved = parse_config(tomllib.loads((experiment.out / "config.resolved.toml").read_text()))
    assert resolved.digest() == experiment.config.digest()
    manifest = json.loads((experiment.out / "manifest.json").read_text())
    for key in ("seed", "config_sha256", "tnlab_version", "git_commit", "runtime_s", "executor"):
        assert key in manifest
    assert manifest["config_sha256"] == experiment.config.digest()
    assert manifest["points"] == 2 and manifest["replications"] == 2


def test_report_has_the_required_sections_and_embedded_figures(experiment):
    """index.html is self-contained and shows states, calls, exhaustion and the ledger."""
    page = (experiment.out / "index.html").read_text()
    for heading in (
        "Inventory states over time",
        "Calls per day by caller type",
        "Exhaustion events",
        "Ledger summary",
        "Headline metrics",
    ):
        assert heading in page
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) >= 2
    assert "New York" in page  # area-code geography from phonenumbers
    assert "http://" not in page and "https://" not in page


def test_load_runs_stacks_every_run(experiment):
    """load_runs returns one table across all runs with point and replication columns."""
    daily = load_runs(experiment, "daily")
    assert set(zip(daily["point"], daily["replication"])) == {(0, 0), (0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize("crn", [True, False])
def test_common_random_numbers_share_the_world_across_points(tmp_path, tiny_template, crn):
    """With common random numbers, points that differ only in a report setting are identical
    runs; without, each point has its own streams."""
    raw = tiny_template()
    raw.update(
        replications=1,
        common_random_numbers=crn,
        record={"calls": True},
        sweep={"detection.false_flag_budget": [0.001, 0.01]},
    )
    raw["scenario"]["days"] = 0.5
    result = run_experiment(parse_config(raw), tmp_path, progress=False)
    a, b = result.run(0, 0).calls, result.run(1, 0).calls
    assert a.equals(b) == crn
