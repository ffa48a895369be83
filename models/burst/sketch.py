"""Fixed-window call counts of every number in bounded memory: a Count-Min sketch.

:class:`CountMinWindow` applies :class:`~models.burst.window.FixedWindow`'s rule to all
numbers at once -- including numbers outside the network that no per-number array could
hold -- with a ``depth x width`` table of int32 counters (Cormode and Muthukrishnan, 2005)
cleared at each new window (only the counters the window used, so short windows stay
cheap).  Row ``r`` hashes a number with a multiply-shift hash
(Dietzfelbinger et al., 1997)

.. math:: h_r(x) = \\bigl(a_r x \\bmod 2^{64}\\bigr) \\gg (64 - \\log_2 w),

with odd 64-bit multipliers ``a_r`` drawn from ``numpy.random.default_rng(seed)``.  Each
event adds one to its number's counter in every row; the estimate is the smallest of those
counters.  Every counter holds the number's true count plus the counts of the numbers
that share it, so the estimate never under-counts: a number over the threshold always
alarms, and a false alarm needs a collision in every row.

The kernel :func:`count_min_window` is compiled by Numba; ``count_min_window.py_func`` is
the same code run by the interpreter, the oracle of the tests.  The kernel multiplies in
uint64 and relies on wrap-around modulo 2**64, on which NumPy scalars warn: run the twin
under ``numpy.errstate(over="ignore")`` (:class:`CountMinWindow` does).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..jit import PREFETCH_AHEAD, prefetch
from .base import DETECTORS, AlarmRule, Detector
from .window import _check_events, _positive_float, _positive_int

__all__ = ["CountMinWindow", "count_min_window"]

_NO_WINDOW = np.iinfo(np.int64).min
_INT32_MAX = 2**31 - 1


def _count_min_window(
    t: np.ndarray,
    ids: np.ndarray,
    window: float,
    threshold: int,
    mult: np.ndarray,
    shift: np.uint64,
    counters: np.ndarray,
    current: np.ndarray,
    touched: np.ndarray,
    n_touched: np.ndarray,
    alarm: np.ndarray,
) -> int:
    """Add each event to the sketch of its window and flag estimates over the threshold.

    With ``k_i = floor(t_i / W)``: if ``k_i`` differs from the current window every
    counter is set to 0; then for each row ``r``, ``C[r, h_r(j)] += 1``, and

    .. math:: \\hat n_j = \\min_r C[r, h_r(j)], \\qquad \\text{alarm}_i \\iff \\hat n_j > c.

    Clearing costs what the window used, not the table: each counter's first increment in
    a window appends its position to ``touched``, and only those positions are zeroed when
    the window advances; once a window has touched more than ``len(touched)`` counters,
    the whole table is zeroed instead.

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event (non-negative).
    window : float
        Window length ``W`` (s).
    threshold : int
        Calls allowed per window ``c``.
    mult : uint64[depth]
        Odd multiplier ``a_r`` of each row's hash.
    shift : uint64
        ``64 - log2(width)``.
    counters : int32[depth * width]
        Counts of the current window, row after row (updated in place).
    current : int64[1]
        Index of the window the counters belong to (updated in place).
    touched : int32[m]
        Positions in ``counters`` made non-zero in the current window (updated in place).
    n_touched : int64[1]
        Entries of ``touched`` in use, ``m + 1`` once it overflowed (updated in place).
    alarm : bool[n]
        Output: set where the estimate including the event exceeds the threshold.

    Returns
    -------
    int
        -1, or the index of the first event earlier than its predecessor (NaN counts as
        out of order); events before it have been processed.
    """
    depth = mult.shape[0]
    width = counters.shape[0] // depth
    cap = touched.shape[0]
    n = t.shape[0]
    m = n_touched[0]
    prev = -np.inf
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = np.uint64(ids[i + PREFETCH_AHEAD])
            for r in range(depth):
                prefetch(counters, r * width + np.int64((mult[r] * ahead) >> shift))
        ti = t[i]
        if not ti >= prev:
            n_touched[0] = m
            return i
        prev = ti
        k = np.int64(math.floor(ti / window))
        if k != current[0]:
            if m > cap:
                counters[:] = 0
            else:
                for q in range(m):
                    counters[touched[q]] = 0
            m = 0
            current[0] = k
        x = np.uint64(ids[i])
        est = _INT32_MAX
        for r in range(depth):
            pos = r * width + np.int64((mult[r] * x) >> shift)
            c = counters[pos] + 1
            counters[pos] = c
            if c == 1 and m <= cap:
                if m < cap:
                    touched[m] = pos
                m += 1
            if c < est:
                est = c
        alarm[i] = est > threshold
    n_touched[0] = m
    return -1


count_min_window = njit(cache=True, nogil=True)(_count_min_window)


@DETECTORS.register("count_min")
class CountMinWindow(Detector):
    """Fixed-window call counts of all numbers in a Count-Min sketch.

    Time is cut into windows ``k = floor(t / W)`` as in
    :class:`~models.burst.window.FixedWindow`; the counts of the current window live in
    int32 counters ``C[depth, width]``, all reset when the window index advances.  Each
    event of number ``x`` increments ``C[r, h_r(x)]`` in every row ``r``, with
    ``h_r(x) = (a_r x mod 2**64) >> (64 - log2 width)``, and

    .. math:: \\hat n_x = \\min_r C[r, h_r(x)] \\ \\ge\\ n_x, \\qquad
              \\text{alarm} \\iff \\hat n_x > c .

    The estimate never under-counts, so every alarm of :class:`FixedWindow` with the same
    parameters is raised here too; the excess is the traffic of the numbers sharing a
    counter, about ``(calls in the window) / width`` per row before the minimum.

    A window advance zeroes only the counters the ended window made non-zero (listed as
    they are first incremented), or the whole table once they exceed 1/16 of it, where a
    ``memset`` is cheaper: clearing costs ``O(min(calls in the window, table))``, so a
    2-minute window does not pay a 32 MB ``memset`` every 2 minutes.  Memory is
    ``4 * depth * width`` bytes of counters plus 1/16 of that for the list, whatever the
    number of ids (34 MiB by default, for 10 M numbers or more: :attr:`memory_bytes`);
    ``state_bytes_per_id`` is 0.

    :meth:`forget` only resets ``flagged_at_``: a number's counters are shared with other
    numbers and cannot be cleared, so a number given to a new owner carries the old
    owner's count until the window ends.

    Parameters
    ----------
    threshold : int
        Calls allowed per window ``c`` (>= 1).
    window : float
        Window length ``W`` in seconds (> 0).
    width : int
        Counters per row, a power of two >= 2.
    depth : int
        Rows (independent hashes), >= 1.
    seed : int
        Seed of the multipliers' generator.

    Attributes
    ----------
    counters_ : numpy.ndarray of int32, shape (depth, width)
        Counts of the current window.
    current_window_ : numpy.ndarray of int64, shape (1,)
        Index of the window the counters belong to.
    multipliers_ : numpy.ndarray of uint64, shape (depth,)
        Odd multiplier of each row's hash.
    touched_ : numpy.ndarray of int32, shape (depth * width // 16,)
        Flat positions of the counters the current window made non-zero.
    n_touched_ : numpy.ndarray of int64, shape (1,)
        Entries of ``touched_`` in use (its length + 1 once it overflowed).

    Examples
    --------
    >>> import numpy as np
    >>> det = CountMinWindow(threshold=2, window=60.0, width=1024).reset(2)
    >>> det.update(np.array([0.0, 1.0, 2.0, 3.0, 61.0]), np.array([0, 0, 1, 0, 0]))
    array([False, False, False,  True, False])
    >>> det.memory_bytes  # 4 x 1024 counters + a list of 256 positions, 4 bytes each
    17408
    """

    _kernel = staticmethod(count_min_window)

    def __init__(
        self, threshold: int, window: float, width: int = 2**21, depth: int = 4, seed: int = 0
    ) -> None:
        self.threshold = _positive_int("threshold", threshold)
        self.window = _positive_float("window", window)
        width = _positive_int("width", width)
        if width < 2 or width & (width - 1):
            raise ValueError(f"width must be a power of two >= 2, got {width!r}")
        self.width = width
        self.depth = _positive_int("depth", depth)
        if self.depth * self.width > _INT32_MAX:
            raise ValueError(
                f"width * depth must stay below 2**31 (int32 positions), got "
                f"width={width!r}, depth={depth!r}"
            )
        self.seed = seed

    watches_all = True

    @classmethod
    def from_rule(
        cls,
        rule: AlarmRule,
        *,
        width: int,
        depth: int,
    ) -> CountMinWindow:
        """``threshold`` calls per ``window`` counted in a ``depth x width`` sketch.

        Parameters
        ----------
        rule : AlarmRule
        width : int
            Counters per row (a power of two; memory is ``4 * width * depth`` bytes).
        depth : int
            Rows (independent hash functions).
        """
        return cls(int(rule.threshold), rule.window_seconds, width, depth, rule.seed)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the sketch whatever the number of ids: the int32 counter table plus
        the int32 list of counters touched in the current window (1/16 of the table)."""
        return (self.depth * self.width + self._touched_capacity) * np.dtype(np.int32).itemsize

    @property
    def _touched_capacity(self) -> int:
        # Zeroing one scattered counter costs about as much as a memset of 16 (64 bytes).
        return max(1, self.depth * self.width // 16)

    @property
    def state_bytes_per_id(self) -> int:
        """0: the sketch has no per-number state (see :attr:`memory_bytes`)."""
        return 0

    def _allocate(self, n_ids: int) -> None:
        rng = np.random.default_rng(self.seed)
        self.multipliers_ = rng.integers(
            0, 2**64, size=self.depth, dtype=np.uint64, endpoint=False
        ) | np.uint64(1)
        self.counters_ = np.zeros((self.depth, self.width), dtype=np.int32)
        self.current_window_ = np.full(1, _NO_WINDOW, dtype=np.int64)
        self.touched_ = np.zeros(self._touched_capacity, dtype=np.int32)
        self.n_touched_ = np.zeros(1, dtype=np.int64)

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        _check_events(t, ids, len(self.flagged_at_))
        if max(abs(t[0]), abs(t[-1])) / self.window >= 2.0**62:
            raise ValueError("t / window must stay below 2**62")
        shift = np.uint64(64 - (self.width.bit_length() - 1))
        with np.errstate(over="ignore"):  # only the Python twin needs it
            return self._kernel(
                t,
                ids,
                self.window,
                self.threshold,
                self.multipliers_,
                shift,
                self.counters_.reshape(-1),
                self.current_window_,
                self.touched_,
                self.n_touched_,
                alarm,
            )

    def _clear(self, ids: np.ndarray) -> None:
        """No-op: counters are shared by many numbers (``forget`` resets ``flagged_at_``)."""
