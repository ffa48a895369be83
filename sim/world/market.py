"""The call-tracking (DNI) market: ad sessions, leased numbers, calls and their attribution.

Every ``dni.step_seconds`` the market (one SimPy process) draws the step's ad sessions per
channel (Poisson, with the channel's hour-of-day profile), picks each impression's sponsor
and the kind of number to show (the composition optimizer, or the pool's only kind), leases
numbers from the platform's shared pool (:mod:`sim.world.leases`), draws the calls each
impression will cause -- during the session or days later, repeat calls after that -- and
routes the calls that fall in the step: the association store first (caller, number) -> impression,
then the number's current lease, else nothing.  Ground truth knows which impression caused
each call.  The pool is resized by the sizing policy and its composition rebalanced by the
optimizer, buying and releasing numbers.

Random numbers come from three streams derived from the run's ``dni`` stream by name
(:func:`substream`), so that within a replication every policy faces the same impressions
(common random numbers):

* ``sessions`` -- everything about the demand: session counts, times, consumers, sponsors,
  session lengths, which consumers are known, and each impression's *potential* calls (a
  uniform ``u`` that becomes a call when ``u < p`` for the kind shown, the call times,
  repeats, withheld caller IDs, talk minutes).  They are drawn for every impression shown,
  in a fixed number per impression, so nothing a policy does changes them;
* ``numbers`` -- the digits of numbers bought;
* ``optimizer`` -- the composition optimizer's own draws (its choices and rebalancing).
"""

from __future__ import annotations

import zlib
from collections import OrderedDict

import numpy as np
import simpy

from models.common import DAY, HOUR, NUMBER_KINDS

from ..config.dni import Dni
from ..core.columns import GrowingColumns
from ..core.numbering import area_exchange_codes, us_area_codes
from .clock import hourly_rates
from .leases import Pool
from .recorder import Table

__all__ = ["Market", "substream"]

LOCAL, NON_LOCAL = NUMBER_KINDS.index("local"), NUMBER_KINDS.index("non_local")
_TOLLFREE = {
    "tollfree_800": (800,),
    "tollfree_other": (888, 877, 866, 855, 844, 833),
    "vanity": (800,),
}


def substream(rng: np.random.Generator, name: str) -> np.random.Generator:
    """A generator named ``name`` below ``rng``'s seed sequence (its spawn key extended by the
    CRC-32 of the name, as :class:`sim.core.seeding.Streams` names the run's streams): it
    depends only on ``rng``'s seed and the name, never on how much of ``rng`` was used."""
    seq = rng.bit_generator.seed_seq
    key = (*seq.spawn_key, zlib.crc32(name.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seq.entropy, spawn_key=key)))


class Market:
    """The DNI platform and its market inside a world (``dni.enabled``).

    Groups of numbers: one per consumer area code for local numbers, then one each for
    non-local, 800, other toll-free and vanity numbers.

    Parameters
    ----------
    env : simpy.Environment
    cfg : sim.config.dni.Dni
        The ``[dni]`` section.
    horizon : float
        End of the run (s).
    tables : dict of Table
        ``impressions``, ``dni_calls`` and ``pool``.
    rng : numpy.random.Generator
        The ``dni`` stream (the market's streams are named below it: :func:`substream`).
    sizer : models.dni.PoolSizer, optional
        Resizes the pool every step (None: the pool keeps ``pool_size``); after every step
        it is told what the platform observed (``observe``: lease requests and the mean
        lease of the sessions that ended so far).
    optimizer : object, optional
        Chooses the kind of number each impression shows and rebalances the pool
        (``choose``, ``learn``, ``rebalance``); None: every number is of ``pool_kind``.
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        cfg: Dni,
        horizon: float,
        tables: dict[str, Table],
        rng: np.random.Generator,
        sizer=None,
        optimizer=None,
    ):
        self.env = env
        self.cfg = cfg
        self.horizon = horizon
        self.tables = tables
        self.rng = rng
        self.rng_sessions = substream(rng, "sessions")
        self.rng_numbers = substream(rng, "numbers")
        self.rng_optimizer = substream(rng, "optimizer")
        self.step = float(cfg.step_seconds)
        self.n_areas = len(cfg.area_codes)
        self.channels = cfg.channels.by_code()
        self.rates = np.stack(
            [hourly_rates(c.sessions_per_day, c.diurnal) for c in self.channels]
        )  # (channel, hour) sessions/s
        self.response = np.array([[c.response[k] for k in NUMBER_KINDS] for c in self.channels])
        self.call_prob = np.array([c.call_prob for c in self.channels])
        share = np.array([s.share for s in cfg.sponsors])
        self.sponsor_p = share / share.sum()
        self.budget = np.array([s.budget_per_day or np.inf for s in cfg.sponsors])
        self._spent = np.zeros(len(cfg.sponsors))
        self._day = 0
        self.consumer_area = self.rng_sessions.integers(0, self.n_areas, cfg.consumers)
        self.pool = Pool(self.n_areas + len(NUMBER_KINDS) - 1, cfg.exhausted == "steal_lru")
        self.numbers = GrowingColumns({"number": "int64", "kind": "int8"}, 1024)
        self._others = np.setdiff1d(us_area_codes(), cfg.area_codes)
        self.sizer = sizer
        self.optimizer = optimizer
        self.impressions = GrowingColumns(
            {
                "channel": "int8",
                "kind": "int8",
                "t": "float64",
                "sponsor": "int16",
                "called": "bool",
            },
            4096,
        )
        self._reported = 0
        self.store: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._store_t: dict[tuple[int, int], float] = {}
        self._queue: dict[int, list[tuple[np.ndarray, ...]]] = {}
        self._next_rebalance = 0.0
        self.counters = {"sessions": 0, "blocked": 0}
        self._offered: float | None = None  # erlangs offered over the last step (observed)
        # sessions still open (their end and length) and those ended, as the platform sees
        self._open_end = np.zeros(0)
        self._open_len = np.zeros(0)
        self._ended = 0
        self._ended_seconds = 0.0
        self._step_start = 0.0
        if optimizer is None:
            self.buy(NUMBER_KINDS.index(cfg.pool_kind), cfg.pool_size)
        else:
            for kind in range(len(NUMBER_KINDS)):
                self.buy(kind, cfg.pool_size // len(NUMBER_KINDS))

    # -- the pool ---------------------------------------------------------------------------
    def groups_of(self, kind: int) -> np.ndarray:
        """The groups holding numbers of a kind (local: one per area code)."""
        if kind == LOCAL:
            return np.arange(self.n_areas)
        return np.array([self.n_areas + kind - 1])

    def kind_size(self, kind: int) -> int:
        """Numbers of a kind in the pool."""
        return sum(self.pool.size(int(g)) for g in self.groups_of(kind))

    def free_by_kind(self) -> np.ndarray:
        """Free numbers of each kind now."""
        return np.array(
            [int(self.pool.free_count[self.groups_of(k)].sum()) for k in range(len(NUMBER_KINDS))],
            dtype=np.int64,
        )

    def buy(self, kind: int, k: int) -> None:
        """Buy ``k`` numbers of a kind (local ones spread over the consumer area codes)."""
        groups = self.groups_of(kind)
        per = np.bincount(np.arange(k) % len(groups), minlength=len(groups))
        for g, count in zip(groups, per):
            if count == 0:
                continue
            ids = self.pool.buy(int(g), int(count))
            self.numbers.grow(len(ids))
            self.numbers["number"][ids] = self._digits(kind, int(g), len(ids))
            self.numbers["kind"][ids] = kind

    def release(self, kind: int, k: int) -> None:
        """Release ``k`` numbers of a kind (from its largest groups first)."""
        groups = self.groups_of(kind)
        for _ in range(k):
            sizes = [self.pool.size(int(g)) for g in groups]
            if max(sizes) <= 0:
                return
            self.pool.release(int(groups[int(np.argmax(sizes))]), 1)

    def _digits(self, kind: int, group: int, k: int) -> np.ndarray:
        rng = self.rng_numbers
        name = NUMBER_KINDS[kind]
        if name in _TOLLFREE:
            npa = rng.choice(_TOLLFREE[name], k)
            nxx = rng.integers(200, 1000, k)
            line = rng.integers(0, 10, k) * 1111 if name == "vanity" else rng.integers(0, 10_000, k)
        else:
            npa = (
                np.full(k, self.cfg.area_codes[group])
                if kind == LOCAL
                else rng.choice(self._others, k)
            )
            nxx = np.array([rng.choice(area_exchange_codes(int(a))) for a in npa])
            line = rng.integers(0, 10_000, k)
        return npa.astype(np.int64) * 10_000_000 + nxx * 10_000 + line

    # -- the process ------------------------------------------------------------------------
    def run(self):
        """SimPy process: one step every ``dni.step_seconds`` until the horizon."""
        t0 = 0.0
        while t0 < self.horizon:
            t1 = min(t0 + self.step, self.horizon)
            yield self.env.timeout(t1 - t0)
            self._step(t0, t1)
            t0 = t1

    def _step(self, t0: float, t1: float) -> None:
        day = int(t0 // DAY)
        if day != self._day:
            self._day, self._spent[:] = day, 0
        self._resize(t0)
        self._rebalance(t0)
        self._sessions(t0, t1)
        self._route(t0, t1)
        self._feedback(t1)
        self.tables["pool"].append(
            t=t1,
            size=self.pool.size(),
            busy=self.pool.busy(),
            **{f"size_{k}": self.kind_size(i) for i, k in enumerate(NUMBER_KINDS)},
            store_entries=len(self.store),
            sessions=self.counters["sessions"],
            blocked=self.counters["blocked"],
        )
        self.counters = dict.fromkeys(self.counters, 0)

    def _resize(self, t: float) -> None:
        if self.sizer is None:
            return
        want = int(self.sizer.size(t, self.pool.busy(), self._offered))
        kind = NUMBER_KINDS.index(self.cfg.pool_kind)
        have = self.kind_size(kind)
        if want > have:
            self.buy(kind, want - have)
        elif want < have:
            self.release(kind, have - want)

    def _rebalance(self, t: float) -> None:
        if self.optimizer is None or t < self._next_rebalance:
            return
        self._next_rebalance = t + self.cfg.rebalance_hours * HOUR
        self.optimizer.rebalance(self)

    def mean_lease(self) -> float | None:
        """Mean lease (session plus hold, s) of the sessions that have ended so far -- what
        the platform has observed; None before the first one ends."""
        if self._ended == 0:
            return None
        return self._ended_seconds / self._ended + self.cfg.hold_minutes * 60.0

    def _observe(self, t1: float, requests: int, start: np.ndarray, session: np.ndarray) -> None:
        """Account the step's sessions as the platform sees them and tell the sizer."""
        end = np.concatenate([self._open_end, start + session])
        length = np.concatenate([self._open_len, session])
        done = end <= t1
        self._ended += int(done.sum())
        self._ended_seconds += float(length[done].sum())
        self._open_end, self._open_len = end[~done], length[~done]
        lease = self.mean_lease()
        self._offered = None if lease is None else requests / (t1 - self._step_start) * lease
        if self.sizer is not None:
            self.sizer.observe(t1, requests, lease)

    def _sessions(self, t0: float, t1: float) -> None:
        cfg, rng = self.cfg, self.rng_sessions
        self._step_start = t0
        hour = int(t0 // HOUR) % 24
        counts = rng.poisson(self.rates[:, hour] * (t1 - t0))
        n = int(counts.sum())
        self.counters["sessions"] += n
        if n == 0:
            self._observe(t1, 0, np.zeros(0), np.zeros(0))
            return
        channel = np.repeat(np.arange(len(self.channels)), counts)
        start = t0 + rng.random(n) * (t1 - t0)
        order = np.argsort(start, kind="stable")
        start, channel = start[order], channel[order]
        consumer = rng.integers(0, cfg.consumers, n)
        sponsor = rng.choice(len(self.sponsor_p), n, p=self.sponsor_p)
        shown = self._within_budget(sponsor)
        start, channel, consumer, sponsor = (a[shown] for a in (start, channel, consumer, sponsor))
        n = len(start)
        session = cfg.session_minutes.sample(rng, n) * 60.0
        length = session + cfg.hold_minutes * 60.0
        area = self.consumer_area[consumer]
        known = rng.random(n) < cfg.known_caller_share
        potential = self._potential_calls(start, session)
        self._observe(t1, n, start, session)
        if self.optimizer is None:
            kind = np.full(n, NUMBER_KINDS.index(cfg.pool_kind))
        else:
            kind = self.optimizer.choose(self, channel, area)
        group = np.where(kind == LOCAL, area, self.n_areas + kind - 1)
        first = self.impressions.extend(
            channel=channel, kind=kind, t=start, sponsor=sponsor, called=False
        )
        ids = np.asarray(first, dtype=np.int64)
        number = self.pool.allocate(start, length, group, ids, t1)
        self.counters["blocked"] += int((number < 0).sum())
        p = self.call_prob[channel] * self.response[channel, kind]
        self.tables["impressions"].append(
            t=start,
            impression=ids,
            consumer=consumer,
            area=area,
            channel=channel,
            sponsor=sponsor,
            kind=kind,
            number_id=number,
            lease_end=start + length,
            call_prob=p,
        )
        known &= number >= 0
        if cfg.store:
            for c, num, imp, t in zip(
                consumer[known].tolist(),
                number[known].tolist(),
                ids[known].tolist(),
                start[known].tolist(),
            ):
                self._remember((c, num), imp, t)
        self._draw_calls(potential, p, start + length, consumer, sponsor, number, ids, kind)

    def _within_budget(self, sponsor: np.ndarray) -> np.ndarray:
        """Impressions a sponsor can still pay for today (first come, first served)."""
        if np.isinf(self.budget).all():
            return np.ones(len(sponsor), dtype=bool)
        rank = np.zeros(len(sponsor))
        for s in np.unique(sponsor):
            sel = sponsor == s
            rank[sel] = self._spent[s] + np.arange(1, sel.sum() + 1)
        ok = rank <= self.budget[sponsor]
        np.add.at(self._spent, sponsor[ok], 1)
        return ok

    def _potential_calls(self, start: np.ndarray, session: np.ndarray) -> dict[str, np.ndarray]:
        """Every impression's potential calls, drawn whatever happens to it.

        A uniform ``u`` per impression (it calls if ``u`` is below the call probability of
        the kind it is shown); the first call's time (during the session with probability
        ``in_session_share``, else ``delay_days`` later); ``repeat_calls`` (Poisson) more,
        ``repeat_days`` apart; per call the withheld caller ID and the talk minutes.  The
        number of draws depends only on the impressions, so the ``sessions`` stream is the
        same whatever a policy does (common random numbers)."""
        cfg, rng = self.cfg, self.rng_sessions
        n = len(start)
        u = rng.random(n)
        in_session = rng.random(n) < cfg.in_session_share
        within = rng.random(n)
        delay = cfg.delay_days.sample(rng, n) * DAY
        first = np.where(in_session, start + within * session, start + delay)
        repeats = rng.poisson(cfg.repeat_calls, n)
        owner = np.repeat(np.arange(n), repeats)
        gaps = cfg.repeat_days.sample(rng, len(owner)) * DAY
        # each repeat call comes a gap after the one before it
        offset = np.zeros(len(owner))
        if len(owner):
            csum = np.cumsum(gaps)
            first_of = np.concatenate([[0], np.cumsum(repeats)[:-1]])[owner]
            offset = csum - np.concatenate([[0.0], csum])[first_of]
        k = n + len(owner)
        return {
            "u": u,
            "t": np.concatenate([first, first[owner] + offset]),
            "src": np.concatenate([np.arange(n), owner]),
            "repeat": np.concatenate([np.zeros(n, bool), np.ones(len(owner), bool)]),
            "withheld": rng.random(k) < cfg.withheld_share,
            "minutes": cfg.talk_minutes.sample(rng, k),
        }

    def _draw_calls(self, potential, p, window_end, consumer, sponsor, number, ids, kind) -> None:
        """Queue the calls of the impressions whose potential call happens (``u < p``)."""
        called = potential["u"] < p
        src = potential["src"]
        keep = called[src] & (potential["t"] < self.horizon)
        if not keep.any():
            return
        t_all, src = potential["t"][keep], src[keep]
        repeat, withheld = potential["repeat"][keep], potential["withheld"][keep]
        minutes = potential["minutes"][keep]
        steps = (t_all // self.step).astype(np.int64)
        for s in np.unique(steps):
            sel = steps == s
            i = src[sel]
            self._queue.setdefault(int(s), []).append(
                (
                    t_all[sel],
                    ids[i],
                    consumer[i],
                    sponsor[i],
                    number[i],
                    kind[i],
                    window_end[i],
                    withheld[sel],
                    repeat[sel],
                    minutes[sel],
                )
            )

    # -- routing ----------------------------------------------------------------------------
    def _remember(self, key: tuple[int, int], impression: int, t: float) -> None:
        cfg = self.cfg
        self.store[key] = impression
        self.store.move_to_end(key)
        self._store_t[key] = t
        if cfg.store_eviction == "size":
            while len(self.store) > cfg.store_max_entries:
                old, _ = self.store.popitem(last=False)
                del self._store_t[old]

    def _lookup(self, key: tuple[int, int], t: float) -> int:
        cfg = self.cfg
        imp = self.store.get(key)
        if imp is None:
            return -1
        if cfg.store_eviction == "age" and t - self._store_t[key] > cfg.store_max_age_days * DAY:
            del self.store[key], self._store_t[key]
            return -1
        self.store.move_to_end(key)
        self._store_t[key] = t
        return imp

    def _route(self, t0: float, t1: float) -> None:
        parts = self._queue.pop(int(t0 // self.step), [])
        if not parts:
            return
        columns = [np.concatenate(c) for c in zip(*parts)]
        order = np.argsort(columns[0], kind="stable")
        t, imp, consumer, sponsor, number, kind, window_end, withheld, repeat, minutes = (
            c[order] for c in columns
        )
        lease = self.pool.lease_at(number, t)
        by_lease = np.where(lease >= 0, self.pool.lease_imp[np.maximum(lease, 0)], -1)
        attributed = np.empty(len(t), dtype=np.int64)
        via = np.empty(len(t), dtype=np.int8)
        use_store = self.cfg.store
        for k in range(len(t)):
            key = (int(consumer[k]), int(number[k]))
            found = -1
            if use_store and not withheld[k] and number[k] >= 0:
                found = self._lookup(key, float(t[k]))
            if found >= 0:
                attributed[k], via[k] = found, 0
            elif by_lease[k] >= 0:
                attributed[k], via[k] = by_lease[k], 1
                if use_store and not withheld[k]:
                    self._remember(key, int(by_lease[k]), float(t[k]))
            else:
                attributed[k], via[k] = -1, 2
        imps = self.impressions
        routed = np.where(attributed >= 0, imps["sponsor"][np.maximum(attributed, 0)], -1)
        outcome = np.where(attributed == imp, 0, np.where(attributed >= 0, 1, 2))
        imps["called"][attributed[attributed >= 0]] = True
        self.tables["dni_calls"].append(
            t=t,
            impression=imp,
            consumer=consumer,
            withheld=withheld,
            number_id=number,
            kind=kind,
            sponsor=sponsor,
            attributed=attributed,
            routed_sponsor=routed,
            via=via,
            outcome=outcome,
            in_window=t < window_end,
            repeat=repeat,
            minutes=minutes,
        )

    def _feedback(self, now: float) -> None:
        """Report impressions whose feedback window closed to the optimizer (reward: an
        attributed call -- what the platform sees, misattributions included)."""
        if self.optimizer is None:
            return
        imps = self.impressions
        window = self.cfg.feedback_days * DAY
        end = int(np.searchsorted(imps["t"], now - window, side="right"))
        if end > self._reported:
            sl = slice(self._reported, end)
            self.optimizer.learn(imps["channel"][sl], imps["kind"][sl], imps["called"][sl])
            self._reported = end
