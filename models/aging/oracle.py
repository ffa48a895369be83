"""The expected-rate oracle: days until the *expected* residual rate -- from the simulator's
hidden residual-traffic parameters -- falls to the threshold.  It knows the decay, not which
callers stop when nor the Poisson noise of the realised calls, so the realised crossing
(what models are scored against) scatters around it; reports call it
``expected_rate_oracle``.

The expected residual call rate of an episode ``t`` days after disconnect is

.. math:: r(t) = \\lambda_0 (1 + t/\\beta)^{-\\alpha} + p\\,[t < P]

(a Lomax decay of the previous owner's callers plus a persistent part ``p`` that stops at
``P`` days).  It decreases on ``[0, P)`` and on ``[P, inf)`` and drops by ``p`` at ``P``,
so the first time ``r(t) <= thr`` is

.. math:: T = t_d(thr - p) \\text{ if } t_d(thr - p) < P, \\text{ else } \\max(P, t_d(thr)),
          \\qquad t_d(c) = \\beta\\big((\\lambda_0/c)^{1/\\alpha} - 1\\big)^+

with ``t_d(c) = 0`` if ``lam0 <= c`` and ``inf`` if ``c <= 0 < lam0`` (a persistent part at
or above the threshold that never stops keeps the number above it for ever).  ``T = 0`` if
the rate is already at or below the threshold at disconnect.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .base import HIDDEN, AgingModel, check_open_unit, check_positive, check_times

__all__ = ["Oracle", "crossing_days", "lomax_day_weights", "trailing_crossing_days"]


def _decay_days(
    lam0: np.ndarray, alpha: np.ndarray, beta: np.ndarray, c: np.ndarray | float
) -> np.ndarray:
    """``t_d(c)``: when ``lam0 (1 + t/beta)**-alpha`` reaches ``c`` (0 if already at or
    below, ``inf`` if it never does)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = beta * ((lam0 / c) ** (1.0 / alpha) - 1.0)
    t = np.where(c <= 0, np.inf, t)
    return np.where(lam0 <= c, 0.0, t)  # lam0 = c = 0: at the threshold already


def crossing_days(
    thr: float,
    lam0: npt.ArrayLike,
    alpha: npt.ArrayLike,
    beta_days: npt.ArrayLike,
    persistent_per_day: npt.ArrayLike = 0.0,
    persistent_days: npt.ArrayLike = 0.0,
) -> np.ndarray:
    """Days until the expected residual rate first falls to ``thr`` (closed form above).

    Parameters
    ----------
    thr : float
        Threshold, calls/day, > 0.
    lam0, alpha, beta_days : array_like
        Residual rate at disconnect (calls/day, >= 0), Lomax shape (> 0) and scale (days,
        > 0).
    persistent_per_day, persistent_days : array_like
        Persistent rate (calls/day, >= 0) and how long it lasts (days, >= 0, may be inf).

    Returns
    -------
    numpy.ndarray of float64
        Days, ``0`` if already at or below ``thr``, ``inf`` if never.
    """
    thr = check_positive(thr, "thr")
    lam0, alpha, beta, p, P = np.broadcast_arrays(
        *(
            np.asarray(a, dtype=np.float64)
            for a in (lam0, alpha, beta_days, persistent_per_day, persistent_days)
        )
    )
    for name, v, lo in (
        ("lam0", lam0, 0.0),
        ("persistent_per_day", p, 0.0),
        ("persistent_days", P, 0.0),
    ):
        if np.any(np.isnan(v)) or np.any(v < lo):
            raise ValueError(f"{name} must be >= 0")
    for name, v in (("alpha", alpha), ("beta_days", beta)):
        if np.any(~(v > 0)) or np.any(~np.isfinite(v)):
            raise ValueError(f"{name} must be finite and > 0")
    first = _decay_days(lam0, alpha, beta, thr - p)
    later = np.maximum(P, _decay_days(lam0, alpha, beta, thr))
    return np.where(first < P, first, later)


def _lomax_integral(alpha: np.ndarray, beta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``integral over [0, t] of (1 + s/beta)**-alpha ds`` (elementwise)."""
    u = np.log1p(t / beta)
    near_one = np.abs(1.0 - alpha) < 1e-9
    safe = np.where(near_one, 2.0, alpha)
    return np.where(near_one, beta * u, beta * np.expm1((1.0 - safe) * u) / (1.0 - safe))


def trailing_crossing_days(
    thr: float,
    lam0: npt.ArrayLike,
    alpha: npt.ArrayLike,
    beta_days: npt.ArrayLike,
    persistent_per_day: npt.ArrayLike,
    persistent_days: npt.ArrayLike,
    trailing_days: float,
    horizon_days: float = 3650.0,
    step_days: float = 0.25,
) -> np.ndarray:
    """Days until the expected rate *averaged over a trailing window* first falls to ``thr``.

    What a threshold judged on the trailing ``trailing_days`` (or the days since the
    disconnect, if fewer, from day 1 on) would see of the expected rate
    ``lam0 (1 + t/beta)**-alpha + p [t < P]``: the first grid time ``t >= 1`` (grid step
    ``step_days``) where ``(R(t) - R(t - w)) / w <= thr``, ``w = min(t, trailing_days)`` and
    ``R`` the integrated rate; ``inf`` if not by ``horizon_days``.
    """
    thr = check_positive(thr, "thr")
    trailing = check_positive(trailing_days, "trailing_days")
    grid = np.arange(1.0, float(horizon_days) + step_days, step_days)
    lam0, alpha, beta, p, P = (
        np.asarray(a, dtype=np.float64)[:, None]
        for a in (lam0, alpha, beta_days, persistent_per_day, persistent_days)
    )
    w = np.minimum(grid, trailing)[None, :]
    lo = grid[None, :] - w
    calls = lam0 * (_lomax_integral(alpha, beta, grid[None, :]) - _lomax_integral(alpha, beta, lo))
    calls += p * np.clip(np.minimum(P, grid[None, :]) - lo, 0.0, None)
    below = calls / w <= thr
    first = np.argmax(below, axis=1)
    return np.where(below.any(axis=1), grid[first], np.inf)


def lomax_day_weights(alpha: float, beta_days: float, n_days: int) -> np.ndarray:
    """``w_d = integral over [d, d+1) of (1 + t/beta)**-alpha dt`` for ``d = 0..n_days-1``.

    The expected residual calls on aging day ``d`` are ``lam0 * w_d``.

    .. math:: w_d = \\frac{\\beta}{1-\\alpha}\\Big[(1+\\tfrac{d+1}{\\beta})^{1-\\alpha}
              - (1+\\tfrac{d}{\\beta})^{1-\\alpha}\\Big] \\quad (\\alpha \\ne 1),
              \\qquad \\beta \\log\\frac{\\beta+d+1}{\\beta+d} \\quad (\\alpha = 1).
    """
    alpha = check_positive(alpha, "alpha")
    beta = check_positive(beta_days, "beta_days")
    d = np.arange(int(n_days) + 1, dtype=np.float64)
    u = np.log1p(d / beta)
    if abs(1.0 - alpha) < 1e-9:
        F = beta * u
    else:
        F = beta * np.expm1((1.0 - alpha) * u) / (1.0 - alpha)
    return np.diff(F)


class Oracle(AgingModel):
    """The expected-rate oracle: predicts from the hidden simulator-truth columns
    (:data:`~models.aging.base.HIDDEN`) when the expected rate crosses the threshold.

    The truth is deterministic given those columns, so every quantile is the same number:
    ``predict_days`` ignores ``q``, intervals are degenerate ``(T, T)`` and
    ``predict_survival`` is ``1[T > t]``.  ``fit`` only checks ``thr``; the oracle can
    predict without it.

    Parameters
    ----------
    thr : float
        Threshold on the residual rate, calls/day.
    trailing_days : float, optional
        Judge the expected rate averaged over this trailing window, as the simulator's
        thresholds do (:func:`trailing_crossing_days`); the instantaneous rate if None.
    """

    def __init__(self, thr: float, trailing_days: float | None = None) -> None:
        self.thr = thr
        self.trailing_days = trailing_days

    def fit(self, X: pd.DataFrame | None = None, y: np.ndarray | None = None) -> Oracle:
        """Check ``thr`` and return ``self`` (nothing is learned)."""
        self.thr_ = check_positive(self.thr, "thr")
        return self

    def _days(self, X: pd.DataFrame) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        missing = [c for c in HIDDEN if c not in X.columns]
        if missing:
            raise ValueError(f"X is missing hidden column(s) {missing} the oracle needs")
        lam0, alpha, beta_days, persistent_per_day, persistent_days = (
            X[c].to_numpy(dtype=np.float64) for c in HIDDEN
        )
        if self.trailing_days is None:
            return crossing_days(
                self.thr, lam0, alpha, beta_days, persistent_per_day, persistent_days
            )
        return trailing_crossing_days(
            self.thr,
            lam0,
            alpha,
            beta_days,
            persistent_per_day,
            persistent_days,
            trailing_days=self.trailing_days,
        )

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk ``-T`` (``inf`` mapped to the largest float so scores stay finite)."""
        return -np.minimum(self._days(X), np.finfo(np.float64).max)

    def predict_days(self, X: pd.DataFrame, q: float = 0.5) -> np.ndarray:
        """The true crossing day ``T`` for every ``q``."""
        check_open_unit(q, "q")
        return self._days(X)

    def predict_survival(self, X: pd.DataFrame, times: npt.ArrayLike) -> np.ndarray:
        """``1[T > t]``: shape ``(n, len(times))``."""
        times = check_times(times)
        return (self._days(X)[:, None] > times[None, :]).astype(np.float64)
