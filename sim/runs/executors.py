"""Where an experiment's runs execute: in this process, on local workers, or on a Dask
cluster.

A *task* is one (sweep point, replication).  It simulates, computes the run's metrics and
writes them to ``runs/pNNN-rNNN/metrics.parquet`` -- last, atomically, so that file marks a
finished run.  A task that raises writes ``error.json`` instead and the others go on.
Results never depend on where a task ran: its random streams derive from (experiment seed,
point, replication) only.  Parallel execution uses Dask distributed (a ``LocalCluster`` of
single-threaded worker processes, or a running scheduler), not a home-made pool.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import signal
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.registry import add_own

from ..config import ConfigError, ExperimentConfig
from ..core.atomic import parquet_bytes, write_atomic
from ..results.store import ERROR_FILE, METRICS_FILE
from ..studies import STUDIES
from .simulate import simulate

__all__ = [
    "MACHINE_FAULTS",
    "DASK_TRIM",
    "TRIM",
    "WORKER_CONFIG",
    "Task",
    "run_task",
    "execute",
    "check_scheduler",
    "local_cluster",
]

MACHINE_FAULTS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS)
"""Write errors that are the machine's (a full disk, a file-size limit, a full quota, a
read-only file system): they stop an experiment instead of failing its runs one by one."""


@dataclass(frozen=True)
class Task:
    """One (sweep point, replication) of an experiment, with the call-control policy
    objects handed to ``run_experiment``, the classes of one's own registered in this
    process (``(registry, name, class)``), for a worker to register too, and the folder
    the experiment's runs share for their training runs' results."""

    point: int
    replication: int
    params: dict
    config: ExperimentConfig
    folder: Path
    stream_point: int
    policies: tuple = ()
    own: tuple = ()
    training: Path | None = None


def _failed(task: Task, folder: Path, err: BaseException) -> tuple[int, int, str]:
    """Record a run that raised (``error.json``); the other runs go on."""
    folder.mkdir(parents=True, exist_ok=True)
    message = f"{type(err).__name__}: {err}"
    write_atomic(
        folder / ERROR_FILE,
        json.dumps(
            {
                "point": task.point,
                "replication": task.replication,
                "error": message,
                "traceback": traceback.format_exc(),
            },
            indent=2,
        ),
    )
    return task.point, task.replication, message


def run_task(task: Task, clock: dict | None = None) -> tuple[int, int, str | None]:
    """Simulate one run, write every study's metrics (or its error); returns (point,
    replication, error).

    Parameters
    ----------
    task : Task
    clock : dict, optional
        Filled with ``time.perf_counter()`` at the end of each phase (``simulated``,
        ``measured``, ``written``): :func:`sim.runs.timing.timed_task` splits a task's time.
    """
    folder = Path(task.folder)
    clock = {} if clock is None else clock
    try:
        add_own(list(task.own))  # classes of one's own, on a worker too
        result = simulate(
            task.config,
            folder,
            point=task.stream_point,
            replication=task.replication,
            policies=[copy.deepcopy(p) for p in task.policies],  # each run starts afresh
            training=task.training,
            progress=False,
        )
        clock["simulated"] = time.perf_counter()
        found: dict[str, float] = {}
        for study in STUDIES:
            found.update(study.metrics(result, folder))
        clock["measured"] = time.perf_counter()
    except OSError as err:
        if err.errno in MACHINE_FAULTS:
            raise  # the machine's fault, not the run's: stop, and the same command resumes
        return _failed(task, folder, err)
    except Exception as err:  # noqa: BLE001 -- recorded, and the other runs go on
        return _failed(task, folder, err)
    rows = pd.DataFrame(
        [
            {
                "point": task.point,
                "replication": task.replication,
                **task.params,
                "metric": metric,
                "value": float(value),
            }
            for metric, value in found.items()
        ]
    )
    (folder / ERROR_FILE).unlink(missing_ok=True)
    write_atomic(folder / METRICS_FILE, parquet_bytes(rows))
    clock["written"] = time.perf_counter()
    return task.point, task.replication, None


SCHEDULER_TIMEOUT = 10.0
"""Seconds a Dask scheduler has to answer (``--scheduler-timeout``)."""


def _connect(scheduler: str, timeout: float = SCHEDULER_TIMEOUT):
    """A client of the scheduler at ``scheduler``, or a one-line :class:`ConfigError`
    within ``timeout`` seconds (a port that answers but is no Dask scheduler never
    completes the handshake: it is given up on, in a thread that is left behind)."""
    import threading

    from distributed import Client

    found: dict = {}

    def connect() -> None:
        try:
            found["client"] = Client(scheduler, timeout=f"{timeout}s")
        except Exception as err:  # noqa: BLE001 -- reported as one line below
            found["error"] = err

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 2.0)
    if "client" in found:
        return found["client"]
    what = type(found["error"]).__name__ if "error" in found else f"no answer in {timeout:g} s"
    raise ConfigError(
        f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({what})"
    ) from None


def check_scheduler(scheduler: str, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """Raise :class:`ConfigError` unless a Dask scheduler answers at ``scheduler``."""
    _connect(scheduler, timeout).close()


TRIM = "MALLOC_TRIM_THRESHOLD_"
DASK_TRIM = "65536"
"""What Dask's nanny sets :data:`TRIM` to (``distributed.nanny.pre-spawn-environ``)."""

WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    f"distributed.nanny.pre-spawn-environ.{TRIM}": None,
}
"""Dask settings of tnlab's local cluster.

* The nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``: glibc then returns
  freed memory at once and, the threshold being set, no longer raises its mmap threshold,
  so every NumPy array over 128 KiB is a fresh ``mmap`` whose pages fault in again.  A
  200,000-subscriber week made 3.5 times the page faults of the same run in-process and
  spent 0.1-0.3 s more CPU in the task (``make bench``, 1.1-1.5 s tasks); ``None`` leaves
  glibc's default (and :func:`local_cluster` keeps a value an earlier nanny left in this
  process's environment away from its workers).  Workers started by hand get nearly the
  same with ``MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_MMAP_THRESHOLD_=33554432`` in their
  environment (the largest values glibc's dynamic thresholds reach: freed memory is kept
  for reuse up to 64 MiB; the nanny passes a variable already set through).
* The worker's statistical profiler walks the running task's stack every 10 ms: CPU of
  the worker's other threads 0.09-0.12 s a 0.4 s task with it, 0.05-0.06 s without, CPU
  the runs lack when the workers fill the cores.  By hand:
  ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``."""


def local_cluster(workers: int, dashboard: str = "127.0.0.1:0", **settings):
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes with
    :data:`WORKER_CONFIG` (and ``settings``, Dask config keys), and its client.

    Returns
    -------
    client, cluster
    """
    import logging

    import dask
    from distributed import Client, LocalCluster

    # Dask's nanny copies its pre-spawn variables into this process's environment for good,
    # and a later nanny takes a variable it finds there over its config: an earlier cluster
    # at Dask's defaults would give these workers its MALLOC_TRIM_THRESHOLD_ after all
    before = os.environ.get(TRIM)
    if before == DASK_TRIM:
        del os.environ[TRIM]
        before = None
    # Ctrl-C reaches every process of the terminal's group: the workers inherit an ignored
    # SIGINT, and this process alone stops them (and says so in one line)
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with dask.config.set({**WORKER_CONFIG, **settings}):  # handed to the workers
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                # the scheduler's HTTP server always listens: on a free loopback port, not 8787
                dashboard_address=dashboard,
                silence_logs=logging.CRITICAL,
            )
    finally:
        signal.signal(signal.SIGINT, handler)
        if before is None:  # this process's environment as it was (its subprocesses too)
            os.environ.pop(TRIM, None)
        else:
            os.environ[TRIM] = before
    return Client(cluster), cluster


def _client(workers: int, scheduler: str | None, timeout: float):
    if scheduler is not None:
        return _connect(scheduler, timeout), None
    return local_cluster(workers)


def execute(
    tasks: list[Task],
    workers: int = 1,
    scheduler: str | None = None,
    timeout: float = SCHEDULER_TIMEOUT,
) -> Iterator[tuple[int, int, str | None]]:
    """Run tasks and yield (point, replication, error or None) as each finishes.

    Parameters
    ----------
    tasks : list of Task
    workers : int
        1: in this process, one after another; more: a Dask ``LocalCluster`` of that many
        single-threaded worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); overrides ``workers``.
    timeout : float
        Seconds the scheduler has to answer.
    """
    if scheduler is None and workers <= 1:
        for task in tasks:
            yield run_task(task)
        return
    if not tasks:
        return
    from distributed import as_completed

    client, cluster = _client(workers, scheduler, timeout)
    futures = []
    try:
        futures = client.map(run_task, tasks, pure=False)
        # results come with the completion notice: no second round trip per task
        for _, result in as_completed(futures, with_results=True):
            yield result
    finally:
        client.cancel(futures)  # on an interruption, a shared cluster stops our runs too
        client.close()
        if cluster is not None:
            cluster.close()
