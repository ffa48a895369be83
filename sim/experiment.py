"""Experiments: every sweep point x replication of a config, evaluated and reported.

Output folder (DESIGN.md's contract)::

    OUT/runs/p000-r000/   each run's tables (Parquet) and manifest.json
    OUT/metrics.parquet   tidy: point, replication, swept parameters, metric, value
    OUT/config.resolved.toml
    OUT/manifest.json
    OUT/index.html        the report
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .atomic import parquet_bytes, write_atomic
from .config import ConfigError, ExperimentConfig, sweep_points
from .executors import ERROR_FILE, METRICS_FILE, Task, check_scheduler, execute
from .runner import SimResult, run_manifest

__all__ = ["ExperimentResult", "run_experiment", "run_dir", "load_runs", "failures", "reload",
           "query"]


def run_dir(out: Path, point: int, replication: int) -> Path:
    """Folder of one (point, replication) inside an experiment's output folder."""
    return Path(out) / "runs" / f"p{point:03d}-r{replication:03d}"


@dataclass
class ExperimentResult:
    """What ``run_experiment`` produced.

    Attributes
    ----------
    config : ExperimentConfig
    out : pathlib.Path
        The output folder.
    metrics : pandas.DataFrame
        Tidy metrics (see ``docs/tables.md``).
    points : pandas.DataFrame
        One row per sweep point: ``point`` and the swept parameters.
    """

    config: ExperimentConfig
    out: Path
    metrics: pd.DataFrame
    points: pd.DataFrame

    @property
    def report(self) -> Path:
        """Path of the HTML report."""
        return self.out / "index.html"

    def run(self, point: int, replication: int) -> SimResult:
        """The tables of one run, read lazily from its folder."""
        path = run_dir(self.out, point, replication)
        return SimResult(self.config, path, {}, json.loads((path / "manifest.json").read_text()))


def run_experiment(config: ExperimentConfig, out: str | Path | None = None, *,
                   progress: bool = True, workers: int = 1,
                   scheduler: str | None = None) -> ExperimentResult:
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
    from .report import write_report  # the report reads what this module writes

    out = Path(out) if out is not None else Path("reports") / config.name
    if scheduler is not None:
        check_scheduler(scheduler)  # before anything is written
    resolved = out / "config.resolved.toml"
    if resolved.exists() and resolved.read_text() != config.to_toml():
        raise ConfigError(f"--out {out}: holds the results of another configuration "
                          "(choose another folder or remove it)")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(resolved, config.to_toml())
    started = time.time()
    points = list(sweep_points(config))
    keys = list(points[0][0]) if points else []
    folders = {(p, r): run_dir(out, p, r) for p in range(len(points))
               for r in range(config.replications)}
    tasks = [Task(p, r, points[p][0], points[p][1], folder,
                  0 if config.common_random_numbers else p)
             for (p, r), folder in folders.items() if not (folder / METRICS_FILE).exists()]
    with tqdm(total=len(folders), initial=len(folders) - len(tasks), unit="run",
              desc=config.name, disable=not progress) as bar:
        for _ in execute(tasks, workers, scheduler):
            bar.update(1)
    frames = [pd.read_parquet(folder / METRICS_FILE) for folder in folders.values()
              if (folder / METRICS_FILE).exists()]
    columns = ["point", "replication", *keys, "metric", "value"]
    metrics = (pd.concat(frames, ignore_index=True)[columns] if frames
               else pd.DataFrame(columns=columns))
    point_table = pd.DataFrame([{"point": p, **params} for p, (params, _) in enumerate(points)])
    write_atomic(out / "metrics.parquet", parquet_bytes(metrics))
    result = ExperimentResult(config, out, metrics, point_table)
    write_report(result)
    manifest = run_manifest(
        config, points=len(points), replications=config.replications,
        common_random_numbers=config.common_random_numbers,
        runtime_s=round(time.time() - started, 3),
        executor="serial" if scheduler is None and workers <= 1 else "dask",
        workers=workers, scheduler=scheduler, reused_runs=len(folders) - len(tasks),
        failed_runs=len(failures(out)),
    )
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return result


def reload(out: str | Path) -> ExperimentResult:
    """An experiment's results from its output folder, without running anything.

    Raises
    ------
    ConfigError
        The folder has no ``config.resolved.toml`` or ``metrics.parquet``.
    """
    from .config import load_config

    out = Path(out)
    for name in ("config.resolved.toml", "metrics.parquet"):
        if not (out / name).exists():
            raise ConfigError(f"{out}: no {name} (not an experiment's output folder)")
    config = load_config(out / "config.resolved.toml")
    points = pd.DataFrame([{"point": p, **params}
                          for p, (params, _) in enumerate(sweep_points(config))])
    return ExperimentResult(config, out, pd.read_parquet(out / "metrics.parquet"), points)


def failures(out: str | Path) -> list[dict]:
    """The runs of an experiment folder that raised: point, replication, error."""
    found = []
    for path in sorted(Path(out).glob(f"runs/*/{ERROR_FILE}")):
        if not (path.parent / METRICS_FILE).exists():
            info = json.loads(path.read_text())
            found.append({k: info[k] for k in ("point", "replication", "error")})
    return found


def load_runs(result: ExperimentResult, table: str) -> pd.DataFrame:
    """One table of every run, stacked, with ``point`` and ``replication`` columns."""
    frames = []
    for p in result.points["point"]:
        for r in range(result.config.replications):
            if not (run_dir(result.out, int(p), r) / METRICS_FILE).exists():
                continue  # a run that failed
            frame = result.run(int(p), r).table(table)
            frames.append(frame.assign(point=int(p), replication=r))
    return pd.concat(frames, ignore_index=True)


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """SQL over every run of an experiment folder, with DuckDB reading the Parquet files.

    Each table of ``docs/tables.md`` is a view over all runs' files with two more columns,
    ``point`` and ``replication``; ``metrics`` is the experiment's tidy metrics.

    Examples
    --------
    >>> query("reports/quickstart",                                  # doctest: +SKIP
    ...       "SELECT point, kind, sum(attempts) AS calls FROM daily_calls GROUP BY ALL")
    """
    import duckdb

    from .runner import TABLES

    out = Path(out)
    con = duckdb.connect()
    for name in TABLES:
        if any(out.glob(f"runs/*/{name}.parquet")):
            pattern = str(out / "runs" / "*" / f"{name}.parquet").replace("'", "''")
            con.execute(
                f"CREATE VIEW {name} AS SELECT * EXCLUDE (filename), "
                r"CAST(regexp_extract(filename, 'p(\d+)-r\d+', 1) AS INTEGER) AS point, "
                r"CAST(regexp_extract(filename, 'p\d+-r(\d+)', 1) AS INTEGER) AS replication "
                f"FROM read_parquet('{pattern}', filename = true, union_by_name = true)")
    if (out / "metrics.parquet").exists():
        path = str(out / "metrics.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW metrics AS SELECT * FROM read_parquet('{path}')")
    return con.execute(sql).df()
