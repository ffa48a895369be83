"""Cohort detector: many quiet fresh numbers, acquired together, calling together.

A "snowshoe" robocall campaign spreads its calls thinly: the operator takes many fresh
numbers at once and each places only a few calls a day (<= 5), under any per-number
threshold.  What gives it away is what the numbers share.  A carrier sees two things: when
each number was assigned, and the calls.  Numbers assigned in the same ``cohort_seconds``
bucket form a *cohort* (the operator acquires its numbers in one go), and the detector
watches each cohort's calls in fixed windows ``w = floor(t / window)``.

At a call ``(t, i)`` from a number ``i`` of cohort ``c``, with ``w`` its window, let

    V_c(t)   = calls of the members of ``c`` in window ``w`` up to and including this one,
    M_c(t)   = distinct members of ``c`` that called in window ``w`` up to now,
    v_i(t)   = calls of ``i`` in window ``w`` up to and including this one.

The call raises an alarm when

    V_c(t) > threshold   and   M_c(t) >= min_members   and   v_i(t) <= max_member_calls.

The first two conditions say "this cohort is loud, and the noise comes from many numbers";
the third keeps the rule to *quiet* callers: a heavy single number is the per-number
detectors' job, and a quiet member of a loud, wide cohort is exactly the snowshoe pattern.
Numbers never assigned through :meth:`CohortDetector.assign` belong to no cohort and never
alarm.

Confounders, and why the rule passes them:

* Ordinary new subscribers: a cohort is whatever the carrier assigned in the same bucket,
  a handful of unrelated people making a few calls a day at different hours; its volume in a
  window is a few calls from a few members.
* A business that activates 30 lines at once: its lines make ordinary calls, so the cohort's
  volume stays low (a few calls an hour per line, some 20 across the lines).  It can never
  have more than 30 active members, though, and in a long window most of them do call:
  ``min_members`` above the line count of such businesses keeps it out.
* New call-centre lines (200-450 calls/day each): loud, but from few numbers.  Early in a
  window every line is still "quiet" (``v_i`` small) while the cohort is already loud, so
  what protects them is ``min_members``: it must exceed the number of busy lines a
  legitimate customer activates in one bucket.  A call centre that opens more lines than
  ``min_members`` at once *will* be flagged on its first calls of each window; a per-customer
  allow-list (the carrier knows the account) is the remedy, not a looser rule.
* Notification bursts (a school or pharmacy calling hundreds of people in an hour): one
  number, so ``M_c`` stays small, and its own count soon exceeds ``max_member_calls``.
* Bystanders: an ordinary subscriber assigned in the same bucket as a campaign *is* a
  member of its cohort and is flagged with it.  The expected collateral per campaign is the
  assignment rate times ``cohort_seconds``, so the bucket should be as short as a bulk
  acquisition allows (a minute rather than ten).

What it misses: a snowshoe operator that acquires its numbers in many small batches spread
over time (each batch below ``min_members``), or through several carriers.  A campaign whose
acquisition straddles a bucket edge is split into two cohorts, each with half the members.

Choosing parameters (measured on the synthetic carrier of
``tests/test_burst_offline_cohort.py``, seeds 0-4: 5,000 ordinary new numbers, 20
call-centre lines and a 30-line business each activated together, 5 notification bursts,
and 100 snowshoe numbers assigned within one minute, calling 3-5 times a day between 10:00
and 16:00).  ``cohort_seconds=60, window=7200, threshold=40, min_members=30,
max_member_calls=3`` flags 100% of the snowshoe (98-100% when its minute straddles a bucket
edge and it splits into two cohorts of ~50), and no one else but bystanders (one ordinary
number, on one seed of five, assigned in the snowshoe's minute; with ten-minute buckets one
to three on every seed).  Sensitivity:

* ``min_members`` is the tight knob.  At 25 the 30-line business is flagged (1-13 of its
  lines: in a two-hour window most of its lines call); at 20 the call centre too (all 20
  lines); at 35 a split snowshoe drops to 62-100%.
* ``window``: one hour needs ``threshold`` and ``min_members`` near 25, and a split snowshoe
  then drops to 65-96% (at 40 / 30: 19-59%); half an hour loses a split snowshoe entirely.
  Longer windows gather more members per window, which is what a slow campaign needs.
* ``threshold``: 25 to 40 changes nothing; 60 drops a split snowshoe to 66-95%.
* ``max_member_calls``: 3 or 5 the same; 1 drops a split snowshoe to 88-99% (a member may
  call twice in a window before its cohort is loud).
* ``cohort_seconds``: sets the bystander collateral (assignment rate times bucket width) and
  must cover the operator's acquisition (a bulk order takes seconds to a minute).

Windows are fixed (aligned on ``t = 0``), so a campaign whose calls straddle a window edge is
split between two windows; per-cohort state is reset lazily by the first call of a new
window.  The per-event work is the Numba kernel :func:`cohort_step`
(``cohort_step.py_func`` is its Python twin); assignments are rare and stay in Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base import DETECTORS, AlarmRule, Detector
from .window import _positive_float, _positive_int

__all__ = ["CohortDetector", "cohort_step", "NEVER"]

NEVER = np.iinfo(np.int64).min
"""Window index of a number or cohort that has not called yet."""


def _cohort_step(t, ids, window, threshold, min_members, max_member_calls, cohort,
                 member_win, member_calls, cohort_win, cohort_calls, cohort_members, alarm):
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
        if (cohort_calls[c] > threshold and cohort_members[c] >= min_members
                and member_calls[i] <= max_member_calls):
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

    def __init__(self, cohort_seconds: float, window: float, threshold: float,
                 min_members: int, max_member_calls: int, kernel=cohort_step):
        self.cohort_seconds = cohort_seconds
        self.window = window
        self.threshold = threshold
        self.min_members = min_members
        self.max_member_calls = max_member_calls
        self.kernel = kernel

    per_rule = False

    @classmethod
    def from_rule(cls, rule: AlarmRule, *, seconds: float, window_seconds: float,
                  threshold: float, min_members: int,
                  max_member_calls: int) -> "CohortDetector":
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
        return cls(seconds, window_seconds, threshold * rule.scale, min_members,
                   max_member_calls)

    def _validate(self) -> None:
        _positive_float("cohort_seconds", self.cohort_seconds)
        _positive_float("window", self.window)
        if isinstance(self.threshold, bool) or self.threshold != 0:  # 0 is allowed: any call of a wide cohort alarms
            _positive_float("threshold", self.threshold)
        _positive_int("min_members", self.min_members)
        _positive_int("max_member_calls", self.max_member_calls)

    def _allocate(self, n_ids: int) -> None:
        self._validate()
        self.cohort_ = np.full(n_ids, -1, dtype=np.int32)
        self.member_win_ = np.full(n_ids, NEVER, dtype=np.int64)
        self.member_calls_ = np.zeros(n_ids, dtype=np.int32)
        self._n_cohorts = 0
        self._index = {}
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
        for name, fill in (("_cohort_win", NEVER), ("_cohort_calls", 0),
                           ("_cohort_members", 0), ("_cohort_key", 0)):
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, name, new)

    def assign(self, ids, t) -> None:
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
        return self.kernel(t, ids, float(self.window), float(self.threshold),
                           int(self.min_members), int(self.max_member_calls), self.cohort_,
                           self.member_win_, self.member_calls_, self._cohort_win,
                           self._cohort_calls, self._cohort_members, alarm)

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
        return (self.cohort_.itemsize + self.member_win_.itemsize
                + self.member_calls_.itemsize)
