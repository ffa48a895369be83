"""``make bench``: throughput of each hot path next to its baseline, in one process.

Run with ``python -m benchmarks [--quick]``.  Nothing here is asserted; the numbers are
printed for people (and pasted into closing notes).  The 1 M-subscriber run goes in a
child process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse

import numpy as np

from .aging import bench_aging
from .burst import bench_burst
from .dni import bench_dni
from .dni_bandits import bench_bandits
from .dni_erlang import bench_erlang
from .platform import bench_platform
from .provisioning import bench_provisioning
from .storm import bench_storm
from .sweep import bench_parallel
from .voice import bench_voice
from .world import bench_big, bench_world, bench_world_kernels, child


def _row(name: str, fast: float, base: float, base_name: str, unit: str = "events/s") -> None:
    print(
        f"  {name:<34} {fast / 1e6:10.2f} M {unit:<9} {base_name:<24} {base / 1e6:9.3f} M"
        f"   x{fast / base:8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, no 1 M run")
    parser.add_argument(
        "--world", action="store_true", help="only the world: its kernels and end-to-end runs"
    )
    parser.add_argument(
        "--big", action="store_true", help="only the national world: 10 M subscribers x 30 days"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"tnlab benchmarks (numpy {np.__version__}); best of repeated runs, one core\n")
    if args.big:
        bench_big(national=True)
        return
    bench_world_kernels(args.quick, _row)
    if not args.world:
        for bench in (
            bench_burst,
            bench_aging,
            bench_bandits,
            bench_erlang,
            bench_dni,
            bench_storm,
            bench_platform,
        ):
            print()
            bench(args.quick, _row)
    print()
    bench_world(_row)
    if not args.world:
        print()
        bench_provisioning(args.quick)
        print()
        bench_voice(args.quick)
        print()
        bench_parallel(args.quick)
    if not args.quick:
        print()
        bench_big()


if __name__ == "__main__":
    main()
