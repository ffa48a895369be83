"""Subscribers: arrivals, tenures, contacts, departures and the aging of their numbers.

Lifecycle events are SimPy events: one Poisson arrival process per subscriber type, and one
timeout per departure and per release that falls inside the horizon.  Everything about a
subscriber lives in flat arrays indexed by its dense id; its outbound calls are a Poisson
source (``sim.clock``) with the same index.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import simpy

from models.common import DAY, HOUR

from ..config.robocalls import Campaign
from ..config.world import SubscriberType
from ..core.columns import GrowingColumns
from ..core.numbering import random_external_numbers
from .clock import PoissonSources, gamma_multipliers, hourly_rates
from .daily import Counters
from .inventory import Inventory
from .recorder import Table
from .schemas import ASSIGNED, END_REASONS, ROBOCALLER

__all__ = ["Departed", "Population"]

_CHUNK = 1 << 18
_MAX_BURST = 100_000  # calls in one burst (the config's bound on burst_calls)
_ACTIVE, _DISCONNECT, _PORT_OUT = range(len(END_REASONS))


def _open_delay(now: float, wait: float, first: int, end: int) -> float:
    """Wall-clock delay from ``now`` that holds ``wait`` seconds of the daily hours
    ``[first, end)`` (``wait`` itself when they are the whole day)."""
    if (first, end) == (0, 24):
        return wait
    lo, hi = first * HOUR, end * HOUR
    day = np.floor(now / DAY) * DAY
    tod = now - day
    if tod >= hi:
        day, tod = day + DAY, lo
    tod = max(tod, lo)
    while wait > hi - tod:
        wait -= hi - tod
        day, tod = day + DAY, lo
    return max(day + tod + wait - now, 0.0)


class Departed(NamedTuple):
    """A line whose number was just disconnected: what the aging of the number needs."""

    line: int
    type: int
    number_id: int
    start: float
    initial: bool
    mult: float


class Population:
    """Everyone who holds or held a line: subscribers of each type and robocall lines.

    Attributes
    ----------
    subs : GrowingColumns
        ``type, campaign, number_id, initial, start, end, end_reason, mult, contact_off,
        contact_deg`` by line id (``end`` is NaN while active; ``campaign`` is -1 for
        subscribers).
    contacts : GrowingColumns
        ``number``: every line's contacts (a robocall campaign's lines share its lead list),
        ``contact_deg`` of them from ``contact_off``.
    sources : PoissonSources
        Outbound calling of each subscriber line (same index as the line id; a robocall
        line holds a silent placeholder there), one rate group per subscriber type.
    robo_sources : PoissonSources
        Outbound calling of robocall lines, one group per campaign, drawing from the
        ``robocallers`` stream; ``robo_line`` maps its sources to line ids.

    Parameters
    ----------
    env : simpy.Environment
        The world's clock.
    horizon : float
        End of the run (s).
    types : list of SubscriberType
        The subscriber types, in code order.
    campaigns : list of Campaign
        The robocall campaigns, in code order.
    days : float
        Length of the run (sizes the arrays up front).
    inventory : Inventory
        Numbers are assigned from it and returned to it.
    releaser : object
        Takes disconnected numbers into aging (``disconnect``, ``aging_days``,
        ``schedule_warm``; :class:`~sim.world.release.Releaser`).
    spam : object
        Stops the background spam of a number that leaves the network (``end``).
    counters : Counters
        The day's lifecycle events.
    exhaustion, subscribers : Table
        Output tables.
    rng, rng_contacts, rng_robo : numpy.random.Generator
        The ``subscribers``, ``contacts`` and ``robocallers`` streams (robocall lines draw
        from their own, so what a policy makes operators do never shifts the subscribers'
        randomness: common random numbers across policies).
    warm_start : bool
        Start with numbers already part-way through aging.
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        horizon: float,
        types: list[SubscriberType],
        campaigns: list[Campaign],
        days: float,
        inventory: Inventory,
        releaser,
        spam,
        counters: Counters,
        exhaustion: Table,
        subscribers: Table,
        rng: np.random.Generator,
        rng_contacts: np.random.Generator,
        rng_robo: np.random.Generator,
        warm_start: bool,
    ):
        self.env = env
        self.horizon = horizon
        self.types = types
        self.campaigns = campaigns
        self.inventory = inventory
        self.releaser = releaser
        self.spam = spam
        self.counters = counters
        self._exhaustion = exhaustion
        self._table = subscribers
        self.rng = rng
        self.rng_contacts = rng_contacts
        self.rng_robo = rng_robo
        self.warm_start = warm_start
        expected = [t.initial + t.steady_arrivals_per_day * days for t in self.types]
        capacity = int(1.05 * sum(expected)) + 64  # sized up front: no regrowth copies
        self.subs = GrowingColumns(
            {
                "type": "int8",
                "campaign": "int32",
                "number_id": "int32",
                "initial": "bool",
                "start": "float64",
                "end": "float64",
                "end_reason": "int8",
                "mult": "float64",
                "contact_off": "int64",
                "contact_deg": "int32",
            },
            capacity,
        )
        self.contacts = GrowingColumns(
            {"number": "int64"},
            int(1.05 * sum(e * t.contacts_mean for e, t in zip(expected, self.types))) + 1024,
        )
        self._next_id = 0  # line ids are handed out with numbers, in joining order
        profiles = [hourly_rates(t.calls_per_day, t.diurnal) for t in self.types]
        self.sources = PoissonSources(np.stack(profiles), capacity)
        robo = [np.zeros(24)]  # a silent group when there are no campaigns
        for c in self.campaigns:
            active = np.zeros(24)
            active[c.active_hours[0] : c.active_hours[1]] = 1.0
            robo.append(hourly_rates(c.calls_per_number_per_day, active))
        self.robo_sources = PoissonSources(np.stack(robo), 64)
        self.robo_line = GrowingColumns({"line": "int64"}, 64)
        self._robo_source: dict[int, int] = {}
        self._pending_t = np.empty(0)
        self._pending_line = np.empty(0, dtype=np.int64)

    # -- set-up ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the initial population, warm-start aging, start the arrival processes."""
        numbers = [
            self._assign(0.0, code, spec.initial, "initial") for code, spec in enumerate(self.types)
        ]
        for code, got in enumerate(numbers):  # contacts drawn once every type holds numbers
            self._join(0.0, code, got, initial=True)
        if self.warm_start:
            for code, spec in enumerate(self.types):
                self._warm_aging(code, spec)
        for code, spec in enumerate(self.types):
            rate = spec.steady_arrivals_per_day / DAY
            if rate > 0:
                self.env.process(self._arrivals(code, rate))
            if spec.bursts_per_day > 0 and spec.burst_calls > 0:
                self.env.process(self._bursts(code, spec))
            if spec.surge_day_prob > 0 and (spec.surge_factor > 1 or spec.surge_factor_sigma > 0):
                self.env.process(self._surges(code, spec))

    def _warm_aging(self, code: int, spec) -> None:
        dist = self.releaser.aging_days(code)
        stock = spec.initial * (1 - spec.port_out_share) * dist.mean / spec.tenure.mean
        k = int(self.rng.poisson(stock))
        if k == 0:
            return
        remaining = dist.sample_residual(self.rng, k) * DAY
        ids = self.inventory.warm_age(remaining)
        self.releaser.schedule_warm(remaining[: len(ids)] / DAY, ids)

    def _arrivals(self, code: int, rate: float):
        while True:
            yield self.env.timeout(self.rng.exponential(1.0 / rate))
            self.add(self.env.now, code, 1)

    def _bursts(self, code: int, spec):
        """Legitimate bursts: each active line of the type bursts at ``bursts_per_day``.

        A notification blast (a school closure alert through an auto-dialler) or a contact
        centre dialling its backlog at opening (``burst_hours = [8, 9]``).  The superposition
        over lines is Poisson at ``bursts_per_day x active lines`` within the daily hours
        ``burst_hours`` (none outside them); the count of active lines is read at each burst
        (it changes on a scale of years).  A burst has ``burst_calls`` calls and lasts
        ``burst_minutes``; with ``burst_calls_sigma`` or ``burst_pace_sigma`` its size and its
        dialling pace (calls a minute, median ``burst_calls / burst_minutes``) are lognormal,
        and it lasts its size over its pace, so that some bursts stay under a detector's
        thresholds and some cross them.  Its calls are spread uniformly over its duration.

        Draws come from the subscribers stream, in the same order as before these keys
        existed, and only when a key asks for them: worlds that do not use them keep their
        tables byte for byte.
        """
        first, end = spec.burst_hours
        rate = spec.bursts_per_day / ((end - first) * HOUR)  # per line, per open second
        pace = spec.burst_calls / spec.burst_minutes  # median calls a minute
        plain = spec.burst_calls_sigma == 0 and spec.burst_pace_sigma == 0
        while True:
            active = np.flatnonzero((self.subs["type"] == code) & np.isnan(self.subs["end"]))
            wait = self.rng.exponential(1.0 / (rate * max(len(active), 1)))
            yield self.env.timeout(_open_delay(self.env.now, wait, first, end))
            if len(active) == 0:
                continue
            line = int(active[self.rng.integers(len(active))])
            calls, minutes = spec.burst_calls, spec.burst_minutes
            if not plain:
                if spec.burst_calls_sigma > 0:
                    drawn = self.rng.lognormal(np.log(spec.burst_calls), spec.burst_calls_sigma)
                    calls = int(min(max(round(drawn), 1), _MAX_BURST))
                speed = pace
                if spec.burst_pace_sigma > 0:
                    speed = pace * self.rng.lognormal(0.0, spec.burst_pace_sigma)
                minutes = calls / speed
            times = self.env.now + np.sort(self.rng.random(calls)) * (minutes * 60.0)
            self._pend(times, np.full(calls, line, dtype=np.int64))

    def _surges(self, code: int, spec):
        """Auto-dialler campaign days: at each midnight every active line of the type has a
        campaign day with probability ``surge_day_prob``; on it the line places
        ``f`` times its usual calls, ``f`` lognormal with median ``surge_factor`` and sigma
        ``surge_factor_sigma`` (drawn per line-day).  The line's own Poisson source goes on;
        the ``(f - 1)`` extra share comes as Poisson(``(f - 1) x multiplier x calls_per_day``)
        calls placed over the day by the type's hourly profile.  Lines that join during a day
        start on the next.  Draws come from the subscribers stream, only when this is on.
        """
        weights = np.asarray(spec.diurnal, dtype=np.float64)
        weights = weights / weights.sum()
        while True:
            active = np.flatnonzero((self.subs["type"] == code) & np.isnan(self.subs["end"]))
            hit = active[self.rng.random(len(active)) < spec.surge_day_prob]
            if len(hit):
                factor = spec.surge_factor * (
                    self.rng.lognormal(0.0, spec.surge_factor_sigma, len(hit))
                    if spec.surge_factor_sigma > 0
                    else np.ones(len(hit))
                )
                extra = np.maximum(factor - 1.0, 0.0) * self.subs["mult"][hit] * spec.calls_per_day
                counts = self.rng.poisson(extra)
                total = int(counts.sum())
                hours = self.rng.choice(24, size=total, p=weights)
                times = self.env.now + (hours + self.rng.random(total)) * HOUR
                self._pend(times, np.repeat(hit.astype(np.int64), counts))
            yield self.env.timeout(DAY - self.env.now % DAY)

    def _pend(self, times: np.ndarray, lines: np.ndarray) -> None:
        """Queue calls that the next slices emit (see :meth:`take_pending`)."""
        self._pending_t = np.concatenate([self._pending_t, times])
        self._pending_line = np.concatenate([self._pending_line, lines])

    def take_pending(self, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Burst calls scheduled before ``t1`` whose line was still active at their time."""
        due = self._pending_t < t1
        t, line = self._pending_t[due], self._pending_line[due]
        self._pending_t, self._pending_line = self._pending_t[~due], self._pending_line[~due]
        end = self.subs["end"][line]
        live = np.isnan(end) | (t < end)
        return t[live], line[live]

    # -- lifecycle ------------------------------------------------------------------------
    def _assign(self, t: float, code: int, k: int, reason: str) -> np.ndarray:
        """Numbers for ``k`` joining lines of type ``code``; shortfall is exhaustion."""
        owners = np.arange(self._next_id, self._next_id + k)
        numbers = self.inventory.assign(t, owners, reason)
        got = numbers[numbers >= 0]
        self._next_id += len(got)
        if len(got) < k:
            self.counters.exhaustion += k - len(got)
            self._exhaustion.append(t=np.full(k - len(got), t), type=code)
        return got

    def add(self, t: float, code: int, k: int) -> np.ndarray:
        """``k`` subscribers of type ``code`` arrive at ``t``; returns the ids of those joining.

        Arrivals that find no available number are recorded as exhaustion events.
        """
        self.counters.arrivals += k
        return self._join(t, code, self._assign(t, code, k, "assign"), initial=False)

    def _join(self, t: float, code: int, numbers: np.ndarray, initial: bool) -> np.ndarray:
        spec = self.types[code]
        got = len(numbers)
        if got == 0:
            return np.empty(0, dtype=np.int64)
        deg = 1 + self.rng_contacts.poisson(spec.contacts_mean - 1, got)
        offsets = len(self.contacts) + np.concatenate([[0], np.cumsum(deg)[:-1]])
        start = self.contacts.grow(int(deg.sum()))
        self._draw_contacts(self.contacts["number"][start:], spec.on_net_share)
        mult = gamma_multipliers(self.rng, spec.rate_cv, got)
        ids = self.subs.extend(
            type=code,
            campaign=-1,
            number_id=numbers,
            initial=initial,
            start=t,
            end=np.nan,
            end_reason=_ACTIVE,
            mult=mult,
            contact_off=offsets,
            contact_deg=deg,
        )
        self.sources.add(t, np.full(got, code), mult, self.rng)
        tenure = (
            spec.tenure.sample_residual(self.rng, got)
            if initial
            else spec.tenure.sample(self.rng, got)
        ) * DAY
        for j in np.flatnonzero(t + tenure < self.horizon):
            self._schedule(tenure[j], self._depart, int(ids[j]))
        return ids

    def lead_list(self, size: int, on_net_share: float) -> tuple[int, int]:
        """Draw a robocall campaign's list of target numbers; returns (offset, size)."""
        start = self.contacts.grow(size)
        self._draw_contacts(self.contacts["number"][start:], on_net_share)
        return start, size

    def add_robocall_lines(
        self, t: float, campaign: int, k: int, leads: tuple[int, int]
    ) -> np.ndarray:
        """A campaign takes ``k`` fresh numbers at ``t``, dialling from its lead list."""
        numbers = self._assign(t, ROBOCALLER, k, "assign")
        got = len(numbers)
        if got == 0:
            return np.empty(0, dtype=np.int64)
        ids = self.subs.extend(
            type=ROBOCALLER,
            campaign=campaign,
            number_id=numbers,
            initial=False,
            start=t,
            end=np.nan,
            end_reason=_ACTIVE,
            mult=1.0,
            contact_off=leads[0],
            contact_deg=leads[1],
        )
        self.sources.add(t, np.zeros(got, dtype=np.int64), np.zeros(got), self.rng_robo)
        idx = self.robo_sources.add(t, np.full(got, 1 + campaign), np.ones(got), self.rng_robo)
        self.robo_line.extend(line=ids)
        self._robo_source.update(zip(ids.tolist(), idx.tolist()))
        return ids

    def _draw_contacts(self, out: np.ndarray, on_net_share: float) -> None:
        """Fill ``out`` with contacts: assigned numbers of this network, else outside numbers.

        Works in chunks so that the temporaries stay small (set-up of a million subscribers
        draws tens of millions of contacts).
        """
        rng, inv = self.rng_contacts, self.inventory
        for start in range(0, len(out), _CHUNK):
            chunk = out[start : start + _CHUNK]
            chunk[:] = random_external_numbers(rng, len(chunk))
            on_net = np.flatnonzero(rng.random(len(chunk)) < on_net_share)
            if len(on_net) == 0 or inv.counts[ASSIGNED] == 0:
                continue
            picked, need = [], len(on_net)
            while need > 0:  # uniform over assigned lines, by rejection
                cand = rng.integers(0, len(inv), 2 * need + 16)
                cand = cand[inv.state[cand] == ASSIGNED][:need]
                picked.append(cand)
                need -= len(cand)
            chunk[on_net] = inv.numbers[np.concatenate(picked)]

    def _schedule(self, delay: float, action, arg: int) -> None:
        self.env.timeout(delay).callbacks.append(lambda _event: action(arg))

    def _depart(self, sub: int) -> None:
        spec = self.types[int(self.subs["type"][sub])]
        self.end(sub, port_out=bool(self.rng.random() < spec.port_out_share))

    def end(self, line: int, port_out: bool = False) -> None:
        """End a line now: its number is ported out, or disconnected into aging."""
        s = self.subs
        t, code, number = self.env.now, int(s["type"][line]), int(s["number_id"][line])
        s["end"][line] = t
        self.sources.end(line, t)
        if code == ROBOCALLER:
            self.robo_sources.end(self._robo_source.pop(line), t)
        if port_out:
            s["end_reason"][line] = _PORT_OUT
            self.counters.port_outs += 1
            self.inventory.port_out(t, number)
            self.spam.end(number, t)  # it no longer receives our traffic
        else:
            s["end_reason"][line] = _DISCONNECT
            self.counters.disconnects += 1
            departed = Departed(
                line,
                code,
                number,
                float(s["start"][line]),
                bool(s["initial"][line]),
                float(s["mult"][line]),
            )
            self.releaser.disconnect(t, departed, self.rng_robo if code == ROBOCALLER else self.rng)

    # -- results --------------------------------------------------------------------------
    @property
    def active(self) -> int:
        """Subscribers holding a number now (robocall lines not counted)."""
        s = self.subs
        return int((np.isnan(s["end"]) & (s["type"] != ROBOCALLER)).sum())

    def write_table(self) -> None:
        """Append every line to the ``subscribers`` table."""
        s, inv = self.subs, self.inventory
        self._table.append(
            subscriber=np.arange(len(s)),
            type=s["type"],
            campaign=s["campaign"],
            number=inv.numbers[s["number_id"]],
            number_id=s["number_id"],
            initial=s["initial"],
            start=s["start"],
            end=s["end"],
            end_reason=s["end_reason"],
            rate_multiplier=s["mult"],
            contacts=s["contact_deg"],
        )
