"""The world's benchmarks: its kernels against their Python twins, the world against one
SimPy process per subscriber, and the end-to-end runs (1 M subscribers x 7 days with and
without the calls table; ``--big``: 10 M subscribers x 30 days).  Each end-to-end run goes
in a child process so that its peak memory is its own; its CPU time is printed beside the
wall time, since this machine is shared.

Run with ``python -m benchmarks --world`` (or ``--big``); nothing here is asserted.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq

from sim.config import parse_config
from sim.core.fastrng import LOGNORMAL, new_stream
from sim.runs.simulate import simulate
from sim.world.clock import PoissonSources, advance
from sim.world.inventory import Inventory, lookup_ids, make_numbers
from sim.world.kernels import N_KINDS, TALLY, complete_calls, route_tally, source_calls
from sim.world.recorder import Table
from sim.world.timesort import time_order

from .naive import naive_world
from .timing import rate

__all__ = ["bench_big", "bench_world", "bench_world_kernels", "child"]

SMALL = {
    "name": "bench-small",
    "seed": 1,
    "scenario": {"days": 7},
    "record": {"calls": False},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 25},
    "spam": {"calls_per_line_per_day": 0.0},
    "subscribers": {
        "residential": {"initial": 20_000, "arrivals_per_day": 0, "rate_cv": 0},
        "business": {"initial": 0, "arrivals_per_day": 0},
        "call_centre": {"initial": 0, "arrivals_per_day": 0},
        "notifier": {"initial": 0, "arrivals_per_day": 0},
    },
}

BIG = {
    "name": "bench-1m",
    "seed": 1,
    "scenario": {"days": 7},
    "record": {"calls": False},
    "inventory": {
        "area_codes": [212, 646, 718, 917, 347, 929, 415, 628, 510, 312, 773, 872],
        "blocks_per_area_code": 100,
    },
    "subscribers": {
        "residential": {"initial": 840_000},
        "business": {"initial": 155_000},
        "call_centre": {"initial": 5_000},
    },
}


def bench_world(_row) -> None:
    """Hybrid world against one SimPy process per subscriber, same scenario."""
    cfg = parse_config(SMALL)
    simulate(cfg, progress=False)  # compile / warm caches
    start = time.perf_counter()
    res = simulate(cfg, progress=False)
    hybrid_s = time.perf_counter() - start
    hybrid_calls = int(res.daily_calls["attempts"].sum())
    start = time.perf_counter()
    naive_calls = naive_world(cfg)
    naive_s = time.perf_counter() - start
    print("World, 20,000 subscribers x 7 days, calls generated, routed and answered:")
    _row(
        "hybrid (SimPy + slices)",
        hybrid_calls / hybrid_s,
        naive_calls / naive_s,
        "SimPy process/caller",
        "calls/s",
    )
    print(f"  ({hybrid_calls:,} vs {naive_calls:,} calls; expected {20_000 * 3.0 * 7:,.0f})")


NATIONAL = {
    **BIG,
    "name": "bench-10m",
    "scenario": {"days": 30},
    "inventory": {
        "area_codes": [212, 646, 718, 917, 347, 929, 332, 516, 631, 914, 415, 628, 510, 650,
                       408, 669, 312, 773, 872, 847, 213, 310, 323, 424, 818, 626, 747, 562,
                       714, 949, 305, 786, 954, 561, 404, 470, 678, 770, 617, 857, 781, 339,
                       202, 703, 571, 301, 240, 410, 215, 267, 412, 216, 313, 248, 612, 651,
                       206, 425, 503, 971, 303, 720, 602, 480, 702, 214, 469, 972, 713, 281,
                       832, 512, 210, 615, 704, 980, 919, 984, 407, 813],
        "blocks_per_area_code": 150,
    },
    "subscribers": {
        "residential": {"initial": 8_400_000},
        "business": {"initial": 1_550_000},
        "call_centre": {"initial": 50_000},
    },
}  # fmt: skip
"""10 M subscribers for 30 days on 12 M numbers (80 area codes x 150 blocks): ``--big``."""


def bench_big(national: bool = False) -> None:
    """1 M subscribers over 7 days end to end, events not kept and calls table kept (or,
    ``national``, 10 M subscribers over 30 days), each in a child process of its own."""
    runs = [("national", "10 M subscribers x 30 days, events not kept")] if national else [
        ("big", "1 M subscribers x 7 days, events not kept"),
        ("big-calls", "1 M subscribers x 7 days, calls table kept (Parquet written)"),
    ]  # fmt: skip
    where = {"big-calls": "the simulation on one core, Parquet encoded on a second thread"}
    for which, title in runs:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--child", which],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        run_s = r["seconds"] - r["setup_s"]
        print(f"World, {title} ({where.get(which, 'one core')}):")
        print(
            f"  {r['calls']:,} calls in {r['seconds']:.1f} s = "
            f"{r['calls'] / r['seconds'] / 1e6:.2f} M calls/s end to end (target "
            f"{TARGETS[which]}); set-up {r['setup_s']:.1f} s, so {r['calls'] / run_s / 1e6:.2f}"
            f" M calls/s once running; CPU {r['cpu_s']:.1f} s = "
            f"{r['calls'] / r['cpu_s'] / 1e6:.2f} M calls per CPU-second; "
            f"peak memory {r['peak_mb']:,.0f} MB"
        )
        if which == "national":
            print(
                f"  {r['subscribers']:,} subscribers, {r['numbers']:,} numbers, "
                f"{r['contacts']:,} contact entries: {r['peak_mb'] * 2**20 / r['subscribers']:,.0f}"
                " B of peak memory per subscriber"
            )


TARGETS = {"big": ">= 20 M/s", "big-calls": ">= 8 M/s", "national": "<= 16 GB peak"}


def _peak_mb() -> float:
    """Peak resident memory of this process since the last reset (VmHWM), in MB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(which: str) -> None:
    """Run one end-to-end world (``big``, ``big-calls`` or ``national``) and print its
    figures as JSON."""
    import tempfile

    # A forked child starts with its parent's peak: reset it (Linux clear_refs, value 5).
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    from sim.core.seeding import Streams
    from sim.runs.simulate import study_policies
    from sim.world.recorder import Recorder
    from sim.world.schemas import SCHEMAS
    from sim.world.world import World

    raw = NATIONAL if which == "national" else BIG
    keep = which == "big-calls"
    if keep:
        raw = {**raw, "record": {"calls": True}}
    cfg = parse_config(raw)
    simulate(  # compile / load the kernels first
        parse_config(
            {**BIG, "scenario": {"days": 0.05}, "subscribers": {"residential": {"initial": 1000}}}
        ),
        progress=False,
    )
    names = [name for name in SCHEMAS if keep or name != "calls"]
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        recorder = Recorder(tmp if keep else None, names)
        world = World(cfg, Streams(cfg.seed), recorder, study_policies(cfg))
        world.setup()
        setup = time.perf_counter() - start
        world.run(until=world.process(world.traffic.run()))
        world.population.write_table()
        recorder.finish()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        if keep:
            calls = int(pq.ParquetFile(f"{tmp}/calls.parquet").metadata.num_rows)
        else:
            calls = int(recorder["daily_calls"].to_frame()["attempts"].sum())
    peak = _peak_mb()
    print(
        json.dumps(
            {
                "calls": calls,
                "seconds": seconds,
                "cpu_s": cpu,
                "setup_s": setup,
                "peak_mb": peak,
                "subscribers": len(world.population.subs),
                "numbers": len(world.inventory),
                "contacts": len(world.population.contacts),
            }
        )
    )


def bench_world_kernels(quick: bool, _row) -> None:
    """Each Numba kernel against its Python twin (and a NumPy/pandas equivalent)."""
    rng = np.random.default_rng(0)
    print("Kernels (Numba vs plain-Python twin on the same input; NumPy where it applies):")

    n_src = 200_000 if quick else 1_000_000
    src = PoissonSources(np.full((1, 24), 3 / 86400), capacity=n_src)
    src.add(0.0, np.zeros(n_src, dtype=np.int8), rng.gamma(1, 1, n_src), rng)
    state = src.cols["next_c"].copy(), src.clock.copy(), src.t0, src.rate.copy()

    def emit(kernel, hours):
        src.cols["next_c"][:] = state[0]
        src.clock, src.t0, src.rate = state[1].copy(), state[2], state[3].copy()
        return sum(
            len(src.emit(3600.0 * h, np.random.default_rng(1), kernel)[0])
            for h in range(1, hours + 1)
        )

    events = emit(advance, 24)
    fast = rate(events, lambda: emit(advance, 24))
    small = emit(advance.py_func, 1)
    slow = rate(small, lambda: emit(advance.py_func, 1), repeat=1)
    _row(f"Poisson clocks ({n_src:,} sources)", fast, slow, "Python twin")

    t = rng.random(240_000) * 3600
    fast = rate(len(t), lambda: time_order(t, 0.0, 3600.0), 5)
    base = rate(len(t), lambda: np.argsort(t, kind="stable"), 5)
    slow = rate(20_000, lambda: time_order.py_func(t[:20_000], 0.0, 3600.0), 1)
    _row("time sort (240k calls)", fast, base, "np.argsort stable")
    _row("", fast, slow, "Python twin")

    numbers = make_numbers([212, 646, 415], 100, rng)
    inv = Inventory(numbers, Table("ledger"), rng)
    mixed = np.where(
        rng.random(1_000_000) < 0.3,
        numbers[rng.integers(0, len(numbers), 1_000_000)],
        rng.integers(2_000_000_000, 9_999_999_999, 1_000_000),
    )
    fast = rate(len(mixed), lambda: lookup_ids(mixed, inv._npa_slot, inv._block_of), 5)
    base = rate(len(mixed), lambda: np.searchsorted(numbers, mixed), 5)
    slow = rate(20_000, lambda: lookup_ids.py_func(mixed[:20_000], inv._npa_slot, inv._block_of), 1)
    _row("number -> id lookup (1 M)", fast, base, "np.searchsorted")
    _row("", fast, slow, "Python twin")
    _bench_slice(rng, numbers, inv, _row)


def _bench_slice(rng: np.random.Generator, numbers: np.ndarray, inv, _row) -> None:
    """The fused slice kernels on 1 M sources with 20 contacts each (one call each), and
    routing with tallies, against their Python twins."""
    n_src, deg = 1_000_000, 20
    off = np.arange(n_src, dtype=np.int64) * deg
    on = rng.random(n_src * deg) < 0.3
    contacts = np.where(
        on,
        numbers[rng.integers(0, len(numbers), n_src * deg)],
        rng.integers(2_000_000_000, 9_999_999_999, n_src * deg),
    )
    subs = (
        rng.integers(0, len(numbers), n_src).astype(np.int32),
        np.zeros(n_src, dtype=np.int8),
        np.full(n_src, -1, dtype=np.int32),
        np.zeros(n_src),
        off,
        np.full(n_src, deg, dtype=np.int32),
        contacts,
    )
    disconnected = np.where(rng.random(len(numbers)) < 0.02, 1.0, -np.inf)
    world = (numbers, inv._npa_slot, inv._block_of, disconnected)
    p = N_KINDS
    prof = (np.full(p, 0.75), np.full(p, LOGNORMAL), np.full(p, np.log(120.0)), np.ones(p))
    one = np.array([1.0])
    first = rng.standard_exponential(n_src)
    src = (first.copy(), np.ones(n_src), np.full(n_src, np.inf), np.zeros(n_src, dtype=np.int8))
    none = np.empty(0, dtype=np.int64)
    cols = (np.float64, np.int64, np.int64, np.int32, np.int32, np.int8, np.int32, bool, np.float32)
    out = tuple(np.zeros(2 * n_src, dtype=d) for d in cols)
    keys = (np.uint64(1), 4)

    def one_slice(fs, fc, n=n_src):
        src[0][:] = first
        part = tuple(c[:n] for c in src)
        rc, ra = new_stream(rng), new_stream(rng)
        j, _ = fs(part, np.zeros(1), one, one, 0.0, 0, none, subs, rc, out, 0)
        fc(0, j, subs, world, prof, ra, keys, out)
        return j

    calls = one_slice(source_calls, complete_calls)
    fast = rate(calls, lambda: one_slice(source_calls, complete_calls), 3)
    small = one_slice(source_calls.py_func, complete_calls.py_func, 20_000)
    slow = rate(small, lambda: one_slice(source_calls.py_func, complete_calls.py_func, 20_000), 1)
    _row(f"slice kernels ({n_src:,} sources)", fast, slow, "Python twin", "calls/s")

    n = calls
    t = out[0][:n].copy()
    ids = rng.integers(-1, len(numbers), n).astype(np.int32)
    st = rng.integers(0, 4, len(numbers)).astype(np.int8)
    ch = rng.random(len(numbers))
    blocked = rng.random(n) < 0.01
    truth = (out[5][:n].copy(), out[7][:n].copy(), out[8][:n].copy())
    res = (np.zeros(n, np.int8), np.zeros(n, bool), np.zeros(n, np.float32))
    tally = np.zeros((N_KINDS, len(TALLY)))
    fast = rate(n, lambda: route_tally((ids, t, blocked), truth, (st, st, ch), *res, tally), 5)
    m = 20_000
    cut, cut_truth = (ids[:m], t[:m], blocked[:m]), tuple(x[:m] for x in truth)
    slow = rate(m, lambda: route_tally.py_func(cut, cut_truth, (st, st, ch), *res, tally), 1)
    _row("routing + tallies (1 M)", fast, slow, "Python twin", "calls/s")


if __name__ == "__main__":
    from .__main__ import main

    main()
