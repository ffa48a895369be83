"""Residual traffic: the calls a disconnected number keeps receiving for its previous owner.

At each disconnect of a subscriber's number an *episode* begins.  The owner's circle of
outside callers is drawn -- its size and total rate grow with tenure and scale with the
owner's rate multiplier -- and every caller stops at its own Lomax time (an exponential
stop rate, gamma-distributed across callers), so the expected total decays as
``lam0 * (1 + t / beta) ** -alpha``.  Some owners also leave a persistent caller
(collectors, login codes).  All of an episode's calls up to the horizon are drawn at once
and queued by slice; they keep coming after the number is released and reassigned.

What the carrier knows at the disconnect -- the features of a profile model -- is drawn as
its call records of the owner's last 90 days would show them: per caller a Poisson count
of calls at that caller's rate, plus the number's own background spam.  That is the same in
distribution as recording every inbound call of every active line, without generating
them (they would double the traffic of a run and serve nothing else).
"""

from __future__ import annotations

import numpy as np

from models.common import DAY

from ..config.aging import ResidualType
from ..config.world import SubscriberType
from ..core.columns import GrowingColumns
from ..core.numbering import random_external_numbers
from .inventory import Inventory
from .population import Departed

__all__ = ["ResidualTraffic", "FEATURE_WINDOW_DAYS"]

FEATURE_WINDOW_DAYS = 90.0
"""The trailing window of the owner's tenure that inbound features summarise."""
CALLER_SHARE_SHAPE = 4.0
"""Gamma shape of the callers' shares of an owner's inbound rate (CV 0.5)."""

EPISODE_COLUMNS = {
    "number_id": "int32",
    "line": "int32",
    "type": "int8",
    "t": "float64",
    "tenure_days": "float64",
    "inbound_90d": "float64",
    "unique_callers_90d": "float64",
    "robocall_share": "float64",
    "earlier_reassignments": "int32",
    "lam0": "float64",
    "alpha": "float64",
    "beta_days": "float64",
    "persistent_per_day": "float64",
    "persistent_days": "float64",
    "spam_per_day": "float64",
}


class ResidualTraffic:
    """Episodes of residual traffic and the queue of their calls.

    Attributes
    ----------
    episodes : GrowingColumns
        One row per disconnect of a subscriber's number: ``number_id, line, type, t``, the
        features known at the disconnect (``tenure_days, inbound_90d, unique_callers_90d,
        robocall_share, earlier_reassignments``) and the hidden truth the oracle may use
        (``lam0`` calls/day at the disconnect, ``alpha``, ``beta_days``,
        ``persistent_per_day``, ``persistent_days``, and ``spam_per_day``, the number's own
        mean background spam rate).
    episode_of : numpy.ndarray of int32
        Latest episode of each number id, -1 if none.

    Parameters
    ----------
    specs : list of ResidualType
        Residual traffic per subscriber type, in code order.
    types : list of SubscriberType
        The subscriber types (tenure distributions), in code order.
    background : float
        Mean background spam rate (calls/day).
    spam_multiplier : numpy.ndarray
        Each number's spam rate relative to the mean.
    inventory : Inventory
        The numbers (their count and earlier disconnects).
    slice_seconds, horizon : float
        The traffic slice and the end of the run (s).
    rng : numpy.random.Generator
        The ``residual`` stream.
    """

    def __init__(
        self,
        *,
        specs: list[ResidualType],
        types: list[SubscriberType],
        background: float,
        spam_multiplier: np.ndarray,
        inventory: Inventory,
        slice_seconds: float,
        horizon: float,
        rng: np.random.Generator,
    ):
        self.specs = specs
        self.types = types
        self.rng = rng
        self.background = background
        self.spam_multiplier = spam_multiplier
        self.inventory = inventory
        self.slice = float(slice_seconds)
        self.horizon = horizon
        self.episodes = GrowingColumns(EPISODE_COLUMNS, 1024)
        self.episode_of = np.full(len(inventory), -1, dtype=np.int32)
        self._queue: dict[int, list[tuple[np.ndarray, np.ndarray, int]]] = {}
        self._ages: dict[int, list[float]] = {}

    def disconnected(self, t: float, line: Departed) -> int:
        """Start the episode of ``line``'s number, disconnected at ``t``; returns its id."""
        rng = self.rng
        code = line.type
        spec = self.specs[code]
        number = line.number_id
        tenure = (t - line.start) / DAY
        if line.initial:  # in service before the run began: add its age at time 0
            tenure += self._initial_age(code)
        grown = 1.0 - np.exp(-tenure / spec.tenure_scale_days)
        lam0 = spec.inbound_per_day * line.mult * grown
        k = 1 + int(rng.poisson((spec.circle - 1.0) * grown))
        weights = rng.gamma(CALLER_SHARE_SHAPE, 1.0, k)
        rates = lam0 * weights / weights.sum()
        stops = spec.stop_beta_days * (rng.random(k) ** (-1.0 / spec.stop_alpha) - 1.0)
        persistent = rng.random() < spec.persistent_share
        p_rate = spec.persistent_per_day * rng.gamma(2.0, 0.5) if persistent else 0.0
        p_days = rng.exponential(spec.persistent_days) if persistent else 0.0
        # what the call records of the owner's last 90 days show
        window = min(FEATURE_WINDOW_DAYS, tenure)
        seen = rng.poisson(rates * window)
        seen_persistent = rng.poisson(p_rate * window)
        spam_rate = self.background * float(self.spam_multiplier[number])
        spam = rng.poisson(spam_rate * window)
        inbound = seen.sum() + seen_persistent + spam
        episode = int(
            self.episodes.extend(
                number_id=number,
                line=line.line,
                type=code,
                t=t,
                tenure_days=tenure,
                inbound_90d=inbound,
                unique_callers_90d=np.count_nonzero(seen) + (seen_persistent > 0) + spam,
                robocall_share=spam / inbound if inbound else 0.0,
                earlier_reassignments=self.inventory.disconnects[number] - 1,
                lam0=lam0,
                alpha=spec.stop_alpha,
                beta_days=spec.stop_beta_days,
                persistent_per_day=p_rate,
                persistent_days=p_days,
                spam_per_day=spam_rate,
            )[0]
        )
        self.episode_of[number] = episode
        self._queue_calls(t, number, np.append(rates, p_rate), np.append(stops, p_days))
        return episode

    def _initial_age(self, code: int) -> float:
        """Age at time 0 of a line of the starting population: in steady state it follows
        the equilibrium residual of the tenure (drawn in batches: each draw builds a grid)."""
        ages = self._ages.get(code)
        if ages is None or len(ages) == 0:
            tenure = self.types[code].tenure
            ages = list(tenure.sample_residual(self.rng, 1024))
            self._ages[code] = ages
        return float(ages.pop())

    def _queue_calls(self, t: float, number: int, rates: np.ndarray, stops: np.ndarray) -> None:
        """Draw every call of the callers up to the horizon and queue them by slice."""
        rng = self.rng
        span = np.minimum(stops, (self.horizon - t) / DAY)
        counts = rng.poisson(rates * np.maximum(span, 0.0))
        total = int(counts.sum())
        callers = random_external_numbers(rng, len(rates))
        if total == 0:
            return
        times = t + np.repeat(span, counts) * rng.random(total) * DAY
        caller = np.repeat(callers, counts)
        slices = (times // self.slice).astype(np.int64)
        order = np.argsort(slices, kind="stable")
        times, caller, slices = times[order], caller[order], slices[order]
        # the calls of each slice, as views (a year of episodes queues ~10^5 of them)
        bounds = [0, *(np.flatnonzero(np.diff(slices)) + 1).tolist(), total]
        queue = self._queue
        for s, a, b in zip(slices[bounds[:-1]].tolist(), bounds, bounds[1:]):
            queue.setdefault(s, []).append((times[a:b], caller[a:b], number))

    def take(self, t0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The queued calls of the slice starting at ``t0``: times, number ids, callers."""
        parts = self._queue.pop(int(t0 // self.slice), [])
        if not parts:
            return np.empty(0), np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
        times, callers, numbers = zip(*parts)
        ids = np.repeat(np.array(numbers, dtype=np.int32), [len(t) for t in times])
        return np.concatenate(times), ids, np.concatenate(callers)
