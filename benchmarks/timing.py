"""Timing helpers shared by the benchmarks: best of repeated runs."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["best_seconds", "rate"]


def best_seconds(
    fn: Callable[[], object], setup: Callable[[], object] | None = None, repeat: int = 3
) -> float:
    """Best wall time of ``fn()`` over ``repeat`` runs, ``setup()`` run untimed before each."""
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rate(n: float, fn: Callable[[], object], repeat: int = 3) -> float:
    """Best-of-``repeat`` items per second of ``fn()`` processing ``n`` items."""
    return n / best_seconds(fn, repeat=repeat)
