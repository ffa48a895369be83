"""Cox proportional hazards, Weibull AFT and log-logistic AFT, fitted by lifelines.

All three see the same design matrix (:func:`~models.aging.base.design_matrix`: ``log1p``
counts, ``robocall_share``, one-hot ``type``; columns constant in the training rows, such as
a type absent from them, are left out) with a small L2 ``penalizer``, and right censoring
through lifelines' event column.  The AFT models' quantiles and survival curves
are lifelines' closed forms; the Cox model's are Breslow step functions
``exp(-H_0(t) * partial_hazard(x))`` evaluated exactly (lifelines' own
``predict_survival_function(times=...)`` interpolates ``H_0`` linearly between event times).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from lifelines import CoxPHFitter, LogLogisticAFTFitter, WeibullAFTFitter

from .base import (
    AGING_MODELS,
    AgingModel,
    check_open_unit,
    check_positive,
    check_times,
    check_y,
    design_matrix,
    step_at,
)
from .weibull import WeibullForecasts

__all__ = ["CoxPH", "LogLogisticAFT", "WeibullAFT"]

_T, _E = "_duration", "_event"


def _frame(X: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    D, names = design_matrix(X)
    return pd.DataFrame(D, columns=names)[columns]


def _training_frame(
    X: pd.DataFrame, y: np.ndarray, min_days: float
) -> tuple[pd.DataFrame, list[str]]:
    """Design frame with duration and event columns, and the design columns kept: those
    that vary (a type absent from the training rows has no coefficient to fit)."""
    D, names = design_matrix(X)
    event, time = check_y(y, len(D))
    varying = np.ptp(D, axis=0) > 0 if len(D) else np.ones(len(names), dtype=bool)
    columns = [c for c, v in zip(names, varying) if v]
    df = pd.DataFrame(D, columns=names)[columns]
    df[_T] = np.maximum(time, min_days)
    df[_E] = event
    return df, columns


class _LifelinesAFT(AgingModel):
    """A lifelines parametric AFT fitter behind the aging-model interface."""

    _fitter: ClassVar[Any] = None

    def __init__(self, penalizer: float = 0.01, min_days: float = 0.5) -> None:
        self.penalizer = penalizer
        self.min_days = min_days

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _LifelinesAFT:
        """Fit the lifelines model with right censoring; return ``self``."""
        penalizer = check_positive(self.penalizer, "penalizer", allow_zero=True)
        min_days = check_positive(self.min_days, "min_days")
        df, self.columns_ = _training_frame(X, y, min_days)
        self.fitter_ = type(self)._fitter(penalizer=penalizer).fit(df, _T, _E)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score ``-log(median days)`` (higher = earlier crossing)."""
        return -np.log(self.predict_days(X, 0.5))

    def predict_days(self, X: pd.DataFrame, q: float = 0.5) -> np.ndarray:
        """lifelines' ``predict_percentile(p=q)``: the time at which ``P(T > t) = q``."""
        q = check_open_unit(q, "q")
        self._check_fitted()
        days = self.fitter_.predict_percentile(_frame(X, self.columns_), p=q)
        return days.to_numpy(dtype=np.float64)

    def predict_survival(self, X: pd.DataFrame, times: npt.ArrayLike) -> np.ndarray:
        """lifelines' survival function on ``times``: shape ``(n, len(times))``."""
        times = check_times(times)
        self._check_fitted()
        sf = self.fitter_.predict_survival_function(_frame(X, self.columns_), times=times)
        return sf.to_numpy(dtype=np.float64).T


@AGING_MODELS.register("weibull_aft")
class WeibullAFT(WeibullForecasts, _LifelinesAFT):
    """lifelines' ``WeibullAFTFitter``: ``P(T > t) = exp(-(t/lambda(x))**rho)``.

    Parameters
    ----------
    penalizer : float
        lifelines' L2 penalizer.
    min_days : float
        Observed times below this (time-0 crossings) are raised to it: parametric lifelines
        models need ``t > 0``.

    Attributes
    ----------
    fitter_ : lifelines.WeibullAFTFitter
    columns_ : list of str
        Design columns used (those that vary in the training rows).
    """

    _fitter = WeibullAFTFitter

    def _log_scale_shape(self, X: pd.DataFrame) -> tuple[np.ndarray, float]:
        """From lifelines' fitted coefficients: its ``predict_percentile`` and survival
        function in closed form (equal to ~1e-15), without their DataFrame round trip -- a
        release policy asks every simulated day (12 ms a call through lifelines, a third of
        an aging run)."""
        self._check_fitted()
        lam, rho = self.fitter_.params_["lambda_"], self.fitter_.params_["rho_"]
        D = _frame(X, self.columns_).to_numpy(dtype=np.float64)
        return D @ lam[self.columns_].to_numpy() + lam["Intercept"], float(rho["Intercept"])


@AGING_MODELS.register("loglogistic_aft")
class LogLogisticAFT(_LifelinesAFT):
    """lifelines' ``LogLogisticAFTFitter``: ``P(T > t) = 1 / (1 + (t/alpha(x))**beta)``.

    Parameters
    ----------
    penalizer : float
        lifelines' L2 penalizer.
    min_days : float
        Observed times below this (time-0 crossings) are raised to it.

    Attributes
    ----------
    fitter_ : lifelines.LogLogisticAFTFitter
    columns_ : list of str
        Design columns used (those that vary in the training rows).
    """

    _fitter = LogLogisticAFTFitter


@AGING_MODELS.register("cox")
class CoxPH(AgingModel):
    """lifelines' ``CoxPHFitter`` (Breslow baseline), predictions from exact step functions.

    Parameters
    ----------
    penalizer : float
        lifelines' L2 penalizer.

    Attributes
    ----------
    fitter_ : lifelines.CoxPHFitter
    columns_ : list of str
        Design columns used (those that vary in the training rows).
    times_ : numpy.ndarray
        Times of the baseline cumulative hazard's steps.
    cum_hazard_ : numpy.ndarray
        Baseline cumulative hazard ``H_0`` at ``times_`` (non-decreasing).
    """

    def __init__(self, penalizer: float = 0.01) -> None:
        self.penalizer = penalizer

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> CoxPH:
        """Fit the Cox model with right censoring; return ``self``."""
        penalizer = check_positive(self.penalizer, "penalizer", allow_zero=True)
        df, self.columns_ = _training_frame(X, y, 0.0)
        self.fitter_ = CoxPHFitter(penalizer=penalizer).fit(df, _T, _E)
        base = self.fitter_.baseline_cumulative_hazard_
        self.times_ = base.index.to_numpy(dtype=np.float64)
        self.cum_hazard_ = np.maximum.accumulate(base.iloc[:, 0].to_numpy(dtype=np.float64))
        return self

    def _partial_hazard(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        ph = self.fitter_.predict_partial_hazard(_frame(X, self.columns_))
        return ph.to_numpy(dtype=np.float64)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Log partial hazard (higher = earlier crossing)."""
        return np.log(self._partial_hazard(X))

    def predict_days(self, X: pd.DataFrame, q: float = 0.5) -> np.ndarray:
        """First step time with ``exp(-H_0(t) ph(x)) <= q``, i.e. ``H_0(t) >= -log(q)/ph``."""
        q = check_open_unit(q, "q")
        need = -np.log(q) / self._partial_hazard(X)
        idx = np.searchsorted(self.cum_hazard_, need, side="left")
        padded = np.append(self.times_, np.inf)
        return padded[idx]

    def predict_survival(self, X: pd.DataFrame, times: npt.ArrayLike) -> np.ndarray:
        """``exp(-H_0(t) ph(x))`` with ``H_0`` a right-continuous step function."""
        times = check_times(times)
        H0 = step_at(self.times_, self.cum_hazard_, times, 0.0)
        return np.exp(-self._partial_hazard(X)[:, None] * H0[None, :])
