"""Origination: every tenant's inbound calls and text sessions, surges, and its agents'
outbound dial tasks, drawn a day at a time, vectorised.

Each tenant has four named streams below the run's ``platform`` stream (``voice/<tenant>``,
``text/<tenant>``, ``outbound/<tenant>``, ``burst/<tenant>``): each draws its sessions'
arrivals and then everything about them -- customer, IVR choice, dialled number, talk
times, transfer, patience and retrial delays of every attempt, the outbound answer and
route uniforms -- in a fixed number of draws per session.  So every policy faces the same
customers (common random numbers), and a surge's extra callers (the burst stream) leave
the tenant's ordinary callers, and every other tenant's, exactly as they were.

Rates are piecewise constant by the hour: ``calls_per_day`` shaped by the tenant's
hour-of-day and day-of-week weights (each normalised to mean 1), times a burst's factor
while it lasts.  Day 0 is a Monday.
"""

from __future__ import annotations

import numpy as np

from models.common import DAY, HOUR
from models.platform import layout as L
from models.platform import session_rows

from ...config.platform import Platform, Tenant
from ..market import substream

__all__ = ["Origination"]


def _norm(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.mean()


class Origination:
    """The sessions of every tenant, a day at a time.

    Parameters
    ----------
    cfg : Platform
    rng : numpy.random.Generator
        The run's ``platform`` stream (the tenants' streams are named below it).
    queue_base : numpy.ndarray
        First queue of each tenant (its queues: skill x channel).
    horizon : float
        End of the run (s).
    """

    def __init__(self, *, cfg: Platform, rng: np.random.Generator, queue_base, horizon: float):
        self.cfg = cfg
        self.maxa = cfg.max_attempts
        self.qbase = np.asarray(queue_base, dtype=np.int64)
        self.horizon = horizon
        self.streams = [
            {k: substream(rng, f"{k}/{t.name}") for k in ("voice", "text", "outbound", "burst")}
            for t in cfg.tenants
        ]
        self._day = -1
        self._f = np.zeros((0, L.n_in_f(self.maxa)))
        self._i = np.zeros((0, L.N_IN_I), dtype=np.int64)
        self._u = np.zeros(0)
        self._pos = 0
        self._next_id = 0

    # -- rates ------------------------------------------------------------------------------
    def hourly(self, k: int, day: int, per_day: float) -> np.ndarray:
        """Arrivals per second in each hour of ``day`` at ``per_day`` a day on average."""
        t = self.cfg.tenants[k]
        return per_day / DAY * _norm(t.diurnal) * _norm(t.weekly)[day % 7]

    def bursts(self, k: int, day: int) -> list[tuple[float, float, float]]:
        """``(start, end, factor)`` of tenant ``k``'s surges within ``day``."""
        name = self.cfg.tenants[k].name
        out = []
        for b in self.cfg.bursts.values():
            if b.tenant != name:
                continue
            start = b.day * DAY + b.hour * HOUR
            lo, hi = max(start, day * DAY), min(start + b.hours * HOUR, (day + 1) * DAY)
            if hi > lo:
                out.append((lo, hi, b.factor))
        return out

    def is_open(self, t: float) -> np.ndarray:
        """Which tenants are open at ``t``."""
        day, hour = int(t // DAY), int(t % DAY // HOUR)
        return np.array(
            [
                t_.weekly[day % 7] > 0 and t_.open_hours[0] <= hour < t_.open_hours[1]
                for t_ in self.cfg.tenants
            ]
        )

    # -- a day's sessions -------------------------------------------------------------------
    def _times(self, rng, rate: np.ndarray, day: int) -> np.ndarray:
        counts = rng.poisson(rate * HOUR)
        hour = np.repeat(np.arange(24), counts)
        return day * DAY + (hour + rng.random(len(hour))) * HOUR

    def _attempts(self, rng, t: Tenant, n: int, f: np.ndarray) -> None:
        """Patience and retrial delay of every attempt (inf: never abandons / no retry)."""
        m = self.maxa
        patience = t.patience_seconds.sample(rng, n * m).reshape(n, m)
        retry = rng.random((n, m)) < t.retry_prob
        delay = t.retry_seconds.sample(rng, n * m).reshape(n, m)
        f[:, L.F_PAT : L.F_PAT + m] = patience if t.abandons else np.inf
        f[:, L.F_PAT + m : L.F_PAT + 2 * m] = np.where(retry, delay, np.inf)

    def _inbound(self, k: int, rng, times: np.ndarray, channel: int):
        """Rows of inbound sessions (calls or texts) of tenant ``k`` at ``times``."""
        t = self.cfg.tenants[k]
        n = len(times)
        f, i = session_rows(n, self.maxa, "F")
        if n == 0:  # no draws to make (an empty draw leaves a stream as it was)
            return f, i, np.zeros(0)
        f[:, L.F_T] = times
        i[:, L.I_TENANT] = k
        i[:, L.I_CHANNEL] = channel
        i[:, L.I_CUSTOMER] = rng.integers(0, t.customers, n)
        shares = np.array([s.share if channel == L.VOICE else s.text_share for s in t.skills])
        cum = np.cumsum(shares) / shares.sum() if shares.sum() > 0 else np.ones(len(shares))
        skill = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1)
        u_number = rng.random(n)
        i[:, L.I_QUEUE] = self.qbase[k] + 3 * skill + channel
        xfer = rng.random(n)
        for j, s in enumerate(t.skills):
            sel = np.flatnonzero(skill == j)  # indices: 2-D writes by mask cost twice as much
            k_s = len(sel)
            if channel == L.VOICE:
                f[sel, L.F_HANDLE] = s.handle_seconds.sample(rng, k_s)
                f[sel, L.F_HANDLE2] = s.after_transfer_seconds.sample(rng, k_s)
                f[sel, L.F_CONSULT] = s.consult_seconds
                kind = np.where(
                    xfer[sel] < s.blind_transfer,
                    L.BLIND,
                    np.where(xfer[sel] < s.blind_transfer + s.warm_transfer, L.WARM, L.NO_XFER),
                )
                i[sel, L.I_XFER] = kind
                if s.transfer_to:
                    target = [x.name for x in t.skills].index(s.transfer_to)
                    i[sel, L.I_XQUEUE] = self.qbase[k] + 3 * target + L.VOICE
            else:
                f[sel, L.F_HANDLE] = s.text_seconds.sample(rng, k_s)
        f[:, L.F_WRAP] = t.wrap_seconds if channel == L.VOICE else 0.0
        f[:, L.F_IVR] = t.ivr_seconds if channel == L.VOICE else 0.0
        self._attempts(rng, t, n, f)
        return f, i, u_number

    def _outbound(self, k: int, day: int):
        t = self.cfg.tenants[k]
        rng = self.streams[k]["outbound"]
        rate = np.zeros(24)
        if t.outbound_per_hour > 0 and t.weekly[day % 7] > 0:
            rate[t.open_hours[0] : t.open_hours[1]] = t.outbound_per_hour / HOUR
        times = self._times(rng, rate, day)
        n = len(times)
        f, i = session_rows(n, self.maxa, "F")
        if n == 0:
            return f, i, np.zeros(0)
        f[:, L.F_T] = times
        i[:, L.I_TENANT] = k
        i[:, L.I_CHANNEL] = L.OUTBOUND
        i[:, L.I_CUSTOMER] = rng.integers(0, t.customers, n)
        u_number = rng.random(n)
        f[:, L.F_HANDLE] = t.talk_seconds.sample(rng, n)
        f[:, L.F_RING] = t.answer_seconds.sample(rng, n)
        f[:, L.F_ANSWER_U] = rng.random(n)
        f[:, L.F_ROUTE_U] = rng.random(n)
        f[:, L.F_WRAP] = t.wrap_seconds
        f[:, L.F_PAT] = t.outbound_ttl_seconds
        if t.outbound_per_hour > 0:
            skill = [s.name for s in t.skills].index(t.outbound_skill)
            i[:, L.I_QUEUE] = self.qbase[k] + 3 * skill + L.OUTBOUND
        return f, i, u_number

    def day(self, day: int) -> None:
        """Draw every tenant's sessions of ``day`` (in time order)."""
        parts = []
        for k, t in enumerate(self.cfg.tenants):
            s = self.streams[k]
            voice = self._times(s["voice"], self.hourly(k, day, t.calls_per_day), day)
            parts.append(self._inbound(k, s["voice"], voice, L.VOICE))
            texts = self._times(s["text"], self.hourly(k, day, t.texts_per_day), day)
            parts.append(self._inbound(k, s["text"], texts, L.TEXT))
            parts.append(self._outbound(k, day))
            extra = []
            rate = self.hourly(k, day, t.calls_per_day)
            for lo, hi, factor in self.bursts(k, day):
                hours = np.arange(24) * HOUR + day * DAY
                overlap = np.clip(np.minimum(hours + HOUR, hi) - np.maximum(hours, lo), 0, None)
                counts = s["burst"].poisson(max(factor - 1.0, 0.0) * rate * overlap)
                start = np.repeat(np.maximum(hours, lo), counts)
                span = np.repeat(overlap, counts)
                extra.append(start + s["burst"].random(len(start)) * span)
            if extra:
                parts.append(self._inbound(k, s["burst"], np.concatenate(extra), L.VOICE))
        f = np.concatenate([p[0] for p in parts])
        i = np.concatenate([p[1] for p in parts])
        u = np.concatenate([p[2] for p in parts])
        t = np.ascontiguousarray(f[:, L.F_T])
        order = np.argsort(t, kind="stable")
        kept = int(np.count_nonzero(t < self.horizon))  # sessions are numbered
        first = self._next_id  # before those past the horizon are dropped
        self._next_id += len(f)
        order = order[:kept]
        f, i, u = (np.take(a, order, axis=0) for a in (f, i, u))  # take: faster than a[order]
        i[:, L.I_SESSION] = first + np.arange(kept)
        self._f, self._i, self._u = f, i, u
        self._pos = 0
        self._day = day

    def take(self, t0: float, t1: float, numbers) -> tuple[np.ndarray, np.ndarray]:
        """The sessions arriving in ``[t0, t1)`` (a step within one day), each with the
        tenant number it dialled (``numbers(k)``: the tenant's numbers now); sessions of a
        tenant without numbers are dropped (nobody can reach it)."""
        day = int(t0 // DAY)
        if day != self._day:
            self.day(day)
        end = int(np.searchsorted(self._f[:, L.F_T], t1, side="left"))
        f, i, u = self._f[self._pos : end], self._i[self._pos : end], self._u[self._pos : end]
        self._pos = end
        held = [numbers(k) for k in range(len(self.cfg.tenants))]
        count = np.array([len(h) for h in held], dtype=np.int64)
        first = np.cumsum(count) - count
        ten = i[:, L.I_TENANT]
        n = count[ten]
        pick = np.minimum((u * n).astype(np.int64), np.maximum(n - 1, 0))
        keep = n > 0
        if keep.all():
            i[:, L.I_NUMBER] = np.concatenate(held)[first[ten] + pick]
            return f, i
        f, i = f[keep], i[keep]
        i[:, L.I_NUMBER] = np.concatenate(held)[(first[ten] + pick)[keep]]
        return f, i
