"""Per-number call counts in fixed and sliding time windows.

Both detectors count a number's call attempts over a window of length ``W`` seconds and
alarm at the call that takes the count over a threshold ``c``:

* :class:`FixedWindow` (the rule of the patent) cuts time into windows
  ``k = floor(t / W)`` and alarms at the ``(c+1)``-th call of a number within one window.
  It needs two int32 per number.
* :class:`SlidingWindow` alarms at event ``i`` when more than ``c`` of the number's events
  lie in ``(t_i - W, t_i]``; it is exact, so it catches a burst that a fixed grid splits in
  two, and keeps the last ``c`` call times of each number that has called.

The kernels :func:`fixed_window` and :func:`sliding_window` are compiled by Numba;
``kernel.py_func`` is the same code run by the interpreter, the oracle of the tests.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import njit

from ..jit import PREFETCH_AHEAD, prefetch
from .base import DETECTORS, AlarmRule, Detector

__all__ = [
    "FixedWindow",
    "SlidingWindow",
    "fixed_window",
    "sliding_window",
    "WINDOW_STATE",
    "DONE",
    "OUT_OF_ORDER",
    "POOL_FULL",
]

DONE, OUT_OF_ORDER, POOL_FULL = 0, 1, 2
"""Status codes returned by :func:`sliding_window`."""

_INT32_MAX = float(np.iinfo(np.int32).max)


# -- validation shared by the detectors of this package (rates.py and sketch.py use them) --
def _positive_int(name: str, value: object) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_float(name: str, value: object) -> float:
    """``value`` as a float, or ``ValueError`` naming ``name`` unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def _check_events(t: np.ndarray, ids: np.ndarray, n_ids: int) -> None:
    """Refuse ids outside ``0..n_ids-1`` (the kernels index state arrays without bounds
    checks) and infinite times at either end (NaN is caught by the kernels' order check)."""
    if ids.view(np.uint64).max() >= n_ids:  # one pass: negative ids wrap to huge ones
        raise IndexError(f"ids must lie in 0..{n_ids - 1}, got {ids.min()}..{ids.max()}")
    if math.isinf(t[0]) or math.isinf(t[-1]):
        raise ValueError("event times must be finite")


# -- fixed windows -------------------------------------------------------------------------
WINDOW_STATE = np.dtype([("window", np.int32), ("count", np.int32)])
"""A number's fixed-window state: window index and calls in it (8 bytes, one record)."""


def _fixed_window(
    t: np.ndarray,
    ids: np.ndarray,
    window: float,
    threshold: int,
    state: np.ndarray,
    alarm: np.ndarray,
) -> int:
    """Count each number's calls in its current fixed window and flag the excess ones.

    With ``k_i = floor(t_i / W)``, the count of number ``j`` restarts at 0 whenever its
    window index changes, then

        n_j <- n_j + 1,    alarm_i = n_j > c.

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event.
    window : float
        Window length ``W`` (s).
    threshold : int
        Calls allowed per window ``c``.
    state : WINDOW_STATE[n_ids]
        Each number's window index and count in it (updated in place).  One 8-byte
        record per number, so an event touches one cache line.
    alarm : bool[n]
        Output: set where the event exceeds the threshold.

    Returns
    -------
    int
        -1, or the index of the first event earlier than its predecessor (NaN counts as
        out of order); events before it have been processed.
    """
    n = t.shape[0]
    prev = -np.inf
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            prefetch(state, ids[i + PREFETCH_AHEAD])
        ti = t[i]
        if not ti >= prev:
            return i
        prev = ti
        k = np.int32(math.floor(ti / window))
        rec = state[ids[i]]
        c = rec["count"]
        if rec["window"] != k:
            rec["window"] = k
            c = 0
        c += 1
        rec["count"] = c
        alarm[i] = c > threshold
    return -1


fixed_window = njit(cache=True, nogil=True)(_fixed_window)


@DETECTORS.register("fixed_window")
class FixedWindow(Detector):
    """Fixed-window call counter (the patent's rule).

    Time is cut into windows ``k = floor(t / W)``; each number's count restarts when its
    window index changes, and an event raises an alarm when the count including it exceeds
    the threshold:

    .. math:: n_j(k) \\leftarrow n_j(k) + 1, \\qquad \\text{alarm} \\iff n_j(k) > c,

    i.e. at the ``(c+1)``-th and later calls of a number in one window.  State: an int32
    window index and an int32 count per number (8 bytes), side by side in one record.

    Parameters
    ----------
    threshold : int
        Calls allowed per window ``c`` (>= 1).
    window : float
        Window length ``W`` in seconds (> 0).  ``t / W`` must stay below 2**31.

    Attributes
    ----------
    state_ : numpy.ndarray of :data:`WINDOW_STATE`
        Each number's ``window`` index and ``count`` in that window; ``window_index_``
        and ``count_`` are views of the two fields.

    Examples
    --------
    >>> import numpy as np
    >>> det = FixedWindow(threshold=2, window=60.0).reset(2)
    >>> det.update(np.array([0.0, 1.0, 2.0, 3.0, 61.0]), np.array([0, 0, 1, 0, 0]))
    array([False, False, False,  True, False])
    >>> det.count_
    array([1, 1], dtype=int32)
    """

    _kernel = staticmethod(fixed_window)

    def __init__(self, threshold: int, window: float) -> None:
        self.threshold = _positive_int("threshold", threshold)
        self.window = _positive_float("window", window)

    @classmethod
    def from_rule(cls, rule: AlarmRule) -> FixedWindow:
        """Count ``rule.threshold`` calls per ``rule.window_seconds``."""
        return cls(int(rule.threshold), rule.window_seconds)

    @property
    def state_bytes_per_id(self) -> int:
        """Bytes of per-number state: int32 window index + int32 count = 8."""
        return WINDOW_STATE.itemsize

    @property
    def window_index_(self) -> np.ndarray:
        """Window index of each number's count (a view of ``state_``)."""
        return self.state_["window"]

    @property
    def count_(self) -> np.ndarray:
        """Calls of each number in its window (a view of ``state_``)."""
        return self.state_["count"]

    def _allocate(self, n_ids: int) -> None:
        self.state_ = np.zeros(n_ids, dtype=WINDOW_STATE)

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        _check_events(t, ids, len(self.state_))
        if max(abs(t[0]), abs(t[-1])) / self.window >= _INT32_MAX:
            raise ValueError(
                f"t / window must stay below 2**31 (int32 window index); got "
                f"t up to {max(abs(t[0]), abs(t[-1]))} with window={self.window}"
            )
        return self._kernel(t, ids, self.window, self.threshold, self.state_, alarm)

    def _clear(self, ids: np.ndarray) -> None:
        self.state_["count"][ids] = 0


# -- sliding windows -----------------------------------------------------------------------
def _sliding_window(
    t: np.ndarray,
    ids: np.ndarray,
    window: float,
    threshold: int,
    slot_of: np.ndarray,
    ring: np.ndarray,
    head: np.ndarray,
    fill: np.ndarray,
    used: np.ndarray,
    start: int,
    alarm: np.ndarray,
) -> tuple[int, int]:
    """Exact sliding-window counts from a ring of each number's last ``c`` call times.

    Event ``i`` of number ``j`` raises an alarm iff ``j`` had at least ``c`` earlier events
    in ``(t_i - W, t_i]``, i.e. iff the ``c``-th most recent earlier call time ``s``
    satisfies ``s > t_i - W``; that time is the oldest entry of ``j``'s full ring.

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event.
    window : float
        Window length ``W`` (s).
    threshold : int
        Events allowed in a window ``c`` (the ring length).
    slot_of : int32[n_ids]
        Ring slot of each number, -1 if it has none yet (updated in place).
    ring : float64[capacity, c]
        Last ``c`` call times of each slot (updated in place).
    head : int32[capacity]
        Position of each slot's oldest time = next write position (updated in place).
    fill : int32[capacity]
        Number of valid times in each slot, at most ``c`` (updated in place).
    used : int64[1]
        Slots handed out so far (updated in place).
    start : int
        First event to process (to resume after the pool filled up).
    alarm : bool[n]
        Output: set where the event exceeds the threshold.

    Returns
    -------
    (int, int)
        ``(DONE, n)``; ``(OUT_OF_ORDER, i)`` at the first event earlier than its
        predecessor; or ``(POOL_FULL, i)`` when event ``i``'s number needs a slot and all
        ``capacity`` slots are taken (grow the pool and call again with ``start=i``).
    """
    n = t.shape[0]
    capacity = ring.shape[0]
    prev = t[start - 1] if start > 0 else -np.inf
    for i in range(start, n):
        if i + 2 * PREFETCH_AHEAD < n:
            prefetch(slot_of, ids[i + 2 * PREFETCH_AHEAD])
        if i + PREFETCH_AHEAD < n:
            ahead = slot_of[ids[i + PREFETCH_AHEAD]]
            if ahead >= 0:
                prefetch(head, ahead)
                prefetch(fill, ahead)
                prefetch(ring[ahead], 0)
                prefetch(ring[ahead], threshold - 1)
        ti = t[i]
        if not ti >= prev:
            return OUT_OF_ORDER, i
        prev = ti
        j = ids[i]
        s = slot_of[j]
        if s < 0:
            s = used[0]
            if s == capacity:
                return POOL_FULL, i
            used[0] = s + 1
            slot_of[j] = s
            head[s] = 0
            fill[s] = 0
        h = head[s]
        f = fill[s]
        alarm[i] = f == threshold and ring[s, h] > ti - window
        ring[s, h] = ti
        h += 1
        if h == threshold:
            h = 0
        head[s] = h
        if f < threshold:
            fill[s] = f + 1
    return DONE, n


sliding_window = njit(cache=True, nogil=True)(_sliding_window)


@DETECTORS.register("sliding_window")
class SlidingWindow(Detector):
    """Exact sliding-window call counter.

    Event ``i`` of number ``j`` raises an alarm when the number's events in the window
    ending at it, itself included, exceed the threshold:

    .. math:: \\text{alarm}_i \\iff \\#\\{m \\le i : j_m = j,\\ t_m > t_i - W\\} > c .

    Events at the same time count in stream order (an online detector cannot see the
    events after ``i``).  Since times are sorted this holds iff the ``c``-th most recent
    earlier event of ``j`` is later than ``t_i - W``, so each tracked number keeps a ring
    of its last ``c`` event times (float64) with an int32 head and fill, in a slot pool
    handed out at a number's first event: ``slot_of[id]`` is the slot (-1 before it).
    The pool doubles (never beyond ``n_ids`` slots) when it is full; slots are never
    given back.

    Parameters
    ----------
    threshold : int
        Events allowed in a window ``c`` (>= 1); the ring length.
    window : float
        Window length ``W`` in seconds (> 0).
    max_tracked : int
        Initial number of slots in the pool (>= 1); it grows by doubling.

    Attributes
    ----------
    slot_of_ : numpy.ndarray of int32
        Slot of each number (-1 = not tracked yet).
    ring_ : numpy.ndarray of float64, shape (capacity, threshold)
        Last event times of each slot.
    head_, fill_ : numpy.ndarray of int32
        Oldest position and number of valid times of each slot.
    used_ : numpy.ndarray of int64, shape (1,)
        Slots handed out.

    Examples
    --------
    >>> import numpy as np
    >>> det = SlidingWindow(threshold=2, window=60.0).reset(1)
    >>> det.update(np.array([0.0, 50.0, 59.0, 61.0, 130.0]), np.zeros(5, dtype=np.int64))
    array([False, False,  True,  True, False])
    """

    _kernel = staticmethod(sliding_window)

    def __init__(self, threshold: int, window: float, max_tracked: int = 4096) -> None:
        self.threshold = _positive_int("threshold", threshold)
        self.window = _positive_float("window", window)
        self.max_tracked = _positive_int("max_tracked", max_tracked)

    @classmethod
    def from_rule(cls, rule: AlarmRule) -> SlidingWindow:
        """At most ``rule.threshold`` calls in any ``rule.window_seconds``."""
        return cls(int(rule.threshold), rule.window_seconds)

    @property
    def state_bytes_per_id(self) -> int:
        """Bytes per tracked number: ring (8 x threshold) + head + fill + slot pointer."""
        return 8 * self.threshold + 3 * np.dtype(np.int32).itemsize

    @property
    def n_tracked(self) -> int:
        """Numbers that hold a slot (have called since :meth:`reset`)."""
        return int(self.used_[0])

    def _allocate(self, n_ids: int) -> None:
        capacity = max(1, min(self.max_tracked, n_ids))
        self.slot_of_ = np.full(n_ids, -1, dtype=np.int32)
        self.ring_ = np.zeros((capacity, self.threshold), dtype=np.float64)
        self.head_ = np.zeros(capacity, dtype=np.int32)
        self.fill_ = np.zeros(capacity, dtype=np.int32)
        self.used_ = np.zeros(1, dtype=np.int64)

    def _grow(self) -> None:
        """Double the pool (at most one slot per number)."""
        old = self.ring_.shape[0]
        new = min(2 * old, len(self.slot_of_))
        ring = np.zeros((new, self.threshold), dtype=np.float64)
        ring[:old] = self.ring_
        head = np.zeros(new, dtype=np.int32)
        head[:old] = self.head_
        fill = np.zeros(new, dtype=np.int32)
        fill[:old] = self.fill_
        self.ring_, self.head_, self.fill_ = ring, head, fill

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        _check_events(t, ids, len(self.slot_of_))
        start = 0
        while True:
            status, i = self._kernel(
                t,
                ids,
                self.window,
                self.threshold,
                self.slot_of_,
                self.ring_,
                self.head_,
                self.fill_,
                self.used_,
                start,
                alarm,
            )
            if status == DONE:
                return -1
            if status == OUT_OF_ORDER:
                return i
            self._grow()
            start = i

    def _clear(self, ids: np.ndarray) -> None:
        slots = self.slot_of_[ids]
        self.fill_[slots[slots >= 0]] = 0
