"""Sorting a slice's calls by time in linear time.

Call times within a slice are close to uniform (rates are constant within a slice), so a
bucket sort with about one bucket per call -- a counting pass, a scatter pass, and an
insertion sort inside each (nearly always tiny) bucket -- orders them in O(n).  The result
is exactly ``numpy.argsort(t, kind="stable")``; it is 3-5x faster on a slice's batch
(``make bench`` prints both).  ``time_order.py_func`` is the Python twin.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["time_order"]


def _time_order(t, t0, t1):
    """Stable argsort of times ``t`` that all lie in ``[t0, t1]``.

    Parameters
    ----------
    t : float64[n]
        Times.
    t0, t1 : float
        Bounds of the times (values outside are clamped into the end buckets, still
        correctly ordered).

    Returns
    -------
    int64[n]
        Indices that sort ``t``; equal times keep their input order.
    """
    n = t.shape[0]
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    buckets = n
    scale = buckets / (t1 - t0) if t1 > t0 else 0.0
    bucket = np.empty(n, dtype=np.int64)
    start = np.zeros(buckets + 1, dtype=np.int64)
    for i in range(n):
        b = int((t[i] - t0) * scale)
        b = min(max(b, 0), buckets - 1)
        bucket[i] = b
        start[b + 1] += 1
    for b in range(buckets):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    for i in range(n):
        b = bucket[i]
        order[fill[b]] = i
        fill[b] += 1
    for b in range(buckets):
        for j in range(start[b] + 1, start[b + 1]):
            item = order[j]
            key = t[item]
            k = j - 1
            while k >= start[b] and t[order[k]] > key:
                order[k + 1] = order[k]
                k -= 1
            order[k + 1] = item
    return order


time_order = njit(cache=True, nogil=True)(_time_order)
