"""Judging aging models on held-out episodes.

* :func:`mae_days` -- mean absolute error of predicted days over observed crossings;
* :func:`uno_c` -- Uno's IPCW concordance (scikit-survival's ``concordance_index_ipcw``;
  the score is a *risk*, higher = earlier crossing; lifelines' ``concordance_index`` wants
  the opposite, a predicted time);
* :func:`integrated_brier` and :func:`km_integrated_brier` -- the IPCW integrated Brier
  score of a model's survival curves and of the training Kaplan--Meier curve given to
  everyone (the no-skill reference);
* :func:`coverage` -- share of observed crossings inside the prediction intervals;
* :func:`compare` -- all of them for several models on the same held-out rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone
from sksurv.metrics import concordance_index_ipcw, integrated_brier_score
from sksurv.util import Surv

from .base import (
    AgingModel,
    check_open_unit,
    check_positive,
    check_times,
    check_y,
    kaplan_meier,
    step_at,
)

__all__ = ["compare", "coverage", "integrated_brier", "km_integrated_brier", "mae_days", "uno_c"]


def _as_sksurv(y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        event, time = check_y(y)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return Surv.from_arrays(event, time), event, time


def _vector(values: npt.ArrayLike, n: int, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if len(v) != n:
        raise ValueError(f"{name} has {len(v)} values but y_true has {n}")
    if np.any(np.isnan(v)):
        raise ValueError(f"{name} has NaN values")
    return v


def mae_days(pred_days: npt.ArrayLike, y_true: np.ndarray, max_days: float | None = None) -> float:
    """Mean ``|predicted - observed|`` days over the rows whose crossing was observed.

    Parameters
    ----------
    pred_days : array_like
        Predicted days per row.  ``inf`` (a survival curve that never reaches the quantile
        within the training follow-up) makes the error ``inf`` unless ``max_days`` is set.
    y_true : numpy structured array
        ``(event, time)`` target of the same rows.
    max_days : float, optional
        Predictions above it are clipped to it first (e.g. the longest aging allowed: a
        number is released by then whatever the model says).

    Returns
    -------
    float
        NaN if no row has an event.
    """
    event, time = check_y(y_true)
    pred = _vector(pred_days, len(time), "pred_days")
    if max_days is not None:
        pred = np.minimum(pred, check_positive(max_days, "max_days"))
    if not event.any():
        return float("nan")
    return float(np.mean(np.abs(pred[event] - time[event])))


def coverage(lo: npt.ArrayLike, hi: npt.ArrayLike, y_true: np.ndarray, rtol: float = 1e-9) -> float:
    """Share of observed crossings inside ``[lo, hi]`` (NaN if there is none).

    The bounds are widened by ``rtol`` times their size (plus ``rtol`` days), so that a
    degenerate interval ``lo == hi`` holding the true time computed another way (the
    oracle's) counts as covering it despite rounding.
    """
    event, time = check_y(y_true)
    low = _vector(lo, len(time), "lo")
    high = _vector(hi, len(time), "hi")
    if np.any(low > high):
        raise ValueError("lo must be <= hi")
    if not event.any():
        return float("nan")
    t, low, high = time[event], low[event], high[event]
    with np.errstate(invalid="ignore"):
        inside = (low - rtol * (np.abs(low) + 1) <= t) & (t <= high + rtol * (np.abs(high) + 1))
    return float(np.mean(inside))


def uno_c(
    y_train: np.ndarray, y_test: np.ndarray, risk: npt.ArrayLike, tau: float | None = None
) -> float:
    """Uno's concordance of ``risk`` on ``y_test``, censoring weights from ``y_train``.

    Parameters
    ----------
    y_train, y_test : numpy structured array
        ``(event, time)`` targets; the censoring distribution is estimated on ``y_train``.
    risk : array_like
        Finite scores, higher = earlier crossing (every model's ``predict``).
    tau : float, optional
        Truncation time: only pairs whose earlier time is below ``tau`` count.

    Returns
    -------
    float
        1 for a perfect ranking, 0.5 for a random one.
    """
    train, _, _ = _as_sksurv(y_train, "y_train")
    test, _, time = _as_sksurv(y_test, "y_test")
    risk = _vector(risk, len(time), "risk")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk must be finite")
    return float(concordance_index_ipcw(train, test, risk, tau=tau)[0])


def integrated_brier(
    y_train: np.ndarray, y_test: np.ndarray, surv: npt.ArrayLike, times: npt.ArrayLike
) -> float:
    """IPCW integrated Brier score of survival curves ``surv`` (rows of ``y_test``).

    Parameters
    ----------
    y_train, y_test : numpy structured array
        ``(event, time)`` targets; censoring weights come from ``y_train``.
    surv : array_like
        ``(n_test, len(times))`` predicted ``P(T > t)``.
    times : array_like
        At least two increasing times inside the follow-up range of ``y_test``.

    Returns
    -------
    float
        Trapezoid integral of the Brier score over ``times`` divided by their span.
    """
    train, _, _ = _as_sksurv(y_train, "y_train")
    test, _, time = _as_sksurv(y_test, "y_test")
    times = check_times(times)
    surv = np.asarray(surv, dtype=np.float64)
    if surv.shape != (len(time), len(times)):
        raise ValueError(f"surv must have shape {(len(time), len(times))}, got {surv.shape}")
    return float(integrated_brier_score(train, test, surv, times))


def km_integrated_brier(y_train: np.ndarray, y_test: np.ndarray, times: npt.ArrayLike) -> float:
    """:func:`integrated_brier` of the training Kaplan--Meier curve given to every row."""
    event, time = check_y(y_train)
    _, _, test_time = _as_sksurv(y_test, "y_test")
    times = check_times(times)
    grid, s = kaplan_meier(time, event)
    curve = step_at(grid, s, times, 1.0)
    return integrated_brier(y_train, y_test, np.tile(curve, (len(test_time), 1)), times)


def compare(
    models: dict[str, AgingModel] | Iterable[tuple[str, AgingModel]],
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    times: npt.ArrayLike,
    level: float = 0.8,
    tau: float | None = None,
    max_days: float | None = None,
    fit: bool = True,
) -> pd.DataFrame:
    """Fit each model on the training rows and score all of them on the same test rows.

    Parameters
    ----------
    models : dict or sequence of (str, AgingModel)
        Named models.  With ``fit=True`` each is cloned and the clone fitted, so the
        models passed in are left untouched.
    X_train, y_train, X_test, y_test :
        Episodes and targets.
    times : array_like
        Time grid of the integrated Brier scores (see :func:`integrated_brier`).
    level : float
        Level of the intervals judged by :func:`coverage`.
    tau : float, optional
        Truncation time of :func:`uno_c`.
    max_days : float, optional
        Cap on predicted days in :func:`mae_days` (step-function models predict ``inf``
        where their curve never reaches 0.5).
    fit : bool
        False to score already-fitted models as they are.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, mae_days, uno_c, ibs, ibs_km_ratio, coverage``
        (``ibs_km_ratio < 1``: better calibrated-and-sharp than the Kaplan--Meier curve).
    """
    level = check_open_unit(level, "level")
    items = list(models.items()) if isinstance(models, dict) else list(models)
    times = check_times(times)
    km = km_integrated_brier(y_train, y_test, times)
    rows = []
    for name, model in items:
        if fit:
            model = clone(model).fit(X_train, y_train)
        lo, hi = model.predict_interval(X_test, level)
        ibs = integrated_brier(y_train, y_test, model.predict_survival(X_test, times), times)
        rows.append(
            {
                "model": name,
                "mae_days": mae_days(model.predict_days(X_test, 0.5), y_test, max_days),
                "uno_c": uno_c(y_train, y_test, model.predict(X_test), tau),
                "ibs": ibs,
                "ibs_km_ratio": ibs / km,
                "coverage": coverage(lo, hi, y_test),
            }
        )
    return pd.DataFrame(
        rows, columns=["model", "mae_days", "uno_c", "ibs", "ibs_km_ratio", "coverage"]
    )
