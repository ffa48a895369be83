"""The restart storm (``sim.world.storm``): the Numba event kernel against the
one-SimPy-process-per-phone twin and against its own plain-Python twin, on the same storms.

Two storms, each timed in this process: 50,000 phones with no policy (the flood: about
eight messages per phone, drops, timeouts) and with a 50-s jitter window (one message per
phone).  The SimPy twin and the Python twin are run on a 5,000-phone storm of the same
shape (same per-phone load: capacity and queue scaled by 1/10) -- they agree with the
kernel phone by phone (``tests/test_storm_kernel.py``) but would take minutes at 50,000.
Throughput is phones per second of wall time; nothing is asserted.
"""

from __future__ import annotations

import math
import time

import numpy as np

from sim.world.storm.kernel import storm_kernel
from sim.world.storm.processes import storm_processes

__all__ = ["bench_storm"]


def _args(phones: int, jitter: float) -> dict:
    scale = phones / 50_000
    return {
        "capacity": 1000.0 * scale,
        "overhead": 0.1,
        "t1": 0.5,
        "t2": 4.0,
        "timer_f": 32.0,
        "queue_limit": max(1, int(1000 * scale)),
        "retry_seconds": 30.0,
        "jitter": jitter,
        "ra_low": 0,
        "ra_high": 0,
        "threshold": math.inf,
        "rate": math.inf,
        "burst": math.inf,
        "persistent": True,
        "horizon": 1800.0,
        "key": np.uint64(1),
    }


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_storm(quick: bool, row) -> None:
    """Print the storm kernel's throughput next to its baselines.

    Parameters
    ----------
    quick : bool
        Smaller storms.
    row : callable
        ``row(name, fast, base, base_name, unit)`` prints one line.
    """
    big = 20_000 if quick else 50_000
    small = big // 10
    rng = np.random.default_rng(0)
    print(f"Restart storm ({big:,} phones; baselines on {small:,} of the same shape):")
    for name, jitter in (("no policy", 0.0), ("jitter 50 s", 50.0)):
        _one(name, rng.uniform(25.0, 35.0, big), small, jitter, row)


def _one(name: str, boot: np.ndarray, small: int, jitter: float, row) -> None:
    big = len(boot)
    fast_args, slow_args = _args(big, jitter), _args(small, jitter)
    storm_kernel(boot[:10], **_args(10, jitter))  # compile
    fast_s = min(_seconds(lambda: storm_kernel(boot, **fast_args)) for _ in range(3))
    msgs = int(storm_kernel(boot, **fast_args)[3][:, 1].sum())
    simpy_s = _seconds(lambda: storm_processes(boot[:small], **slow_args))
    with np.errstate(over="ignore"):
        twin_s = _seconds(lambda: storm_kernel.py_func(boot[:small], **slow_args))
    row(f"storm kernel, {name}", big / fast_s, small / simpy_s, "SimPy process/phone", "phones/s")
    row("", big / fast_s, small / twin_s, "Python twin", "phones/s")
    print(f"  ({msgs:,} messages from {big:,} phones; kernel {fast_s:.2f} s)")
