"""Experiments at scale: same results on any executor, resume after a kill, failed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import failures, query, run_experiment
from sim.config import ConfigError, parse_config

SMALL = {
    "name": "exec",
    "seed": 5,
    "replications": 2,
    "scenario": {"days": 1},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 3},
    "subscribers": {
        "residential": {"initial": 1200},
        "business": {"initial": 200},
        "call_centre": {"initial": 5, "contacts_mean": 100},
        "notifier": {"initial": 5},
    },
    "sweep": {"subscribers.residential.calls_per_day": [2.0, 4.0]},
}


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.relative_to(out)): pd.read_parquet(p) for p in sorted(out.glob("runs/*/*.parquet"))
    }


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return run_experiment(parse_config(SMALL), out, progress=False)


def test_two_workers_and_a_dask_cluster_give_identical_tables(serial, tmp_path):
    """Streams derive from (seed, point, replication) only: the same sweep on 2 local
    workers and on a running Dask scheduler gives the serial run's metrics and tables."""
    from distributed import LocalCluster

    local = run_experiment(parse_config(SMALL), tmp_path / "local", progress=False, workers=2)
    pd.testing.assert_frame_equal(local.metrics, serial.metrics)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = run_experiment(
            parse_config(SMALL),
            tmp_path / "dask",
            progress=False,
            scheduler=cluster.scheduler_address,
        )
    pd.testing.assert_frame_equal(remote.metrics, serial.metrics)
    want = _tables(serial.out)
    for got in (_tables(local.out), _tables(remote.out)):
        assert got.keys() == want.keys()
        for name, frame in want.items():
            pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_a_killed_run_resumes_to_the_same_tables(serial, tmp_path):
    """kill -9 part-way, run the same command again: only the missing runs are redone and
    the final metrics equal an uninterrupted run's."""
    out = tmp_path / "killed"
    cfg = tmp_path / "exec.toml"
    import tomli_w

    cfg.write_text(tomli_w.dumps(SMALL))
    cmd = [sys.executable, "-m", "sim.cli", "run", str(cfg), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not any(out.glob("runs/*/metrics.parquet")) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(out.glob("runs/*/metrics.parquet")))
    assert 1 <= done_before < 4
    assert not (out / "metrics.parquet").exists()
    first = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.parquet")}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for p, mtime in first.items():  # finished runs were kept, not redone
        assert p.stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"), serial.metrics)


def test_a_run_that_raises_is_recorded_and_the_rest_go_on(tmp_path):
    raw = {
        **SMALL,
        "replications": 1,
        "aging": {"release": {"train_days": 1.0}},
        "sweep": {"aging.release.policy": ["drawn", "model"]},
    }
    res = run_experiment(parse_config(raw), tmp_path, progress=False)
    failed = failures(tmp_path)
    assert [(f["point"], f["replication"]) for f in failed] == [(1, 0)]
    assert "train_days" in failed[0]["error"]
    assert set(res.metrics["point"]) == {0}
    assert "Failed runs" in (tmp_path / "index.html").read_text()


def test_report_rerenders_from_saved_results(serial):
    page = serial.out / "index.html"
    page.unlink()
    subprocess.run(
        [sys.executable, "-m", "sim.cli", "report", str(serial.out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    assert page.exists() and "Headline metrics" in page.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "sim.cli", "report", str(serial.out / "runs")],
        capture_output=True,
        text=True,
    )
    assert (
        bad.returncode == 2 and bad.stderr.count("\n") == 1 and "config.resolved.toml" in bad.stderr
    )


def test_query_reads_every_run(serial):
    got = query(
        serial.out,
        "SELECT point, replication, sum(attempts) AS calls "
        "FROM daily_calls GROUP BY ALL ORDER BY ALL",
    )
    assert list(zip(got["point"], got["replication"])) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    direct = pd.read_parquet(serial.out / "runs/p001-r001/daily_calls.parquet")["attempts"].sum()
    assert got["calls"].iloc[3] == direct


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match=r"^--scheduler tcp://127.0.0.1:9: cannot reach"):
        run_experiment(
            parse_config(SMALL), tmp_path / "x", progress=False, scheduler="tcp://127.0.0.1:9"
        )
    assert not (tmp_path / "x").exists()


def test_another_config_in_the_same_folder_is_refused(serial):
    with pytest.raises(ConfigError, match="holds the results of another configuration"):
        run_experiment(parse_config({**SMALL, "seed": 6}), serial.out, progress=False)


def test_cli_refuses_an_unreachable_scheduler_in_one_line(tmp_path):
    import tomli_w

    cfg = tmp_path / "exec.toml"
    cfg.write_text(tomli_w.dumps(SMALL))
    out = tmp_path / "out"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(cfg),
            "--out",
            str(out),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("tnlab: error: --scheduler tcp://127.0.0.1:9: cannot reach")
    assert not out.exists()
