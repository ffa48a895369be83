"""The traffic process: one SimPy process that ticks once per slice.

At the end of each slice it originates the slice's calls (:mod:`sim.world.origination`),
passes them through the call-control pipeline (which adds them to the day's tallies), tells
the components that watch traffic and hands the calls to the recorder; at each day's end it
writes the daily tables and tells the components that act once a day.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from models.common import DAY

from .calls import CallBatch, CallTruth
from .daily import CallTally, Counters
from .inventory import Inventory
from .origination import Origination
from .pipeline import Pipeline
from .recorder import Table
from .schemas import STATES

__all__ = ["Traffic"]


class Traffic:
    """Generates, routes and records every call of a world, one slice at a time.

    Parameters
    ----------
    env : simpy.Environment
    horizon, slice_seconds : float
        End of the run and length of a slice (s).
    origination : Origination
        Builds each slice's calls.
    pipeline : Pipeline
        Policies, routing and termination.
    inventory : Inventory
        Its state counts are recorded after every slice.
    counters : Counters
        The day's lifecycle events, written and reset at each day's end.
    active : callable
        ``active()``: subscribers holding a number now.
    tables : dict of Table
        ``states``, ``daily``, ``daily_calls`` and, if calls are kept, ``calls``.
    watchers : list of callable
        ``watcher(batch, truth)`` after every slice (ground truth trackers, operators).
    daily : list of callable
        ``action(t)`` at every day's end, after the daily tables are written.
    progress : callable, optional
        Called with the simulated seconds of each finished slice.
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        horizon: float,
        slice_seconds: float,
        origination: Origination,
        pipeline: Pipeline,
        inventory: Inventory,
        counters: Counters,
        active: Callable[[], int],
        tables: dict[str, Table],
        watchers: list[Callable[[CallBatch, CallTruth], None]],
        daily: list[Callable[[float], None]],
        progress: Callable[[float], None] | None = None,
    ):
        self.env = env
        self.horizon = horizon
        self.slice_seconds = slice_seconds
        self.origination = origination
        self.pipeline = pipeline
        self.inventory = inventory
        self.counters = counters
        self.active = active
        self.tables = tables
        self.watchers = watchers
        self.daily = daily
        self.progress = progress
        self.tally = CallTally()
        self._states: list[tuple] = []  # the day's rows of ``states``, appended at its end

    def run(self):
        """SimPy process: one iteration per slice until the horizon."""
        t0 = 0.0
        while t0 < self.horizon:
            t1 = min(t0 + self.slice_seconds, self.horizon)
            yield self.env.timeout(t1 - t0)
            self._slice(t0, t1)
            self._states.append((t1, *self.inventory.counts.tolist()))
            if t1 % DAY == 0 or t1 >= self.horizon:
                t, *counts = zip(*self._states)
                self.tables["states"].append(t=t, **dict(zip(STATES, counts)))
                self._states.clear()
                self._end_day(int((t1 - 1e-9) // DAY))
                for action in self.daily:
                    action(t1)
            if self.progress is not None:
                self.progress(t1 - t0)
            t0 = t1

    def _slice(self, t0: float, t1: float) -> None:
        batch, truth = self.origination.originate(t0, t1).split()
        self.pipeline.process(batch, truth, self.tally)
        for watcher in self.watchers:
            watcher(batch, truth)
        if "calls" in self.tables:
            self.tables["calls"].append(
                t=batch.t,
                caller=batch.caller,
                callee=batch.callee,
                caller_id=batch.caller_id,
                callee_id=batch.callee_id,
                outcome=batch.outcome,
                answered=batch.answered,
                duration=batch.duration,
                kind=truth.kind,
                campaign=truth.campaign,
            )

    def _end_day(self, day: int) -> None:
        self.tally.write(self.tables["daily_calls"], day)
        self.counters.write(self.tables["daily"], day, self.active())
