"""Decisions with their uncertainty: paired differences, non-inferiority, exact binomial
bounds, and the choice of a best option that a careful statistician would sign.

A comparison of policies run under common random numbers is judged on the differences
replication by replication (each pair faced the same world), with a Student-t interval of
the mean difference.  "Better" needs the whole interval on one side of zero;
"non-inferior" needs it inside a stated margin; anything else is "no significant
difference".  Rates of rare events come with exact (Clopper-Pearson) bounds, so zero
events in ``n`` trials is an upper bound, never "0 +- 0".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from .stats import mean_ci

__all__ = [
    "percent_text",
    "Choice",
    "Difference",
    "best_option",
    "clopper_pearson",
    "non_inferior",
    "paired_difference",
    "rate_text",
    "ratio_ci",
    "welch_difference",
]


@dataclass(frozen=True)
class Difference:
    """Mean of ``candidate - reference`` over paired replications, with its interval.

    Attributes
    ----------
    mean, half_width : float
        The mean difference and the half-width of its ``level`` Student-t interval (NaN
        with fewer than two pairs).
    n : int
        Pairs.
    level : float
        Confidence level.
    """

    mean: float
    half_width: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half_width

    def below(self, margin: float = 0.0) -> bool:
        """The whole interval lies below ``margin`` (the candidate is lower)."""
        return bool(np.isfinite(self.half_width) and self.high < margin)

    def above(self, margin: float = 0.0) -> bool:
        """The whole interval lies above ``margin`` (the candidate is higher)."""
        return bool(np.isfinite(self.half_width) and self.low > margin)

    def text(self, fmt: str = "{:.3g}") -> str:
        """``"d ± h"`` as text."""
        if not np.isfinite(self.half_width):
            return fmt.format(self.mean) + " (one pair: no interval)"
        return f"{fmt.format(self.mean)} ± {fmt.format(self.half_width)}"


def paired_difference(
    candidate: npt.ArrayLike, reference: npt.ArrayLike, level: float = 0.95
) -> Difference:
    """The paired difference ``candidate - reference`` (same replications, same order).

    Pairs where either value is NaN are left out.

    Examples
    --------
    >>> d = paired_difference([3.0, 4.0, 5.0], [1.0, 2.0, 2.0])
    >>> round(d.mean, 3), d.above()
    (2.333, True)
    """
    a = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"candidate and reference differ in length: {a.shape} vs {b.shape}")
    d = a - b
    d = d[np.isfinite(d)]
    mean, half = mean_ci(d, level)
    return Difference(mean, half, len(d), level)


def welch_difference(
    candidate: npt.ArrayLike, reference: npt.ArrayLike, level: float = 0.95
) -> Difference:
    """The difference of means ``candidate - reference`` of two independent samples, with
    Welch's interval (unequal variances; Welch-Satterthwaite degrees of freedom) -- for runs
    that did not share their random streams, so cannot be paired.

    NaN values are left out; ``n`` is the smaller sample's size.

    Examples
    --------
    >>> d = welch_difference([3.0, 4.0, 5.0], [1.0, 2.0, 2.0, 1.0])
    >>> round(d.mean, 3), d.above()
    (2.5, True)
    """
    a = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n = min(len(a), len(b))
    if n == 0:
        return Difference(float("nan"), float("nan"), 0, level)
    mean = float(a.mean() - b.mean())
    if n < 2:
        return Difference(mean, float("nan"), n, level)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0.0:
        return Difference(mean, 0.0, n, level)
    # Welch-Satterthwaite, in shares of the total variance: (va + vb)**2 and va**2 + ...
    # underflow to 0/0 when the variances are tiny (~1e-170)
    wa, wb = va / (va + vb), vb / (va + vb)
    df = 1.0 / (wa**2 / (len(a) - 1) + wb**2 / (len(b) - 1))
    return Difference(mean, float(stats.t.ppf(0.5 + level / 2, df) * np.sqrt(va + vb)), n, level)


def ratio_ci(
    numerator: npt.ArrayLike, denominator: npt.ArrayLike, level: float = 0.95
) -> tuple[float, float]:
    """Mean and half-width of ``numerator / denominator`` taken replication by replication
    (e.g. a learner's share of what the oracle earned in the same world)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    return mean_ci(ratio[np.isfinite(ratio)], level)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided interval of a binomial proportion from ``k`` events in ``n``.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 29_956)
    >>> lo, round(hi * 1e4, 2)
    (0.0, 1.23)
    """
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n], got k={k}, n={n}")
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def percent_text(share: float) -> str:
    """A share as a percentage with two significant digits and no exponent: ``0.0037`` ->
    ``"0.37%"``, ``0.000012`` -> ``"0.0012%"``."""
    value = 100.0 * share
    if value == 0 or not math.isfinite(value):
        return f"{value:g}%"
    decimals = max(0, min(8, 1 - math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f}%"


def rate_text(k: int, n: int, level: float = 0.95) -> str:
    """A count as a rate with its exact interval: ``"0 of 1,234 (95% upper bound
    0.3%)"`` or ``"5 of 1,234 = 0.41% (95% CI 0.13%-0.94%)"``."""
    lo, hi = clopper_pearson(k, n, level)
    if n <= 0:
        return "no cases"
    if k == 0:
        return f"0 of {n:,} ({level:.0%} upper bound {percent_text(hi)})"
    return (
        f"{k:,} of {n:,} = {percent_text(k / n)} "
        f"({level:.0%} CI {percent_text(lo)}–{percent_text(hi)})"
    )


@dataclass(frozen=True)
class Choice:
    """The outcome of :func:`best_option`.

    Attributes
    ----------
    best : str or None
        The option that is significantly better than every other eligible one, if any.
    tied : list of str
        The eligible options not significantly different from the one with the best mean
        (the best mean first); more than one means no winner can be named.
    differences : dict
        Each other eligible option -> the paired difference (leader - option).
    eligible : list of str
        Options that met the constraint.
    """

    best: str | None
    tied: list[str]
    differences: dict[str, Difference]
    eligible: list[str]


def best_option(
    values: pd.DataFrame,
    *,
    lower_is_better: bool,
    eligible: Sequence[str] | None = None,
    level: float = 0.95,
) -> Choice:
    """The option with the best mean, named only if it beats every other eligible option
    by a paired interval that excludes zero.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication, one column per option (paired: row ``r`` of every option
        faced the same world).
    lower_is_better : bool
        Direction of the metric.
    eligible : sequence of str, optional
        Options allowed to win (those meeting a constraint); all columns by default.
    level : float
        Confidence level of the paired intervals.

    Returns
    -------
    Choice
    """
    options = [c for c in values.columns if eligible is None or c in set(eligible)]
    if not options:
        return Choice(None, [], {}, [])
    means = values[options].mean()
    leader = str(means.idxmin() if lower_is_better else means.idxmax())
    differences, tied = {}, [leader]
    for other in options:
        if other == leader:
            continue
        diff = paired_difference(values[leader], values[other], level)
        differences[other] = diff
        wins = diff.below() if lower_is_better else diff.above()
        if not wins:
            tied.append(other)
    best = leader if len(tied) == 1 else None
    return Choice(best, tied, differences, options)


def non_inferior(
    candidate: npt.ArrayLike,
    reference: npt.ArrayLike,
    margin: float,
    *,
    lower_is_better: bool = True,
    level: float = 0.95,
) -> tuple[bool, Difference]:
    """Is the candidate not worse than the reference by more than ``margin``?

    Paired replications (same order, as in :func:`paired_difference`).  With
    ``lower_is_better`` (a cost, e.g. harm) the candidate is non-inferior when the upper
    end of the ``level`` interval of ``candidate - reference`` is below ``margin``; for a
    benefit, when its lower end is above ``-margin``.  Fewer than two pairs (no interval)
    is never non-inferior.

    Returns
    -------
    (bool, Difference)
        The verdict and the paired difference it rests on.

    Examples
    --------
    >>> ok, d = non_inferior([5.1, 5.3, 4.9], [5.0, 5.2, 5.0], margin=0.5)
    >>> ok, round(d.mean, 3)
    (True, 0.033)
    """
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    diff = paired_difference(candidate, reference, level)
    ok = diff.below(margin) if lower_is_better else diff.above(-margin)
    return ok, diff
