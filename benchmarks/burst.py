"""Throughput and memory of the online burst detectors of ``models.burst``.

Each detector's Numba kernel runs on one time-sorted stream of 5 M call attempts (1 M if
quick) spread uniformly over 5 M numbers (nearly every event touches a cold number: the
worst case for the cache), next to its plain-Python twin (``kernel.py_func``) on a
20,000-event prefix and, where one exists, a pandas computation of the same statistic
(the EWMA has two: pandas' time-aware ``ewm``, the same decay pass but a weighted mean,
and forward decay by ``groupby.cumsum``, the same number).
State arrays are allocated and touched before the clock starts, so the kernel rows are
steady-state per-event costs; the sliding window is shown with its slot pool pre-sized
and growing from the default 4,096 slots.  Nothing is asserted; ``bench_burst`` prints.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchmarks.timing import best_seconds
from models.burst.rates import EWMA, PoissonCUSUM, TokenBucket
from models.burst.sketch import CountMinWindow
from models.burst.window import FixedWindow, SlidingWindow

__all__ = ["bench_burst"]

DAY = 86400.0
WINDOW = 3600.0
THRESHOLD = 10
N_NUMBERS = 5_000_000
TWIN_EVENTS = 20_000
TARGET_RATE = 30e6
TARGET_SPEEDUP = 100.0


def _touch(det) -> None:
    """Write every state array once, so page faults of fresh memory are not timed."""
    for key, value in vars(det).items():
        if key.endswith("_") and isinstance(value, np.ndarray):
            np.copyto(value, value.copy())


def _kernel_rate(
    make, t: np.ndarray, ids: np.ndarray, n_ids: int, twin: bool = False, repeat: int = 5
) -> float:
    """Events/s of a detector's kernel (``_run``: id check + kernel [+ pool growth])."""
    box = {}

    def setup():
        det = make()
        if twin:
            det._kernel = type(det)._kernel.py_func
        det.reset(n_ids)
        _touch(det)
        box["det"], box["alarm"] = det, np.zeros(len(t), dtype=bool)

    return len(t) / best_seconds(lambda: box["det"]._run(t, ids, box["alarm"]), setup, repeat)


def _pandas_fixed(t, ids):
    df = pd.DataFrame({"id": ids, "k": np.floor(t / WINDOW).astype(np.int64)})
    return (df.groupby(["id", "k"], sort=False).cumcount().to_numpy() + 1) > THRESHOLD


def _pandas_sliding(t, ids):
    s = pd.Series(1.0, index=pd.to_timedelta(t, unit="s"))
    return s.groupby(ids).rolling(pd.Timedelta(seconds=WINDOW)).count() > THRESHOLD


def _pandas_forward_decay(t, ids, tau=WINDOW):
    """The EWMA rate as forward decay: ``exp(-(t-L)/tau) * cumsum(exp((t_m-L)/tau)) / tau``."""
    landmark = t[0]
    up = pd.Series(np.exp((t - landmark) / tau))
    r = up.groupby(ids).cumsum().to_numpy() * np.exp(-(t - landmark) / tau) / tau
    return r > THRESHOLD / WINDOW


def _pandas_ewm(t, ids, tau=WINDOW):
    """pandas' time-aware EWM (a weighted mean, so the same decay pass, not the same number)."""
    s = pd.Series(1.0, index=pd.to_datetime(t, unit="s"))
    return (
        s.groupby(ids).ewm(halflife=pd.Timedelta(seconds=tau * math.log(2)), times=s.index).mean()
    )


def bench_burst(quick: bool, row) -> None:
    """Print each detector's events/s next to its Python twin and pandas, then its memory.

    Parameters
    ----------
    quick : bool
        1 M events instead of 5 M.
    row : callable
        ``row(name, fast, base, base_name, unit="events/s")`` prints one comparison line.
    """
    n = 1_000_000 if quick else 5_000_000
    n_ids = N_NUMBERS
    rng = np.random.default_rng(0)
    t = np.sort(rng.random(n) * DAY)
    ids = rng.integers(0, n_ids, n)
    tw, ids_tw = t[:TWIN_EVENTS], ids[:TWIN_EVENTS]
    m = TWIN_EVENTS * 10
    print(
        f"Burst detectors ({n:,} sorted calls on {n_ids:,} numbers in a day, {THRESHOLD} calls "
        f"per {WINDOW:.0f} s;\n Python twins on the first {TWIN_EVENTS:,} calls, pandas rows "
        f"marked * on the first {m:,}):"
    )

    detectors = {
        "fixed window": lambda: FixedWindow(THRESHOLD, WINDOW),
        "sliding window (pool pre-sized)": lambda: SlidingWindow(
            THRESHOLD, WINDOW, max_tracked=n
        ),  # >= used
        "sliding window (pool from 4,096)": lambda: SlidingWindow(THRESHOLD, WINDOW),
        "token bucket": lambda: TokenBucket(THRESHOLD / WINDOW, THRESHOLD),
        "EWMA": lambda: EWMA(WINDOW, THRESHOLD / WINDOW),
        "Poisson CUSUM": lambda: PoissonCUSUM(3 / DAY, THRESHOLD / WINDOW, 20.0),
        "Count-Min window (4 x 2**21)": lambda: CountMinWindow(THRESHOLD, WINDOW),
    }
    pandas_rows = {
        "fixed window": [("pandas groupby cumcount", _pandas_fixed, n)],
        "sliding window (pool pre-sized)": [("pandas groupby-rolling*", _pandas_sliding, m)],
        "EWMA": [
            ("pandas groupby-ewm*", _pandas_ewm, m),
            ("pandas fwd-decay cumsum", _pandas_forward_decay, n),
        ],
    }
    per_number = {"fixed window", "token bucket", "EWMA", "Poisson CUSUM"}
    for make in detectors.values():  # compile / load the cached kernels first
        make().reset(16).update(np.arange(4.0), np.arange(4))

    verdicts = []
    for name, make in detectors.items():
        fast = _kernel_rate(make, t, ids, n_ids)
        slow = _kernel_rate(make, tw, ids_tw, n_ids, twin=True, repeat=1)
        rows = pandas_rows.get(name, [])
        label = name
        for base_name, fn, size in rows:
            base = size / best_seconds(lambda fn=fn, size=size: fn(t[:size], ids[:size]), repeat=1)
            row(label, fast, base, base_name)
            label = ""
        if name == "sliding window (pool from 4,096)":
            base_name = "Python twin (grows too)"
        else:
            base_name = "Python twin" if rows or "Count-Min" in name else "Python twin (no pandas)"
        row(label, fast, slow, base_name)
        if name in per_number:
            ok = fast >= TARGET_RATE and fast >= TARGET_SPEEDUP * slow
            verdicts.append(f"{name} {'met' if ok else 'MISSED'}")

    print(
        f"  target for per-number updaters (>= {TARGET_RATE / 1e6:.0f} M events/s and "
        f">= {TARGET_SPEEDUP:.0f}x the twin): " + ", ".join(verdicts)
    )

    print("State per tracked number (bytes; plus the 8-byte flagged_at_ every detector keeps):")
    for name, det in [
        ("fixed window", FixedWindow(THRESHOLD, WINDOW)),
        (f"sliding window (threshold {THRESHOLD})", SlidingWindow(THRESHOLD, WINDOW)),
        ("token bucket", TokenBucket(1.0, 1.0)),
        ("EWMA", EWMA(1.0, 1.0)),
        ("Poisson CUSUM", PoissonCUSUM(1.0, 2.0, 1.0)),
        ("Count-Min window", CountMinWindow(THRESHOLD, WINDOW)),
    ]:
        print(f"  {name:<34} {det.state_bytes_per_id:>6}")
    cm = CountMinWindow(THRESHOLD, WINDOW)
    fw = FixedWindow(THRESHOLD, WINDOW)
    print(
        f"  Count-Min for 10 M numbers (width {cm.width:,} x depth {cm.depth}): "
        f"{cm.memory_bytes / 2**20:.0f} MiB whatever the count of numbers "
        f"(FixedWindow: {10_000_000 * fw.state_bytes_per_id / 2**20:.0f} MiB)"
    )
