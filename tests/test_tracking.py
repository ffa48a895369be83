"""Runs a researcher can track: the command line (quoted sweep keys, swept keys refused as
overrides, one point simulated, the version, the estimate), what a finished experiment
records (manifest, metrics.csv, query views with the swept values), ``tnlab list`` and
``tnlab compare``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from sim.results.catalog import compare, list_experiments
from sim.results.query import query

EXE = Path(sys.executable).with_name("tnlab")


def tnlab(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def swept(tmp_path_factory, tiny_template):
    """A tiny experiment sweeping the residential call rate over 2 points x 2 replications,
    run from the command line on 2 workers (stderr is not a terminal)."""
    here = tmp_path_factory.mktemp("tracking")
    raw = tiny_template()
    raw["replications"] = 2
    raw["common_random_numbers"] = True
    raw["sweep"] = {"subscribers.residential.calls_per_day": [2.0, 4.0]}
    path = here / "swept.toml"
    path.write_text(tomli_w.dumps(raw))
    out = here / "reports" / "swept"
    done = tnlab("run", path, "--out", out, "--workers", "2", "--set", "seed=5")
    return path, out, done


def test_a_run_in_a_log_prints_one_line_per_run_and_nothing_else(swept):
    _, out, done = swept
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("tnlab: run p00") for line in lines), lines
    assert sorted(line.split()[2] for line in lines) == [
        "p000-r000", "p000-r001", "p001-r000", "p001-r001"
    ]  # fmt: skip
    assert done.stdout.strip() == f"wrote {out}: report {out / 'index.html'}"


def test_the_manifest_records_how_it_was_made(swept):
    path, out, _ = swept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith(f"tnlab run {path}")
    assert manifest["overrides"] == ["seed=5"]
    assert manifest["started"] <= manifest["finished"]
    assert manifest["points"] == 2 and manifest["replications"] == 2


def test_metrics_csv_is_metrics_parquet(swept):
    _, out, _ = swept
    parquet = pd.read_parquet(out / "metrics.parquet")
    csv = pd.read_csv(out / "metrics.csv")
    assert len(csv) == len(parquet) > 0
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)


def test_query_views_carry_the_swept_values(swept):
    _, out, _ = swept
    rates = query(
        out,
        'SELECT DISTINCT point, "subscribers.residential.calls_per_day" AS rate '
        "FROM daily_calls ORDER BY point",
    )
    assert rates.to_dict("records") == [{"point": 0, "rate": 2.0}, {"point": 1, "rate": 4.0}]


def test_simulate_one_point_reproduces_that_run(swept, tmp_path):
    path, out, _ = swept
    refused = tnlab("simulate", path, "--out", tmp_path / "x", "--set", "seed=5")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"tnlab: error: {path} sweeps 2 points: simulate one with --point N (0 to 1)"
    ]
    assert not (tmp_path / "x").exists()
    one = tmp_path / "one"
    done = tnlab(
        "simulate", path, "--out", one, "--point", "1", "--replication", "1", "--set", "seed=5"
    )
    assert done.returncode == 0, done.stderr
    for table in ("daily_calls", "ledger", "subscribers"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(one / f"{table}.parquet"),
            pd.read_parquet(out / "runs" / "p001-r001" / f"{table}.parquet"),
        )
    other = pd.read_parquet(out / "runs" / "p000-r001" / "daily_calls.parquet")
    assert not other.equals(pd.read_parquet(one / "daily_calls.parquet"))


def test_a_quoted_sweep_key_is_set_and_a_swept_key_is_not_overridden(swept):
    path, _, _ = swept
    ok = tnlab("validate", path, "--set", 'sweep."scenario.days"=[2, 3]')
    assert ok.returncode == 0, ok.stderr
    assert "8 run(s) (4 point(s) x 2 replication(s))" in ok.stdout
    clash = tnlab("validate", path, "--set", "subscribers.residential.calls_per_day=3.0")
    assert clash.returncode == 2
    assert clash.stderr.strip().splitlines() == [
        "tnlab: error: --set subscribers.residential.calls_per_day: overrides a swept key "
        '(sweep."subscribers.residential.calls_per_day"); change the sweep\'s values instead: '
        "--set 'sweep.\"subscribers.residential.calls_per_day\"=[...]'"
    ]
    bad = tnlab("validate", path, "--set", "sweep.a b=[1]")
    assert bad.returncode == 2 and "is not a dotted key path" in bad.stderr


def test_validate_estimates_the_runs_and_the_version_is_printed(swept):
    path, _, _ = swept
    ok = tnlab("validate", path)
    assert ok.returncode == 0
    assert "4 run(s) (2 point(s) x 2 replication(s)); about" in ok.stdout
    assert "on one core" in ok.stdout and "GB of memory per run" in ok.stdout
    version = tnlab("--version")
    assert version.returncode == 0 and version.stdout.startswith("tnlab ")


def test_list_shows_finished_and_unfinished_experiments(swept, tmp_path):
    _, out, _ = swept
    table = list_experiments(out.parent)
    row = table.set_index("name").loc["tiny"]
    assert (row["runs"], row["done"], row["failed"], row["state"]) == (4, 4, 0, "finished")
    printed = tnlab("list", out.parent)
    assert printed.returncode == 0
    assert f"{out}  tiny  " in printed.stdout and "4/4 runs" in printed.stdout
    assert tnlab("list", tmp_path / "nowhere").returncode == 2


def test_compare_an_experiment_with_itself_finds_no_difference(swept):
    _, out, _ = swept
    table = compare(out, out)
    assert len(table) > 0 and table["paired"].all()
    assert not table["significant"].any()
    observed = table[table["a"].notna()]  # a metric never observed is NaN on both sides
    assert len(observed) > 0 and (observed["difference"] == 0).all()


def test_compare_finds_a_real_difference_paired_and_unpaired(swept, tmp_path):
    path, out, _ = swept
    busier = tmp_path / "busier"
    done = tnlab(
        "run", path, "--out", busier, "--workers", "1", "--set", "seed=5",
        "--set", 'sweep."subscribers.residential.calls_per_day"=[2.5, 4.0]',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = compare(out, busier).set_index(["metric", "where"])
    rate = "subscribers.residential.calls_per_day="
    same = table.loc[("calls_per_day.residential", f"{rate}4.0")]
    assert same["paired"] and same["difference"] == 0  # the same point, the same streams
    assert ("calls_per_day.residential", f"{rate}2.0") not in table.index  # no such point in B
    reseeded = tmp_path / "reseeded"
    assert tnlab("run", path, "--out", reseeded, "--workers", "1").returncode == 0  # seed 7
    welch = compare(out, reseeded)
    assert not welch["paired"].any()
    printed = tnlab("compare", out, reseeded, "--all")
    assert printed.returncode == 0 and "Welch" in printed.stdout.splitlines()[0]
