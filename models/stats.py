"""Summaries across replications."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

__all__ = ["mean_ci", "summarize"]


def mean_ci(values: npt.ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval.

    Parameters
    ----------
    values : array_like
        Independent replications of one quantity.
    level : float
        Confidence level.

    Returns
    -------
    (float, float)
        ``mean`` and ``h`` such that ``mean +- h`` covers the true mean with probability
        ``level`` (``h`` is NaN with fewer than two values).

    Examples
    --------
    >>> mean_ci([1.0, 2.0, 3.0])
    (2.0, 2.484...)
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan"), float("nan")
    if len(x) < 2:
        return float(x.mean()), float("nan")
    sem = x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean()), float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * sem)


def summarize(metrics: pd.DataFrame, by: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean, confidence half-width and count of ``value`` per group of a tidy metrics table.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy table with a ``value`` column and the columns named in ``by``.
    by : list of str
        Grouping columns (e.g. the swept parameters and ``metric``).
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns plus ``mean``, ``ci`` (half-width) and ``n``.
    """
    rows = []
    for key, group in metrics.groupby(by, sort=False, dropna=False):
        mean, half = mean_ci(group["value"], level)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "mean": mean, "ci": half, "n": len(group)})
    return pd.DataFrame(rows, columns=[*by, "mean", "ci", "n"])
