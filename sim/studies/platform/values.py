"""What the platform's report reads from an experiment: each point's configuration, a
metric's values per replication, and their summaries -- a share that is 0 or 1 in every
replication as its pooled count with an exact (Clopper-Pearson) bound, never "0 ± 0"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.evidence import rate_text
from models.stats import mean_ci

from ...config import sweep_points
from ...results.store import ExperimentResult
from .metrics import DENOMINATORS

__all__ = [
    "NOT_OBSERVED",
    "exact_text",
    "mean_text",
    "points_of",
    "share_text",
    "values",
    "varies",
]

NOT_OBSERVED = "not observed"


def points_of(result: ExperimentResult) -> list:
    """The configuration of each sweep point."""
    return [point for _, point in sweep_points(result.config)]


def varies(result: ExperimentResult, get) -> bool:
    """Whether ``get(point.platform)`` differs between points."""
    return len({repr(get(p.platform)) for p in points_of(result)}) > 1


def values(result: ExperimentResult, metric: str, points: list[int], labels) -> pd.DataFrame:
    """One row per replication, one column per point (its label)."""
    m = result.metrics
    m = m[(m["metric"] == metric) & m["point"].isin(points)]
    wide = m.pivot_table(index="replication", columns="point", values="value", dropna=False)
    wide = wide.reindex(columns=points)
    wide.columns = [labels[p] for p in wide.columns]
    return wide


def mean_text(v, fmt: str = "{:.3g}") -> str:
    """``mean ± half-width`` of replications (95%), "not observed" without any."""
    arr = np.asarray(v, dtype=float)
    arr = arr[np.isfinite(arr)]
    if len(arr) == 0:
        return NOT_OBSERVED
    mean, half = mean_ci(arr)
    if not np.isfinite(half):
        return fmt.format(mean) + " (one replication)"
    return f"{fmt.format(mean)} ± {fmt.format(half)}"


def exact_text(result: ExperimentResult, metric: str, point: int) -> str | None:
    """A share that is 0 (or 1) in every replication, as the pooled count with its exact
    95% bound; None otherwise."""
    den = DENOMINATORS.get(metric)
    if den is None:
        return None
    m = result.metrics
    m = m[m["point"] == point]
    share = m[m["metric"] == metric]["value"].to_numpy(float)
    total = m[m["metric"] == den]["value"].to_numpy(float)
    if len(share) == 0 or not np.isfinite(share).all() or len(total) != len(share):
        return None
    if np.all(share == 0) or np.all(share == 1):
        n = int(total.sum())
        k = int(np.round((share * total).sum()))
        return rate_text(k, n)
    return None


def share_text(result: ExperimentResult, metric: str, point: int, v, fmt: str) -> str:
    """A share's summary at ``point``: its exact bound when it is 0 or 1 in every
    replication (:func:`exact_text`), else ``mean ± half-width`` of ``v``."""
    exact = exact_text(result, metric, point)
    return exact if exact is not None else mean_text(v, fmt)
