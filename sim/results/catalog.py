"""Tracking many experiments: the folders under a directory, and two experiments' metrics
side by side with the differences and their intervals (``tnlab list``, ``tnlab compare``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from models.evidence import paired_difference, welch_difference
from models.stats import mean_ci

from ..config import ConfigError, ExperimentConfig, load_config, stream_point
from .store import ERROR_FILE, METRICS_FILE, reload, run_problem

__all__ = ["compare", "list_experiments"]


def _manifest(folder: Path) -> dict:
    try:
        found = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _experiment_row(folder: Path) -> dict:
    manifest = _manifest(folder)
    try:
        config: ExperimentConfig | None = load_config(folder / "config.resolved.toml")
    except ConfigError:
        config = None
    runs = [f for f in (folder / "runs").glob("p*-r*") if f.is_dir()]
    failed = sum((f / ERROR_FILE).exists() and not (f / METRICS_FILE).exists() for f in runs)
    done = sum(run_problem(f) is None for f in runs)
    planned = manifest.get("points", 0) * manifest.get("replications", 0)
    finished = manifest.get("finished", "")
    if manifest and not finished:  # written before manifests recorded the time
        stamp = (folder / "manifest.json").stat().st_mtime
        finished = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
    return {
        "folder": str(folder),
        "name": config.name if config else manifest.get("name", "?"),
        "description": config.description if config else "",
        "finished": finished,
        "commit": (manifest.get("git_commit") or "")[:10],
        "runtime_s": manifest.get("runtime_s", np.nan),
        "runs": planned or len(runs),
        "done": done,
        "failed": failed,
        "state": "unfinished" if not manifest else "failed runs" if failed else "finished",
    }


def list_experiments(root: str | Path = "reports") -> pd.DataFrame:
    """Every experiment folder at or below ``root`` (two levels deep), newest first.

    Parameters
    ----------
    root : str or pathlib.Path
        A folder of experiment folders (``reports`` by default), or one experiment's folder.

    Returns
    -------
    pandas.DataFrame
        One row per experiment: ``folder``, ``name``, ``description``, ``finished`` (date and
        time, empty if it never finished), ``commit``, ``runtime_s``, ``runs`` (planned),
        ``done``, ``failed`` and ``state``.
    """
    root = Path(root)
    found = sorted(
        {
            p.parent
            for pattern in (
                "config.resolved.toml",
                "*/config.resolved.toml",
                "*/*/config.resolved.toml",
            )
            for p in root.glob(pattern)
        }
    )
    rows = [_experiment_row(folder) for folder in found]
    columns = [
        "folder",
        "name",
        "description",
        "finished",
        "commit",
        "runtime_s",
        "runs",
        "done",
        "failed",
        "state",
    ]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("finished", ascending=False, kind="stable", ignore_index=True)


def _plain(value):
    """A NumPy scalar as the Python value it holds (``4.0``, not ``np.float64(4.0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _by_run(folder: Path) -> pd.DataFrame:
    """Metric values with a ``where`` label of their point's swept values and the
    ``streams`` (seed, stream point) its runs drew from."""
    result = reload(folder)
    metrics = result.metrics
    keys = [c for c in result.points.columns if c != "point"]
    if keys:
        labels = result.points.set_index("point")[keys].apply(
            lambda row: ", ".join(f"{k}={_plain(row[k])!r}" for k in keys), axis=1
        )
        metrics = metrics.assign(where=metrics["point"].map(labels))
    else:
        metrics = metrics.assign(where="")
    streams = metrics["point"].map(lambda p: (result.config.seed, stream_point(result.config, p)))
    return metrics.assign(streams=streams)[["where", "streams", "replication", "metric", "value"]]


def compare(a: str | Path, b: str | Path, level: float = 0.95) -> pd.DataFrame:
    """Two experiments' metrics side by side, with ``b - a`` and its interval.

    Metrics are matched by key and by the swept values of their point.  When the two
    points drew their replications from the same random streams (same seed, same stream
    point, same replications), replication ``r`` of one faced the world of replication
    ``r`` of the other, so the difference is paired; otherwise it is Welch's difference of
    independent means.

    Parameters
    ----------
    a, b : str or pathlib.Path
        Experiment output folders.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per metric and point in both: ``metric``, ``where`` (the swept values),
        ``a`` and ``a_ci`` (mean and half-width), ``b``, ``b_ci``, ``difference``, ``low``,
        ``high``, ``paired`` and ``significant`` (the interval excludes zero).
    """
    left, right = _by_run(Path(a)), _by_run(Path(b))
    rows = []
    shared = left.merge(right[["where", "metric"]].drop_duplicates(), on=["where", "metric"])
    for (where, metric), group in shared.groupby(["where", "metric"], sort=False):
        other = right[(right["where"] == where) & (right["metric"] == metric)]
        x = group.set_index("replication")["value"]
        y = other.set_index("replication")["value"]
        paired = group["streams"].iloc[0] == other["streams"].iloc[0] and set(x.index) == set(
            y.index
        )
        if paired:
            diff = paired_difference(y.sort_index(), x.sort_index(), level)
        else:
            diff = welch_difference(y, x, level)
        (ma, ha), (mb, hb) = mean_ci(x, level), mean_ci(y, level)
        rows.append(
            {
                "metric": metric,
                "where": where,
                "a": ma,
                "a_ci": ha,
                "b": mb,
                "b_ci": hb,
                "difference": diff.mean,
                "low": diff.low,
                "high": diff.high,
                "paired": paired,
                "significant": diff.above() or diff.below(),
            }
        )
    columns = [
        "metric",
        "where",
        "a",
        "a_ci",
        "b",
        "b_ci",
        "difference",
        "low",
        "high",
        "paired",
        "significant",
    ]
    return pd.DataFrame(rows, columns=columns)
