"""An experiment's output folder (the contract of the ``run`` command)::

    OUT/runs/p000-r000/   each run's tables (Parquet), manifest.json, metrics.parquet
    OUT/metrics.parquet   tidy: point, replication, swept parameters, metric, value
    OUT/config.resolved.toml
    OUT/manifest.json
    OUT/index.html        the report

A run's ``metrics.parquet`` is written last: it marks a finished run.  A run that raised
leaves ``error.json`` instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import ConfigError, ExperimentConfig, load_config, sweep_points
from .run import SimResult

__all__ = [
    "ERROR_FILE",
    "METRICS_FILE",
    "ExperimentResult",
    "failures",
    "load_runs",
    "point_table",
    "reload",
    "run_dir",
]

METRICS_FILE = "metrics.parquet"
"""Written last by a finished run, in its folder."""
ERROR_FILE = "error.json"
"""Written by a run that raised, in its folder."""


def run_dir(out: Path, point: int, replication: int) -> Path:
    """Folder of one (point, replication) inside an experiment's output folder."""
    return Path(out) / "runs" / f"p{point:03d}-r{replication:03d}"


def point_table(config: ExperimentConfig) -> pd.DataFrame:
    """One row per sweep point: ``point`` and the swept parameters."""
    return pd.DataFrame(
        [{"point": p, **params} for p, (params, _) in enumerate(sweep_points(config))]
    )


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


def reload(out: str | Path) -> ExperimentResult:
    """An experiment's results from its output folder, without running anything.

    Raises
    ------
    ConfigError
        The folder has no ``config.resolved.toml`` or ``metrics.parquet``.
    """
    out = Path(out)
    for name in ("config.resolved.toml", "metrics.parquet"):
        if not (out / name).exists():
            raise ConfigError(f"{out}: no {name} (not an experiment's output folder)")
    config = load_config(out / "config.resolved.toml")
    return ExperimentResult(
        config, out, pd.read_parquet(out / "metrics.parquet"), point_table(config)
    )


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
