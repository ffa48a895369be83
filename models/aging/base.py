"""The data contract of the aging models, their input checks and their common interface.

One row of ``X`` is one disconnect *episode*: a number that went out of service.  The
features known at disconnect are :data:`FEATURES`; the optional early-aging columns
``early_0 ... early_{D-1}`` hold the total inbound calls (residual + background spam)
observed on each of the first ``D`` days of aging; the simulator-truth columns
:data:`HIDDEN` are for :class:`~models.aging.oracle.Oracle` only -- every other model builds
its inputs through :func:`design_matrix` and :func:`early_counts`, which never read them.

The target ``y`` is a scikit-survival structured array (``Surv.from_arrays(event, time)``):
days from disconnect until the residual call rate first falls to the threshold, with
``event == False`` where the episode was censored (still above the threshold when
observation stopped).  Censored rows are always used, never dropped.

Every model is an :class:`AgingModel`: ``fit(X, y)`` returns ``self``; ``predict(X)`` is a
risk score, higher meaning an *earlier* crossing (scikit-survival's convention);
``predict_days(X, q)`` is the time at which the predicted survival ``P(T > t)`` first
falls to ``q`` (``q = 0.5``: the median; ``inf`` if it never does);
``predict_interval(X, level)`` is the central ``level`` interval of ``T``;
``predict_survival(X, times)`` is the ``(n, len(times))`` matrix of ``P(T > t)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..common import SUBSCRIBER_TYPES
from ..registry import Registry

__all__ = [
    "AGING_MODELS",
    "AgingModel",
    "COUNT_FEATURES",
    "FEATURES",
    "HIDDEN",
    "breslow",
    "check_open_unit",
    "check_positive",
    "check_times",
    "check_X",
    "check_y",
    "design_matrix",
    "early_counts",
    "kaplan_meier",
    "step_at",
    "step_quantile",
]

FEATURES = (
    "type",
    "tenure_days",
    "inbound_90d",
    "unique_callers_90d",
    "robocall_share",
    "earlier_reassignments",
)
"""Columns known at disconnect time, the only inputs of every model but the oracle."""

COUNT_FEATURES = ("tenure_days", "inbound_90d", "unique_callers_90d", "earlier_reassignments")
"""Non-negative features that enter the design matrix as ``log1p``."""

HIDDEN = ("lam0", "alpha", "beta_days", "persistent_per_day", "persistent_days")
"""Simulator-truth columns: the residual intensity ``lam0 (1 + t/beta_days)**-alpha`` plus
``persistent_per_day`` while ``t < persistent_days``.  Only the oracle reads them."""

_EARLY = re.compile(r"^early_(\d+)$")


# -- argument checks ----------------------------------------------------------------------
def check_open_unit(value: Any, name: str) -> float:
    """``value`` as a float strictly inside (0, 1), else ``ValueError`` naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return v


def check_positive(value: Any, name: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``), else ``ValueError``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = v >= 0.0 if allow_zero else v > 0.0
    if not (np.isfinite(v) and ok):
        raise ValueError(
            f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}"
        )
    return v


def check_times(times: npt.ArrayLike) -> np.ndarray:
    """``times`` as a 1-D float64 array of finite non-negative days, else ``ValueError``."""
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if t.ndim != 1 or len(t) == 0:
        raise ValueError("times must be a non-empty 1-D array of days")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    return t


def check_X(X: pd.DataFrame, columns: Sequence[str] = FEATURES) -> pd.DataFrame:
    """Check that ``X`` is a DataFrame holding ``columns`` with valid values.

    Parameters
    ----------
    X : pandas.DataFrame
        Episodes, one per row.
    columns : sequence of str
        Columns that must be present (by default :data:`FEATURES`).

    Returns
    -------
    pandas.DataFrame
        ``X`` itself.

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame.
    ValueError
        Naming the column: missing, non-numeric, NaN/inf, a negative count, a
        ``robocall_share`` outside [0, 1] or a ``type`` outside
        :data:`models.common.SUBSCRIBER_TYPES`.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(f"X is missing feature column(s) {missing}")
    for c in columns:
        if c == "type":
            bad = ~X["type"].isin(SUBSCRIBER_TYPES)
            if bad.any():
                raise ValueError(
                    f"X column 'type' has values outside {SUBSCRIBER_TYPES}: "
                    f"{sorted(map(str, X['type'][bad].unique()))[:5]}"
                )
            continue
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]):
            raise ValueError(f"X column {c!r} must be numeric, got dtype {X[c].dtype}")
        v = X[c].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"X column {c!r} has NaN or infinite values")
        if c in COUNT_FEATURES and np.any(v < 0):
            raise ValueError(f"X column {c!r} must be >= 0")
        if c == "robocall_share" and np.any((v < 0) | (v > 1)):
            raise ValueError("X column 'robocall_share' must be in [0, 1]")
    return X


def check_y(y: np.ndarray, n_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split a survival target into ``(event, time)``.

    Parameters
    ----------
    y : numpy structured array
        Two fields, a boolean event indicator then the time in days, as made by
        ``sksurv.util.Surv.from_arrays(event, time)``.
    n_rows : int, optional
        Required length (the rows of ``X``).

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of float64)

    Raises
    ------
    ValueError
        If ``y`` is not such an array, has the wrong length, or a time is negative or not
        finite.
    """
    names = getattr(getattr(y, "dtype", None), "names", None)
    if names is None or len(names) != 2 or np.asarray(y).ndim != 1:
        raise ValueError(
            "y must be a 1-D structured array (event, time), e.g. "
            "sksurv.util.Surv.from_arrays(event, time)"
        )
    event_raw = y[names[0]]
    if event_raw.dtype != np.bool_:
        raise ValueError(f"y field {names[0]!r} (the event indicator) must be boolean")
    event = np.asarray(event_raw, dtype=bool)
    time = np.asarray(y[names[1]], dtype=np.float64)
    if n_rows is not None and len(time) != n_rows:
        raise ValueError(f"y has {len(time)} rows but X has {n_rows}")
    if len(time) == 0:
        raise ValueError("y is empty")
    if not np.all(np.isfinite(time)) or np.any(time < 0):
        raise ValueError("y times must be finite and >= 0")
    return event, time


# -- inputs of the models -----------------------------------------------------------------
def design_matrix(X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The numeric design matrix built from :data:`FEATURES` (hidden columns never read).

    ``log1p`` of the count features, ``robocall_share`` as is, and one-hot ``type`` with
    ``residential`` as the reference level.  No intercept column.

    Parameters
    ----------
    X : pandas.DataFrame
        Episodes with the :data:`FEATURES` columns (checked by :func:`check_X`).

    Returns
    -------
    (numpy.ndarray, list of str)
        ``(n, 8)`` float64 matrix and its column names.
    """
    check_X(X)
    cols, names = [], []
    for c in ("tenure_days", "inbound_90d", "unique_callers_90d"):
        cols.append(np.log1p(X[c].to_numpy(dtype=np.float64)))
        names.append(f"log1p_{c}")
    cols.append(X["robocall_share"].to_numpy(dtype=np.float64))
    names.append("robocall_share")
    cols.append(np.log1p(X["earlier_reassignments"].to_numpy(dtype=np.float64)))
    names.append("log1p_earlier_reassignments")
    typ = X["type"].to_numpy()
    for level in SUBSCRIBER_TYPES[1:]:
        cols.append((typ == level).astype(np.float64))
        names.append(f"type_{level}")
    return np.column_stack(cols), names


def early_counts(X: pd.DataFrame) -> np.ndarray:
    """The ``early_0 ... early_{D-1}`` columns of ``X`` as an ``(n, D)`` float64 array.

    Raises
    ------
    ValueError
        If there is no ``early_0`` column, the indices are not ``0..D-1`` without gaps, or
        a count is negative or not finite.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    idx = sorted(int(m.group(1)) for c in X.columns if (m := _EARLY.match(str(c))))
    if not idx:
        raise ValueError("X has no early-aging columns (early_0, early_1, ...)")
    if idx != list(range(len(idx))):
        raise ValueError(
            f"X early-aging columns must be early_0..early_{{D-1}} without gaps, "
            f"got indices {idx[:10]}"
        )
    counts = X[[f"early_{d}" for d in idx]].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("X early-aging columns must be finite counts >= 0")
    return counts


# -- step functions -----------------------------------------------------------------------
def kaplan_meier(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan--Meier estimate of ``P(T > t)``.

    Parameters
    ----------
    time : array_like of float
        Observed times.
    event : array_like of bool
        True where ``time`` is an event, False where censored.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The distinct event times and the survival just after each (a right-continuous
        step function starting at 1; empty arrays if there is no event).
    """
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    if len(time) == 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    uniq, first = np.unique(t, return_index=True)
    at_risk = len(t) - first
    deaths = np.add.reduceat(e.astype(np.int64), first)
    keep = deaths > 0
    return uniq[keep], np.cumprod(1.0 - deaths[keep] / at_risk[keep])


def breslow(
    risk: npt.ArrayLike, time: npt.ArrayLike, event: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Breslow's cumulative baseline hazard for log-hazard scores ``risk``.

    .. math:: H_0(t) = \\sum_{t_j \\le t} d_j \\big/ \\sum_{k: t_k \\ge t_j} e^{r_k}

    so that ``P(T > t | x) = exp(-H_0(t) exp(r(x)))``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Distinct event times and ``H_0`` at each (right-continuous steps).
    """
    risk = np.asarray(risk, dtype=np.float64)
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    order = np.argsort(time, kind="stable")
    t, e, w = time[order], event[order], np.exp(risk[order])
    uniq, first = np.unique(t, return_index=True)
    tail = np.cumsum(w[::-1])[::-1]  # sum of exp(risk) over t_k >= t_i
    deaths = np.add.reduceat(e.astype(np.int64), first)
    keep = deaths > 0
    return uniq[keep], np.cumsum(deaths[keep] / tail[first[keep]])


def step_at(
    grid: np.ndarray, values: np.ndarray, times: npt.ArrayLike, before: float
) -> np.ndarray:
    """Evaluate right-continuous steps ``values`` (jumps at ``grid``) at ``times``.

    ``before`` is the value left of ``grid[0]``.  ``values`` may be 1-D (one curve) or
    2-D ``(n, len(grid))`` (one curve per row); the result has ``len(times)`` columns.
    """
    idx = np.searchsorted(grid, np.asarray(times, dtype=np.float64), side="right") - 1
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        padded = np.concatenate([[before], values])
        return padded[idx + 1]
    padded = np.concatenate([np.full((len(values), 1), before), values], axis=1)
    return padded[:, idx + 1]


def step_quantile(grid: np.ndarray, surv: np.ndarray, q: float) -> float:
    """First ``grid`` time at which the non-increasing step curve ``surv`` is ``<= q``
    (``inf`` if it never is)."""
    hit = np.flatnonzero(np.asarray(surv) <= q)
    return float(grid[hit[0]]) if len(hit) else float("inf")


# -- the estimator interface --------------------------------------------------------------
class AgingModel(BaseEstimator):
    """Base class of the aging models (scikit-learn estimator contract).

    Subclasses implement ``fit``, ``predict``, ``predict_survival`` and
    ``predict_days``; ``predict_interval`` is derived from ``predict_days``.
    """

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> AgingModel:  # pragma: no cover - abstract
        """Fit on episodes ``X`` and survival target ``y``; return ``self``."""
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        """Risk score per row: higher means an earlier crossing of the threshold."""
        raise NotImplementedError

    def predict_survival(
        self, X: pd.DataFrame, times: npt.ArrayLike
    ) -> np.ndarray:  # pragma: no cover - abstract
        """``(n, len(times))`` array of ``P(T > t)``."""
        raise NotImplementedError

    def predict_days(
        self, X: pd.DataFrame, q: float = 0.5
    ) -> np.ndarray:  # pragma: no cover - abstract
        """Days until ``P(T > t)`` first falls to ``q`` (``inf`` if it never does)."""
        raise NotImplementedError

    def predict_interval(
        self, X: pd.DataFrame, level: float = 0.8
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction interval of the days to the threshold.

        Parameters
        ----------
        X : pandas.DataFrame
            Episodes.
        level : float
            Probability in (0, 1) that ``T`` falls inside the interval, under the model.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``lo = predict_days(X, (1 + level) / 2)`` and
            ``hi = predict_days(X, (1 - level) / 2)``.
        """
        level = check_open_unit(level, "level")
        return self.predict_days(X, (1 + level) / 2), self.predict_days(X, (1 - level) / 2)

    def _check_fitted(self) -> None:
        check_is_fitted(self)


AGING_MODELS: Registry[AgingModel] = Registry("aging model", base=AgingModel)
"""Profile models by config name; each is built from its table ``[aging.models.<name>]``
(its constructor's parameters)."""
