"""Threshold status of every aging episode, from the simulated traffic itself.

At each day's end every episode's residual rate over the trailing window (calls of kind
``residual`` to its number over the last ``aging.trailing_days`` days, or over the days since
the disconnect if fewer) is compared with each threshold (a multiple of the background spam
rate).  Each change of status is a row of the ``threshold_status`` table, during aging and
after release and reassignment alike; the first and the stable crossing (after which the
number never went back above) of every episode and threshold follow from it.

Beside the truth, the tracker keeps what the carrier itself can see on an aging number --
every call to it, background spam included -- for the quiet-period and online release
rules, and the harm to new owners: residual calls delivered to a number's next owner in
their first ``aging.harm_days`` days.
"""

from __future__ import annotations

import numpy as np

from models.common import DAY

from ..config.aging import Aging
from .calls import CallBatch, CallTruth
from .inventory import Inventory
from .kernels import count_inbound
from .recorder import Table
from .residual import ResidualTraffic
from .schemas import AGING, DELIVERED, RESIDUAL

__all__ = ["AgingTracker"]


class _Grown:
    """Per-episode arrays (episodes along the last axis) that grow by doubling."""

    def __init__(self, **spec):
        self._spec = spec  # name -> (leading shape, dtype, fill)
        self.cap = 0
        self.arrays: dict[str, np.ndarray] = {}
        self._resize(256)

    def _resize(self, cap: int) -> None:
        for name, (lead, dtype, fill) in self._spec.items():
            new = np.full((*lead, cap), fill, dtype=dtype)
            if name in self.arrays:
                new[..., : self.cap] = self.arrays[name]
            self.arrays[name] = new
        self.cap = cap

    def ensure(self, n: int) -> None:
        if n > self.cap:
            self._resize(max(n, 2 * self.cap))


class AgingTracker:
    """Residual rates, threshold crossings, harm and false-clean releases per episode.

    Attributes
    ----------
    thresholds : numpy.ndarray
        Threshold rates (calls/day): ``aging.thresholds`` times the background rate.
    first, stable : numpy.ndarray
        ``(thresholds, episodes)`` days from the disconnect to the first and to the stable
        crossing below each threshold (NaN while not crossed / above at the last check).

    Parameters
    ----------
    cfg : sim.config.aging.Aging
        Thresholds, windows and the release threshold.
    background : float
        Mean background spam rate (calls/day): the unit of the thresholds.
    inventory : Inventory
        Number states; the tracker listens to its assignments.
    residual : ResidualTraffic
        The episodes.
    tables : dict of Table
        ``threshold_status``, ``episodes``, ``crossings`` and ``early_inbound``.
    """

    def __init__(
        self,
        *,
        cfg: Aging,
        background: float,
        inventory: Inventory,
        residual: ResidualTraffic,
        tables: dict[str, Table],
    ):
        self.inventory = inventory
        self.residual = residual
        self.tables = tables
        self.background = background
        self.multiples = np.array(cfg.thresholds)
        self.thresholds = self.multiples * self.background
        self.release_k = int(np.flatnonzero(self.multiples == cfg.release.threshold)[0])
        self.window = cfg.trailing_days
        self.harm_days = cfg.harm_days
        self.false_clean_days = cfg.false_clean_days
        self.early_days = cfg.early_days
        k, w = len(self.thresholds), self.window
        self._ep = _Grown(
            ring=((w,), np.int32, 0),
            trailing=((), np.int64, 0),
            obs_ring=((w,), np.int32, 0),
            obs_trailing=((), np.int64, 0),
            early=((self.early_days,), np.int32, 0),
            above=((k,), bool, True),
            first=((k,), np.float64, np.nan),
            stable=((k,), np.float64, np.nan),
            obs_above=((k,), bool, True),
            obs_first=((k,), np.float64, np.nan),
            obs_stable=((k,), np.float64, np.nan),
            release_t=((), np.float64, np.nan),
            reassign_t=((), np.float64, np.nan),
            harm=((), np.int64, 0),
            harm_all=((), np.int64, 0),
            false_clean=((), bool, False),
        )
        n = len(inventory)
        self._res_today = np.zeros(n, dtype=np.int32)
        self._obs_today = np.zeros(n, dtype=np.int32)
        self._day = 0
        inventory.listeners.append(self._assigned)

    def column(self, name: str) -> np.ndarray:
        """A per-episode array (``first``, ``stable``, ``early``, ``obs_trailing``, ...),
        episodes along the last axis."""
        return self._ep.arrays[name][..., : len(self.residual.episodes)]

    def started(self, episode: int) -> None:
        """A new episode (its arrays start empty: zero counts, above every threshold)."""
        self._ep.ensure(episode + 1)

    def _assigned(self, t: float, ids: np.ndarray) -> None:
        ep = self.residual.episode_of[ids]
        ep = ep[ep >= 0]
        fresh = ep[np.isnan(self._ep.arrays["reassign_t"][ep])]
        self._ep.arrays["reassign_t"][fresh] = t

    def released(self, episode: int, t: float) -> None:
        """The episode's number went back to the available pool at ``t``."""
        self._ep.arrays["release_t"][episode] = t

    def count(self, batch: CallBatch, truth: CallTruth) -> None:
        """Count a slice's calls: residual ones (truth) and all inbound (observable)."""
        kind = truth.kind
        episode_of = self.residual.episode_of
        count_inbound(batch.callee_id, kind, episode_of, self._obs_today, self._res_today)
        self._harm(batch, (kind == RESIDUAL) & (batch.outcome == DELIVERED))

    def _harm(self, batch: CallBatch, sel: np.ndarray) -> None:
        if not sel.any():
            return
        ids = batch.callee_id[sel]
        ep = self.residual.episode_of[ids]
        owner = self.inventory.last_owner[ids]  # the owner at the call (delivered)
        mine = (ep >= 0) & (owner >= 0)
        ep, t = ep[mine], batch.t[sel][mine]
        start = self.inventory.assigned_at[ids[mine]]  # when that owner got the number
        new_owner = start > self.residual.episodes["t"][ep]
        a = self._ep.arrays
        np.add.at(a["harm_all"], ep[new_owner], 1)
        early = new_owner & (t - start <= self.harm_days * DAY)
        np.add.at(a["harm"], ep[early], 1)

    def end_day(self, t: float) -> None:
        """Evaluate every episode at the end of the day ending at ``t``."""
        n = len(self.residual.episodes)
        row = self._day % self.window
        self._day += 1
        if n:
            self._evaluate(t, n, row)
        self._res_today[:] = 0
        self._obs_today[:] = 0

    def _evaluate(self, t: float, n: int, row: int) -> None:
        res, a = self.residual, self._ep.arrays
        number = res.episodes["number_id"]
        latest = res.episode_of[number] == np.arange(n)
        today = np.where(latest, self._res_today[number], 0)
        seen = np.where(latest, self._obs_today[number], 0)
        for ring, trailing, counts in (
            ("ring", "trailing", today),
            ("obs_ring", "obs_trailing", seen),
        ):
            a[trailing][:n] += counts - a[ring][row, :n]
            a[ring][row, :n] = counts
        age = (t - res.episodes["t"]) / DAY
        day_index = np.ceil(age).astype(np.int64) - 1  # this day's index since the disconnect
        young = np.flatnonzero(day_index < self.early_days)
        a["early"][day_index[young], young] = seen[young]
        ready = np.flatnonzero(age >= 1.0)
        if len(ready) == 0:
            return
        span = np.minimum(age[ready], self.window)
        below = a["trailing"][ready] / span <= self.thresholds[:, None]
        changed_k, changed_j = self._crossed(a, ready, age[ready], below, "")
        if len(changed_k):
            eps = ready[changed_j]
            self.tables["threshold_status"].append(
                t=t,
                episode=eps,
                number_id=number[eps],
                threshold=self.multiples[changed_k],
                below=below[changed_k, changed_j],
                state=self.inventory.state[number[eps]],
            )
        # what the carrier sees: every inbound call, less the background it can estimate
        seen_below = a["obs_trailing"][ready] / span - self.background <= self.thresholds[:, None]
        self._crossed(a, ready, age[ready], seen_below, "obs_")
        rel = a["release_t"][ready]
        recent = (t > rel) & (t - rel <= self.false_clean_days * DAY)
        a["false_clean"][ready[recent & ~below[self.release_k]]] = True

    @staticmethod
    def _crossed(
        a: dict[str, np.ndarray], ready: np.ndarray, age: np.ndarray, below: np.ndarray, pre: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Update the first and stable crossings (arrays ``<pre>first``, ``<pre>stable``,
        ``<pre>above``) of the ``ready`` episodes from today's status ``below``
        ``(thresholds, ready)``; returns the (threshold, episode) indices that changed."""
        above = a[pre + "above"][:, ready]
        down, up = above & below, ~above & ~below
        first, stable = a[pre + "first"][:, ready], a[pre + "stable"][:, ready]
        a[pre + "first"][:, ready] = np.where(down & np.isnan(first), age, first)
        a[pre + "stable"][:, ready] = np.where(down, age, np.where(up, np.nan, stable))
        a[pre + "above"][:, ready] = ~below
        return np.nonzero(down | up)

    def observed_rate(self, episodes: np.ndarray, t: float) -> np.ndarray:
        """What the carrier sees: all inbound calls per day over the trailing window."""
        age = (t - self.residual.episodes["t"][episodes]) / DAY
        return self._ep.arrays["obs_trailing"][episodes] / np.clip(age, 1e-9, self.window)

    def aging(self, episodes: np.ndarray) -> np.ndarray:
        """Which of these episodes' numbers are still aging under that episode."""
        res = self.residual
        number = res.episodes["number_id"][episodes]
        return (self.inventory.state[number] == AGING) & (res.episode_of[number] == episodes)

    def write_tables(self) -> None:
        """Append every episode to ``episodes``, ``crossings`` and ``early_inbound``."""
        cols = self.residual.episodes
        n = len(cols)
        a = {name: arr[..., :n] for name, arr in self._ep.arrays.items()}
        ep = np.arange(n)
        rec = self.tables
        rec["episodes"].append(
            episode=ep,
            number=self.inventory.numbers[cols["number_id"]],
            **{name: cols[name] for name in cols.names},
            release_t=a["release_t"],
            reassign_t=a["reassign_t"],
            harm_calls=a["harm"],
            harm_calls_all=a["harm_all"],
            false_clean=a["false_clean"],
        )
        k = len(self.multiples)
        rec["crossings"].append(
            episode=np.tile(ep, k),
            threshold=np.repeat(self.multiples, n),
            first_days=a["first"].ravel(),
            stable_days=a["stable"].ravel(),
            obs_first_days=a["obs_first"].ravel(),
            obs_stable_days=a["obs_stable"].ravel(),
        )
        d = self.early_days
        rec["early_inbound"].append(
            episode=np.tile(ep, d), day=np.repeat(np.arange(d), n), calls=a["early"].ravel()
        )
