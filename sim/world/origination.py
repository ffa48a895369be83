"""Origination: a slice's calls built in vectorised form.

Subscribers' outbound calls (Poisson clocks, notification bursts, robocall lines), the
background spam every number receives and the residual calls of disconnected numbers are
assembled into one :class:`~sim.world.calls.Calls` record in the order their sources
emitted them (so look-ups into the subscriber and contact arrays run nearly sequentially),
then put in time order when someone will look at them.  All per-call randomness -- whether
the callee would answer, how long they would talk -- is drawn here in emission order, so a
call's values never depend on row order or on what a policy did to another call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..config.experiment import ExperimentConfig
from ..core.hashing import mix64
from .calls import Calls
from .inventory import Inventory
from .population import Population
from .residual import ResidualTraffic
from .schemas import RESIDUAL, ROBOCALLER, SPAM
from .spam import Spam
from .timesort import time_order

__all__ = ["Origination", "assemble_calls", "stale_calls"]


def _assemble_calls(
    subs,
    u,
    sub_line,
    sub_type,
    sub_campaign,
    contact_off,
    contact_deg,
    contacts,
    numbers,
    lines,
    spam_callers,
    spam_kind,
):
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


class Origination:
    """Builds each slice's calls.

    Parameters
    ----------
    config : ExperimentConfig
        Answer probabilities and talk times by caller kind and campaign.
    population, spam, residual, inventory :
        The sources of the calls and the numbers they reach.
    rng_calls, rng_answer : numpy.random.Generator
        The ``calls`` stream (call times, callees) and the ``answer`` stream (answer,
        talk time); robocall lines draw from the population's ``robocallers`` stream.
    redirect_key : numpy.uint64
        Key of the hash that redirects calls to stale contacts.
    sort : bool
        Put the calls in time order (needed when a policy or the calls table looks).
    """

    def __init__(
        self,
        *,
        config: ExperimentConfig,
        population: Population,
        spam: Spam,
        residual: ResidualTraffic,
        inventory: Inventory,
        rng_calls: np.random.Generator,
        rng_answer: np.random.Generator,
        redirect_key: np.uint64,
        sort: bool,
    ):
        self.population = population
        self.spam = spam
        self.residual = residual
        self.inventory = inventory
        self.rng_calls = rng_calls
        self.rng_answer = rng_answer
        self._redirect_key = redirect_key
        self.sort = sort
        types = config.subscribers.by_code()
        campaigns = config.robocallers.campaigns
        # answer probability and talk time: by kind, and for robocalls by campaign
        spam_cfg, res = config.spam, config.residual
        self.answer_prob = np.array(
            [t.answer_prob for t in types] + [0.0, spam_cfg.answer_prob, res.answer_prob]
        )
        self.campaign_answer = np.array([c.answer_prob for c in campaigns] + [0.0])
        self.talk_time = [t.duration for t in types] + [None, spam_cfg.duration, res.duration]
        self.campaign_talk = [c.duration for c in campaigns]

    def originate(self, t0: float, t1: float) -> Calls:
        """The calls of the slice ``[t0, t1)``."""
        pop = self.population
        t_sub, subs = pop.sources.emit(t1, self.rng_calls)
        t_burst, burst_lines = pop.take_pending(t1)
        t_robo, robo_src = pop.robo_sources.emit(t1, pop.rng_robo)
        # robocall lines draw from their own stream: common random numbers across policies
        u = np.concatenate(
            [self.rng_calls.random(len(subs) + len(t_burst)), pop.rng_robo.random(len(t_robo))]
        )
        t_sub = np.concatenate([t_sub, t_burst, t_robo])
        subs = np.concatenate([subs, burst_lines, pop.robo_line["line"][robo_src]])
        t_spam, lines, spam_callers = self.spam.emit(t1)
        t_res, res_ids, res_callers = self.residual.take(t0)
        s = pop.subs
        numbers = self.inventory.numbers
        caller, callee, caller_id, edge, kind, campaign = assemble_calls(
            subs,
            u,
            s["number_id"],
            s["type"],
            s["campaign"],
            s["contact_off"],
            s["contact_deg"],
            pop.contacts["number"],
            numbers,
            lines,
            spam_callers,
            SPAM,
        )
        n_sub, k = len(subs), len(t_res)
        sub_ids = self._redirect(callee[:n_sub], edge[:n_sub], subs, kind[:n_sub])
        kind = np.concatenate([kind, np.full(k, RESIDUAL, dtype=np.int8)])
        campaign = np.concatenate([campaign, np.full(k, -1, dtype=np.int32)])
        calls = Calls(
            t=np.concatenate([t_sub, t_spam, t_res]),
            caller=np.concatenate([caller, res_callers]),
            callee=np.concatenate([callee, numbers[res_ids]]),
            caller_id=np.concatenate([caller_id, np.full(k, -1, dtype=np.int32)]),
            callee_id=np.concatenate([sub_ids, lines.astype(np.int32), res_ids]),
            kind=kind,
            campaign=campaign,
            would_answer=self._would_answer(kind, campaign),
            talk_time=self._talk_time(kind, campaign),
        )
        if self.sort:
            calls = calls.take(time_order(calls.t, t0, t1))
        return calls

    def _would_answer(self, kind: np.ndarray, campaign: np.ndarray) -> np.ndarray:
        robo = campaign >= 0
        p = np.where(robo, self.campaign_answer[campaign], self.answer_prob[kind])
        chance = np.empty(len(kind))
        chance[~robo] = self.rng_answer.random(int((~robo).sum()))
        chance[robo] = self.population.rng_robo.random(int(robo.sum()))
        return chance < p

    def _talk_time(self, kind: np.ndarray, campaign: np.ndarray) -> np.ndarray:
        talk_time = np.empty(len(kind), dtype=np.float32)
        for code, dist in enumerate(self.talk_time):
            if dist is not None:
                sel = np.flatnonzero(kind == code)
                talk_time[sel] = dist.sample(self.rng_answer, len(sel))
        for c, dist in enumerate(self.campaign_talk):
            sel = np.flatnonzero(campaign == c)
            talk_time[sel] = dist.sample(self.population.rng_robo, len(sel))
        return talk_time

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
        inv, pop = self.inventory, self.population
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
        h = (
            mix64(edge[stale].astype(np.uint64) ^ self._redirect_key) % others.astype(np.uint64)
        ).astype(np.int64)
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
