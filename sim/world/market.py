"""The call-tracking (DNI) market: ad sessions, leased numbers, calls and their attribution.

Every ``dni.step_seconds`` the market leases numbers from the platform's shared pool
(:mod:`sim.world.leases`) to the step's ad sessions, each showing the kind of number the
composition optimizer picked (or the pool's only kind), queues the calls each impression
will cause -- during the session or days later, repeat calls after that -- and routes the
calls that fall in the step: the association store first (caller, number) -> impression
(:mod:`sim.world.dni_store`), then the number's lease at the call's time, else nothing.
Ground truth knows which impression caused each call.  The pool is resized by the sizing
policy and its composition rebalanced by the optimizer, buying and releasing numbers.

The demand is drawn a day at a time (:mod:`sim.world.dni_draws`) and the steps run in a
compiled kernel (:func:`sim.world.dni_steps.market_steps`): one call per step when a sizer
or an optimizer must be consulted between steps, else one call per day.

Random numbers come from three streams derived from the run's ``dni`` stream by name
(:func:`substream`), so that within a replication every policy faces the same impressions
(common random numbers):

* ``sessions`` -- everything about the demand: session counts, times, consumers, sponsors,
  session lengths, which consumers are known, and each impression's *potential* calls (a
  uniform ``u`` that becomes a call when ``u < p`` for the kind shown, the call times,
  repeats, withheld caller IDs, talk minutes), whatever a policy does;
* ``numbers`` -- the digits of numbers bought;
* ``optimizer`` -- the composition optimizer's own draws (its choices and rebalancing).
"""

from __future__ import annotations

import zlib

import numpy as np
import simpy

from models.common import DAY, HOUR, NUMBER_KINDS

from ..config.dni import Dni
from ..core.columns import GrowingColumns
from ..core.numbering import area_exchange_codes, us_area_codes
from .clock import hourly_rates
from .dni_draws import DayDraws, draw_day
from .dni_steps import PendingCalls, market_steps
from .dni_store import EVICT_AGE, EVICT_NEVER, EVICT_SIZE, Store
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
        self.p_max = self.call_prob * self.response.max(axis=1)
        n_steps = int(np.ceil(horizon / self.step))
        self._t0 = np.arange(n_steps) * self.step
        self._t1 = np.minimum(self._t0 + self.step, horizon)
        self._kind = NUMBER_KINDS.index(cfg.pool_kind)
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
        self._evict = {"none": EVICT_NEVER, "age": EVICT_AGE, "size": EVICT_SIZE}[
            cfg.store_eviction
        ]
        self.store = Store(self._evict, cfg.store_max_age_days * DAY, cfg.store_max_entries)
        self.calls = PendingCalls()
        self._rows: dict[str, list[dict]] = {"impressions": [], "dni_calls": [], "pool": []}
        self._next_rebalance = 0.0
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
        return int(self._kind_sizes()[kind])

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
            nxx = np.empty(k, dtype=np.int64)
            for a in np.unique(npa):  # one draw per area code, not per number
                sel = npa == a
                nxx[sel] = rng.choice(area_exchange_codes(int(a)), int(sel.sum()))
            line = rng.integers(0, 10_000, k)
        return npa.astype(np.int64) * 10_000_000 + nxx * 10_000 + line

    # -- the process ------------------------------------------------------------------------
    def run(self):
        """SimPy process: the steps of every ``dni.step_seconds`` until the horizon, a day's
        sessions drawn at once; with no sizer and no optimizer (nothing to consult between
        steps) a day's steps run in one kernel call."""
        days = (self._t0 // DAY).astype(np.int64)
        for day in np.unique(days):
            sel = np.flatnonzero(days == day)
            t0, t1 = self._t0[sel], self._t1[sel]
            d = draw_day(
                self.cfg,
                self.rng_sessions,
                t0,
                t1,
                self.rates,
                self.p_max,
                self.sponsor_p,
                self.budget,
            )
            if self.sizer is None and self.optimizer is None:
                yield self.env.timeout(t1[-1] - self.env.now)
                self._block(d, 0, len(t0), t1, np.full(d.step_first[-1], self._kind))
                self._flush()
                continue
            for k in range(len(t0)):
                yield self.env.timeout(t1[k] - self.env.now)
                self._resize(t0[k])
                self._rebalance(t0[k])
                a, b = d.step_first[k], d.step_first[k + 1]
                self._step_start = t0[k]
                self._observe(t1[k], b - a, d.start[a:b], d.session[a:b])
                if self.optimizer is None or a == b:
                    kind = np.full(b - a, self._kind)
                else:
                    kind = self.optimizer.choose(
                        self, d.channel[a:b], self.consumer_area[d.consumer[a:b]]
                    )
                self._block(d, k, k + 1, t1[k : k + 1], kind)
                self._feedback(t1[k])
            self._flush()

    def _resize(self, t: float) -> None:
        if self.sizer is None:
            return
        want = int(self.sizer.size(t, self.pool.busy(), self._offered))
        have = self.kind_size(self._kind)
        if want > have:
            self.buy(self._kind, want - have)
        elif want < have:
            self.release(self._kind, have - want)

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

    def _block(self, d: DayDraws, lo: int, hi: int, t1: np.ndarray, kind: np.ndarray) -> None:
        """Run steps ``lo:hi`` of a day (ending at ``t1``) in one kernel call, the sessions
        showing numbers of ``kind``; record the impressions, the routed calls and a pool
        row per step."""
        a, b = int(d.step_first[lo]), int(d.step_first[hi])
        n = b - a
        start, channel = d.start[a:b], d.channel[a:b]
        consumer, sponsor = d.consumer[a:b], d.sponsor[a:b]
        kind = np.asarray(kind, dtype=np.int64)
        length = d.session[a:b] + self.cfg.hold_minutes * 60.0
        area = self.consumer_area[consumer]
        group = np.where(kind == LOCAL, area, self.n_areas + kind - 1)
        first = self.impressions.extend(
            channel=channel, kind=kind, t=start, sponsor=sponsor, called=False
        )
        ids = np.asarray(first, dtype=np.int64)
        p = self.call_prob[channel] * self.response[channel, kind]
        # the calls of the sessions that call (u < p), within the horizon
        ca, cb = int(d.call_first[a]), int(d.call_first[b])
        owner = np.repeat(np.arange(n), np.diff(d.call_first[a : b + 1]))
        keep = (d.u[a:b][owner] < p[owner]) & (d.c_t[ca:cb] < self.horizon)
        call_first = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=n), out=call_first[1:])
        new_calls = int(keep.sum())
        pending = self.calls.reserve(new_calls)
        self.pool.reserve(n)
        self.store.reserve(int(d.known[a:b].sum()) + pending)
        number = np.empty(n, dtype=np.int64)
        steps = hi - lo
        busy, blocked, entries = (np.zeros(steps, dtype=np.int64) for _ in range(3))
        self.calls.meta[2] = 0
        market_steps(
            t1,
            (d.step_first[lo : hi + 1] - a).astype(np.int64),
            start,
            length,
            group,
            ids,
            consumer,
            d.known[a:b],
            number,
            call_first,
            d.c_t[ca:cb][keep],
            d.c_withheld[ca:cb][keep],
            d.c_repeat[ca:cb][keep],
            d.c_minutes[ca:cb][keep],
            start + length,
            kind,
            sponsor,
            self.impressions["called"],
            self.pool.steal,
            self.cfg.store,
            self._evict,
            self.cfg.store_max_age_days * DAY,
            self.cfg.store_max_entries,
            self.pool.state(),
            self.store.state(),
            *self.calls.state(),
            busy,
            blocked,
            entries,
        )
        self._emit(
            "impressions",
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
        self._record_calls()
        kinds = self._kind_sizes()
        sizes = {f"size_{k}": np.full(steps, kinds[i]) for i, k in enumerate(NUMBER_KINDS)}
        self._emit(
            "pool",
            t=t1,
            size=np.full(steps, kinds.sum()),
            busy=busy,
            **sizes,
            store_entries=entries,
            sessions=d.drawn[lo:hi],
            blocked=blocked,
        )

    def _record_calls(self) -> None:
        c = self.calls
        r = int(c.meta[2])
        if r == 0:
            return
        q = c.out_call[:r]
        attributed, via = c.out_attr[:r].copy(), c.out_via[:r].copy()
        imp, t = c.imp[q], c.t[q]
        routed = np.where(
            attributed >= 0, self.impressions["sponsor"][np.maximum(attributed, 0)], -1
        )
        self._emit(
            "dni_calls",
            t=t,
            impression=imp,
            consumer=c.consumer[q],
            withheld=c.withheld[q],
            number_id=c.number[q],
            kind=c.kind[q],
            sponsor=c.sponsor[q],
            attributed=attributed,
            routed_sponsor=routed,
            via=via,
            outcome=np.where(attributed == imp, 0, np.where(attributed >= 0, 1, 2)),
            in_window=t < c.window[q],
            repeat=c.repeat[q],
            minutes=c.minutes[q],
        )

    def _kind_sizes(self) -> np.ndarray:
        """Numbers of each kind in the pool (net of those waiting to be retired)."""
        n = self.pool.n
        groups = np.bincount(
            self.pool.num_group[:n][self.pool.in_pool[:n]], minlength=self.pool.n_groups
        )
        groups = groups - self.pool.retire_pending
        return np.concatenate([[groups[: self.n_areas].sum()], groups[self.n_areas :]])

    def _emit(self, name: str, **columns) -> None:
        """Keep a block's rows of a table until the day's end (:meth:`_flush`)."""
        self._rows[name].append({k: np.asarray(v) for k, v in columns.items()})

    def _flush(self) -> None:
        """Append the rows kept since the last flush to the tables, a table at a time (a
        day run in one block is appended as it is: the table copies it anyway)."""
        for name, parts in self._rows.items():
            if parts:
                rows = parts[0]
                if len(parts) > 1:
                    rows = {k: np.concatenate([p[k] for p in parts]) for k in rows}
                self.tables[name].append(**rows)
                parts.clear()

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
