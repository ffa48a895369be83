"""Call-tracking pools (systems 3 and 4: US 2021/0203773, US 2021/0136229).

Composition optimizers that choose which kinds of number a DNI pool shows per channel
(:mod:`models.dni.bandits`) and the planner that turns their wishes into purchases and
releases (:mod:`models.dni.composition`).
"""

from .bandits import (ARMS, CHANNELS, UCB1, EpsilonGreedy, Fixed, LinUCB, Oracle, Policy,
                      ThompsonSampling, Uniform, cumulative_regret, regret_exponent,
                      regret_growth_ratio)
from .composition import PoolComposition, fallback_arms, target_counts

__all__ = [
    "ARMS",
    "CHANNELS",
    "EpsilonGreedy",
    "Fixed",
    "LinUCB",
    "Oracle",
    "Policy",
    "PoolComposition",
    "ThompsonSampling",
    "UCB1",
    "Uniform",
    "cumulative_regret",
    "fallback_arms",
    "regret_exponent",
    "regret_growth_ratio",
    "target_counts",
]
