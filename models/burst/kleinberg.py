"""Kleinberg's two-state burst automaton, solved exactly by Viterbi (offline).

A number's gaps between calls are emitted by a base state (rate ``base_rate``, the same for
every number) or a burst state (rate ``s * base_rate``); entering the burst state costs
``gamma ln(n)``, ``n`` the number's event count.  :func:`kleinberg_bursts` gives the time
each number first enters the burst state on the least-cost path -- the time of the event
that ends its first burst gap, ``inf`` if none -- and :func:`kleinberg_states` the path of
one number's gaps.  Ties go to the base state, so the path is the elementwise minimum of
the optimal ones.  :func:`viterbi_path` and :func:`kleinberg_flags` are the Numba kernels
(``kernel.py_func`` is the plain-Python twin).

It sees each number's whole future: an offline reference beside the online detectors, not
something a carrier can run as calls arrive.  It is not an upper bound on what they can
achieve: its model (a fixed base rate, exponential gaps, a cost for entering the burst
state) is not the world's, and an online detector can beat it on a given log; the bound on
detection delay at a false-alarm rate is Page's CUSUM (``models.burst.bound``).  The
model, the Viterbi recursion, the tie rule, why ``base_rate`` is fixed, how to choose
``gamma`` (with measured false-burst rates) and the flag-time convention are in
``docs/burst.md`` ("Kleinberg's burst automaton").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from .base import OutOfOrderError

__all__ = ["kleinberg_bursts", "kleinberg_states", "kleinberg_flags", "viterbi_path"]


def _viterbi_path(cost0: np.ndarray, cost1: np.ndarray, up: float, states: np.ndarray) -> float:
    """Exact least-cost state path of a two-state automaton (general emission costs).

    Parameters
    ----------
    cost0, cost1 : float64[m]
        Emission cost of each gap in state 0 and in state 1 (for Kleinberg's automaton,
        ``c_j(x_k) = a_j x_k - ln a_j``).
    up : float
        Cost of moving from state 0 to state 1 (moving down is free); the path starts in
        state 0 before the first gap.
    states : int8[m]
        Output: the chosen state of each gap.

    Returns
    -------
    float
        The least cost ``min_q cost(q)``, accumulated gap by gap as
        ``(cost + tau) + c`` (so it equals, to the last bit, the cost of the returned path
        summed in that order).

    Notes
    -----
    Ties go to state 0 (the final state and every backpointer): the returned path is the
    elementwise minimum of the optimal paths (see ``docs/burst.md``).
    """
    m = cost0.shape[0]
    if m == 0:
        return 0.0
    # back0[k] / back1[k]: predecessor state (before gap k) of state 0 / 1 at gap k.
    back0 = np.zeros(m, dtype=np.bool_)
    back1 = np.zeros(m, dtype=np.bool_)
    c0 = 0.0 + cost0[0]
    c1 = (0.0 + up) + cost1[0]
    for k in range(1, m):
        # into state 0: from 0 (free) or from 1 (free); tie -> 0
        if c1 < c0:
            n0 = c1
            back0[k] = True
        else:
            n0 = c0
        # into state 1: from 0 (pay up) or from 1 (free); tie -> 0
        via0 = c0 + up
        if c1 < via0:
            n1 = c1
            back1[k] = True
        else:
            n1 = via0
        c0 = n0 + cost0[k]
        c1 = n1 + cost1[k]
    if c1 < c0:
        q = 1
        best = c1
    else:
        q = 0
        best = c0
    for k in range(m - 1, -1, -1):
        states[k] = q
        if q == 0:
            q = 1 if back0[k] else 0
        else:
            q = 1 if back1[k] else 0
    return best


viterbi_path = njit(cache=True, nogil=True)(_viterbi_path)


def _kleinberg_flags(
    t: np.ndarray,
    ids: np.ndarray,
    n_ids: int,
    a0: float,
    a1: float,
    gamma: float,
    flag_at: np.ndarray,
) -> int:
    """Kleinberg flag time of every number, by one Viterbi pass per number.

    Parameters
    ----------
    t : float64[N]
        Event times, non-decreasing.
    ids : int64[N]
        Number of each event, in ``0..n_ids-1``.
    n_ids : int
        Number of numbers.
    a0, a1 : float
        Gap rates of the base and the burst state (``a1 = s * a0``).
    gamma : float
        Entry cost scale: entering the burst state costs ``gamma * ln(n)``.
    flag_at : float64[n_ids]
        Output: time of the event ending each number's first burst gap (``inf`` if none).

    Returns
    -------
    int
        -1 on success, or the index of the first event earlier than its predecessor
        (``flag_at`` is then undefined).

    Notes
    -----
    Events are grouped by number with a stable counting sort (O(N + n_ids)), which keeps
    each number's events in time order; the recursion and tie rule are those of
    :func:`viterbi_path`.
    """
    n = t.shape[0]
    for i in range(1, n):
        if not (t[i] >= t[i - 1]):
            return i
    if n > 0 and t[0] != t[0]:
        return 0
    start = np.zeros(n_ids + 1, dtype=np.int64)
    for i in range(n):
        start[ids[i] + 1] += 1
    for k in range(n_ids):
        start[k + 1] += start[k]
    fill = start[:n_ids].copy()
    tt = np.empty(n, dtype=np.float64)
    for i in range(n):
        tt[fill[ids[i]]] = t[i]
        fill[ids[i]] += 1
    back0 = np.zeros(n, dtype=np.bool_)
    back1 = np.zeros(n, dtype=np.bool_)
    ln_a0 = math.log(a0)
    ln_a1 = math.log(a1)
    for k in range(n_ids):
        flag_at[k] = np.inf
        lo = start[k]
        m = start[k + 1] - lo - 1  # gaps
        if m < 1:
            continue
        up = gamma * math.log(m + 1)
        x = tt[lo + 1] - tt[lo]
        c0 = 0.0 + (a0 * x - ln_a0)
        c1 = (0.0 + up) + (a1 * x - ln_a1)
        for g in range(1, m):
            x = tt[lo + g + 1] - tt[lo + g]
            if c1 < c0:
                n0 = c1
                back0[g] = True
            else:
                n0 = c0
                back0[g] = False
            via0 = c0 + up
            if c1 < via0:
                n1 = c1
                back1[g] = True
            else:
                n1 = via0
                back1[g] = False
            c0 = n0 + (a0 * x - ln_a0)
            c1 = n1 + (a1 * x - ln_a1)
        q = 1 if c1 < c0 else 0
        first = -1
        for g in range(m - 1, -1, -1):
            if q == 1:
                first = g
                q = 1 if back1[g] else 0
            else:
                q = 1 if back0[g] else 0
        if first >= 0:
            flag_at[k] = tt[lo + first + 1]
    return -1


kleinberg_flags = njit(cache=True, nogil=True)(_kleinberg_flags)


def _check_params(base_rate: float, s: float, gamma: float) -> None:
    if not (np.isfinite(base_rate) and base_rate > 0):
        raise ValueError(f"base_rate must be a positive finite rate (calls/s), got {base_rate}")
    if not (np.isfinite(s) and s > 1):
        raise ValueError(f"s must be a finite ratio > 1, got {s}")
    if not (np.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be finite and >= 0, got {gamma}")
    if not np.isfinite(s * base_rate):
        raise ValueError("s * base_rate overflows")


def kleinberg_bursts(
    t: npt.ArrayLike,
    ids: npt.ArrayLike,
    n_ids: int,
    base_rate: float,
    s: float = 2.0,
    gamma: float = 1.0,
    kernel: Callable[..., Any] = kleinberg_flags,
) -> np.ndarray:
    """Time each number first enters Kleinberg's burst state (exact, offline).

    Parameters
    ----------
    t : array_like of float
        Event times (s) of a time-ordered stream of call attempts.
    ids : array_like of int
        Number id of each event, in ``0..n_ids-1``.
    n_ids : int
        Number of numbers.
    base_rate : float
        Gap rate of the base state ``a_0`` (calls/s): a fixed baseline such as an ordinary
        subscriber's rate, *not* each number's own mean.
    s : float
        Burst-state rate ratio: ``a_1 = s * a_0`` (> 1).
    gamma : float
        Entry cost scale: moving from state 0 to 1 costs ``gamma * ln(n)``, ``n`` the
        number's event count (>= 0).
    kernel : callable
        :func:`kleinberg_flags` or its Python twin ``kleinberg_flags.py_func``.

    Returns
    -------
    numpy.ndarray of float64
        ``n_ids`` flag times: the time of the event ending each number's first gap in state
        1 on the least-cost path, ``inf`` if the path never leaves state 0 (always so with
        fewer than two events).

    Raises
    ------
    OutOfOrderError
        If ``t`` decreases somewhere.
    ValueError
        On bad parameters or ids outside ``0..n_ids-1``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(100.0)            # one number calling once a second
    >>> kleinberg_bursts(t, np.zeros(100, dtype=np.int64), 1, base_rate=0.1)
    array([1.])
    """
    t = np.ascontiguousarray(t, dtype=np.float64)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    n_ids = int(n_ids)
    if n_ids < 0:
        raise ValueError("n_ids must be non-negative")
    if t.shape != ids.shape or t.ndim != 1:
        raise ValueError("t and ids must be 1-d arrays of the same length")
    _check_params(base_rate, s, gamma)
    if len(ids) and (ids.min() < 0 or ids.max() >= n_ids):
        raise ValueError("ids must lie in 0..n_ids-1")
    flag_at = np.empty(n_ids, dtype=np.float64)
    bad = kernel(t, ids, n_ids, float(base_rate), float(s * base_rate), float(gamma), flag_at)
    if bad >= 0:
        raise OutOfOrderError(f"events out of time order at index {bad} (t={t[bad]})")
    return flag_at


def kleinberg_states(
    gaps: npt.ArrayLike,
    base_rate: float,
    s: float = 2.0,
    gamma: float = 1.0,
    n: int | None = None,
    kernel: Callable[..., Any] = viterbi_path,
) -> tuple[np.ndarray, float]:
    """Least-cost burst states of one number's gaps (the path behind :func:`kleinberg_bursts`).

    Parameters
    ----------
    gaps : array_like of float
        The number's gaps ``x_1..x_{n-1}`` between consecutive events (s, >= 0).
    base_rate, s, gamma : float
        As in :func:`kleinberg_bursts`.
    n : int, optional
        Event count that sets the entry cost ``gamma ln(n)``; ``len(gaps) + 1`` by default.
    kernel : callable
        :func:`viterbi_path` or its Python twin ``viterbi_path.py_func``.

    Returns
    -------
    (numpy.ndarray of int8, float)
        The state of each gap and the path's cost.
    """
    _check_params(base_rate, s, gamma)
    gaps = np.ascontiguousarray(gaps, dtype=np.float64)
    n = len(gaps) + 1 if n is None else int(n)
    a0, a1 = float(base_rate), float(s * base_rate)
    cost0 = a0 * gaps - math.log(a0)
    cost1 = a1 * gaps - math.log(a1)
    states = np.zeros(len(gaps), dtype=np.int8)
    cost = kernel(cost0, cost1, gamma * math.log(n) if n > 0 else 0.0, states)
    return states, float(cost)
