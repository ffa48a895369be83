"""Pool-sizing and composition policies of the DNI market, built from the config.

The policies themselves live in ``models.dni``; this module gives them what they need from
the world (the config's loads, the hidden response model for the oracle) and turns their
wishes into pool changes: numbers are bought and released, at most ``dni.max_changes`` per
rebalancing, never while leased.
"""

from __future__ import annotations

import numpy as np

from models.dni import bandits
from models.dni.composition import PoolComposition, fallback_arms

from .config import NUMBER_KINDS, Dni

__all__ = ["dni_policies", "Composer", "offered_loads"]


def offered_loads(cfg: Dni) -> np.ndarray:
    """Offered load of the pool in each hour of the day (erlangs): sessions per second of
    all channels times the mean lease (session plus hold)."""
    lease = (cfg.session_minutes.mean + cfg.hold_minutes) * 60.0
    per_hour = np.zeros(24)
    for ch in cfg.channels.by_code():
        w = np.asarray(ch.diurnal, dtype=float)
        per_hour += ch.sessions_per_day / 86400.0 * w / w.mean()
    return per_hour * lease


def _optimizer(cfg: Dni) -> bandits.Policy | None:
    name = cfg.optimizer
    if name == "none":
        return None
    if name == "oracle":
        truth = np.array([[ch.call_prob * ch.response[k] for k in NUMBER_KINDS]
                          for ch in cfg.channels.by_code()])
        return bandits.Oracle(np.minimum(truth, 1.0))
    return {"uniform": lambda: bandits.Uniform(),
            "all_local": lambda: bandits.Fixed("local"),
            "epsilon_greedy": lambda: bandits.EpsilonGreedy(cfg.epsilon),
            "ucb1": lambda: bandits.UCB1(),
            "thompson": lambda: bandits.ThompsonSampling(),
            "linucb": lambda: bandits.LinUCB(cfg.ucb_alpha)}[name]()


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
        volume = np.array([ch.sessions_per_day for ch in cfg.channels.by_code()])
        self.weights = volume / volume.sum()
        # keep a few numbers of every kind, so that exploring a kind stays possible
        self.planner = PoolComposition(max_buy=cfg.max_changes,
                                       min_count=max(1, cfg.pool_size // 50))

    def choose(self, market, channel: np.ndarray, area: np.ndarray) -> np.ndarray:
        """The kind of number each impression shows: the policy's choice if the pool has
        one free, else the free kind it rates best (else its choice, which overflows)."""
        channel = channel.astype(np.int64)
        chosen = self.policy.select_many(channel, market.rng)
        free = market.free_by_kind()[None, :].copy()
        got = fallback_arms(np.zeros(len(channel), dtype=np.int64), chosen,
                            self.policy.estimates(channel), free)
        return np.where(got >= 0, got, chosen)

    def learn(self, channel: np.ndarray, kind: np.ndarray, called: np.ndarray) -> None:
        """Feedback on impressions whose conversion window closed."""
        self.policy.update(channel.astype(np.int64), kind.astype(np.int64),
                           called.astype(np.float64))

    def _intended(self, channel: int, rng, n: int = 400) -> np.ndarray:
        """Shares of the kinds the policy would show now on a channel, unconstrained."""
        picks = self.policy.select_many(np.full(n, channel, dtype=np.int64), rng)
        return np.bincount(picks, minlength=len(NUMBER_KINDS)) / n

    def rebalance(self, market) -> None:
        """Move the pool toward the policy's wanted composition (volume-weighted over
        channels), buying and releasing at most ``max_changes`` numbers each, never a
        leased one."""
        shares = sum(w * self._intended(c, market.rng) for c, w in enumerate(self.weights))
        have = np.array([market.kind_size(k) for k in range(len(NUMBER_KINDS))])
        free = np.minimum(market.free_by_kind(), have)
        buy, release = self.planner.plan(have, free, shares / shares.sum(), self.cfg.pool_size)
        for k in range(len(NUMBER_KINDS)):
            if buy[k]:
                market.buy(k, int(buy[k]))
            if release[k]:
                market.release(k, int(release[k]))


def _sizer(cfg: Dni):
    """The sizing policy of ``dni.sizer`` with the loads it plans from (None: fixed)."""
    if cfg.sizer == "fixed":
        return None
    from models.dni import sizing

    loads = offered_loads(cfg)
    lease_minutes = cfg.session_minutes.mean + cfg.hold_minutes
    sessions_per_hour = loads / (lease_minutes * 60.0) * 3600.0
    visitors = sum(ch.sessions_per_day for ch in cfg.channels.by_code())
    cap = 4 * max(cfg.pool_size, int(loads.max() * 1.5))
    make = {
        "one_per_twenty": lambda: sizing.OnePerTwentyVisitors(visitors),
        "peak_session": lambda: sizing.PeakTimesSession(sessions_per_hour.max(), lease_minutes),
        "utilisation": lambda: sizing.UtilisationTrigger(0.75, max(1, cfg.pool_size // 20),
                                                         1, cap),
        "static_erlang": lambda: sizing.StaticErlang(loads.max(), cfg.target_blocking),
        # numbers leased in the hour before are still busy early in the hour (a lease lasts
        # about half an hour): plan each hour for the larger of its load and the last one's
        "time_varying_erlang": lambda: sizing.TimeVaryingErlang(
            np.maximum(loads, np.roll(loads, 1)), cfg.target_blocking,
            lead_seconds=cfg.step_seconds),
        # a large pool runs hot at low blocking: grow above 90% busy, shrink below 80%
        "autoscaler": lambda: sizing.Autoscaler(cfg.autoscale_growth, 300.0, cap, 1, 0.9,
                                                0.8),
    }[cfg.sizer]
    sizer = make()
    sizer.reset(cfg.pool_size)
    return sizer


def dni_policies(cfg: Dni) -> tuple[object | None, object | None]:
    """The sizer and the composition optimizer a ``[dni]`` section asks for (None: none)."""
    policy = _optimizer(cfg)
    return _sizer(cfg), (Composer(policy, cfg) if policy is not None else None)
