"""The common shape of an online burst detector.

A detector watches a time-ordered stream of call attempts ``(t, id)`` -- ``t`` in seconds,
``id`` a dense number id in ``0..n_ids-1`` -- and raises an *alarm* at an event when the
number's statistic is over the threshold at that event.  State lives in flat NumPy arrays
indexed by id; the per-event work is a Numba kernel written once in plain Python and
compiled with ``njit(cache=True)``; ``kernel.py_func`` is its plain-Python twin.

Following scikit-learn's conventions, ``__init__`` only stores parameters, ``reset`` (the
``fit`` of an online model) allocates the learned state, which ends in ``_``, and returns
``self``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..common import DAY
from ..registry import Registry

__all__ = ["AlarmRule", "DETECTORS", "Detector", "OutOfOrderError"]


@dataclass(frozen=True)
class AlarmRule:
    """The alarm level every detector is set to: ``threshold`` calls per ``window_seconds``.

    It sets the count of the window rules, the token bucket (rate ``threshold / window``,
    depth ``threshold``), the EWMA's rate with ``tau = window`` and the CUSUM's post-change
    rate; detectors with levels of their own (the cohort detector) scale them by
    ``scale``.

    Attributes
    ----------
    threshold : float
        Calls per window at which a number is over the level (already scaled).
    window_seconds : float
        Window length (s).
    baseline_per_day : float
        The busiest legitimate rate the detector should tolerate (calls/day): the CUSUM's
        pre-change rate.
    scale : float
        How much the configured thresholds were scaled (1 in a run; the open-loop
        threshold sweep varies it).
    seed : int
        Seed of randomised detectors (hash functions of a sketch).
    """

    threshold: float
    window_seconds: float
    baseline_per_day: float
    scale: float = 1.0
    seed: int = 0

    @property
    def rate(self) -> float:
        """The alarm rate ``threshold / window_seconds`` (calls/s)."""
        return self.threshold / self.window_seconds

    @property
    def baseline_rate(self) -> float:
        """``baseline_per_day`` in calls/s."""
        return self.baseline_per_day / DAY


class OutOfOrderError(ValueError):
    """Events were not in time order (within a batch or against the previous batch)."""


class Detector:
    """Base class of online per-number detectors.

    Subclasses implement ``_allocate(n_ids)``, ``_run(t, ids, alarm) -> int`` (the kernel
    call; returns -1 on success or the index of the first out-of-order event),
    ``_clear(ids)`` and ``state_bytes_per_id``; a registered detector (:data:`DETECTORS`)
    also implements :meth:`from_rule`.

    Class attributes
    ----------------
    per_rule : bool
        Built once per alarm rule of the carrier's policy (True), or once for all of them
        (False: a detector with levels of its own).
    watches_all : bool
        Sees every line's calls (bounded-memory sketches), not only listed numbers.

    Attributes
    ----------
    flagged_at_ : numpy.ndarray of float64
        Time of each number's first alarm (``inf`` if none).
    last_t_ : float
        Time of the last event processed.
    """

    per_rule: ClassVar[bool] = True
    watches_all: ClassVar[bool] = False

    @classmethod
    def from_rule(cls, rule: AlarmRule, *args: Any, **params: Any) -> Detector:
        """The detector set to an alarm rule; a subclass declares its own parameters (its
        table in the config) as keyword-only arguments after ``rule``."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_rule")

    def assign(self, ids: np.ndarray, t: npt.ArrayLike) -> None:
        """Numbers were newly assigned at ``t`` (one time for all, or one per number; a
        hook: most detectors ignore it)."""

    def reset(self, n_ids: int) -> Detector:
        """Allocate fresh state for ``n_ids`` numbers and return ``self``."""
        if n_ids < 0:
            raise ValueError("n_ids must be non-negative")
        self._allocate(int(n_ids))
        self.flagged_at_ = np.full(int(n_ids), np.inf)
        self.last_t_ = -np.inf
        return self

    def update(self, t: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Process events in time order; return the alarm mask (one bool per event).

        Parameters
        ----------
        t : numpy.ndarray of float64
            Event times, non-decreasing, not before the previous batch's last event.
        ids : numpy.ndarray of int
            Number id of each event.

        Returns
        -------
        numpy.ndarray of bool
            True where the event's number is over the threshold at that event.

        Raises
        ------
        OutOfOrderError
            If the events are not in time order; the state is then undefined and the
            detector must be reset.
        """
        t = np.ascontiguousarray(t, dtype=np.float64)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        alarm = np.zeros(len(t), dtype=np.bool_)
        if len(t) == 0:
            return alarm
        if t[0] < self.last_t_:
            raise OutOfOrderError(
                f"event at t={t[0]} comes before the previous batch's "
                f"last event at t={self.last_t_}"
            )
        bad = self._run(t, ids, alarm)
        if bad >= 0:
            raise OutOfOrderError(f"events out of time order at index {bad} (t={t[bad]})")
        self.last_t_ = float(t[-1])
        first = np.flatnonzero(alarm)
        if len(first):
            np.minimum.at(self.flagged_at_, ids[first], t[first])
        return alarm

    def forget(self, ids: np.ndarray) -> None:
        """Clear the state of ``ids`` (a number given to a new owner starts afresh)."""
        ids = np.asarray(ids, dtype=np.int64)
        self.flagged_at_[ids] = np.inf
        self._clear(ids)

    @property
    def state_bytes_per_id(self) -> int:
        """Bytes of per-number state."""
        raise NotImplementedError

    def _allocate(self, n_ids: int) -> None:
        raise NotImplementedError

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        raise NotImplementedError

    def _clear(self, ids: np.ndarray) -> None:
        raise NotImplementedError


DETECTORS: Registry[Detector] = Registry("detector", factory="from_rule", context=1, base=Detector)
"""Detectors a carrier's policy can run, by config name (``detection.detector``)."""
