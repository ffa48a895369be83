"""The DNI market as it was before its steps became one compiled kernel: the reference twin.

:class:`ReferenceMarket` runs every step in Python as the market did until issue 17 -- the
pool kernel per step, calls queued in a dict by step, routed one by one in a Python loop,
the association store an ``OrderedDict`` with ``move_to_end`` -- on the same drawn demand
(:func:`sim.world.dni_draws.draw_day`), so ``tests/test_dni_vectorised.py`` can compare
the tables of the two, row for row.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from models.common import DAY, NUMBER_KINDS
from sim.world.dni_draws import draw_day
from sim.world.market import LOCAL, Market

__all__ = ["ReferenceMarket"]


class ReferenceMarket(Market):
    """Today's per-step Python market (the reference twin of :class:`Market`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ref_store: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._store_t: dict[tuple[int, int], float] = {}
        self._queue: dict[int, list[tuple[np.ndarray, ...]]] = {}

    def run(self):
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
            for k in range(len(t0)):
                yield self.env.timeout(t1[k] - self.env.now)
                self._resize(t0[k])
                self._rebalance(t0[k])
                a, b = d.step_first[k], d.step_first[k + 1]
                self._step_start = t0[k]
                self._observe(t1[k], b - a, d.start[a:b], d.session[a:b])
                blocked = 0
                if a < b:
                    if self.optimizer is None:
                        kind = np.full(b - a, self._kind)
                    else:
                        kind = self.optimizer.choose(
                            self, d.channel[a:b], self.consumer_area[d.consumer[a:b]]
                        )
                    blocked = self._sessions(d, a, b, t1[k], kind)
                self._route(t0[k], t1[k])
                self._feedback(t1[k])
                self.tables["pool"].append(
                    t=t1[k],
                    size=self.pool.size(),
                    busy=self.pool.busy(),
                    **{f"size_{n}": self.kind_size(i) for i, n in enumerate(NUMBER_KINDS)},
                    store_entries=len(self.ref_store),
                    sessions=d.drawn[k],
                    blocked=blocked,
                )

    def _sessions(self, d, a: int, b: int, t1: float, kind: np.ndarray) -> int:
        cfg = self.cfg
        start, channel = d.start[a:b], d.channel[a:b]
        consumer, sponsor = d.consumer[a:b], d.sponsor[a:b]
        length = d.session[a:b] + cfg.hold_minutes * 60.0
        area = self.consumer_area[consumer]
        kind = np.asarray(kind, dtype=np.int64)
        group = np.where(kind == LOCAL, area, self.n_areas + kind - 1)
        first = self.impressions.extend(
            channel=channel, kind=kind, t=start, sponsor=sponsor, called=False
        )
        ids = np.asarray(first, dtype=np.int64)
        number = self.pool.allocate(start, length, group, ids, t1)
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
        known = d.known[a:b] & (number >= 0)
        if cfg.store:
            for c, num, imp, t in zip(
                consumer[known].tolist(),
                number[known].tolist(),
                ids[known].tolist(),
                start[known].tolist(),
            ):
                self._remember((c, num), imp, t)
        ca, cb = d.call_first[a], d.call_first[b]
        src = np.repeat(np.arange(b - a), np.diff(d.call_first[a : b + 1]))
        keep = (d.u[a:b] < p)[src] & (d.c_t[ca:cb] < self.horizon)
        if keep.any():
            t_all, src = d.c_t[ca:cb][keep], src[keep]
            withheld, repeat = d.c_withheld[ca:cb][keep], d.c_repeat[ca:cb][keep]
            minutes = d.c_minutes[ca:cb][keep]
            window_end = start + length
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
        return int((number < 0).sum())

    def _remember(self, key: tuple[int, int], impression: int, t: float) -> None:
        cfg = self.cfg
        self.ref_store[key] = impression
        self.ref_store.move_to_end(key)
        self._store_t[key] = t
        if cfg.store_eviction == "size":
            while len(self.ref_store) > cfg.store_max_entries:
                old, _ = self.ref_store.popitem(last=False)
                del self._store_t[old]

    def _lookup(self, key: tuple[int, int], t: float) -> int:
        cfg = self.cfg
        imp = self.ref_store.get(key)
        if imp is None:
            return -1
        if cfg.store_eviction == "age" and t - self._store_t[key] > cfg.store_max_age_days * DAY:
            del self.ref_store[key], self._store_t[key]
            return -1
        self.ref_store.move_to_end(key)
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
