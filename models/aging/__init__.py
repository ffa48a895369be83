"""Aging disconnected numbers (system 2: US 11,431,842): how long a number keeps receiving
its previous owner's calls.

Survival models of the days until an episode's residual call rate falls to a threshold,
all with the scikit-learn contract plus ``predict_days``, ``predict_interval`` and
``predict_survival`` (:class:`~models.aging.base.AgingModel`): the patent's lookup table
(``LookupTable``), lifelines' Cox and AFT models (``CoxPH``, ``WeibullAFT``,
``LogLogisticAFT``), a NumPy Weibull AFT for large tables (``FastWeibullAFT``),
scikit-survival's boosted Cox model (``GradientBoostedSurvival``), a per-number refit from
the first days of aging (``OnlineDecay``) and the expected-rate oracle (``Oracle``: when the
simulator's hidden expected rate crosses); the
metrics that compare them are in :mod:`models.aging.metrics`.  Inputs follow the data
contract of :mod:`models.aging.base` (:data:`FEATURES`, ``early_*``, :data:`HIDDEN`).
"""

from .base import (
    AGING_MODELS,
    FEATURES,
    HIDDEN,
    AgingModel,
    design_matrix,
    early_counts,
    kaplan_meier,
)
from .boosting import GradientBoostedSurvival
from .lookup import LookupTable
from .online import OnlineDecay
from .oracle import Oracle, crossing_days, lomax_day_weights, trailing_crossing_days
from .regression import CoxPH, LogLogisticAFT, WeibullAFT
from .weibull import FastWeibullAFT

__all__ = [
    "AGING_MODELS",
    "AgingModel",
    "CoxPH",
    "FEATURES",
    "FastWeibullAFT",
    "GradientBoostedSurvival",
    "HIDDEN",
    "LogLogisticAFT",
    "LookupTable",
    "OnlineDecay",
    "Oracle",
    "WeibullAFT",
    "crossing_days",
    "design_matrix",
    "early_counts",
    "kaplan_meier",
    "lomax_day_weights",
    "trailing_crossing_days",
]
