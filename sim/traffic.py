"""The traffic process: one SimPy process that ticks once per slice.

At the end of each slice it originates the slice's calls in vectorized form -- subscribers'
outbound calls and the background spam every number receives -- sorts them by time, passes
them through the call-control pipeline and hands them to the recorder, together with the
slice's inventory state and, at each day's end, the day's aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from .clock import PoissonSources
from .pipeline import BLOCKED, OFF_NET, VACANT, CallTruth, Pipeline, new_batch
from .population import DAY, ROBOCALLER, gamma_multipliers, hourly_rates
from .residual import RESIDUAL
from .recorder import CALL_KINDS, OUTCOMES, STATES
from .numbering import random_external_numbers
from .timesort import time_order

if TYPE_CHECKING:
    from .world import World

__all__ = ["Traffic"]

SPAM = CALL_KINDS.index("spam")
_GOLDEN, _MIX1, _MIX2 = (np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9,
                                                0x94D049BB133111EB))


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a well-mixed uint64 of each uint64 (a counter-based hash)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def _assemble_calls(subs, u, sub_line, sub_type, sub_campaign, contact_off, contact_deg,
                    contacts, numbers, lines, spam_callers, spam_kind):
    """Build a slice's calls from the sources' raw events, in the order they were emitted.

    Emission order follows the source ids, so the look-ups into the subscriber and contact
    arrays run nearly sequentially; sorting by time comes after, on the small outputs.

    Events ``0..len(subs)-1`` are subscribers' outbound calls: the caller is the
    subscriber's line, the callee the contact picked by the uniform ``u``.  The rest are
    background spam from ``spam_callers`` to the inventory lines ``lines``.

    Returns
    -------
    caller, callee : int64
    caller_id : int32
        The calling line, -1 for calls from outside.
    edge : int64
        Index of the picked contact in ``contacts``, -1 for spam.
    kind : int8
        Ground-truth caller kind.
    campaign : int32
        Ground-truth robocall campaign, -1 for none.
    """
    n_sub = subs.shape[0]
    n = n_sub + lines.shape[0]
    caller = np.empty(n, dtype=np.int64)
    callee = np.empty(n, dtype=np.int64)
    caller_id = np.empty(n, dtype=np.int32)
    edge = np.full(n, -1, dtype=np.int64)
    kind = np.empty(n, dtype=np.int8)
    campaign = np.full(n, -1, dtype=np.int32)
    for j in range(n_sub):
        sub = subs[j]
        line = sub_line[sub]
        caller[j] = numbers[line]
        caller_id[j] = line
        edge[j] = contact_off[sub] + int(u[j] * contact_deg[sub])
        callee[j] = contacts[edge[j]]
        kind[j] = sub_type[sub]
        campaign[j] = sub_campaign[sub]
    for k in range(lines.shape[0]):
        j = n_sub + k
        caller[j] = spam_callers[k]
        caller_id[j] = -1
        callee[j] = numbers[lines[k]]
        kind[j] = spam_kind
    return caller, callee, caller_id, edge, kind, campaign


assemble_calls = njit(cache=True, nogil=True)(_assemble_calls)


def _stale_calls(ids, subs, kind, disconnected_at, start, first_robot_kind):
    """Positions of subscriber calls to a contact whose number was disconnected after the
    caller joined (``disconnected_at[id] > start[caller]``), in order.

    ``ids`` are the callees' inventory ids (-1 off the network), ``subs`` the callers'
    line ids, ``kind`` the callers' kinds: only kinds below ``first_robot_kind``
    (subscribers) count.
    """
    out = np.empty(ids.shape[0], dtype=np.int64)
    n = 0
    for j in range(ids.shape[0]):
        i = ids[j]
        if i >= 0 and kind[j] < first_robot_kind and disconnected_at[i] > start[subs[j]]:
            out[n] = j
            n += 1
    return out[:n]


stale_calls = njit(cache=True, nogil=True)(_stale_calls)


class Traffic:
    """Generates, routes and records every call of a world, one slice at a time."""

    def __init__(self, world: "World", policies=()):
        self.world = world
        cfg = world.config
        self.rng_calls = world.rng("calls")
        self.rng_spam = world.rng("spam")
        spam = cfg.spam
        n = len(world.inventory)
        self.spam = PoissonSources(
            hourly_rates(spam.calls_per_line_per_day, spam.diurnal)[None], capacity=n)
        mult = gamma_multipliers(self.rng_spam, 1 / np.sqrt(spam.heterogeneity_shape), n)
        self.spam.add(0.0, np.zeros(n, dtype=np.int64), mult, self.rng_spam)
        self._spam_mult = mult
        self._redirect_key = np.uint64(world.rng("redirect").integers(2**63))
        types = cfg.subscribers.by_code()
        campaigns = cfg.robocallers.campaigns
        self.rng_answer = world.rng("answer")
        # answer probability and talk time: by kind, and for robocalls by campaign
        res = cfg.residual
        self.answer_prob = np.array([t.answer_prob for t in types]
                                    + [0.0, spam.answer_prob, res.answer_prob])
        self.campaign_answer = np.array([c.answer_prob for c in campaigns] + [0.0])
        self.talk_time = [t.duration for t in types] + [None, spam.duration, res.duration]
        self.campaign_talk = [c.duration for c in campaigns]
        self.pipeline = Pipeline(world.inventory, policies)
        # Rows are put in time order only when someone looks at them; values never depend
        # on the order, because all per-call randomness is drawn in emission order.
        self.sort = bool(policies) or "calls" in world.recorder
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
            self._slice(t0, t1)
            world.recorder["states"].append(
                t=t1, **{name: world.inventory.counts[i] for i, name in enumerate(STATES)}
            )
            if t1 % DAY == 0 or t1 >= world.horizon:
                self._end_day(int((t1 - 1e-9) // DAY))
                world.tracker.end_day(t1)
                world.releaser.end_day(t1)
            world.progress(t1 - t0)
            t0 = t1

    def _originate(self, t0: float, t1: float):
        pop = self.world.population
        t_sub, subs = pop.sources.emit(t1, self.rng_calls)
        t_burst, burst_lines = pop.take_pending(t1)
        t_robo, robo_src = pop.robo_sources.emit(t1, pop.rng_robo)
        # robocall lines draw from their own stream: common random numbers across policies
        u = np.concatenate([self.rng_calls.random(len(subs) + len(t_burst)),
                            pop.rng_robo.random(len(t_robo))])
        t_sub = np.concatenate([t_sub, t_burst, t_robo])
        subs = np.concatenate([subs, burst_lines, pop.robo_line["line"][robo_src]])
        t_spam, lines = self.spam.emit(t1, self.rng_spam)
        t_res, res_ids, res_callers = self.world.residual.take(t0)
        s = pop.subs
        caller, callee, caller_id, edge, kind, campaign = assemble_calls(
            subs, u, s["number_id"], s["type"], s["campaign"],
            s["contact_off"], s["contact_deg"], pop.contacts["number"],
            self.world.inventory.numbers, lines, random_external_numbers(self.rng_spam, len(lines)),
            SPAM,
        )
        sub_ids = self._redirect(callee[: len(subs)], edge[: len(subs)], subs,
                                 kind[: len(subs)])
        k = len(t_res)
        t = np.concatenate([t_sub, t_spam, t_res])
        callee_id = np.concatenate([sub_ids, lines.astype(np.int32), res_ids])
        columns = (np.concatenate([caller, res_callers]),
                   np.concatenate([callee, self.world.inventory.numbers[res_ids]]),
                   np.concatenate([caller_id, np.full(k, -1, dtype=np.int32)]),
                   np.concatenate([kind, np.full(k, RESIDUAL, dtype=np.int8)]),
                   np.concatenate([campaign, np.full(k, -1, dtype=np.int32)]))
        kind, campaign = columns[-2], columns[-1]
        robo = campaign >= 0
        p = np.where(robo, self.campaign_answer[campaign], self.answer_prob[kind])
        chance = np.empty(len(t))
        chance[~robo] = self.rng_answer.random(int((~robo).sum()))
        chance[robo] = pop.rng_robo.random(int(robo.sum()))
        would_answer = chance < p
        talk_time = np.empty(len(t), dtype=np.float32)
        for code, dist in enumerate(self.talk_time):
            if dist is not None:
                sel = np.flatnonzero(kind == code)
                talk_time[sel] = dist.sample(self.rng_answer, len(sel))
        for c, dist in enumerate(self.campaign_talk):
            sel = np.flatnonzero(campaign == c)
            talk_time[sel] = dist.sample(pop.rng_robo, len(sel))
        columns = (t, *columns, would_answer, talk_time, callee_id)
        if self.sort:
            order = time_order(t, t0, t1)
            columns = tuple(c[order] for c in columns)
        t, caller, callee, caller_id, kind, campaign, would_answer, talk_time, callee_id = columns
        truth = CallTruth(kind=kind, campaign=campaign, would_answer=would_answer,
                          talk_time=talk_time)
        return new_batch(t, caller, callee, caller_id, callee_id), truth

    def _redirect(self, callee, edge, subs, kind) -> np.ndarray:
        """Subscribers stop calling a contact whose number was disconnected: such a call
        goes to another of the caller's contacts instead (in place).  Returns the callees'
        inventory ids.

        A contact is stale when its number was disconnected after the caller drew it (the
        caller joined before that disconnect).  The caller walks their list from a point
        picked by a counter-based hash of the contact's index (no random stream is used)
        to the next contact that is not stale; a caller whose every contact is stale dials
        the last one tried.  Residual traffic to a disconnected number comes from its
        owner's outside callers (``sim.residual``).
        """
        inv, pop = self.world.inventory, self.world.population
        start, contacts = pop.subs["start"], pop.contacts["number"]
        ids = inv.ids_of(callee)

        def is_stale(j, ids_j):
            out = ids_j >= 0
            out[out] = inv.disconnected_at[ids_j[out]] > start[subs[j[out]]]
            return out

        stale = stale_calls(ids, subs, kind, inv.disconnected_at, start, ROBOCALLER)
        if len(stale) == 0:
            return ids
        sub = subs[stale]
        off = pop.subs["contact_off"][sub]
        deg = pop.subs["contact_deg"][sub].astype(np.int64)
        pick = edge[stale] - off
        others = np.maximum(deg - 1, 1)
        h = (mix64(edge[stale].astype(np.uint64) ^ self._redirect_key)
             % others.astype(np.uint64)).astype(np.int64)
        todo, pos = stale, np.arange(len(stale))
        for tried in range(int(deg.max()) - 1):  # each of the other contacts at most once
            keep = tried < deg[pos] - 1
            todo, pos = todo[keep], pos[keep]
            step = 1 + (h[pos] + tried) % others[pos]
            callee[todo] = contacts[off[pos] + (pick[pos] + step) % deg[pos]]
            ids[todo] = inv.ids_of(callee[todo])
            keep = is_stale(todo, ids[todo])
            todo, pos = todo[keep], pos[keep]
            if len(todo) == 0:
                break
        return ids

    def spam_multiplier(self, number_id: int) -> float:
        """The number's background spam rate relative to the mean (gamma, mean 1)."""
        return float(self._spam_mult[number_id])

    def _slice(self, t0: float, t1: float) -> None:
        batch, truth = self._originate(t0, t1)
        self.pipeline.process(batch, truth)
        self.world.tracker.count(batch, truth)
        self.world.robocallers.after_slice(batch, truth)
        rec = self.world.recorder
        if "calls" in rec:
            rec["calls"].append(
                t=batch.t, caller=batch.caller, callee=batch.callee, caller_id=batch.caller_id,
                callee_id=batch.callee_id, outcome=batch.outcome, answered=batch.answered,
                duration=batch.duration, kind=truth.kind, campaign=truth.campaign,
            )
        k, kind = len(CALL_KINDS), truth.kind
        by_outcome = np.bincount(kind.astype(np.int64) * len(OUTCOMES) + batch.outcome,
                                 minlength=k * len(OUTCOMES)).reshape(k, len(OUTCOMES))
        self._day[:, 0] += by_outcome.sum(axis=1)
        self._day[:, 1:4] += by_outcome[:, [BLOCKED, VACANT, OFF_NET]]
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
