"""Choosing the kind of number to show per channel from observed calls (system 4).

US 2021/0136229 picks the physical characteristics of the numbers in a DNI pool (a local
area code matching the consumer, toll-free, vanity digits) per channel from what is
learned about consumers.  Here that is a contextual bandit: a *context* is a channel
(:data:`CHANNELS`, optionally with consumer features), an *arm* is a kind of number
(:data:`NUMBER_KINDS`), the reward of an impression is 1 if it leads to a call.  Calls come late
(days after the impression) and the simulator decides a batch of impressions per time
step, so every policy

* decides a batch at once: ``select_many(contexts, rng, features=None) -> arms``
  (``select(context, rng)`` for one impression);
* learns from sufficient statistics that are sums over observations
  (``update(contexts, arms, rewards, features=None)``), so feedback may arrive in any
  order and in any batches, long after the decisions: the state after a set of
  observations does not depend on how they were split or ordered (exactly, for 0/1
  rewards and features, since sums of small integers are exact in float64);
* says which pool it wants: ``target_shares(context)`` is the share of each kind it
  expects to show in that channel (what :class:`~models.dni.composition.PoolComposition`
  buys and releases numbers towards);
* gives its current per-kind estimate of the call probability,
  ``estimates(contexts, features=None)``, which ranks the fallback kinds when the pool
  has no free number of the chosen kind
  (:func:`~models.dni.composition.fallback_arms`).

Following scikit-learn's conventions (as ``models.burst`` does), ``__init__`` only stores
and checks parameters, ``reset(n_contexts, n_arms)`` allocates the learned state (names
ending in ``_``) and returns ``self``.

Policies: :class:`Uniform`, :class:`Fixed` (e.g. all-local), :class:`EpsilonGreedy`,
:class:`UCB1` (and UCB1-Tuned), :class:`ThompsonSampling` (Beta--Bernoulli per
context x arm), :class:`LinUCB` (disjoint ridge models per arm over the channel one-hot
plus consumer features) and :class:`Oracle` (knows the true call probabilities).
Judging: :func:`simulate_bernoulli` plays a policy against a known response,
:func:`cumulative_regret`, :func:`regret_exponent` and :func:`regret_growth_ratio` say
how far from the oracle it is and whether its regret grows sublinearly.
:func:`reference_response` is a response sized like ``shared/REFERENCE.md``.
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
