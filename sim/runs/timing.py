"""Where a task's time goes, measured in the process that runs it (``make bench``).

:func:`timed_task` runs :func:`sim.runs.executors.run_task` and splits its wall time into
phases marked as the run goes (:func:`sim.runs.phases.mark`): building the world, running
it, finishing its tables (the last Parquet writes), swapping the run's folder into place,
the studies' metrics and writing them.  Beside the wall time it gives the thread's CPU
time (a task that waited for a core has wall >> CPU), the Numba kernels compiled rather
than loaded from the cache during the task, the modules imported during it, the peak
resident memory and the absolute start and end (``time.time()``, comparable across the
processes of one machine), from which the caller gets the time between tasks on a worker
and the transfer of results.
"""

from __future__ import annotations

import os
import resource
import sys
import time

from .executors import Task, run_task
from .phases import PHASES

__all__ = ["numba_misses", "timed_task"]


def numba_misses() -> int:
    """Kernels compiled so far in this process (Numba cache misses) over tnlab's modules."""
    from numba.core.registry import CPUDispatcher

    total = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("sim.", "models.")) or module is None:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, CPUDispatcher):
                total += sum(obj.stats.cache_misses.values())
    return total


def timed_task(task: Task) -> tuple[tuple, dict]:
    """Run one task and time its phases.

    Parameters
    ----------
    task : sim.runs.executors.Task

    Returns
    -------
    result : tuple
        What :func:`~sim.runs.executors.run_task` returns.
    timing : dict
        ``pid``, ``start`` and ``end`` (epoch seconds), ``wall``, ``cpu`` (the task's
        thread) and ``process_cpu`` (every thread of the process: a worker's event loop,
        profiler and monitors too) in seconds, seconds
        per phase (``build``, ``run``, ``finish``, ``swap``, ``metrics``, ``write``),
        ``compiled`` (kernels compiled during the task), ``imported`` (modules imported
        during it) and ``peak_mb``.
    """
    modules, misses = len(sys.modules), numba_misses()
    start, t0, c0, p0 = time.time(), time.perf_counter(), time.thread_time(), time.process_time()
    clock: dict = {}
    token = PHASES.set(clock)
    try:
        result = run_task(task, clock)
    finally:
        PHASES.reset(token)
    t1, c1, p1 = time.perf_counter(), time.thread_time(), time.process_time()
    order = ["built", "ran", "finished", "swapped", "measured", "written"]
    names = ["build", "run", "finish", "swap", "metrics", "write"]
    phases, last = {}, t0
    for mark_name, name in zip(order, names):
        if mark_name in clock:
            phases[name] = clock[mark_name] - last
            last = clock[mark_name]
    return result, {
        "pid": os.getpid(),
        "start": start,
        "end": start + (t1 - t0),
        "wall": t1 - t0,
        "cpu": c1 - c0,
        "process_cpu": p1 - p0,
        **phases,
        "compiled": numba_misses() - misses,
        "imported": len(sys.modules) - modules,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
