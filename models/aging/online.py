"""Online per-number refit: a base model's prediction updated by the first days of aging.

:class:`OnlineDecay` takes each episode's residual intensity as ``lam0 (1 + t/beta)**-alpha``
with a shared shape; the base model's median days set a gamma prior on the number's scale
``lam0``, and the counts of its first aging days (Poisson, over a known background) update
it (:func:`gamma_posterior`: Newton's method on the concave log posterior, then the gamma of
the same mode and curvature).  The shape and prior strength left as ``None`` are tuned in
``fit`` by cross-fitting; intervals and survival curves are calibrated on held-out rows
(split-conformal style), because the posterior alone is too narrow.

The derivation, the tuning criterion and why the posterior's own intervals are not used are
in ``docs/aging.md`` ("The online per-number refit").
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sklearn.base import clone

from .base import (
    AgingModel,
    check_open_unit,
    check_positive,
    check_times,
    check_y,
    early_counts,
    kaplan_meier,
    step_at,
    step_quantile,
)
from .oracle import lomax_day_weights

__all__ = ["OnlineDecay", "ALPHA_GRID", "BETA_GRID", "SHAPE_GRID"]

ALPHA_GRID = (0.5, 1.0, 1.5, 2.0, 3.0)
"""Candidate Lomax shapes tried in ``fit`` when ``alpha`` is None."""
BETA_GRID = (2.5, 5.0, 10.0, 20.0, 40.0, 80.0)
"""Candidate Lomax scales (days) tried in ``fit`` when ``beta_days`` is None."""
SHAPE_GRID = (2.0, 4.0, 8.0, 16.0, 64.0)
"""Candidate prior shapes ``k`` tried in ``fit`` when ``prior_shape`` is None."""


def gamma_posterior(
    counts: npt.ArrayLike,
    w: npt.ArrayLike,
    background: float,
    prior_median: npt.ArrayLike,
    k: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gamma approximation of the posterior of each row's residual scale ``lam0``.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(n, D)`` observed total calls per early day.
    w : numpy.ndarray
        ``(D,)`` expected residual calls per day per unit ``lam0``.
    background : float
        Known background calls/day.
    prior_median : numpy.ndarray
        ``(n,)`` prior median of ``lam0`` (> 0).
    k : float
        Prior gamma shape, > 1.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Shape and rate of the approximating gamma per row.
    """
    counts = np.asarray(counts, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    r0 = stats.gamma.ppf(0.5, k) / np.asarray(prior_median, dtype=np.float64)
    W = float(w.sum())
    if background == 0.0:
        lam = (k - 1.0 + counts.sum(axis=1)) / (W + r0)
        shape = k + counts.sum(axis=1)
        return shape, (shape - 1.0) / lam
    lam = (k - 1.0) / (W + r0)
    active = np.ones(len(lam), dtype=bool)
    for _ in range(200):
        la, c = lam[active], counts[active]
        denom = background + la[:, None] * w[None, :]
        g = (c * w / denom).sum(axis=1) + (k - 1.0) / la - W - r0[active]
        gp = -(c * (w / denom) ** 2).sum(axis=1) - (k - 1.0) / la**2
        step = np.maximum(-g / gp, 0.0)  # never left of the root: h' is convex, falling
        lam[active] = la + step
        done = step <= 1e-12 * la
        if done.all():
            break
        active[np.flatnonzero(active)[done]] = False
    share = lam[:, None] * w[None, :] / (background + lam[:, None] * w[None, :])
    shape = k + (counts * share**2).sum(axis=1)
    return shape, (shape - 1.0) / lam


class OnlineDecay(AgingModel):
    """A base model's prediction refitted per number from its early-aging counts.

    Parameters
    ----------
    base : AgingModel
        Model giving the prior (fitted on ``X, y`` by ``fit``, as a clone).
    thr : float
        Threshold, calls/day, that ``y`` was built for.
    background_per_day : float
        Known background (spam) calls/day included in the ``early_*`` counts.
    alpha, beta_days : float or None
        Shared Lomax shape and scale (days); ``None`` = chosen in ``fit``.
    prior_shape : float or None
        Gamma prior shape ``k > 1`` (strength of the base model's prediction);
        ``None`` = chosen in ``fit``.
    n_folds : int
        Cross-fitting folds for the tuning (>= 2).
    max_tuning_rows : int
        Rows used to score the tuning grid.
    random_state : int or None
        Seed of the fold split and the tuning subsample.

    Attributes
    ----------
    base_ : AgingModel
        The fitted base model.
    alpha_, beta_days_, prior_shape_ : float
        The shape, scale and prior strength in use.
    t_cap_ : float
        Longest training time; it replaces infinite base medians (step-function bases whose
        curve never reaches 0.5).
    tuning_loss_ : float or None
        Loss of the chosen grid point (None if nothing was tuned).
    """

    def __init__(
        self,
        base: AgingModel,
        thr: float,
        background_per_day: float = 0.0,
        alpha: float | None = None,
        beta_days: float | None = None,
        prior_shape: float | None = None,
        n_folds: int = 2,
        max_tuning_rows: int = 2000,
        random_state: int | None = 0,
    ) -> None:
        self.base = base
        self.thr = thr
        self.background_per_day = background_per_day
        self.alpha = alpha
        self.beta_days = beta_days
        self.prior_shape = prior_shape
        self.n_folds = n_folds
        self.max_tuning_rows = max_tuning_rows
        self.random_state = random_state

    # -- parameters ------------------------------------------------------------------------
    def _check_params(self) -> None:
        self.thr_ = check_positive(self.thr, "thr")
        self.background_ = check_positive(
            self.background_per_day, "background_per_day", allow_zero=True
        )
        if self.alpha is not None:
            check_positive(self.alpha, "alpha")
        if self.beta_days is not None:
            check_positive(self.beta_days, "beta_days")
        if (
            self.prior_shape is not None
            and not check_positive(self.prior_shape, "prior_shape") > 1.0
        ):
            raise ValueError(f"prior_shape must be > 1, got {self.prior_shape!r}")
        if not isinstance(self.n_folds, (int, np.integer)) or self.n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2, got {self.n_folds!r}")

    # -- the update ------------------------------------------------------------------------
    def _prior_median(self, base_days: np.ndarray, alpha: float, beta: float) -> np.ndarray:
        t = np.maximum(np.nan_to_num(base_days, nan=self.t_cap_, posinf=self.t_cap_), 0.0)
        return self.thr_ * (1.0 + t / beta) ** alpha

    def _posterior(
        self, counts: np.ndarray, base_days: np.ndarray, alpha: float, beta: float, k: float
    ) -> tuple[np.ndarray, np.ndarray]:
        w = lomax_day_weights(alpha, beta, counts.shape[1])
        return gamma_posterior(
            counts, w, self.background_, self._prior_median(base_days, alpha, beta), k
        )

    def _days_from_scale(self, lam: np.ndarray, alpha: float, beta: float) -> np.ndarray:
        with np.errstate(divide="ignore", over="ignore"):
            return np.maximum(beta * ((lam / self.thr_) ** (1.0 / alpha) - 1.0), 0.0)

    # -- fit -------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: np.ndarray) -> OnlineDecay:
        """Fit the base model, tune ``alpha``, ``beta_days``, ``prior_shape`` if None, and
        calibrate the spread of the predictions on held-out folds."""
        self._check_params()
        event, time = check_y(y, len(X))
        self.t_cap_ = float(time.max())
        self.base_ = clone(self.base).fit(X, y)
        self.alpha_ = None if self.alpha is None else float(self.alpha)
        self.beta_days_ = None if self.beta_days is None else float(self.beta_days)
        self.prior_shape_ = None if self.prior_shape is None else float(self.prior_shape)
        self.tuning_loss_: float | None = None
        rows, base_days = self._cross_fit(X, y)
        c, ev, t = early_counts(X)[rows], event[rows], time[rows]
        if None in (self.alpha_, self.beta_days_, self.prior_shape_):
            self._tune(c, base_days, ev, t)
        pred = self._median_days(c, base_days)
        self.ratio_grid_, self.ratio_surv_ = kaplan_meier((t + 1.0) / (pred + 1.0), ev)
        return self

    def _cross_fit(self, X: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``max_tuning_rows`` training rows and their out-of-fold base medians."""
        n = len(y)
        rng = np.random.default_rng(self.random_state)
        fold = rng.permutation(n) % self.n_folds
        rows = np.sort(rng.permutation(n)[: min(self.max_tuning_rows, n)])
        base_days = np.empty(len(rows))
        for f in range(self.n_folds):
            held = fold[rows] == f
            if not held.any():
                continue
            model = clone(self.base).fit(X.iloc[fold != f], y[fold != f])
            base_days[held] = model.predict_days(X.iloc[rows[held]], 0.5)
        return rows, base_days

    def _median_days(
        self,
        counts: np.ndarray,
        base_days: np.ndarray,
        params: tuple[float, float, float] | None = None,
    ) -> np.ndarray:
        a, b, k = params or cast(
            tuple[float, float, float], (self.alpha_, self.beta_days_, self.prior_shape_)
        )
        shape, rate = self._posterior(counts, base_days, a, b, k)
        return self._days_from_scale(stats.gamma.isf(0.5, shape, scale=1 / rate), a, b)

    def _tune(self, c: np.ndarray, base_days: np.ndarray, ev: np.ndarray, t: np.ndarray) -> None:
        alphas = ALPHA_GRID if self.alpha_ is None else (self.alpha_,)
        betas = BETA_GRID if self.beta_days_ is None else (self.beta_days_,)
        shapes = SHAPE_GRID if self.prior_shape_ is None else (self.prior_shape_,)
        best: tuple[float, tuple[float, float, float] | None] = (np.inf, None)
        for a in alphas:
            for b in betas:
                for k in shapes:
                    pred = self._median_days(c, base_days, (a, b, k))
                    loss = np.where(ev, np.abs(pred - t), np.maximum(t - pred, 0.0)).mean()
                    if loss < best[0]:
                        best = (loss, (a, b, k))
        self.tuning_loss_ = float(best[0])
        self.alpha_, self.beta_days_, self.prior_shape_ = map(
            float, cast(tuple[float, float, float], best[1])
        )

    # -- predictions -----------------------------------------------------------------------
    def posterior(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Gamma shape and rate of each row's residual scale ``lam0`` given its counts."""
        self._check_fitted()
        counts = early_counts(X)
        a, b, k = cast(
            tuple[float, float, float], (self.alpha_, self.beta_days_, self.prior_shape_)
        )
        return self._posterior(counts, self.base_.predict_days(X, 0.5), a, b, k)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk ``-log(posterior median of lam0)`` (higher = earlier crossing)."""
        shape, rate = self.posterior(X)
        return -np.log(stats.gamma.isf(0.5, shape, scale=1.0 / rate))

    def posterior_days(self, X: pd.DataFrame) -> np.ndarray:
        """The crossing day of each row's posterior median scale (before calibration)."""
        self._check_fitted()
        return self._median_days(early_counts(X), self.base_.predict_days(X, 0.5))

    def predict_days(self, X: pd.DataFrame, q: float = 0.5) -> np.ndarray:
        """Days until ``P(T > t)`` falls to ``q``: the posterior median's crossing day,
        scaled by the held-out ratio of true to predicted days (``(T+1)/(T_hat+1)``,
        Kaplan--Meier over the calibration rows, so censored rows count)."""
        q = check_open_unit(q, "q")
        med = self.posterior_days(X)
        return np.maximum(
            (med + 1.0) * step_quantile(self.ratio_grid_, self.ratio_surv_, q) - 1.0, 0.0
        )

    def predict_survival(self, X: pd.DataFrame, times: npt.ArrayLike) -> np.ndarray:
        """``P(T > t)``: the calibrated ratio curve at ``(t + 1) / (T_hat + 1)``."""
        times = check_times(times)
        med = self.posterior_days(X)
        ratio = (times[None, :] + 1.0) / (med[:, None] + 1.0)
        # steps a hair early, so that a day from predict_days lands on its own step
        # despite the rounding of (med + 1) * r - 1
        return step_at(
            self.ratio_grid_ * (1 - 1e-12), self.ratio_surv_, ratio.ravel(), 1.0
        ).reshape(ratio.shape)
