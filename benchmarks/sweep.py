"""A sweep's parallel efficiency on 2 Dask workers, and where each task's time goes.

The sweep: 2 points x 4 replications of a 200,000-subscriber week (quick: 2 x 2 of 50,000
for 3 days).  It runs in this process one task after another, then on 2 plain processes
(no Dask: what the machine gives two runs at once), then on a ``LocalCluster`` of 1 and of
2 single-threaded workers, each after a warm-up pass (imports, cached kernels).  Every task
runs under :func:`sim.runs.timing.timed_task`, so each task's wall time is split into
phases measured in the process that ran it, beside its CPU time; the client notes when
each result arrives.  Printed: efficiencies, the Dask overhead per task (between tasks on a
worker, and result transfer), and the phases in-process against on a worker.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import psutil

from sim.config import parse_config, sweep_points
from sim.runs.executors import DASK_TRIM, TRIM, Task
from sim.runs.timing import timed_task

__all__ = ["sweep_config", "sweep_tasks", "bench_parallel"]

DASK_DEFAULTS = {
    "distributed.worker.profile.enabled": True,
    f"distributed.nanny.pre-spawn-environ.{TRIM}": int(DASK_TRIM),
}
"""What :data:`sim.runs.executors.WORKER_CONFIG` changes, at Dask's own values."""

PHASES = ("build", "run", "finish", "swap", "metrics", "write")


def sweep_config(quick: bool):
    """The bench's sweep (see the module's docstring)."""
    subs = 50_000 if quick else 200_000
    quiet = {"initial": 0, "arrivals_per_day": 0}
    return parse_config(
        {
            "name": "bench-sweep",
            "seed": 1,
            "replications": 2 if quick else 4,
            "scenario": {"days": 3 if quick else 7},
            "record": {"calls": False},
            "inventory": {"area_codes": [212], "blocks_per_area_code": 250},
            "spam": {"calls_per_line_per_day": 0.0},
            "subscribers": {
                "residential": {"initial": subs, "arrivals_per_day": 0, "rate_cv": 0},
                "business": quiet,
                "call_centre": quiet,
                "notifier": quiet,
            },
            "sweep": {"subscribers.residential.calls_per_day": [2.0, 3.0]},
        }
    )


def sweep_tasks(cfg, folder) -> list[Task]:
    """One task per (point, replication), writing under ``folder``."""
    return [
        Task(p, r, params, point, Path(folder) / f"p{p}r{r}", p)
        for p, (params, point) in enumerate(sweep_points(cfg))
        for r in range(cfg.replications)
    ]


def _serial(tasks) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    timings = [timed_task(t)[1] for t in tasks]
    return time.perf_counter() - start, timings


def _processes(tasks, warm) -> tuple[float, list[dict]]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        list(pool.map(timed_task, warm))
        start = time.perf_counter()
        timings = [r[1] for r in pool.map(timed_task, tasks)]
        return time.perf_counter() - start, timings


def _dask(tasks, warm, workers: int, **settings) -> tuple[float, list[dict], float]:
    from distributed import as_completed

    from sim.runs.executors import local_cluster

    t0 = time.perf_counter()
    client, cluster = local_cluster(workers, **settings)
    try:
        up = time.perf_counter() - t0
        for _ in as_completed(client.map(timed_task, warm, pure=False), with_results=True):
            pass
        procs = [psutil.Process(), *psutil.Process().children(recursive=True)]
        before = {p.pid: sum(p.cpu_times()[:2]) for p in procs}
        start = time.perf_counter()
        timings = []
        futures = client.map(timed_task, tasks, pure=False)
        for _, (_, timing) in as_completed(futures, with_results=True):
            timing["received"] = time.time()
            timings.append(timing)
        seconds = time.perf_counter() - start
        ran = {t["pid"] for t in timings}
        after = {p.pid: sum(p.cpu_times()[:2]) for p in procs}
        spent = {pid: after[pid] - before[pid] for pid in before}
        # CPU of everything but the workers: this process (client, scheduler) and nannies
        timings[0]["cluster_cpu"] = sum(v for pid, v in spent.items() if pid not in ran)
        return seconds, timings, up
    finally:
        client.close()
        cluster.close()


def _gaps(timings: list[dict]) -> np.ndarray:
    """Seconds between one task's end and the next one's start on the same worker."""
    out = []
    for pid in {t["pid"] for t in timings}:
        mine = sorted((t for t in timings if t["pid"] == pid), key=lambda t: t["start"])
        out += [b["start"] - a["end"] for a, b in zip(mine, mine[1:])]
    return np.array(out)


def _phases(timings: list[dict]) -> str:
    return ", ".join(f"{p} {np.mean([t.get(p, 0.0) for t in timings]):.2f}" for p in PHASES)


def bench_parallel(quick: bool) -> None:
    """Print the sweep's parallel efficiency and per-task overheads (see the module)."""
    cfg = sweep_config(quick)
    n = len(sweep_tasks(cfg, "."))
    print(
        f"Sweep of {n} runs ({cfg.subscribers.residential.initial:,} subscribers x "
        f"{cfg.scenario.days:g} days each); load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores at the start:"
    )
    with tempfile.TemporaryDirectory() as tmp:
        serial, one = _serial(sweep_tasks(cfg, f"{tmp}/serial"))
        warm = sweep_tasks(cfg, f"{tmp}/warm-p")[:2]
        plain, two_p = _processes(sweep_tasks(cfg, f"{tmp}/proc"), warm)
        d1, dask1, _ = _dask(sweep_tasks(cfg, f"{tmp}/d1"), sweep_tasks(cfg, f"{tmp}/w1")[:1], 1)
        d2, dask2, up = _dask(sweep_tasks(cfg, f"{tmp}/d2"), sweep_tasks(cfg, f"{tmp}/w2")[:2], 2)
        d0, dask0, _ = _dask(
            sweep_tasks(cfg, f"{tmp}/d0"),
            sweep_tasks(cfg, f"{tmp}/w0")[:2],
            2,
            **DASK_DEFAULTS,
        )
    wall = {k: np.mean([t["wall"] for t in v]) for k, v in (("s", one), ("p", two_p))}
    wall["d"] = np.mean([t["wall"] for t in dask2])
    cpu = {k: np.mean([t["cpu"] / t["wall"] for t in v]) for k, v in (("s", one), ("d", dask2))}
    gaps = np.concatenate([_gaps(dask1), _gaps(dask2)])
    transfer = np.array([t["received"] - t["end"] for t in dask1 + dask2])
    print(
        f"  in-process {serial:.1f} s; 2 plain processes {plain:.1f} s (efficiency "
        f"{serial / (2 * plain):.0%}); 2 Dask workers {d2:.1f} s: parallel efficiency "
        f"{serial / (2 * d2):.0%} (target >= 85%); cluster start {up:.1f} s and the warm-up "
        "pass not included"
    )
    print(
        f"  per task: wall in-process {wall['s']:.2f} s, on 2 plain processes "
        f"{wall['p']:.2f} s, on 2 Dask workers {wall['d']:.2f} s; CPU/wall in-process "
        f"{cpu['s']:.0%}, on Dask {cpu['d']:.0%}"
    )
    print(
        f"  Dask overhead per task: between tasks on a worker {np.mean(gaps) * 1000:.0f} ms "
        f"(max {np.max(gaps, initial=0) * 1000:.0f}), result transfer "
        f"{np.mean(transfer) * 1000:.0f} ms; 1 worker against in-process "
        f"{(d1 - serial) / n * 1000:+.0f} ms a task (target <= 50)"
    )
    serial_cpu = np.mean([t["cpu"] for t in one])
    for label, runs, secs in (("Dask's defaults", dask0, d0), ("tnlab's workers", dask2, d2)):
        per = {k: np.mean([t[k] for t in runs]) for k in ("cpu", "process_cpu")}
        print(
            f"  CPU per task, {label} ({serial / (2 * secs):.0%} efficient): in the task's "
            f"thread {per['cpu']:.2f} s (in-process {serial_cpu:.2f} s) + the worker's other "
            f"threads {per['process_cpu'] - per['cpu']:.2f} s; client, scheduler and nannies "
            f"{runs[0]['cluster_cpu'] / n:.2f} s"
        )
    print(f"  phases (s) in-process: {_phases(one)}")
    print(f"  phases (s) on 2 Dask workers: {_phases(dask2)}")
    compiled = sum(t["compiled"] for t in dask1 + dask2)
    imported = max(t["imported"] for t in dask1 + dask2)
    print(
        f"  after the warm-up: {compiled} kernels compiled on workers, at most {imported} "
        "modules imported by a task"
    )
