"""Choosing the kind of number to show per channel from observed calls (system 4).

A contextual bandit for US 2021/0136229: a *context* is a channel (``CHANNELS``, optionally
with consumer features), an *arm* is a kind of number (``NUMBER_KINDS``), the reward of an
impression is 1 if it leads to a call.  Every policy (:class:`Policy`) decides a batch at
once (``select_many``), learns from order-free sums of late feedback (``update``), says
which pool it wants (``target_shares``) and its per-kind call probabilities
(``estimates``); ``reset(n_contexts, n_arms)`` allocates the learned state.

Modules: :mod:`.base` (the interface, :data:`OPTIMIZERS`), :mod:`.policies`
(:class:`Uniform`, :class:`Fixed`, :class:`EpsilonGreedy`, :class:`UCB1`,
:class:`ThompsonSampling`), :mod:`.linucb` (:class:`LinUCB`), :mod:`.oracle`
(:class:`Oracle`), :mod:`.kernels` (:func:`ucb_fill`, :func:`linucb_fill`) and
:mod:`.play` (:func:`reference_response`, :func:`simulate_bernoulli` and the regret
helpers).  Every public name is importable from here.  The design, the policies and the
figures the reference response is sized on are in ``docs/dni.md`` ("Composition
optimizers").
"""

from .base import OPTIMIZERS, CompositionContext, Policy, arm_index, channel_index
from .kernels import linucb_fill, ucb_fill

# Import order is registration order (OPTIMIZERS.names()): uniform, all_local,
# epsilon_greedy, ucb1, thompson (policies), linucb, oracle.  Keep it.
# isort: off
from .policies import UCB1, EpsilonGreedy, Fixed, ThompsonSampling, Uniform
from .linucb import LinUCB
from .oracle import Oracle

# isort: on
from .play import (
    Play,
    cumulative_regret,
    reference_response,
    regret_exponent,
    regret_growth_ratio,
    simulate_bernoulli,
)

__all__ = [
    "CompositionContext",
    "OPTIMIZERS",
    "EpsilonGreedy",
    "Fixed",
    "LinUCB",
    "Oracle",
    "Play",
    "Policy",
    "ThompsonSampling",
    "UCB1",
    "Uniform",
    "arm_index",
    "channel_index",
    "cumulative_regret",
    "linucb_fill",
    "reference_response",
    "regret_exponent",
    "regret_growth_ratio",
    "simulate_bernoulli",
    "ucb_fill",
]
