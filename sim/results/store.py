"""An experiment's output folder (the contract of the ``run`` command)::

    OUT/runs/p000-r000/   each run's tables (Parquet), manifest.json, metrics.parquet
    OUT/metrics.parquet   tidy: point, replication, swept parameters, metric, value
    OUT/metrics.csv       the same, as CSV
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
from ..world.schemas import SCHEMAS
from .run import RESUME_HINT, DamagedResults, SimResult, read_table

__all__ = [
    "DamagedResults",
    "run_problem",
    "ERROR_FILE",
    "METRICS_CSV",
    "METRICS_FILE",
    "ExperimentResult",
    "failures",
    "load_runs",
    "point_table",
    "reload",
    "run_dir",
    "training_dir",
]

METRICS_FILE = "metrics.parquet"
"""Written last by a finished run, in its folder."""
METRICS_CSV = "metrics.csv"
"""The experiment's metrics again, as CSV for spreadsheets (beside ``metrics.parquet``)."""
ERROR_FILE = "error.json"
"""Written by a run that raised, in its folder."""


def _parquet_rows(path: Path) -> int:
    """Rows of a Parquet file, reading only its footer (raises if it is damaged)."""
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def run_problem(folder: Path) -> str | None:
    """What is wrong with a finished run's folder, or None if it is whole: its metrics,
    its manifest and every table the manifest lists, with the rows it lists."""
    folder = Path(folder)
    try:
        _parquet_rows(folder / METRICS_FILE)
        manifest = json.loads((folder / "manifest.json").read_text())
        tables = manifest["tables"]
        for name, rows in tables.items():
            if _parquet_rows(folder / f"{name}.parquet") != rows:
                return f"{name}.parquet has another number of rows than its manifest says"
    except FileNotFoundError as err:
        return f"{Path(err.filename).name if err.filename else 'a file'} is missing"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return f"damaged ({type(err).__name__})"
    return None


def run_dir(out: Path, point: int, replication: int) -> Path:
    """Folder of one (point, replication) inside an experiment's output folder."""
    return Path(out) / "runs" / f"p{point:03d}-r{replication:03d}"


def training_dir(out: Path) -> Path:
    """Folder of an experiment's training runs' results, shared by its runs."""
    return Path(out) / "training"


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
        try:
            manifest = json.loads((path / "manifest.json").read_text())
        except (OSError, ValueError) as err:
            raise DamagedResults(
                f"{path / 'manifest.json'}: missing or damaged ({type(err).__name__}); "
                f"{RESUME_HINT}"
            ) from None
        return SimResult(self.config, path, {}, manifest)


def reload(out: str | Path) -> ExperimentResult:
    """An experiment's results from its output folder, without running anything.

    Raises
    ------
    ConfigError
        The folder has no ``config.resolved.toml`` (not an experiment's folder).
    DamagedResults
        Its ``metrics.parquet`` or a run's file is missing, truncated or corrupt.
    """
    out = Path(out)
    if not (out / "config.resolved.toml").exists():
        raise ConfigError(f"{out}: no config.resolved.toml (not an experiment's output folder)")
    config = load_config(out / "config.resolved.toml")
    points = point_table(config)
    metrics = read_table(out / METRICS_FILE)
    expected = ["point", "replication", *[c for c in points.columns if c != "point"]]
    if not {*expected, "metric", "value"} <= set(metrics.columns):
        raise DamagedResults(f"{out / METRICS_FILE}: has the wrong columns; {RESUME_HINT}")
    return ExperimentResult(config, out, metrics, points)


def failures(out: str | Path) -> list[dict]:
    """The runs of an experiment folder that raised: point, replication, error."""
    found = []
    for path in sorted(Path(out).glob(f"runs/*/{ERROR_FILE}")):
        if not (path.parent / METRICS_FILE).exists():
            try:
                info = json.loads(path.read_text())
                found.append({k: info[k] for k in ("point", "replication", "error")})
            except (OSError, ValueError, KeyError, TypeError):
                found.append({"point": path.parent.name, "replication": "", "error": "?"})
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
    if not frames:
        return pd.DataFrame(columns=[*(c.name for c in SCHEMAS[table]), "point", "replication"])
    return pd.concat(frames, ignore_index=True)
