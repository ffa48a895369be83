"""Release policies: when a disconnected number returns to the available pool.

Every policy keeps each type within its ``aging_days`` bounds (by default the US rules:
45-90 days residential, up to 365 business); the inventory itself refuses a release before
the lower bound.  Policies that decide later (``quiet``, ``model``, ``online``) hold the
number at least to the lower bound and release it at the upper bound at the latest.

``drawn``
    A uniform time within the bounds, drawn at the disconnect.
``fixed_<days>``
    That many days, clipped to the bounds.
``quiet``
    The first day's end, from the lower bound on, when everything the carrier sees calling
    the number over the trailing window, less the background spam rate, is within the
    release threshold.
``model``
    The profile model's predicted days until the number is below the release threshold
    with probability ``aging.release.quantile``, from the features known at the
    disconnect.
``online``
    The same model, revised after ``online_days`` days from the number's own aging
    traffic.

Robocall lines have no episodes and always use ``drawn`` with ``robocallers.aging_days``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .distributions import Uniform
from .inventory import AGING
from .population import ROBOCALLER
from .residual import DAY

if TYPE_CHECKING:
    from .world import World

__all__ = ["Releaser"]


class Releaser:
    """Decides and schedules the release of every disconnected number.

    Parameters
    ----------
    world : World
    model : object, optional
        A fitted profile model with ``predict_days(X, q)`` (``model`` and ``online``
        policies; for ``online`` one that reads the ``early_*`` columns).
    """

    def __init__(self, world: "World", model=None):
        self.world = world
        cfg = world.config
        rel = cfg.aging.release
        self.policy = rel.policy
        self.quantile = rel.quantile
        self.online_days = rel.online_days
        self.threshold = rel.threshold * cfg.spam.calls_per_line_per_day
        self.background = cfg.spam.calls_per_line_per_day
        self.bounds = np.array([t.aging_days for t in cfg.subscribers.by_code()]
                               + [cfg.robocallers.aging_days])
        self._drawn = [Uniform(kind="uniform", low=lo, high=hi) for lo, hi in self.bounds]
        if self.policy in ("model", "online") and model is None:
            raise ValueError(f"release policy {self.policy!r} needs a fitted model")
        self.model = model
        self._today: list[int] = []  # episodes disconnected since the last day's end

    def disconnect(self, t: float, line: int, rng: np.random.Generator) -> None:
        """Put ``line``'s number into aging at ``t`` and arrange its release."""
        world = self.world
        code = int(world.population.subs["type"][line])
        number = int(world.population.subs["number_id"][line])
        lo, hi = self.bounds[code]
        if code == ROBOCALLER or self.policy == "drawn":
            days = float(self._drawn[code].sample(rng, 1)[0])
        elif self.policy.startswith("fixed_"):
            days = float(np.clip(float(self.policy[6:]), lo, hi))
        else:
            days = None
        world.inventory.disconnect(t, np.array([number]), np.array([t + (days or lo) * DAY]))
        episode = world.residual.disconnected(t, line) if code != ROBOCALLER else None
        if episode is not None:
            world.tracker.started(episode)
            self._today.append(episode)
        self._schedule(t, days if days is not None else hi, number, episode)

    def aging_days(self, code: int):
        """The ``drawn`` policy's aging time distribution of line type ``code`` (days)."""
        return self._drawn[code]

    def _schedule(self, t: float, days: float, number: int, episode: int | None) -> None:
        """Release ``number`` ``days`` after ``t`` (not before now)."""
        world = self.world
        delay = days * DAY if t == world.now else max(t + days * DAY - world.now, 0.0)
        world.timeout(delay).callbacks.append(lambda _event: self._release(number, episode))

    def schedule_warm(self, remaining_days: np.ndarray, numbers: np.ndarray) -> None:
        """Releases of numbers already aging when a warm-started run begins."""
        for days, number in zip(remaining_days.tolist(), numbers.tolist()):
            self._schedule(0.0, days, int(number), None)

    def _release(self, number: int, episode: int | None) -> None:
        world = self.world
        inv = world.inventory
        if inv.state[number] != AGING:
            return  # released earlier by the policy
        if episode is not None and world.residual.episode_of[number] != episode:
            return  # a later episode of the number owns its aging
        t = world.now
        if 0 < inv.release_at[number] - t < 1e-6:  # the same instant, up to rounding
            t = float(inv.release_at[number])
        world.counters["releases"] += 1
        inv.release(t, number)
        if episode is not None:
            world.tracker.released(episode, world.now)

    def end_day(self, t: float) -> None:
        """Day's end: decisions of the policies that decide after the disconnect."""
        today, self._today = self._today, []
        if self.policy == "model" and today:
            self._predict(t, np.array(today), early=False)
        elif self.policy == "online":
            eps = np.arange(len(self.world.residual.episodes))
            age = (t - self.world.residual.episodes["t"]) / DAY
            due = eps[(age >= self.online_days) & (age < self.online_days + 1)]
            due = due[self.world.tracker.aging(due)]
            if len(due):
                self._predict(t, due, early=True)
        elif self.policy == "quiet":
            self._quiet(t)

    def _bounds(self, episodes: np.ndarray) -> np.ndarray:
        return self.bounds[self.world.residual.episodes["type"][episodes]]

    def _predict(self, t: float, episodes: np.ndarray, early: bool) -> None:
        from .aging_data import features_frame

        res = self.world.residual
        frame = features_frame(res.episodes, episodes,
                               self.world.tracker.early if early else None)
        # released once the model gives probability `quantile` that the number has crossed
        days = np.asarray(self.model.predict_days(frame, q=1.0 - self.quantile), dtype=float)
        bounds = self._bounds(episodes)
        age = (t - res.episodes["t"][episodes]) / DAY
        days = np.clip(np.nan_to_num(days, nan=np.inf), np.maximum(bounds[:, 0], age),
                       bounds[:, 1])
        for ep, d in zip(episodes.tolist(), days.tolist()):
            self._schedule(float(res.episodes["t"][ep]), d, int(res.episodes["number_id"][ep]),
                           ep)

    def _quiet(self, t: float) -> None:
        res, tracker = self.world.residual, self.world.tracker
        eps = np.arange(len(res.episodes))
        if len(eps) == 0:
            return
        age = (t - res.episodes["t"]) / DAY
        eps = eps[(age >= self._bounds(eps)[:, 0]) & tracker.aging(eps)]
        quiet = tracker.observed_rate(eps, t) - self.background <= self.threshold
        for ep in eps[quiet].tolist():
            self._release(int(res.episodes["number_id"][ep]), ep)
