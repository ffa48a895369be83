"""Throughput of the Weibull AFT aging model: NumPy/Newton fit against lifelines.

Synthetic episodes follow the data contract of ``models.aging`` (features correlated with
the residual rate at disconnect, Lomax decay, crossing days of a 0.1 calls/day threshold
from the closed form, censoring at 365 days or an exponential dropout).  One timed run is
``fit`` + ``predict_days`` (median) on all rows, design matrix included.  The baseline is
lifelines' ``WeibullAFTFitter`` behind the same interface and design, on a 100k-row subset
(and, unless quick, on all rows as well), expressed as rows/s.  Nothing is asserted;
``bench_aging`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sksurv.util import Surv

from models.aging import FastWeibullAFT, WeibullAFT, crossing_days
from models.common import SUBSCRIBER_TYPES

__all__ = ["bench_aging", "synthetic_episodes"]

THRESHOLD = 0.1
SUBSET = 100_000
TARGET_SECONDS = 60.0


def synthetic_episodes(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` contract-shaped episodes and their censored days to ``THRESHOLD``."""
    rng = np.random.default_rng(seed)
    code = rng.choice(4, n, p=(0.6, 0.25, 0.05, 0.10))
    rate = np.array([3.0, 15.0, 80.0, 20.0])[code] * rng.lognormal(0.0, 0.6, n)
    tenure = 30.0 + rng.lognormal(np.log(900.0), 0.8, n)
    inbound = rng.poisson(90.0 * rate).astype(np.float64)
    X = pd.DataFrame(
        {
            "type": pd.Categorical.from_codes(code, SUBSCRIBER_TYPES),
            "tenure_days": tenure,
            "inbound_90d": inbound,
            "unique_callers_90d": rng.binomial(inbound.astype(np.int64), 0.4).astype(np.float64),
            "robocall_share": rng.beta(1.5, 8.0, n),
            "earlier_reassignments": rng.poisson(0.4, n),
        }
    )
    lam0 = rate * rng.beta(2.0, 5.0, n) * -np.expm1(-tenure / 365.0)
    days = crossing_days(
        THRESHOLD, lam0, rng.lognormal(np.log(1.5), 0.2, n), rng.lognormal(np.log(20.0), 0.3, n)
    )
    censor = np.minimum(365.0, rng.exponential(500.0, n))
    return X, Surv.from_arrays(days <= censor, np.minimum(days, censor))


def _fit_predict_seconds(make, X, y, repeat: int) -> tuple[float, object]:
    """Best wall time of ``make().fit(X, y).predict_days(X)`` and the last fitted model."""
    best, model = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        model = make().fit(X, y)
        model.predict_days(X, 0.5)
        best = min(best, time.perf_counter() - start)
    return best, model


def bench_aging(quick: bool, row: Callable) -> None:
    """Print the Weibull AFT's fit+predict rows/s next to lifelines', and its wall time.

    Parameters
    ----------
    quick : bool
        100k rows instead of 1 M; lifelines only on the subset.
    row : callable
        ``row(name, fast, base, base_name, unit)`` prints one comparison line.
    """
    n = 100_000 if quick else 1_000_000
    X, y = synthetic_episodes(n)
    sub = min(SUBSET, n)
    Xs, ys = X.iloc[:sub], y[:sub]
    print(
        f"Aging: Weibull AFT fit + median days on {n:,} synthetic episodes "
        f"({(~y['event']).mean():.0%} censored, 8 design columns):"
    )
    FastWeibullAFT().fit(X.iloc[:2000], y[:2000])  # import / first-call costs
    WeibullAFT().fit(X.iloc[:2000], y[:2000])

    fast_s, fast = _fit_predict_seconds(FastWeibullAFT, X, y, 3)
    life_sub_s, life = _fit_predict_seconds(WeibullAFT, Xs, ys, 1 if quick else 3)
    row(
        f"NumPy Newton ({n:,} rows)",
        n / fast_s,
        sub / life_sub_s,
        f"lifelines ({sub // 1000}k rows)",
        "rows/s",
    )
    if not quick:
        life_all_s, _ = _fit_predict_seconds(WeibullAFT, X, y, 1)
        row("", n / fast_s, n / life_all_s, f"lifelines ({n // 1_000_000} M rows)", "rows/s")
    same = FastWeibullAFT().fit(Xs, ys)
    theirs = life.fitter_.params_
    se = life.fitter_.standard_errors_
    gap = max(abs(same.params_[key] - theirs[key]) / se[key] for key in theirs.index)
    print(
        f"  fit + predict on {n:,} rows: {fast_s:.2f} s wall "
        f"(target < {TARGET_SECONDS:.0f} s; {fast.n_iter_} Newton iterations)"
        + ("" if quick else f"; lifelines on the same rows {life_all_s:.2f} s")
    )
    print(
        f"  same {sub // 1000}k rows: largest coefficient gap to lifelines "
        f"{gap:.1e} standard errors"
    )
