"""The patent's lookup table: profile score -> score bin -> Kaplan--Meier curve of the bin.

US 11,431,842 computes a profile score when a number goes out of service and looks up the
days its profile needs to reach each threshold.  Here the score is the linear predictor
``log lambda(x)`` of a censoring-aware Weibull AFT (:class:`~models.aging.weibull.
FastWeibullAFT`), the profiles are ``n_bins`` quantile bins of the training scores, and each
profile's prediction is the Kaplan--Meier curve of its training episodes (censored ones
included), so the median days of a bin is its KM median.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from .base import (
    AGING_MODELS,
    AgingModel,
    check_open_unit,
    check_times,
    check_y,
    kaplan_meier,
    step_at,
    step_quantile,
)
from .weibull import FastWeibullAFT

__all__ = ["LookupTable"]


@AGING_MODELS.register("lookup")
class LookupTable(AgingModel):
    """Score bins with a Kaplan--Meier curve and median per bin.

    Parameters
    ----------
    n_bins : int
        Number of quantile bins of the training scores (fewer if scores tie).
    penalizer : float
        Penalty of the Weibull AFT that makes the score.

    Attributes
    ----------
    score_model_ : FastWeibullAFT
        The fitted scoring model; ``score = score_model_.log_scale(X)``.
    edges_ : numpy.ndarray
        Inner bin edges (``n_bins_ - 1`` of them); bin ``b`` holds scores in
        ``[edges_[b-1], edges_[b])``.
    n_bins_ : int
        Bins actually used.
    curves_ : list of (numpy.ndarray, numpy.ndarray)
        Per bin, the KM event times and survival after each.
    counts_ : numpy.ndarray
        Training episodes per bin.
    medians_ : numpy.ndarray
        KM median days per bin (``inf`` where the curve stays above 0.5).
    rmst_ : numpy.ndarray
        Restricted mean days per bin, ``integral of S`` up to the last training time; the
        risk score of a row is ``-rmst_`` of its bin.
    """

    def __init__(self, n_bins: int = 10, penalizer: float = 0.01) -> None:
        self.n_bins = n_bins
        self.penalizer = penalizer

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> LookupTable:
        """Fit the score, cut it into quantile bins and estimate a KM curve per bin."""
        if not isinstance(self.n_bins, (int, np.integer)) or self.n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1, got {self.n_bins!r}")
        self.score_model_ = FastWeibullAFT(penalizer=self.penalizer).fit(X, y)
        event, time = check_y(y, len(X))
        score = self.score_model_.log_scale(X)
        inner = np.quantile(score, np.linspace(0, 1, self.n_bins + 1)[1:-1])
        self.edges_ = np.unique(inner)
        self.n_bins_ = len(self.edges_) + 1
        bins = np.searchsorted(self.edges_, score, side="right")
        self.counts_ = np.bincount(bins, minlength=self.n_bins_)
        tau = float(time.max())
        self.curves_, medians, rmst = [], [], []
        for b in range(self.n_bins_):
            grid, surv = kaplan_meier(time[bins == b], event[bins == b])
            self.curves_.append((grid, surv))
            medians.append(step_quantile(grid, surv, 0.5))
            knots = np.concatenate([[0.0], grid[grid < tau], [tau]])
            heights = np.concatenate([[1.0], surv[grid < tau]])
            rmst.append(float(np.dot(heights, np.diff(knots))))
        self.medians_ = np.array(medians)
        self.rmst_ = np.array(rmst)
        return self

    def bin_of(self, X: pd.DataFrame) -> np.ndarray:
        """Profile (bin index) of each row."""
        self._check_fitted()
        return np.searchsorted(self.edges_, self.score_model_.log_scale(X), side="right")

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Risk score ``-rmst_[bin]`` (rows of one profile tie, as in the lookup)."""
        bins = self.bin_of(X)
        return -self.rmst_[bins]

    def predict_days(self, X: pd.DataFrame, q: float = 0.5) -> np.ndarray:
        """The ``q`` survival quantile of the row's bin curve (``inf`` if never reached)."""
        q = check_open_unit(q, "q")
        bins = self.bin_of(X)
        table = np.array([step_quantile(g, s, q) for g, s in self.curves_])
        return table[bins]

    def predict_survival(self, X: pd.DataFrame, times: npt.ArrayLike) -> np.ndarray:
        """The row's bin KM curve on ``times``: shape ``(n, len(times))``."""
        times = check_times(times)
        bins = self.bin_of(X)
        table = np.array([step_at(g, s, times, 1.0) for g, s in self.curves_])
        return table[bins]
