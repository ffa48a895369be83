"""A sweep on a real multi-process Dask cluster, started with the ``dask scheduler`` and
``dask worker`` commands, through ``tnlab run --scheduler``: the same tables as in-process,
and no Dask warning on a successful run (issue 16)."""

from __future__ import annotations

import math
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from tests.test_executors import SMALL, _tables

DASK = Path(sys.executable).with_name("dask")


HAND_STARTED = {
    "MALLOC_TRIM_THRESHOLD_": "67108864",
    "MALLOC_MMAP_THRESHOLD_": "33554432",
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
}
"""The environment ``sim.runs.executors.WORKER_CONFIG`` tells workers started by hand."""


def _faults_reallocating(times: int = 200) -> int:
    """Page faults of allocating and freeing a 1 MiB array ``times`` times in this process:
    a few hundred where freed memory is reused, 256 a time where each array is a new mmap."""
    import resource

    import numpy as np

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(times):
        np.ones(1 << 17).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on free loopback
    ports, their own process groups, stopped in ``finally``."""
    if not DASK.exists():
        pytest.fail(f"{DASK} is missing: pip install 'dask[distributed]' (pyproject.toml)")
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        for name, args in (
            ("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port)]),
            ("worker", ["worker", address, "--nworkers", "2", "--nthreads", "1"]),
        ):
            extra = ["--dashboard-address", "127.0.0.1:0"] if name == "scheduler" else []
            if name == "worker":
                extra = ["--host", "127.0.0.1", "--no-dashboard"]
            procs.append(
                subprocess.Popen(
                    [str(DASK), *args, *extra],
                    env={**os.environ, **HAND_STARTED},
                    stdout=subprocess.DEVNULL,
                    stderr=open(logs / f"{name}.log", "wb"),  # noqa: SIM115 -- the child's
                    start_new_session=True,
                )
            )
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_a_sweep_on_a_dask_cluster_gives_the_in_process_tables(cluster, tmp_path):
    cfg = tmp_path / "exec.toml"
    cfg.write_text(tomli_w.dumps(SMALL))
    runs = {}
    for name, how in (("serial", ["--workers", "1"]), ("cluster", ["--scheduler", cluster])):
        out = tmp_path / name
        res = subprocess.run(
            [sys.executable, "-m", "sim.cli", "run", str(cfg), "--out", str(out), *how],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, res.stderr
        noise = [
            line
            for line in res.stderr.splitlines()
            if "warn" in line.lower() or "distributed." in line
        ]
        assert not noise, noise
        runs[name] = out
    pd.testing.assert_frame_equal(
        pd.read_parquet(runs["cluster"] / "metrics.parquet"),
        pd.read_parquet(runs["serial"] / "metrics.parquet"),
    )
    want, got = _tables(runs["serial"]), _tables(runs["cluster"])
    assert want and got.keys() == want.keys()
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_timed_task_splits_a_run_into_its_phases(tmp_path):
    """``sim.runs.timing.timed_task``: the run's result, its phases in order (summing to at
    most its wall time), CPU no more than wall, nothing compiled or imported the second
    time in a process."""
    from sim.config import parse_config, sweep_points
    from sim.runs.executors import Task
    from sim.runs.timing import timed_task

    cfg = parse_config({**SMALL, "sweep": {}})
    ((params, point),) = sweep_points(cfg)
    tasks = [Task(0, r, params, point, tmp_path / f"r{r}", 0) for r in range(2)]
    timed_task(tasks[0])
    result, timing = timed_task(tasks[1])
    assert result == (0, 1, None)
    phases = ["build", "run", "finish", "swap", "metrics", "write"]
    assert all(timing[p] >= 0 for p in phases)
    assert sum(timing[p] for p in phases) <= timing["wall"] + 1e-6
    assert 0 < timing["cpu"] <= timing["process_cpu"] + 1e-3
    # end = start + wall in epoch seconds, whose float spacing near 1.8e9 is 2.4e-7 s:
    # the difference is exact to the rounding of the two epoch values
    spacing = 2 * math.ulp(timing["end"])
    assert timing["end"] - timing["start"] == pytest.approx(timing["wall"], abs=spacing)
    assert timing["compiled"] == 0 and timing["imported"] == 0
    assert (tmp_path / "r1" / "metrics.parquet").exists()


def test_workers_reuse_freed_memory_as_a_plain_process_does(cluster, monkeypatch):
    """Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` (each large array a fresh mmap);
    tnlab's local workers and workers started as its docs say reuse freed memory: 200
    allocations of 1 MiB fault far fewer than the pages of 200 fresh mappings.  A
    nanny also leaves its value in this process's environment, where a later nanny would
    take it: tnlab's workers must not, and the environment is left as it was."""
    import cloudpickle
    from distributed import Client

    from sim.runs.executors import DASK_TRIM, TRIM, local_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers lack tests/
    fresh = 200 * (1 << 20) // resource.getpagesize()  # pages of 200 fresh mappings

    def faults(**settings) -> int:
        client, local = local_cluster(1, **settings)
        try:
            return list(client.run(_faults_reallocating).values())[0]
        finally:
            client.close()
            local.close()

    monkeypatch.setenv(TRIM, DASK_TRIM)  # as an earlier cluster at Dask's defaults leaves it
    assert faults() < fresh / 10
    assert TRIM not in os.environ
    with Client(cluster, timeout="60s") as client:
        by_hand = client.run(_faults_reallocating).values()
    assert len(by_hand) == 2 and max(by_hand) < fresh / 10
    # the check can fail: Dask's own setting faults each array in
    assert faults(**{f"distributed.nanny.pre-spawn-environ.{TRIM}": int(DASK_TRIM)}) > fresh / 2
    assert TRIM not in os.environ
