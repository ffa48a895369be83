"""Burst detection on newly assigned numbers (system 1: US 2023/0008835).

Online per-number detectors (``FixedWindow``, ``SlidingWindow``, ``TokenBucket``, ``EWMA``,
``PoissonCUSUM``), a bounded-memory sketch that watches every number (``CountMinWindow``),
a cohort detector for snowshoe campaigns (``CohortDetector``), Kleinberg's automaton solved
by Viterbi as an offline reference (``kleinberg_bursts``; not an upper bound), the list of
newly assigned numbers (``NewNumberList``), the metrics that judge them against ground
truth (``models.burst.metrics``), the choice of a setting on some replications and its test
on others (``models.burst.selection``), and the best possible delay at each false-alarm
rate for a Poisson rate change, Page's CUSUM (``models.burst.bound``).  The study, the
detectors' equations and the measurements behind their settings are in ``docs/burst.md``.
"""

from .base import DETECTORS, AlarmRule, Detector, OutOfOrderError
from .cohort import CohortDetector
from .kleinberg import kleinberg_bursts
from .rates import EWMA, PoissonCUSUM, TokenBucket
from .sketch import CountMinWindow
from .watchlist import NewNumberList
from .window import FixedWindow, SlidingWindow

__all__ = [
    "AlarmRule",
    "CohortDetector",
    "CountMinWindow",
    "DETECTORS",
    "Detector",
    "EWMA",
    "FixedWindow",
    "NewNumberList",
    "OutOfOrderError",
    "PoissonCUSUM",
    "SlidingWindow",
    "TokenBucket",
    "kleinberg_bursts",
]
