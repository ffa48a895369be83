"""Judging aging models on held-out episodes.

* :func:`mae_days` -- mean absolute error of predicted days over observed crossings;
* :func:`censoring_survival` and :func:`mae_ipcw` -- the same error weighted by the inverse
  probability of staying uncensored (Kaplan--Meier of the censoring times), so that the
  crossings seen stand for the ones censoring hid;
* :func:`landmark_days` and :func:`landmark_survival` -- predictions given survival to a
  landmark ``L``: the quantiles and the curve of ``S(t) / S(L)``;
* :func:`uno_c` -- Uno's IPCW concordance (scikit-survival's ``concordance_index_ipcw``;
  the score is a *risk*, higher = earlier crossing; lifelines' ``concordance_index`` wants
  the opposite, a predicted time);
* :func:`integrated_brier` and :func:`km_integrated_brier` -- the IPCW integrated Brier
  score of a model's survival curves and of the training Kaplan--Meier curve given to
  everyone (the no-skill reference);
* :func:`coverage` -- share of observed crossings inside the prediction intervals;
* :func:`compare` -- all of them for several models on the same held-out rows (with
  ``landmark``, every prediction conditional on survival to it).
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

__all__ = [
    "SCORES",
    "censoring_survival",
    "compare",
    "coverage",
    "integrated_brier",
    "km_integrated_brier",
    "km_reference",
    "landmark_days",
    "landmark_survival",
    "mae_days",
    "mae_ipcw",
    "predictions",
    "score",
    "uno_c",
]


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


def censoring_survival(y: np.ndarray, times: npt.ArrayLike) -> np.ndarray:
    """``G(t-)``: the Kaplan--Meier probability of being still uncensored just before each
    of ``times``, from the censored rows of ``y`` (censorings are the events; a crossing
    and a censoring at the same time count the crossing first, so ``G(t-)`` at a crossing
    time never includes the censorings at that time).

    Parameters
    ----------
    y : numpy structured array
        ``(event, time)`` rows whose censoring distribution is estimated.
    times : array_like
        Where to evaluate it.

    Returns
    -------
    numpy.ndarray of float64
    """
    event, time = check_y(y)
    grid, g = kaplan_meier(time, ~event)
    t = np.asarray(times, dtype=np.float64)
    idx = np.searchsorted(grid, t, side="left") - 1  # censorings strictly before t
    return np.concatenate([[1.0], g])[idx + 1]


def mae_ipcw(
    pred_days: npt.ArrayLike,
    y_true: np.ndarray,
    y_censoring: np.ndarray | None = None,
    max_days: float | None = None,
) -> float:
    """Mean absolute error over the crossings seen, each weighted by ``1 / G(T-)``.

    .. math:: \\mathrm{MAE}_{IPCW} = \\frac{\\sum_i \\delta_i |\\hat T_i - T_i| / G(T_i-)}
              {\\sum_i \\delta_i / G(T_i-)}

    ``G`` is the Kaplan--Meier curve of the censoring times (:func:`censoring_survival`):
    a crossing seen late, when most rows like it are already censored, stands for the
    crossings censoring hid, so it counts more.  Normalised by the sum of the weights (the
    Hajek form; both sums estimate ``n`` times their mean).  Without censoring it is
    :func:`mae_days`.

    Parameters
    ----------
    pred_days : array_like
        Predicted days per row.
    y_true : numpy structured array
        ``(event, time)`` of the same rows.
    y_censoring : numpy structured array, optional
        Rows whose censoring distribution gives ``G`` (by default ``y_true``).
    max_days : float, optional
        Predictions above it are clipped to it first (see :func:`mae_days`).

    Returns
    -------
    float
        NaN if no row has an event (or every event has ``G(T-) = 0``).
    """
    event, time = check_y(y_true)
    pred = _vector(pred_days, len(time), "pred_days")
    if max_days is not None:
        pred = np.minimum(pred, check_positive(max_days, "max_days"))
    g = censoring_survival(y_true if y_censoring is None else y_censoring, time[event])
    ok = g > 0
    if not ok.any():
        return float("nan")
    w = 1.0 / g[ok]
    err = np.abs(pred[event][ok] - time[event][ok])
    return float(np.sum(w * err) / np.sum(w))


def landmark_survival(
    model: AgingModel, X: pd.DataFrame, landmark: float, times: npt.ArrayLike
) -> np.ndarray:
    """``P(T > t | T > L) = S(t) / S(L)`` for ``t >= L`` (1 before it); rows whose curve
    is already 0 at ``L`` get 0 from ``L`` on (the model is sure the crossing is past)."""
    times = check_times(times)
    L = check_positive(landmark, "landmark", allow_zero=True)
    surv = np.asarray(model.predict_survival(X, np.append(L, times)), dtype=np.float64)
    at_l, rest = surv[:, :1], surv[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(at_l > 0, rest / np.where(at_l > 0, at_l, 1.0), 0.0)
    return np.where(times[None, :] < L, 1.0, np.clip(cond, 0.0, 1.0))


def landmark_days(
    model: AgingModel,
    X: pd.DataFrame,
    landmark: float,
    q: float,
    max_days: float,
    resolution: float = 0.25,
    chunk: int = 2000,
) -> np.ndarray:
    """Days (since the disconnect) until ``S(t) / S(L)`` first falls to ``q``: the
    ``1 - q`` quantile of the crossing given survival to the landmark ``L``.

    Read off a grid of step ``resolution`` days from ``L`` to ``max_days`` (so within
    ``resolution`` of the exact value); ``inf`` where it does not fall to ``q`` by then.

    Parameters
    ----------
    model : AgingModel
        A fitted model.
    X : pandas.DataFrame
        Episodes.
    landmark : float
        ``L``, days.
    q : float
        In (0, 1): ``0.5`` is the conditional median.
    max_days : float
        End of the grid.
    resolution : float
        Grid step, days.
    chunk : int
        Rows evaluated at once (memory).
    """
    q = check_open_unit(q, "q")
    L = check_positive(landmark, "landmark", allow_zero=True)
    end = check_positive(max_days, "max_days")
    step = check_positive(resolution, "resolution")
    grid = L + step * np.arange(int(np.ceil((end - L) / step)) + 1)
    out = np.empty(len(X))
    for start in range(0, len(X), chunk):
        part = X.iloc[start : start + chunk]
        cond = landmark_survival(model, part, L, grid)
        hit = cond <= q
        first = np.argmax(hit, axis=1)
        out[start : start + chunk] = np.where(hit.any(axis=1), grid[first], np.inf)
    return out


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


def predictions(
    model: AgingModel,
    X: pd.DataFrame,
    times: npt.ArrayLike,
    level: float = 0.8,
    landmark: float | None = None,
    max_days: float | None = None,
) -> dict[str, np.ndarray]:
    """What :func:`score` judges, from one fitted model on rows ``X``.

    Without ``landmark``: the model's median days, central ``level`` interval, survival on
    ``times`` and risk score.  With it: the same given survival to the landmark
    (:func:`landmark_days`, :func:`landmark_survival`; ``max_days`` required), and the
    risk is minus the conditional median (capped at ``max_days``).

    Returns
    -------
    dict
        ``days, lo, hi, surv, risk``.
    """
    level = check_open_unit(level, "level")
    times = check_times(times)
    if landmark is None:
        lo, hi = model.predict_interval(X, level)
        return {
            "days": np.asarray(model.predict_days(X, 0.5), dtype=np.float64),
            "lo": np.asarray(lo, dtype=np.float64),
            "hi": np.asarray(hi, dtype=np.float64),
            "surv": np.asarray(model.predict_survival(X, times), dtype=np.float64),
            "risk": np.asarray(model.predict(X), dtype=np.float64),
        }
    if max_days is None:
        raise ValueError("max_days is needed with a landmark")
    days = landmark_days(model, X, landmark, 0.5, max_days)
    return {
        "days": days,
        "lo": landmark_days(model, X, landmark, (1 + level) / 2, max_days),
        "hi": landmark_days(model, X, landmark, (1 - level) / 2, max_days),
        "surv": landmark_survival(model, X, landmark, times),
        "risk": -np.minimum(days, max_days),
    }


def score(
    found: dict[str, np.ndarray],
    y_train: np.ndarray,
    y_test: np.ndarray,
    times: npt.ArrayLike,
    km: float,
    tau: float | None = None,
    max_days: float | None = None,
) -> dict[str, float]:
    """Scores of :func:`predictions` on ``y_test`` (censoring weights from ``y_train``;
    ``km`` is the integrated Brier score of the reference Kaplan--Meier curve).

    Returns
    -------
    dict
        ``mae_ipcw, mae_days, uno_c, ibs, ibs_km_ratio, coverage``.
    """
    ibs = integrated_brier(y_train, y_test, found["surv"], times)
    hi = np.minimum(found["hi"], 1e12)  # finite, so that coverage can widen it
    return {
        "mae_ipcw": mae_ipcw(found["days"], y_test, y_train, max_days),
        "mae_days": mae_days(found["days"], y_test, max_days),
        "uno_c": uno_c(y_train, y_test, found["risk"], tau),
        "ibs": ibs,
        "ibs_km_ratio": ibs / km,
        "coverage": coverage(np.minimum(found["lo"], hi), hi, y_test),
    }


SCORES = ("mae_ipcw", "mae_days", "uno_c", "ibs", "ibs_km_ratio", "coverage")
"""The columns of :func:`compare` after ``model``."""


def km_reference(
    y_train: np.ndarray, y_test: np.ndarray, times: npt.ArrayLike, landmark: float | None = None
) -> float:
    """Integrated Brier score of the training Kaplan--Meier curve given to every test row
    (conditional on survival to ``landmark`` when given)."""
    if landmark is None:
        return km_integrated_brier(y_train, y_test, times)
    event, time = check_y(y_train)
    times = check_times(times)
    grid, s = kaplan_meier(time, event)
    at_l = float(step_at(grid, s, [landmark], 1.0)[0])
    curve = step_at(grid, s, times, 1.0) / at_l if at_l > 0 else np.zeros(len(times))
    curve = np.where(times < landmark, 1.0, np.clip(curve, 0.0, 1.0))
    n = len(check_y(y_test)[1])
    return integrated_brier(y_train, y_test, np.tile(curve, (n, 1)), times)


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
    landmark: float | None = None,
) -> pd.DataFrame:
    """Fit each model on the training rows and score all of them on the same test rows.

    Parameters
    ----------
    models : dict or sequence of (str, AgingModel)
        Named models.  With ``fit=True`` each is cloned and the clone fitted, so the
        models passed in are left untouched.
    X_train, y_train, X_test, y_test :
        Episodes and targets (``y_train`` also gives the censoring weights).
    times : array_like
        Time grid of the integrated Brier scores (see :func:`integrated_brier`).
    level : float
        Level of the intervals judged by :func:`coverage`.
    tau : float, optional
        Truncation time of :func:`uno_c`.
    max_days : float, optional
        Cap on predicted days in the MAEs (step-function models predict ``inf`` where
        their curve never reaches 0.5); required with ``landmark``.
    fit : bool
        False to score already-fitted models as they are.
    landmark : float, optional
        Predict given survival to this many days (:func:`predictions`); the test rows
        should then be those still at risk at it.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model`` and :data:`SCORES` (``ibs_km_ratio < 1``: better
        calibrated-and-sharp than the Kaplan--Meier curve; ``mae_ipcw`` by
        :func:`mae_ipcw`, ``mae_days`` over the crossings seen only).
    """
    level = check_open_unit(level, "level")
    items = list(models.items()) if isinstance(models, dict) else list(models)
    times = check_times(times)
    km = km_reference(y_train, y_test, times, landmark)
    rows = []
    for name, model in items:
        if fit:
            model = clone(model).fit(X_train, y_train)
        found = predictions(model, X_test, times, level, landmark, max_days)
        rows.append({"model": name, **score(found, y_train, y_test, times, km, tau, max_days)})
    return pd.DataFrame(rows, columns=["model", *SCORES])
