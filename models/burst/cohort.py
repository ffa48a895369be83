"""Cohort detector: many quiet fresh numbers, acquired together, calling together.

Numbers assigned in the same ``cohort_seconds`` bucket form a *cohort*, whose calls are
counted in fixed windows ``w = floor(t / window)``.  A call of number ``i`` of cohort ``c``
alarms when, in its window up to and including this call, the cohort made more than
``threshold`` calls, at least ``min_members`` of its numbers called, and ``i`` itself made
at most ``max_member_calls`` -- a quiet member of a loud, wide cohort: the snowshoe
pattern.  Numbers never assigned through :meth:`CohortDetector.assign` never alarm.  The
per-event work is the Numba kernel :func:`cohort_step` (``cohort_step.py_func`` is its
Python twin); assignments are rare and stay in Python.

The rule's confounders (new subscribers, businesses and call centres, notification bursts,
bystanders), what it misses and the measured sensitivity of its parameters are in
``docs/burst.md`` ("The cohort detector").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from .base import DETECTORS, AlarmRule, Detector
from .window import _positive_float, _positive_int

__all__ = ["CohortDetector", "cohort_step", "NEVER"]

NEVER = np.iinfo(np.int64).min
"""Window index of a number or cohort that has not called yet."""


def _cohort_step(
    t: np.ndarray,
    ids: np.ndarray,
    window: float,
    threshold: float,
    min_members: int,
    max_member_calls: int,
    cohort: np.ndarray,
    member_win: np.ndarray,
    member_calls: np.ndarray,
    cohort_win: np.ndarray,
    cohort_calls: np.ndarray,
    cohort_members: np.ndarray,
    alarm: np.ndarray,
) -> int:
    """Advance every cohort's window counts over a batch of events and raise alarms.

    Parameters
    ----------
    t : float64[n]
        Event times, non-decreasing.
    ids : int64[n]
        Number of each event.
    window : float
        Window length (s); the window of ``t`` is ``floor(t / window)``.
    threshold : float
        Alarm when the cohort's calls in the window exceed it.
    min_members : int
        ... and at least this many distinct members called in the window ...
    max_member_calls : int
        ... and the calling number's own calls in the window are at most this many.
    cohort : int32[n_ids]
        Dense cohort index of each number (-1: none).
    member_win : int64[n_ids]
        Window of each number's last call (``NEVER`` before the first); updated.
    member_calls : int32[n_ids]
        Each number's calls in ``member_win``; updated.
    cohort_win : int64[n_cohorts]
        Current window of each cohort; updated.
    cohort_calls, cohort_members : int64[n_cohorts]
        Each cohort's calls and distinct active members in ``cohort_win``; updated.
    alarm : bool[n]
        Output: True where the event raises an alarm.

    Returns
    -------
    int
        -1 on success, or the index of the first event earlier than its predecessor (the
        state is then undefined).
    """
    n = t.shape[0]
    for j in range(n):
        if j > 0 and not (t[j] >= t[j - 1]):
            return j
        if t[j] != t[j]:
            return j
        i = ids[j]
        c = cohort[i]
        if c < 0:
            continue
        w = np.int64(math.floor(t[j] / window))
        if cohort_win[c] != w:
            cohort_win[c] = w
            cohort_calls[c] = 0
            cohort_members[c] = 0
        if member_win[i] != w:
            member_win[i] = w
            member_calls[i] = 0
            cohort_members[c] += 1
        member_calls[i] += 1
        cohort_calls[c] += 1
        if (
            cohort_calls[c] > threshold
            and cohort_members[c] >= min_members
            and member_calls[i] <= max_member_calls
        ):
            alarm[j] = True
    return -1


cohort_step = njit(cache=True, nogil=True)(_cohort_step)


@DETECTORS.register("cohort")
class CohortDetector(Detector):
    """Alarm on quiet members of a loud, wide cohort of numbers assigned together.

    Parameters
    ----------
    cohort_seconds : float
        Width of an assignment bucket (s): numbers assigned in the same
        ``floor(t / cohort_seconds)`` form a cohort (e.g. 600 for ten minutes).
    window : float
        Length of the fixed counting windows (s).
    threshold : float
        A cohort is loud when its calls in the current window exceed ``threshold``.
    min_members : int
        ... and wide when at least ``min_members`` distinct members called in it.
    max_member_calls : int
        Only a member with at most this many calls in the window is flagged (heavy single
        numbers are left to the per-number detectors).
    kernel : callable
        :func:`cohort_step` or its Python twin ``cohort_step.py_func``.

    Attributes
    ----------
    cohort_ : numpy.ndarray of int32
        Dense cohort index of each number (-1 if none).
    member_win_, member_calls_ : numpy.ndarray
        Window of each number's last call and its calls in that window.
    cohort_win_, cohort_calls_, cohort_members_ : numpy.ndarray of int64
        Per cohort: current window, calls and distinct active members in it.
    cohort_key_ : numpy.ndarray of int64
        Per cohort: its bucket ``floor(t / cohort_seconds)``.

    Notes
    -----
    Per-number state is 16 bytes (int32 cohort, int64 last window, int32 calls), plus the
    base class's 8-byte ``flagged_at_``; each cohort adds 32 bytes (window, calls, members,
    key) and a dict entry.  Buckets are never freed, so a year of ten-minute buckets costs
    at most 52,560 cohorts.

    Examples
    --------
    >>> import numpy as np
    >>> det = CohortDetector(600, 3600, threshold=5, min_members=4,
    ...                      max_member_calls=2).reset(10)
    >>> det.assign(np.arange(6), 100.0)          # six numbers taken in one go
    >>> det.update(np.arange(10.0) * 60, np.arange(10) % 6).any()
    np.True_
    """

    def __init__(
        self,
        cohort_seconds: float,
        window: float,
        threshold: float,
        min_members: int,
        max_member_calls: int,
        kernel: Callable[..., Any] = cohort_step,
    ) -> None:
        self.cohort_seconds = cohort_seconds
        self.window = window
        self.threshold = threshold
        self.min_members = min_members
        self.max_member_calls = max_member_calls
        self.kernel = kernel

    per_rule = False

    @classmethod
    def from_rule(
        cls,
        rule: AlarmRule,
        *,
        seconds: float,
        window_seconds: float,
        threshold: float,
        min_members: int,
        max_member_calls: int,
    ) -> CohortDetector:
        """The cohort detector with its own levels, ``threshold`` scaled like the rules.

        Parameters
        ----------
        rule : AlarmRule
            Only its ``scale`` is used: the cohort has levels of its own.
        seconds : float
            Numbers assigned within the same ``seconds`` form a cohort.
        window_seconds : float
            Counting window (s).
        threshold : float
            A cohort alarms above this many calls in a window ...
        min_members : int
            ... from at least this many of its numbers ...
        max_member_calls : int
            ... each of which made at most this many of them.
        """
        return cls(seconds, window_seconds, threshold * rule.scale, min_members, max_member_calls)

    def _validate(self) -> None:
        _positive_float("cohort_seconds", self.cohort_seconds)
        _positive_float("window", self.window)
        # 0 is allowed: any call of a wide cohort alarms
        if isinstance(self.threshold, bool) or self.threshold != 0:
            _positive_float("threshold", self.threshold)
        _positive_int("min_members", self.min_members)
        _positive_int("max_member_calls", self.max_member_calls)

    def _allocate(self, n_ids: int) -> None:
        self._validate()
        self.cohort_ = np.full(n_ids, -1, dtype=np.int32)
        self.member_win_ = np.full(n_ids, NEVER, dtype=np.int64)
        self.member_calls_ = np.zeros(n_ids, dtype=np.int32)
        self._n_cohorts = 0
        self._index: dict[int, int] = {}
        cap = 16
        self._cohort_win = np.full(cap, NEVER, dtype=np.int64)
        self._cohort_calls = np.zeros(cap, dtype=np.int64)
        self._cohort_members = np.zeros(cap, dtype=np.int64)
        self._cohort_key = np.zeros(cap, dtype=np.int64)

    # Views of the used part of the growing per-cohort arrays.
    @property
    def n_cohorts_(self) -> int:
        """Number of cohorts (assignment buckets) seen so far."""
        return self._n_cohorts

    @property
    def cohort_win_(self) -> np.ndarray:
        return self._cohort_win[: self._n_cohorts]

    @property
    def cohort_calls_(self) -> np.ndarray:
        return self._cohort_calls[: self._n_cohorts]

    @property
    def cohort_members_(self) -> np.ndarray:
        return self._cohort_members[: self._n_cohorts]

    @property
    def cohort_key_(self) -> np.ndarray:
        return self._cohort_key[: self._n_cohorts]

    def _grow(self, need: int) -> None:
        cap = len(self._cohort_win)
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for name, fill in (
            ("_cohort_win", NEVER),
            ("_cohort_calls", 0),
            ("_cohort_members", 0),
            ("_cohort_key", 0),
        ):
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, name, new)

    def assign(self, ids: npt.ArrayLike, t: npt.ArrayLike) -> None:
        """Record that ``ids`` were assigned at time(s) ``t``: set their cohort.

        Call it before :meth:`update` sees their calls.  A number that is already in a
        cohort is moved, as if :meth:`forget` had been called first (a new owner starts
        afresh, ``flagged_at_`` included).

        Parameters
        ----------
        ids : array_like of int
            Numbers assigned (no repeats).
        t : float or array_like of float
            Assignment time, one for all or one per number.
        """
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        if len(ids) == 0:
            return
        n_ids = len(self.cohort_)
        if ids.min() < 0 or ids.max() >= n_ids:
            raise ValueError("ids must lie in 0..n_ids-1")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("ids must not repeat in one assign call")
        t = np.broadcast_to(np.asarray(t, dtype=np.float64), ids.shape)
        if not np.isfinite(t).all():
            raise ValueError("assignment times must be finite")
        held = ids[self.cohort_[ids] >= 0]
        if len(held):
            self.forget(held)
        keys = np.floor(t / float(self.cohort_seconds)).astype(np.int64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        dense = np.empty(len(uniq), dtype=np.int64)
        for j, key in enumerate(uniq.tolist()):
            c = self._index.get(key)
            if c is None:
                c = self._n_cohorts
                self._grow(c + 1)
                self._index[key] = c
                self._cohort_key[c] = key
                self._n_cohorts += 1
            dense[j] = c
        self.cohort_[ids] = dense[inverse.ravel()]
        self.member_win_[ids] = NEVER
        self.member_calls_[ids] = 0

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        if ids.min() < 0 or ids.max() >= len(self.cohort_):
            raise ValueError("ids must lie in 0..n_ids-1")
        return self.kernel(
            t,
            ids,
            float(self.window),
            float(self.threshold),
            int(self.min_members),
            int(self.max_member_calls),
            self.cohort_,
            self.member_win_,
            self.member_calls_,
            self._cohort_win,
            self._cohort_calls,
            self._cohort_members,
            alarm,
        )

    def _clear(self, ids: np.ndarray) -> None:
        """Take ``ids`` out of their cohort, withdrawing their calls in its current window."""
        ids = np.unique(ids)
        c = self.cohort_[ids].astype(np.int64)
        live = c >= 0
        ids, c = ids[live], c[live]
        win = self.member_win_[ids]
        counted = (win != NEVER) & (win == self._cohort_win[c])
        np.subtract.at(self._cohort_calls, c[counted], self.member_calls_[ids[counted]])
        np.subtract.at(self._cohort_members, c[counted], 1)
        self.cohort_[ids] = -1
        self.member_win_[ids] = NEVER
        self.member_calls_[ids] = 0

    @property
    def state_bytes_per_id(self) -> int:
        """Bytes of per-number state: cohort (4), last window (8), calls in it (4).

        Excludes the base class's ``flagged_at_`` (8 more) and the per-cohort arrays
        (32 bytes per assignment bucket, shared by its members).
        """
        return self.cohort_.itemsize + self.member_win_.itemsize + self.member_calls_.itemsize
