"""Experiments: every sweep point x replication of a config, evaluated and reported.

The output folder is described in :mod:`sim.results.store`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .config import ConfigError, ExperimentConfig, sweep_points
from .core.atomic import parquet_bytes, write_atomic
from .report.page import write_report
from .results.store import METRICS_FILE, ExperimentResult, failures, point_table, run_dir
from .runs.executors import Task, check_scheduler, execute
from .runs.manifest import run_manifest

__all__ = ["run_experiment"]


def run_experiment(
    config: ExperimentConfig,
    out: str | Path | None = None,
    *,
    progress: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
) -> ExperimentResult:
    """Run every sweep point x replication, then write metrics and the report.

    Runs already finished in ``out`` (from an interrupted earlier call with the same
    config) are kept, not redone; a run that raises is recorded (``error.json`` in its
    folder, listed in the report) and the others go on.

    Parameters
    ----------
    config : ExperimentConfig
        The experiment (with its ``sweep`` and ``replications``).
    out : str or pathlib.Path, optional
        Output folder; ``reports/<name>`` by default.
    progress : bool
        A progress bar over runs (with the time left), in a terminal or a notebook.
    workers : int
        1: runs one after another in this process; more: a local Dask cluster of that many
        worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler to run on instead.

    Returns
    -------
    ExperimentResult

    Raises
    ------
    ConfigError
        ``out`` holds the results of another configuration, or the scheduler is unreachable.
    """
    out = Path(out) if out is not None else Path("reports") / config.name
    if scheduler is not None:
        check_scheduler(scheduler)  # before anything is written
    resolved = out / "config.resolved.toml"
    if resolved.exists() and resolved.read_text() != config.to_toml():
        raise ConfigError(
            f"--out {out}: holds the results of another configuration "
            "(choose another folder or remove it)"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(resolved, config.to_toml())
    started = time.time()
    points = list(sweep_points(config))
    keys = list(points[0][0]) if points else []
    folders = {
        (p, r): run_dir(out, p, r) for p in range(len(points)) for r in range(config.replications)
    }
    tasks = [
        Task(p, r, points[p][0], points[p][1], folder, 0 if config.common_random_numbers else p)
        for (p, r), folder in folders.items()
        if not (folder / METRICS_FILE).exists()
    ]
    with tqdm(
        total=len(folders),
        initial=len(folders) - len(tasks),
        unit="run",
        desc=config.name,
        disable=not progress,
    ) as bar:
        for _ in execute(tasks, workers, scheduler):
            bar.update(1)
    frames = [
        pd.read_parquet(folder / METRICS_FILE)
        for folder in folders.values()
        if (folder / METRICS_FILE).exists()
    ]
    columns = ["point", "replication", *keys, "metric", "value"]
    metrics = (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )
    write_atomic(out / "metrics.parquet", parquet_bytes(metrics))
    result = ExperimentResult(config, out, metrics, point_table(config))
    write_report(result)
    manifest = run_manifest(
        config,
        points=len(points),
        replications=config.replications,
        common_random_numbers=config.common_random_numbers,
        runtime_s=round(time.time() - started, 3),
        executor="serial" if scheduler is None and workers <= 1 else "dask",
        workers=workers,
        scheduler=scheduler,
        reused_runs=len(folders) - len(tasks),
        failed_runs=len(failures(out)),
    )
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return result
