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

import json
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import ConfigError, ExperimentConfig
from ..core.atomic import parquet_bytes, write_atomic
from ..results.store import ERROR_FILE, METRICS_FILE
from ..studies import STUDIES
from .simulate import simulate

__all__ = ["Task", "run_task", "execute", "check_scheduler"]


@dataclass(frozen=True)
class Task:
    """One (sweep point, replication) of an experiment."""

    point: int
    replication: int
    params: dict
    config: ExperimentConfig
    folder: Path
    stream_point: int


def run_task(task: Task) -> tuple[int, int, str | None]:
    """Simulate one run, write every study's metrics (or its error); returns (point,
    replication, error)."""
    folder = Path(task.folder)
    try:
        result = simulate(
            task.config,
            folder,
            point=task.stream_point,
            replication=task.replication,
            progress=False,
        )
        found: dict[str, float] = {}
        for study in STUDIES:
            found.update(study.metrics(result, folder))
    except Exception as err:  # noqa: BLE001 -- recorded, and the other runs go on
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
    return task.point, task.replication, None


def _connect(scheduler: str):
    from distributed import Client

    try:
        return Client(scheduler, timeout="5s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError(
            f"--scheduler {scheduler}: cannot reach the Dask scheduler ({type(err).__name__})"
        ) from None


def check_scheduler(scheduler: str) -> None:
    """Raise :class:`ConfigError` unless a Dask scheduler answers at ``scheduler``."""
    _connect(scheduler).close()


def _client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return _connect(scheduler), None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster), cluster


def execute(
    tasks: list[Task], workers: int = 1, scheduler: str | None = None
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
    """
    if scheduler is None and workers <= 1:
        for task in tasks:
            yield run_task(task)
        return
    if not tasks:
        return
    from distributed import as_completed

    client, cluster = _client(workers, scheduler)
    try:
        futures = client.map(run_task, tasks, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
