"""Phase marks of a run being timed (:func:`sim.runs.timing.timed_task`): a context
variable holding the clock of the task being timed, and :func:`mark`."""

from __future__ import annotations

import time
from contextvars import ContextVar

__all__ = ["PHASES", "mark"]

PHASES: ContextVar[dict | None] = ContextVar("tnlab_phases", default=None)
"""The phase clock of the task being timed (None: nothing is timed)."""


def mark(name: str) -> None:
    """Note the end of phase ``name`` (``time.perf_counter()``) if a task is being timed."""
    clock = PHASES.get()
    if clock is not None:
        clock[name] = time.perf_counter()
