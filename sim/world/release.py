"""Taking disconnected numbers into aging and releasing them, within the legal bounds.

The *when* is a release policy handed in (:mod:`models.aging.release`); the world keeps
every decision within the number type's ``aging_days`` bounds (by default the US rules:
45-90 days residential, up to 365 business) and the inventory itself refuses a release
before the lower bound.  A policy that decides later is held at least to the lower bound
and released at the upper bound at the latest.  Robocall lines have no episodes and always
age a uniform time within ``robocallers.aging_days``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import simpy

from models.aging import FEATURES
from models.aging.release import Drawn, ReleasePolicy
from models.common import DAY

from ..core.distributions import Uniform
from .daily import Counters
from .inventory import Inventory
from .population import Departed
from .residual import ResidualTraffic
from .schemas import AGING, LINE_TYPES, ROBOCALLER
from .status import AgingTracker

__all__ = ["CarrierAgingView", "Releaser", "features_frame"]

_NUMERIC = tuple(f for f in FEATURES if f != "type")


def features_frame(episodes, rows: np.ndarray, early: np.ndarray | None = None) -> pd.DataFrame:
    """What the carrier knew at each disconnect, for some episodes of a running world.

    Parameters
    ----------
    episodes : GrowingColumns
        ``ResidualTraffic.episodes``.
    rows : numpy.ndarray
        Episode ids.
    early : numpy.ndarray, optional
        ``(days, episodes)`` inbound calls on each of the first days of aging; adds the
        columns ``early_0 ...``.

    Returns
    -------
    pandas.DataFrame
        ``type`` (str), the numeric :data:`models.aging.FEATURES`, and ``early_*``.
    """
    columns = {"type": np.asarray(LINE_TYPES, dtype=object)[episodes["type"][rows]]}
    columns.update((name, episodes[name][rows]) for name in _NUMERIC)
    if early is not None:  # one frame at once: a column added at a time costs several times more
        columns.update((f"early_{d}", early[d, rows]) for d in range(early.shape[0]))
    return pd.DataFrame(columns)


class CarrierAgingView:
    """What a release policy sees of the aging numbers (a
    :class:`models.aging.release.AgingView`): observable traffic and the features known at
    each disconnect, never the residual truth."""

    def __init__(
        self,
        residual: ResidualTraffic,
        tracker: AgingTracker,
        bounds: np.ndarray,
        background: float,
        release_rate: float,
    ):
        self._residual = residual
        self._tracker = tracker
        self._bounds = bounds
        self.background = background
        self.release_rate = release_rate
        self.disconnected_today = np.empty(0, dtype=np.int64)

    def episodes(self) -> np.ndarray:
        """Every episode so far."""
        return np.arange(len(self._residual.episodes))

    def age(self, episodes: np.ndarray, t: float) -> np.ndarray:
        """Days since each episode's disconnect."""
        return (t - self._residual.episodes["t"][episodes]) / DAY

    def aging(self, episodes: np.ndarray) -> np.ndarray:
        """Which episodes' numbers are still aging under that episode."""
        return self._tracker.aging(episodes)

    def lower_bound(self, episodes: np.ndarray) -> np.ndarray:
        """Each episode's legal minimum of days in aging."""
        return self._bounds[self._residual.episodes["type"][episodes], 0]

    def observed_rate(self, episodes: np.ndarray, t: float) -> np.ndarray:
        """All inbound calls per day over the trailing window."""
        return self._tracker.observed_rate(episodes, t)

    def features(self, episodes: np.ndarray, early: bool = False) -> pd.DataFrame:
        """The features known at each disconnect (and the first days' inbound calls)."""
        return features_frame(
            self._residual.episodes, episodes, self._tracker.column("early") if early else None
        )


class Releaser:
    """Decides, within the bounds, and schedules the release of every disconnected number.

    Parameters
    ----------
    env : simpy.Environment
        The world's clock.
    policy : ReleasePolicy
        When numbers go back to the pool.
    bounds : numpy.ndarray
        ``(line types, 2)`` legal [min, max] days of aging per line type.
    inventory, residual, tracker :
        The numbers, their episodes and their threshold status.
    counters : Counters
        The day's lifecycle events.
    background, release_rate : float
        Background spam rate and release threshold (calls/day), for the policy's view.
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        policy: ReleasePolicy,
        bounds: np.ndarray,
        inventory: Inventory,
        residual: ResidualTraffic,
        tracker: AgingTracker,
        counters: Counters,
        background: float,
        release_rate: float,
    ):
        self.env = env
        self.policy = policy
        self.bounds = bounds
        self.inventory = inventory
        self.residual = residual
        self.tracker = tracker
        self.counters = counters
        self._drawn = [Uniform(kind="uniform", low=lo, high=hi) for lo, hi in bounds]
        self._robocall_policy = Drawn()
        self.view = CarrierAgingView(residual, tracker, bounds, background, release_rate)
        self._today: list[int] = []  # episodes disconnected since the last day's end

    def disconnect(self, t: float, line: Departed, rng: np.random.Generator) -> None:
        """Put ``line``'s number into aging at ``t`` and arrange its release."""
        code, number = line.type, line.number_id
        lo, hi = self.bounds[code]
        policy = self._robocall_policy if code == ROBOCALLER else self.policy
        days = policy.at_disconnect(lo, hi, rng)
        if days is not None:
            days = float(np.clip(days, lo, hi))
        self.inventory.disconnect(t, np.array([number]), np.array([t + (days or lo) * DAY]))
        episode = self.residual.disconnected(t, line) if code != ROBOCALLER else None
        if episode is not None:
            self.tracker.started(episode)
            self._today.append(episode)
        self._schedule(t, days if days is not None else hi, number, episode)

    def aging_days(self, code: int) -> Uniform:
        """Uniform aging time within the bounds of line type ``code`` (days): the steady
        state of a warm-started world."""
        return self._drawn[code]

    def _schedule(self, t: float, days: float, number: int, episode: int | None) -> None:
        """Release ``number`` ``days`` after ``t`` (not before now)."""
        now = self.env.now
        delay = days * DAY if t == now else max(t + days * DAY - now, 0.0)
        self.env.timeout(delay).callbacks.append(lambda _event: self._release(number, episode))

    def schedule_warm(self, remaining_days: np.ndarray, numbers: np.ndarray) -> None:
        """Releases of numbers already aging when a warm-started run begins."""
        for days, number in zip(remaining_days.tolist(), numbers.tolist()):
            self._schedule(0.0, days, int(number), None)

    def _release(self, number: int, episode: int | None) -> None:
        inv = self.inventory
        if inv.state[number] != AGING:
            return  # released earlier by the policy
        if episode is not None and self.residual.episode_of[number] != episode:
            return  # a later episode of the number owns its aging
        t = self.env.now
        if 0 < inv.release_at[number] - t < 1e-6:  # the same instant, up to rounding
            t = float(inv.release_at[number])
        self.counters.releases += 1
        inv.release(t, number)
        if episode is not None:
            self.tracker.released(episode, self.env.now)

    def end_day(self, t: float) -> None:
        """Day's end: the decisions of a policy that decides after the disconnect."""
        today, self._today = self._today, []
        self.view.disconnected_today = np.array(today, dtype=np.int64)
        decided = self.policy.end_day(t, self.view)
        res = self.residual.episodes
        if len(decided.episodes):
            eps = decided.episodes
            bounds = self.bounds[res["type"][eps]]
            age = (t - res["t"][eps]) / DAY
            days = np.clip(
                np.nan_to_num(decided.days, nan=np.inf), np.maximum(bounds[:, 0], age), bounds[:, 1]
            )
            for ep, d in zip(eps.tolist(), days.tolist()):
                self._schedule(float(res["t"][ep]), d, int(res["number_id"][ep]), ep)
        for ep in decided.release.tolist():
            self._release(int(res["number_id"][ep]), ep)
