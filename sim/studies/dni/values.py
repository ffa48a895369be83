"""What the DNI report reads from an experiment: each point's configuration and label,
a metric's values per replication, and their summaries -- with exact bounds where a share
is 0 or 1 in every replication, and "not observed" where a run could not measure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.dni import SIZERS
from models.evidence import clopper_pearson, rate_text
from models.stats import mean_ci

from ...config import sweep_points
from ...results.store import ExperimentResult
from .metrics import DENOMINATORS

__all__ = [
    "NOT_OBSERVED",
    "ORACLE_TAG",
    "oracle_informed_points",
    "section_labels",
]

NOT_OBSERVED = "not observed"
ORACLE_TAG = " [oracle-informed]"


# -- points and labels --------------------------------------------------------------------
def points_of(result: ExperimentResult) -> list:
    """The configuration of each sweep point."""
    return [point for _, point in sweep_points(result.config)]


def oracle_informed_points(result: ExperimentResult) -> set[int]:
    """Points whose pool sizer was planned from the true demand."""
    return {
        p
        for p, point in enumerate(points_of(result))
        if point.dni.sizer != "fixed" and SIZERS[point.dni.sizer].oracle_informed
    }


def section_labels(result: ExperimentResult, labels: dict[int, str]) -> dict[int, str]:
    """The page's point labels, oracle-informed points tagged ``[oracle-informed]``."""
    oracle = oracle_informed_points(result)
    return {p: lab + (ORACLE_TAG if p in oracle else "") for p, lab in labels.items()}


def values(result: ExperimentResult, metric: str, points: list[int], labels) -> pd.DataFrame:
    """One row per replication, one column per point (its label): the metric's values."""
    m = result.metrics
    m = m[(m["metric"] == metric) & m["point"].isin(points)]
    wide = m.pivot_table(index="replication", columns="point", values="value", dropna=False)
    wide = wide.reindex(columns=points)
    wide.columns = [labels[p] for p in wide.columns]
    return wide


def observed(values: pd.DataFrame) -> pd.DataFrame:
    """The columns with at least one observed (finite) value."""
    return values.loc[:, values.notna().any()]


def num(value: float, fmt: str) -> str:
    """A number, or "not observed" for NaN."""
    return NOT_OBSERVED if not np.isfinite(value) else fmt.format(value)


def mean_text(values, fmt: str = "{:.3g}") -> str:
    """Mean ± 95% half-width across replications (or why there is none)."""
    mean, half = mean_ci(values)
    if not np.isfinite(mean):
        return NOT_OBSERVED
    if not np.isfinite(half):
        return f"{fmt.format(mean)} (one replication: no interval)"
    return f"{fmt.format(mean)} ± {fmt.format(half)}"


def pooled_count(result: ExperimentResult, metric: str, point: int) -> tuple[int, int] | None:
    """``(events, trials)`` pooled over replications when a share is 0 (or 1) in every
    replication that observed it -- where a Student-t interval would say "± 0" -- else
    None."""
    den = DENOMINATORS.get(metric)
    if den is None:
        return None
    m = result.metrics
    m = m[m["point"] == point]
    share = m[m["metric"] == metric].set_index("replication")["value"].dropna()
    if share.empty or not ((share == 0).all() or (share == 1).all()):
        return None
    trials = m[m["metric"] == den].set_index("replication")["value"].reindex(share.index)
    if not (np.isfinite(trials).all() and trials.sum() > 0):
        return None  # the counts were not recorded
    n = int(trials.sum())
    return (0 if (share == 0).all() else n), n


def exact_text(result: ExperimentResult, metric: str, point: int) -> str | None:
    """A share that is 0 or 1 in every replication as a pooled count with its exact
    (Clopper-Pearson) bound, never "0 ± 0"."""
    pooled = pooled_count(result, metric, point)
    if pooled is None:
        return None
    k, n = pooled
    if k == n:  # every one: the lower bound is the information
        return f"{n:,} of {n:,} (95% lower bound {clopper_pearson(k, n)[0]:.4g})"
    return rate_text(k, n)


def upper_bound(result: ExperimentResult, metric: str, point: int) -> float:
    """The 95% upper confidence bound of a share's mean: Student-t across replications,
    or Clopper-Pearson on the pooled count when it is 0 or 1 in every replication."""
    pooled = pooled_count(result, metric, point)
    if pooled is not None:
        return clopper_pearson(*pooled)[1]
    mean, half = mean_ci(values(result, metric, [point], {point: point}).iloc[:, 0])
    return mean + half if np.isfinite(half) else np.nan


def flat(cfg) -> bool:
    """Stationary demand: every channel on is flat over the day."""
    return all(
        ch.sessions_per_day == 0 or np.ptp(ch.diurnal) == 0 for ch in cfg.dni.channels.by_code()
    )
