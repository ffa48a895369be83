"""``make bench``: throughput of each hot path next to its baseline, in one process.

Run with ``python -m benchmarks [--quick]``.  Nothing here is asserted; the numbers are
printed for people (and pasted into closing notes).  The 1 M-subscriber run goes in a
child process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from sim.config import parse_config
from sim.runs.simulate import simulate
from sim.world.clock import PoissonSources, advance
from sim.world.inventory import lookup_ids, make_numbers
from sim.world.origination import assemble_calls, stale_calls
from sim.world.pipeline import route_outcomes
from sim.world.timesort import time_order

from .aging import bench_aging
from .burst import bench_burst
from .dni import bench_dni
from .dni_bandits import bench_bandits
from .dni_erlang import bench_erlang
from .naive import naive_world
from .provisioning import bench_provisioning
from .storm import bench_storm
from .timing import rate


def _row(name: str, fast: float, base: float, base_name: str, unit: str = "events/s") -> None:
    print(
        f"  {name:<34} {fast / 1e6:10.2f} M {unit:<9} {base_name:<24} {base / 1e6:9.3f} M"
        f"   x{fast / base:8.1f}"
    )


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


def bench_world() -> None:
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


def bench_big() -> None:
    """1 M subscribers over 7 days, end to end, in a child process."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--big-child"],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print("World, 1 M subscribers x 7 days, events not kept (one core):")
    print(
        f"  {r['calls']:,} calls in {r['seconds']:.1f} s = {r['calls'] / r['seconds'] / 1e6:.2f}"
        f" M calls/s end to end (target 5); set-up {r['setup_s']:.1f} s, so "
        f"{r['calls'] / (r['seconds'] - r['setup_s']) / 1e6:.2f} M calls/s once running; "
        f"peak memory {r['peak_mb']:,.0f} MB"
    )


def _peak_mb() -> float:
    """Peak resident memory of this process since the last reset (VmHWM), in MB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _big_child() -> None:
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

    cfg = parse_config(BIG)
    simulate(
        parse_config(
            {**BIG, "scenario": {"days": 0.05}, "subscribers": {"residential": {"initial": 1000}}}
        ),
        progress=False,
    )
    names = [name for name in SCHEMAS if name != "calls"]
    start = time.perf_counter()
    recorder = Recorder(None, names)
    world = World(cfg, Streams(cfg.seed), recorder, study_policies(cfg))
    world.setup()
    setup = time.perf_counter() - start
    world.run(until=world.process(world.traffic.run()))
    world.population.write_table()
    seconds = time.perf_counter() - start
    calls = int(recorder["daily_calls"].to_frame()["attempts"].sum())
    peak = _peak_mb()
    print(json.dumps({"calls": calls, "seconds": seconds, "setup_s": setup, "peak_mb": peak}))


def bench_kernels(quick: bool) -> None:
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
    from sim.world.inventory import Inventory
    from sim.world.recorder import Table

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

    ids = rng.integers(-1, len(numbers), 1_000_000).astype(np.int32)
    st = rng.integers(0, 4, len(numbers)).astype(np.int8)
    ch = rng.random(len(numbers)) * 3600
    tt = rng.random(1_000_000) * 3600
    blocked = rng.random(1_000_000) < 0.01
    args = (ids, tt, blocked, st, st, ch)
    fast = rate(len(ids), lambda: route_outcomes(*args), 5)
    slow = rate(
        20_000,
        lambda: route_outcomes.py_func(
            *(a[:20_000] if a is ids or a is tt or a is blocked else a for a in args)
        ),
        1,
    )
    _row("routing outcomes (1 M)", fast, slow, "Python twin")

    n_sub, n_calls = 100_000, 1_000_000
    deg = rng.integers(1, 50, n_sub).astype(np.int32)
    off = np.concatenate([[0], np.cumsum(deg)[:-1]])
    contacts = rng.integers(2_000_000_000, 9_999_999_999, int(deg.sum()))
    subs = np.sort(rng.integers(0, n_sub, n_calls))
    u = rng.random(n_calls)
    line = rng.integers(0, len(numbers), n_sub).astype(np.int32)
    typ = rng.integers(0, 3, n_sub).astype(np.int8)
    lines = rng.integers(0, len(numbers), 1000)
    spam = rng.integers(2_000_000_000, 9_999_999_999, 1000)
    camp = np.full(n_sub, -1, dtype=np.int32)
    a = (subs, u, line, typ, camp, off, deg, contacts, numbers, lines, spam, 5)
    fast = rate(n_calls + 1000, lambda: assemble_calls(*a), 5)
    slow = rate(20_000, lambda: assemble_calls.py_func(subs[:20_000], u[:20_000], *a[2:]), 1)
    _row("call assembly (1 M)", fast, slow, "Python twin")

    ids = rng.integers(-1, len(numbers), n_calls).astype(np.int32)
    kinds = rng.integers(0, 7, n_calls).astype(np.int8)
    disconnected = np.where(rng.random(len(numbers)) < 0.05, rng.random(len(numbers)), -np.inf)
    start = rng.random(n_sub)
    b = (ids, subs, kinds, disconnected, start, 4)
    fast = rate(n_calls, lambda: stale_calls(*b), 5)
    slow = rate(50_000, lambda: stale_calls.py_func(*(x[:50_000] for x in b[:3]), *b[3:]), 1)
    _row("stale-contact check (1 M)", fast, slow, "Python twin")


def bench_parallel(quick: bool) -> None:
    """Parallel efficiency of a sweep's runs on 2 Dask workers against 1 in-process, and
    the Dask executor's overhead per task; cluster start-up is timed apart."""
    import tempfile
    from pathlib import Path

    from distributed import LocalCluster

    from sim.config import sweep_points
    from sim.runs.executors import Task, execute

    subs = 50_000 if quick else 200_000
    raw = {
        **SMALL,
        "name": "bench-sweep",
        "replications": 2 if quick else 4,
        "scenario": {"days": 3 if quick else 7},
        "inventory": {"blocks_per_area_code": 250},
        "subscribers": {
            **SMALL["subscribers"],
            "residential": {"initial": subs, "arrivals_per_day": 0, "rate_cv": 0},
        },
        "sweep": {"subscribers.residential.calls_per_day": [2.0, 3.0]},
    }
    cfg = parse_config(raw)

    def tasks(folder):
        return [
            Task(p, r, params, point, Path(folder) / f"p{p}r{r}", p)
            for p, (params, point) in enumerate(sweep_points(cfg))
            for r in range(cfg.replications)
        ]

    def timed(folder, **kwargs):
        start = time.perf_counter()
        for _ in execute(tasks(folder), **kwargs):
            pass
        return time.perf_counter() - start

    n = 2 * cfg.replications
    with tempfile.TemporaryDirectory() as tmp:
        serial = timed(f"{tmp}/serial", workers=1)
        out = {}
        for workers in (1, 2):
            start = time.perf_counter()
            with LocalCluster(
                n_workers=workers, threads_per_worker=1, dashboard_address=None
            ) as cluster:
                up = time.perf_counter() - start
                timed(f"{tmp}/warm{workers}", scheduler=cluster.scheduler_address)  # imports
                out[workers] = (
                    up,
                    timed(f"{tmp}/dask{workers}", scheduler=cluster.scheduler_address),
                )
    print(f"Sweep of {n} runs ({subs:,} subscribers x {raw['scenario']['days']} days each):")
    print(
        f"  in-process {serial:.1f} s; 2 Dask workers {out[2][1]:.1f} s: parallel efficiency "
        f"{serial / (2 * out[2][1]):.0%} (target >= 80%); cluster start {out[2][0]:.1f} s "
        "and first-task imports not included"
    )
    print(
        f"  Dask executor overhead per task against in-process (1 worker): "
        f"{(out[1][1] - serial) / n * 1000:+.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, no 1 M run")
    parser.add_argument("--big-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_child:
        _big_child()
        return
    print(f"tnlab benchmarks (numpy {np.__version__}); best of repeated runs, one core\n")
    bench_kernels(args.quick)
    print()
    bench_burst(args.quick, _row)
    print()
    bench_aging(args.quick, _row)
    print()
    bench_bandits(args.quick, _row)
    print()
    bench_erlang(args.quick, _row)
    print()
    bench_dni(args.quick, _row)
    print()
    bench_storm(args.quick, _row)
    print()
    bench_world()
    print()
    bench_provisioning(args.quick)
    print()
    bench_parallel(args.quick)
    if not args.quick:
        print()
        bench_big()


if __name__ == "__main__":
    main()
