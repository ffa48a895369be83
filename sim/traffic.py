"""The traffic process: one SimPy process that ticks once per slice.

At the end of each slice it originates the slice's calls in vectorized form -- subscribers'
outbound calls and the background spam every number receives -- sorts them by time, passes
them through the call-control pipeline and hands them to the recorder, together with the
slice's inventory state and, at each day's end, the day's aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .clock import PoissonSources
from .pipeline import BLOCKED, OFF_NET, VACANT, CallTruth, Pipeline, new_batch
from .population import DAY, gamma_multipliers, hourly_rates
from .recorder import CALL_KINDS, STATES
from .numbering import random_external_numbers

if TYPE_CHECKING:
    from .world import World

__all__ = ["Traffic"]

SPAM = CALL_KINDS.index("spam")


class Traffic:
    """Generates, routes and records every call of a world, one slice at a time."""

    def __init__(self, world: "World", policies=()):
        self.world = world
        cfg = world.config
        self.rng_calls = world.rng("calls")
        self.rng_spam = world.rng("spam")
        spam = cfg.spam
        n = len(world.inventory)
        self.spam = PoissonSources(hourly_rates(spam.calls_per_line_per_day, spam.diurnal)[None],
                                   cfg.scenario.slice_seconds, capacity=n)
        mult = gamma_multipliers(self.rng_spam, 1 / np.sqrt(spam.heterogeneity_shape), n)
        self.spam.add(0.0, np.zeros(n, dtype=np.int64), mult, self.rng_spam)
        types = cfg.subscribers.by_code()
        self.pipeline = Pipeline(
            world.inventory,
            answer_prob=[t.answer_prob for t in types] + [spam.answer_prob],
            durations=[t.duration for t in types] + [spam.duration],
            rng=world.rng("termination"),
            policies=policies,
        )
        # per kind: attempts, blocked, vacant, off_net, answered, minutes
        self._day = np.zeros((len(CALL_KINDS), 6))

    def run(self):
        """SimPy process: one iteration per slice until the horizon."""
        world = self.world
        step = world.config.scenario.slice_seconds
        t0 = 0.0
        while t0 < world.horizon:
            t1 = min(t0 + step, world.horizon)
            yield world.timeout(t1 - t0)
            self._slice(t1)
            world.recorder["states"].append(
                t=t1, **{name: world.inventory.counts[i] for i, name in enumerate(STATES)}
            )
            if t1 % DAY == 0 or t1 >= world.horizon:
                self._end_day(int((t1 - 1e-9) // DAY))
            world.progress(t1 - t0)
            t0 = t1

    def _originate(self, t1: float):
        world = self.world
        pop = world.population
        t_sub, subs = pop.sources.emit(t1, self.rng_calls)
        t_spam, lines = self.spam.emit(t1, self.rng_spam)
        inv = world.inventory
        caller_line = pop.subs["number_id"][subs]
        callee_sub = pop.contacts_of(subs, self.rng_calls.random(len(subs)))
        t = np.concatenate([t_sub, t_spam])
        order = np.argsort(t, kind="stable")
        batch = new_batch(
            t=t,
            caller=np.concatenate([inv.numbers[caller_line],
                                   random_external_numbers(self.rng_spam, len(lines))]),
            callee=np.concatenate([callee_sub, inv.numbers[lines]]),
            caller_id=np.concatenate([caller_line, np.full(len(lines), -1, dtype=np.int32)]),
        ).take(order)
        kind = np.concatenate([pop.subs["type"][subs], np.full(len(lines), SPAM, dtype=np.int8)])
        truth = CallTruth(kind=kind, campaign=np.full(len(t), -1, dtype=np.int32)).take(order)
        return batch, truth

    def _slice(self, t1: float) -> None:
        batch, truth = self._originate(t1)
        self.pipeline.process(batch, truth)
        rec = self.world.recorder
        if "calls" in rec:
            rec["calls"].append(
                t=batch.t, caller=batch.caller, callee=batch.callee, caller_id=batch.caller_id,
                callee_id=batch.callee_id, outcome=batch.outcome, answered=batch.answered,
                duration=batch.duration, kind=truth.kind, campaign=truth.campaign,
            )
        k = len(CALL_KINDS)
        kind = truth.kind
        self._day[:, 0] += np.bincount(kind, minlength=k)
        for col, code in enumerate((BLOCKED, VACANT, OFF_NET), start=1):
            self._day[:, col] += np.bincount(kind, weights=batch.outcome == code, minlength=k)
        self._day[:, 4] += np.bincount(kind, weights=batch.answered, minlength=k)
        self._day[:, 5] += np.bincount(kind, weights=batch.duration, minlength=k) / 60.0

    def _end_day(self, day: int) -> None:
        world = self.world
        d = self._day
        world.recorder["daily_calls"].append(
            day=day, kind=np.arange(len(CALL_KINDS)), attempts=d[:, 0], blocked=d[:, 1],
            vacant=d[:, 2], off_net=d[:, 3], answered=d[:, 4], minutes=d[:, 5],
        )
        c = world.counters
        world.recorder["daily"].append(
            day=day, arrivals=c["arrivals"], exhaustion=c["exhaustion"],
            disconnects=c["disconnects"], port_outs=c["port_outs"], releases=c["releases"],
            subscribers=world.population.active,
        )
        for key in c:
            c[key] = 0
        self._day[:] = 0
