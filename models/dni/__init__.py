"""Call-tracking pools (systems 3 and 4: US 2021/0203773, US 2021/0136229).

Composition optimizers that choose which kinds of number a DNI pool shows per channel
(:mod:`models.dni.bandits`) and the planner that turns their wishes into purchases and
releases (:mod:`models.dni.composition`); Erlang B, its continuous form and inverses
(:mod:`models.dni.erlang`) and the pool sizing baselines (:mod:`models.dni.sizing`).
"""

from .bandits import (
    OPTIMIZERS,
    UCB1,
    CompositionContext,
    EpsilonGreedy,
    Fixed,
    LinUCB,
    Oracle,
    Policy,
    ThompsonSampling,
    Uniform,
    cumulative_regret,
    regret_exponent,
    regret_growth_ratio,
)
from .composition import PoolComposition, fallback_arms, target_counts
from .erlang import erlang_b, erlang_b_continuous, load_for_blocking, servers_for_blocking
from .sizing import (
    SIZERS,
    Autoscaler,
    OnePerTwentyVisitors,
    PeakTimesSession,
    PoolSizer,
    SizingContext,
    StaticErlang,
    TimeVaryingErlang,
    UtilisationTrigger,
    number_days,
)

__all__ = [
    "Autoscaler",
    "CompositionContext",
    "EpsilonGreedy",
    "Fixed",
    "LinUCB",
    "OnePerTwentyVisitors",
    "OPTIMIZERS",
    "Oracle",
    "PeakTimesSession",
    "Policy",
    "PoolComposition",
    "PoolSizer",
    "SIZERS",
    "SizingContext",
    "StaticErlang",
    "ThompsonSampling",
    "TimeVaryingErlang",
    "UCB1",
    "Uniform",
    "UtilisationTrigger",
    "cumulative_regret",
    "erlang_b",
    "erlang_b_continuous",
    "fallback_arms",
    "load_for_blocking",
    "number_days",
    "regret_exponent",
    "regret_growth_ratio",
    "servers_for_blocking",
    "target_counts",
]
