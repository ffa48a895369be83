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

from .aging_summary import aging_metrics, model_metrics
from .atomic import parquet_bytes, write_atomic
from .config import ExperimentConfig, sweep_points
from .dni_summary import dni_metrics
from .runner import SimResult, run_manifest, simulate
from .summary import burst_metrics, world_metrics

__all__ = ["ExperimentResult", "run_experiment", "run_dir", "load_runs"]


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
                   progress: bool = True) -> ExperimentResult:
    """Run every sweep point x replication serially, then write metrics and the report.

    Parameters
    ----------
    config : ExperimentConfig
        The experiment (with its ``sweep`` and ``replications``).
    out : str or pathlib.Path, optional
        Output folder; ``reports/<name>`` by default.
    progress : bool
        Progress bars for runs and for simulated days.

    Returns
    -------
    ExperimentResult
    """
    from .report import write_report  # the report reads what this module writes

    out = Path(out) if out is not None else Path("reports") / config.name
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    points = list(sweep_points(config))
    keys = list(config.sweep)
    rows = []
    total = len(points) * config.replications
    with tqdm(total=total, unit="run", desc=config.name, disable=not progress) as bar:
        for p, (params, point_cfg) in enumerate(points):
            for r in range(config.replications):
                stream_point = 0 if config.common_random_numbers else p
                result = simulate(point_cfg, run_dir(out, p, r), point=stream_point,
                                  replication=r, progress=progress and total == 1)
                found = {**world_metrics(result), **burst_metrics(result),
                         **aging_metrics(result), **dni_metrics(result)}
                if point_cfg.aging.compare_models:
                    found.update(model_metrics(result, run_dir(out, p, r)))
                for metric, value in found.items():
                    rows.append({"point": p, "replication": r, **params, "metric": metric,
                                 "value": float(value)})
                bar.update(1)
    metrics = pd.DataFrame(rows, columns=["point", "replication", *keys, "metric", "value"])
    point_table = pd.DataFrame([{"point": p, **params} for p, (params, _) in enumerate(points)])
    write_atomic(out / "metrics.parquet", parquet_bytes(metrics))
    write_atomic(out / "config.resolved.toml", config.to_toml())
    result = ExperimentResult(config, out, metrics, point_table)
    write_report(result)
    manifest = run_manifest(
        config, points=len(points), replications=config.replications,
        common_random_numbers=config.common_random_numbers,
        runtime_s=round(time.time() - started, 3), executor="serial", workers=1,
    )
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2))
    return result


def load_runs(result: ExperimentResult, table: str) -> pd.DataFrame:
    """One table of every run, stacked, with ``point`` and ``replication`` columns."""
    frames = []
    for p in result.points["point"]:
        for r in range(result.config.replications):
            frame = result.run(int(p), r).table(table)
            frames.append(frame.assign(point=int(p), replication=r))
    return pd.concat(frames, ignore_index=True)
