"""Experiments: every sweep point x replication of a config, evaluated and reported.

The output folder is described in :mod:`sim.results.store`.  A run that finished is kept:
the same command after an interruption (Ctrl-C, kill -9, a full disk) redoes only the runs
that are missing or damaged.  One process at a time writes a folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from models.registry import own_entries

from .config import ConfigError, ExperimentConfig, stream_point, sweep_points
from .core.atomic import parquet_bytes, write_atomic
from .report.page import write_report
from .results.store import (
    ERROR_FILE,
    METRICS_CSV,
    METRICS_FILE,
    ExperimentResult,
    failures,
    point_table,
    run_dir,
    run_problem,
    training_dir,
)
from .runs.executors import SCHEDULER_TIMEOUT, Task, check_scheduler, execute
from .runs.manifest import run_manifest
from .runs.outputs import check_out, claim, remove_partial
from .studies import STUDIES
from .world.calls import Policy
from .world.footprint import check_fits, estimate_bytes, estimate_seconds

__all__ = ["estimate", "finished_runs", "run_experiment"]


def estimate(config: ExperimentConfig) -> dict[str, float]:
    """What an experiment will take, before it runs: its runs, their rough total time on
    one core (each run's worlds -- its own and its studies' training worlds -- at the rates
    ``make bench`` measures; good to a factor of about two) and the largest run's peak
    memory.

    Returns
    -------
    dict
        ``runs``, ``seconds`` (one core; divide by the workers for a parallel run) and
        ``peak_bytes``.
    """
    runs, seconds, peak = 0, 0.0, 0.0
    for _, point in sweep_points(config):
        worlds = 1 + sum(study.training_worlds(point) for study in STUDIES)
        runs += config.replications
        seconds += estimate_seconds(point) * worlds * config.replications
        peak = max(peak, estimate_bytes(point)["total"])
    return {"runs": runs, "seconds": seconds, "peak_bytes": peak}


def finished_runs(out: str | Path) -> int:
    """Runs of an experiment folder whose results are whole."""
    return sum(run_problem(f) is None for f in Path(out).glob("runs/p*-r*") if f.is_dir())


def _check_target(out: Path, config: ExperimentConfig) -> None:
    """Refuse a folder of another configuration, or of files that are not an experiment."""
    if not out.is_dir() or not any(p for p in out.iterdir() if not p.name.startswith(".")):
        return
    resolved = out / "config.resolved.toml"
    if not resolved.exists():
        raise ConfigError(
            f"--out {out}: holds files that are not a tnlab experiment; choose another folder"
        )
    if resolved.read_text() != config.to_toml():
        raise ConfigError(
            f"--out {out}: holds the results of another configuration "
            "(choose another folder or remove it)"
        )


def _remove_unfinished(out: Path) -> None:
    """What interrupted runs left: partial tables, temporary run folders."""
    remove_partial(out)
    for fresh in (out / "runs").glob(".*.tmp-*"):
        shutil.rmtree(fresh, ignore_errors=True)


def run_experiment(
    config: ExperimentConfig,
    out: str | Path | None = None,
    *,
    progress: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
    scheduler_timeout: float = SCHEDULER_TIMEOUT,
    wait: bool = False,
    log: Callable[[str], None] | None = None,
    command: str | None = None,
    overrides: Sequence[str] = (),
    policies: Sequence[Policy] = (),
) -> ExperimentResult:
    """Run every sweep point x replication, then write metrics and the report.

    Runs already finished in ``out`` (from an interrupted earlier call with the same
    config) are kept, not redone; a run whose files are missing or damaged is redone; a run
    that raises is recorded (``error.json`` in its folder, listed in the report and by
    :func:`sim.failures`) and the others go on.

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
    scheduler_timeout : float
        Seconds the scheduler has to answer.
    wait : bool
        If another process is writing ``out``, wait for it instead of refusing.
    log : callable, optional
        Called with one line per finished run (for logs, where a progress bar is noise).
    command, overrides : optional
        The command line and the ``--set`` overrides that made ``config``, recorded in the
        manifest.
    policies : sequence of Policy
        Call-control policy objects of one's own (``screen(batch)``, optionally
        ``attach(context)``: ``sim.world.calls.Policy``) added to every run after those the
        config names; each run gets a fresh copy, on any executor (they must pickle).
        Classes of one's own registered with :func:`sim.register` reach every worker too.

    Returns
    -------
    ExperimentResult

    Raises
    ------
    ConfigError
        ``out`` cannot be written, holds another configuration's results or another
        process is writing it; the scheduler does not answer.
    """
    out = check_out(Path(out) if out is not None else Path("reports") / config.name)
    if scheduler is not None:
        check_scheduler(scheduler, scheduler_timeout)  # before anything is written
    _check_target(out, config)
    with claim(out, wait=wait):
        _check_target(out, config)  # another process may have written it while we waited
        out.mkdir(parents=True, exist_ok=True)
        try:
            _remove_unfinished(out)
            provenance = {
                "command": command,
                "overrides": list(overrides),
                "policies": [repr(p) for p in policies],
            }
            return _run(
                config,
                out,
                progress,
                workers,
                scheduler,
                scheduler_timeout,
                log,
                provenance,
                tuple(policies),
            )
        finally:
            _remove_unfinished(out)


def _run(
    config: ExperimentConfig,
    out: Path,
    progress: bool,
    workers: int,
    scheduler: str | None,
    timeout: float,
    log: Callable[[str], None] | None,
    provenance: dict,
    policies: tuple[Policy, ...],
) -> ExperimentResult:
    write_atomic(out / "config.resolved.toml", config.to_toml())
    started = datetime.now(UTC)
    points = list(sweep_points(config))
    keys = list(points[0][0]) if points else []
    at_once = (
        1 if scheduler is not None else max(1, min(workers, len(points) * config.replications))
    )
    for _, point in points:
        check_fits(point, at_once)
    folders = {
        (p, r): run_dir(out, p, r) for p in range(len(points)) for r in range(config.replications)
    }
    todo = {k: f for k, f in folders.items() if run_problem(f) is not None}
    own = tuple(own_entries())
    tasks = [
        Task(
            p,
            r,
            points[p][0],
            points[p][1],
            folder,
            stream_point(config, p),
            policies,
            own,
            training_dir(out),
        )
        for (p, r), folder in todo.items()
    ]
    for folder in todo.values():  # an unfinished or damaged run starts again from nothing
        shutil.rmtree(folder, ignore_errors=True)
    with tqdm(
        total=len(folders),
        initial=len(folders) - len(tasks),
        unit="run",
        desc=config.name,
        disable=not progress,
    ) as bar:
        done = len(folders) - len(tasks)
        for point, replication, error in execute(tasks, workers, scheduler, timeout):
            bar.update(1)
            done += 1
            if log is not None:
                elapsed = (datetime.now(UTC) - started).total_seconds()
                what = f"failed: {error}" if error else "done"
                log(
                    f"run p{point:03d}-r{replication:03d} {what} ({done}/{len(folders)}, "
                    f"{elapsed:.0f} s)"
                )
    frames = [
        pd.read_parquet(folder / METRICS_FILE)
        for folder in folders.values()
        if (folder / METRICS_FILE).exists() and not (folder / ERROR_FILE).exists()
    ]
    columns = ["point", "replication", *keys, "metric", "value"]
    metrics = (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )
    write_atomic(out / METRICS_FILE, parquet_bytes(metrics))
    write_atomic(out / METRICS_CSV, metrics.to_csv(index=False))
    finished = datetime.now(UTC)
    manifest = run_manifest(
        config,
        points=len(points),
        replications=config.replications,
        common_random_numbers=config.common_random_numbers,
        **provenance,
        started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds"),
        runtime_s=round((finished - started).total_seconds(), 3),
        executor="serial" if scheduler is None and workers <= 1 else "dask",
        workers=workers,
        scheduler=scheduler,
        reused_runs=len(folders) - len(tasks),
        failed_runs=len(failures(out)),
    )
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    result = ExperimentResult(config, out, metrics, point_table(config))
    write_report(result)  # its header reads the manifest
    return result
