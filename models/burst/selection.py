"""Choosing a detector setting on some replications and judging it on the others.

A setting chosen as "the most sensitive one within the false-flag budget" on a log and
scored on the same log is scored too kindly: of many settings near the budget, the one
that happened to flag fewest legitimate numbers on that log is picked.  So the
replications are split: the first half (the *training* replications) chooses, the second
half (the *test* replications) scores, and only the test figures are reported with their
intervals.

Rare events are pooled over replications: a false flag is an event of a distinct
legitimate new number, so the counts of flagged numbers and of numbers are summed over the
replications (independent worlds) and their ratio gets an exact Clopper-Pearson interval
(:func:`models.evidence.clopper_pearson`).  Shares that every replication measures well
(robocall attempts stopped) are compared replication by replication, paired under common
random numbers (:func:`models.evidence.best_option`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..evidence import Choice, best_option, clopper_pearson
from .metrics import recommend

__all__ = [
    "COUNTS",
    "Budget",
    "Selection",
    "budget_status",
    "choose_settings",
    "pool_curves",
    "score_settings",
    "select_and_score",
    "split_replications",
    "numbers_needed",
]

COUNTS = (
    "false_flags",
    "legit_new_lines",
    "heavy_flagged",
    "heavy_lines",
    "robocall_lines",
    "robocall_flagged",
    "robocall_calls",
    "robocall_calls_stopped",
)
"""Columns of :func:`models.burst.metrics.threshold_curve` that are counts (summed when
pooling replications)."""


def split_replications(replications: Iterable[int]) -> tuple[list[int], list[int]]:
    """The first half of the replications (rounded down) trains, the rest tests.

    Examples
    --------
    >>> split_replications(range(5))
    ([0, 1], [2, 3, 4])
    """
    reps = sorted({int(r) for r in replications})
    half = len(reps) // 2
    return reps[:half], reps[half:]


def numbers_needed(budget: float, level: float = 0.95) -> int:
    """Fewest numbers for which zero events give an exact (two-sided Clopper-Pearson)
    upper bound at ``level`` below ``budget``: ``ceil(log(alpha/2) / log(1 - budget))``.

    Examples
    --------
    >>> numbers_needed(1e-4)
    36887
    """
    return int(np.ceil(np.log((1 - level) / 2) / np.log1p(-budget)))


@dataclass(frozen=True)
class Budget:
    """The limits a recommended setting must keep: false flags per legitimate new number
    and the share of legitimate heavy callers (call centres, notifiers) flagged."""

    false_flags: float
    heavy: float


def budget_status(k: int, n: int, budget: float, level: float = 0.95) -> str:
    """What ``k`` events in ``n`` say about a rate budget: ``"met"`` (the exact upper bound
    is below it), ``"exceeded"`` (the lower bound is above it), ``"consistent"`` (the
    point estimate is within it, the bound is not), ``"not met"`` (the point estimate is
    above it, the interval reaches below), or ``"no cases"``."""
    if n <= 0:
        return "no cases"
    lo, hi = clopper_pearson(k, n, level)
    if hi <= budget:
        return "met"
    if lo > budget:
        return "exceeded"
    return "consistent" if k / n <= budget else "not met"


def pool_curves(
    curves: pd.DataFrame, by: Sequence[str] = ("detector", "threshold")
) -> pd.DataFrame:
    """Threshold curves of several replications pooled into one per ``by`` group.

    Counts (:data:`COUNTS`, and the per-behaviour ``lines.b``, ``flagged.b``,
    ``delay_seconds_sum.b``, ``delay_calls_sum.b``) are summed; rates are recomputed from
    the sums; ``delay_calls_median`` and ``delay_seconds_median`` (medians do not pool)
    are averaged over the replications that have one.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``by``, the summed counts, ``replications``,
        ``false_flags_per_new_number``, ``heavy_flagged_share``, ``robocalls_blocked_share``,
        ``recall``, the averaged medians, and per behaviour ``b`` ``flagged_share.b`` and
        ``delay_seconds_mean.b`` / ``delay_calls_mean.b`` (over its flagged lines).
    """
    keys = list(by)
    summed = [
        c
        for c in curves.columns
        if c in COUNTS
        or c.startswith(("lines.", "flagged.", "delay_seconds_sum.", "delay_calls_sum."))
    ]
    g = curves.groupby(keys, sort=False)
    out = g[summed].sum()
    out["replications"] = g.size()
    for col in ("delay_calls_median", "delay_seconds_median"):
        if col in curves:
            out[col] = g[col].mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["false_flags_per_new_number"] = out["false_flags"] / out["legit_new_lines"]
        out["heavy_flagged_share"] = out["heavy_flagged"] / out["heavy_lines"]
        out["robocalls_blocked_share"] = out["robocall_calls_stopped"] / out["robocall_calls"]
        out["recall"] = out["robocall_flagged"] / out["robocall_lines"]
        for col in [c for c in summed if c.startswith("lines.")]:
            b = col.split(".", 1)[1]
            out[f"flagged_share.{b}"] = out[f"flagged.{b}"] / out[col]
            out[f"delay_seconds_mean.{b}"] = out[f"delay_seconds_sum.{b}"] / out[f"flagged.{b}"]
            out[f"delay_calls_mean.{b}"] = out[f"delay_calls_sum.{b}"] / out[f"flagged.{b}"]
    return out.reset_index()


def choose_settings(curves: pd.DataFrame, train: Iterable[int], budget: Budget) -> pd.DataFrame:
    """Each detector's setting, chosen on the training replications only.

    Parameters
    ----------
    curves : pandas.DataFrame
        Threshold curves with ``replication``, ``detector`` and ``threshold`` columns.
    train : iterable of int
        The replications that choose.
    budget : Budget
        The limits (point estimates of the pooled training counts must keep them).

    Returns
    -------
    pandas.DataFrame
        One row per detector: ``detector``, ``threshold`` (NaN when no setting keeps the
        budget on the training replications) and the pooled training figures of that
        setting (``train_false_flags``, ``train_legit_new_lines``,
        ``train_robocalls_blocked_share``).
    """
    train = list(train)
    pooled = pool_curves(curves[curves["replication"].isin(train)])
    rows = []
    for detector, grp in pooled.groupby("detector", sort=False):
        row = recommend(grp, budget.false_flags, budget.heavy)
        rows.append(
            {
                "detector": detector,
                "threshold": np.nan if row is None else float(row["threshold"]),
                "train_false_flags": np.nan if row is None else float(row["false_flags"]),
                "train_legit_new_lines": float(grp["legit_new_lines"].iloc[0]),
                "train_robocalls_blocked_share": np.nan
                if row is None
                else float(row["robocalls_blocked_share"]),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "detector",
            "threshold",
            "train_false_flags",
            "train_legit_new_lines",
            "train_robocalls_blocked_share",
        ],
    )


def _at_choice(curves: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    picked = chosen.dropna(subset=["threshold"])[["detector", "threshold"]]
    return curves.merge(picked, on=["detector", "threshold"])


def score_settings(
    curves: pd.DataFrame, chosen: pd.DataFrame, test: Iterable[int], metric: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chosen settings judged on the test replications.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The pooled test curve at each detector's chosen setting (:func:`pool_curves`
        columns), and ``metric`` per test replication (rows) and detector (columns): the
        paired values a comparison uses.
    """
    test = list(test)
    part = _at_choice(curves[curves["replication"].isin(test)], chosen)
    pooled = pool_curves(part)
    wide = part.pivot_table(index="replication", columns="detector", values=metric)
    order = [d for d in chosen["detector"] if d in wide.columns]
    return pooled, wide[order]


@dataclass(frozen=True)
class Selection:
    """The outcome of :func:`select_and_score`.

    Attributes
    ----------
    train, test : list of int
        Replications that chose and that scored.
    chosen : pandas.DataFrame
        From :func:`choose_settings`.
    scored : pandas.DataFrame
        Pooled test figures at the chosen settings (:func:`score_settings`).
    paired : pandas.DataFrame
        ``metric`` per test replication and eligible detector.
    choice : Choice
        :func:`models.evidence.best_option` over ``paired`` (higher is better).
    metric : str
        What ``paired`` holds.
    """

    train: list[int]
    test: list[int]
    chosen: pd.DataFrame
    scored: pd.DataFrame
    paired: pd.DataFrame
    choice: Choice
    metric: str


def select_and_score(
    curves: pd.DataFrame,
    budget: Budget,
    metric: str = "robocalls_blocked_share",
    level: float = 0.95,
) -> Selection:
    """Choose each detector's setting on the training half, score it on the test half, and
    compare the detectors there.

    Each detector's most sensitive setting within the budget is chosen on the pooled
    training replications (:func:`choose_settings`); on the test replications, the chosen
    settings' ``metric`` (higher is better) is compared replication by replication
    (:func:`models.evidence.best_option`): a detector is named only when its paired
    intervals against every other exclude zero.  Nothing the test replications show
    changes what is chosen.
    """
    train, test = split_replications(curves["replication"])
    chosen = choose_settings(curves, train, budget)
    scored, paired = score_settings(curves, chosen, test, metric)
    choice = best_option(paired, lower_is_better=False, level=level)
    return Selection(train, test, chosen, scored, paired, choice, metric)
