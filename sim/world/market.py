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
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import simpy

from models.common import DAY, NUMBER_KINDS

from ..config.dni import Dni
from ..core.columns import GrowingColumns
from ..core.numbering import area_exchange_codes, us_area_codes
from .clock import hourly_rates
from .leases import Pool
from .recorder import Table

__all__ = ["Market"]

LOCAL, NON_LOCAL = NUMBER_KINDS.index("local"), NUMBER_KINDS.index("non_local")
_TOLLFREE = {
    "tollfree_800": (800,),
    "tollfree_other": (888, 877, 866, 855, 844, 833),
    "vanity": (800,),
}


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
        The ``dni`` stream.
    sizer : models.dni.PoolSizer, optional
        Resizes the pool every step (None: the pool keeps ``pool_size``).
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
        self.consumer_area = self.rng.integers(0, self.n_areas, cfg.consumers)
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
        self.mean_lease = (cfg.session_minutes.mean + cfg.hold_minutes) * 60.0
        self._next_rebalance = 0.0
        self.counters = {"sessions": 0, "blocked": 0}
        self._offered: float | None = None  # erlangs offered over the last step
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
        rng = self.rng
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
        self._next_rebalance = t + self.cfg.rebalance_hours * 3600.0
        self.optimizer.rebalance(self)

    def _sessions(self, t0: float, t1: float) -> None:
        cfg, rng = self.cfg, self.rng
        hour = int(t0 // 3600) % 24
        counts = rng.poisson(self.rates[:, hour] * (t1 - t0))
        n = int(counts.sum())
        self.counters["sessions"] += n
        self._offered = n / (t1 - t0) * self.mean_lease
        if n == 0:
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
        known = (rng.random(n) < cfg.known_caller_share) & (number >= 0)
        if cfg.store:
            for c, num, imp, t in zip(
                consumer[known].tolist(),
                number[known].tolist(),
                ids[known].tolist(),
                start[known].tolist(),
            ):
                self._remember((c, num), imp, t)
        self._draw_calls(start, session, length, consumer, sponsor, number, ids, kind, p)

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

    def _draw_calls(self, start, session, length, consumer, sponsor, number, ids, kind, p) -> None:
        cfg, rng = self.cfg, self.rng
        calls = rng.random(len(start)) < p
        j = np.flatnonzero(calls)
        if len(j) == 0:
            return
        in_session = rng.random(len(j)) < cfg.in_session_share
        t = np.where(
            in_session,
            start[j] + rng.random(len(j)) * session[j],
            start[j] + cfg.delay_days.sample(rng, len(j)) * DAY,
        )
        repeats = rng.poisson(cfg.repeat_calls, len(j))
        r = np.repeat(np.arange(len(j)), repeats)
        gaps = cfg.repeat_days.sample(rng, len(r)) * DAY
        # each repeat call comes a gap after the one before it
        offset = np.zeros(len(r))
        if len(r):
            csum = np.cumsum(gaps)
            first_of = np.concatenate([[0], np.cumsum(repeats)[:-1]])[r]
            offset = csum - np.concatenate([[0.0], csum])[first_of]
        t_all = np.concatenate([t, t[r] + offset])
        src = np.concatenate([j, j[r]])
        repeat = np.concatenate([np.zeros(len(j), bool), np.ones(len(r), bool)])
        keep = t_all < self.horizon
        t_all, src, repeat = t_all[keep], src[keep], repeat[keep]
        withheld = rng.random(len(t_all)) < cfg.withheld_share
        minutes = cfg.talk_minutes.sample(rng, len(t_all))
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
                    start[i] + length[i],
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
        (t, imp, consumer, sponsor, number, kind, window_end, withheld, repeat, minutes) = (
            np.concatenate(c) for c in zip(*parts)
        )
        order = np.argsort(t, kind="stable")
        t, imp, consumer, sponsor, number, kind, window_end, withheld, repeat, minutes = (
            a[order]
            for a in (
                t,
                imp,
                consumer,
                sponsor,
                number,
                kind,
                window_end,
                withheld,
                repeat,
                minutes,
            )
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
