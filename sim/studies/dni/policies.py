"""The composition optimizer inside the DNI market.

The optimizers themselves live in ``models.dni`` (:data:`models.dni.OPTIMIZERS`); the
:class:`Composer` gives one what it needs from the market and turns its wishes into pool
changes: numbers are bought and released, at most ``dni.max_changes`` per rebalancing,
never while leased.  The optimizer draws only from the market's ``optimizer`` stream, so it
never shifts the impressions another optimizer would face (common random numbers), and it
weighs the channels by the impressions it has seen, not by the configured volumes.
"""

from __future__ import annotations

import numpy as np

from models.common import NUMBER_KINDS
from models.dni import bandits
from models.dni.composition import PoolComposition, fallback_arms

from ...config.dni import Dni

__all__ = ["Composer"]


class Composer:
    """A composition optimizer inside the market: decisions, feedback, rebalancing.

    Parameters
    ----------
    policy : models.dni.bandits.Policy
    cfg : Dni
    """

    def __init__(self, policy: bandits.Policy, cfg: Dni):
        self.policy = policy.reset(len(cfg.channels.by_code()), len(NUMBER_KINDS))
        self.cfg = cfg
        self.seen = np.zeros(len(cfg.channels.by_code()))  # impressions per channel so far
        # keep a few numbers of every kind, so that exploring a kind stays possible
        self.planner = PoolComposition(
            max_buy=cfg.max_changes, min_count=max(1, cfg.pool_size // 50)
        )

    def choose(self, market, channel: np.ndarray, area: np.ndarray) -> np.ndarray:
        """The kind of number each impression shows: the policy's choice if the pool has
        one free, else the free kind it rates best (else its choice, which overflows)."""
        channel = channel.astype(np.int64)
        self.seen += np.bincount(channel, minlength=len(self.seen))
        chosen = self.policy.select_many(channel, market.rng_optimizer)
        free = market.free_by_kind()[None, :].copy()
        got = fallback_arms(
            np.zeros(len(channel), dtype=np.int64), chosen, self.policy.estimates(channel), free
        )
        return np.where(got >= 0, got, chosen)

    def learn(self, channel: np.ndarray, kind: np.ndarray, called: np.ndarray) -> None:
        """Feedback on impressions whose conversion window closed."""
        self.policy.update(
            channel.astype(np.int64), kind.astype(np.int64), called.astype(np.float64)
        )

    def _intended(self, channel: int, rng, n: int = 400) -> np.ndarray:
        """Shares of the kinds the policy would show now on a channel, unconstrained."""
        picks = self.policy.select_many(np.full(n, channel, dtype=np.int64), rng)
        return np.bincount(picks, minlength=len(NUMBER_KINDS)) / n

    def rebalance(self, market) -> None:
        """Move the pool toward the policy's wanted composition (weighted over channels by
        the impressions seen so far; equally before any), buying and releasing at most
        ``max_changes`` numbers each, never a leased one."""
        total = self.seen.sum()
        weights = self.seen / total if total else np.full(len(self.seen), 1 / len(self.seen))
        shares = sum(
            w * self._intended(c, market.rng_optimizer) for c, w in enumerate(weights) if w > 0
        )
        have = np.array([market.kind_size(k) for k in range(len(NUMBER_KINDS))])
        free = np.minimum(market.free_by_kind(), have)
        buy, release = self.planner.plan(have, free, shares / shares.sum(), self.cfg.pool_size)
        for k in range(len(NUMBER_KINDS)):
            if buy[k]:
                market.buy(k, int(buy[k]))
            if release[k]:
                market.release(k, int(release[k]))
