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

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from ..common import CHANNELS, NUMBER_KINDS
from ..registry import Registry

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

# The arms are models.common.NUMBER_KINDS in this order: the consumer's own area code,
# another geographic area code, toll-free 800, other toll-free prefixes (888/877/866...),
# toll-free with memorable (vanity) digits.  The contexts are models.common.CHANNELS
# (``print`` stands for print and broadcast, where the number is read or heard).


def _index(value, names: tuple[str, ...], what: str) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= int(value) < len(names):
            return int(value)
        raise ValueError(f"{what} index must be in [0, {len(names)}), got {value!r}")
    if isinstance(value, str) and value in names:
        return names.index(value)
    raise ValueError(f"unknown {what} {value!r}; expected one of {names} or an index")


def arm_index(arm) -> int:
    """Index of a kind of number given by name (one of :data:`NUMBER_KINDS`) or index.

    Raises
    ------
    ValueError
        Naming ``arm`` if it is not a known name or an index into :data:`NUMBER_KINDS`.
    """
    return _index(arm, NUMBER_KINDS, "arm")


def channel_index(channel) -> int:
    """Index of a channel given by name (one of :data:`CHANNELS`) or index.

    Raises
    ------
    ValueError
        Naming ``channel`` if it is not a known name or an index into :data:`CHANNELS`.
    """
    return _index(channel, CHANNELS, "channel")


def reference_response(base=(0.012, 0.009, 0.008, 0.003), local_vs_800=2.2,
                       tf800_vs_other=1.4, non_local_vs_other=1.5, vanity_visual=1.15,
                       vanity_audio=11.0) -> np.ndarray:
    """Call probability per impression, ``(len(CHANNELS), len(NUMBER_KINDS))``, sized like REFERENCE.

    A plausible hidden response for tests and examples, built from the figures in
    ``shared/REFERENCE.md`` (the simulator may draw its own):

    * ``tollfree_other`` calls with probability ``base[channel]``;
    * ``tollfree_800`` converts ``tf800_vs_other`` times as well (800 converted 20--60%
      better than 888/877/866);
    * ``local`` draws ``local_vs_800`` times the calls of 800 (local-number ads drew more
      than twice the calls of toll-free);
    * ``non_local`` is a geographic number of another area: ``non_local_vs_other`` times
      ``tollfree_other`` (no published figure; between toll-free and local);
    * ``vanity`` is a toll-free 800 number with memorable digits: ``vanity_visual`` times
      800 where the number is clicked (search, social, display: recall helps little) and
      ``vanity_audio`` times 800 on ``print`` (about 9--14 times the calls in audio ads).

    Parameters
    ----------
    base : sequence of float
        ``tollfree_other`` call probability per channel, in :data:`CHANNELS` order.
    local_vs_800, tf800_vs_other, non_local_vs_other, vanity_visual, vanity_audio : float
        Multiplicative effects, all > 0.

    Returns
    -------
    numpy.ndarray of float64
        Probabilities in [0, 1]; the best kind is ``local`` on search, social and display
        (3.7%, 2.8%, 2.5% with the defaults) and ``vanity`` on print (4.6%).
    """
    base = np.asarray(base, dtype=np.float64)
    if base.shape != (len(CHANNELS),) or np.any(~(base > 0)):
        raise ValueError(f"base must hold {len(CHANNELS)} probabilities > 0")
    for name, v in (("local_vs_800", local_vs_800), ("tf800_vs_other", tf800_vs_other),
                    ("non_local_vs_other", non_local_vs_other),
                    ("vanity_visual", vanity_visual), ("vanity_audio", vanity_audio)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    other = base
    tf800 = tf800_vs_other * other
    vanity = vanity_visual * tf800
    vanity[channel_index("print")] = vanity_audio * tf800[channel_index("print")]
    p = np.column_stack([local_vs_800 * tf800, non_local_vs_other * other, tf800, other,
                         vanity])
    if np.any(p > 1):
        raise ValueError("the effects make a call probability exceed 1")
    return p


# -- input checks -----------------------------------------------------------------------------
def _check_fraction(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _check_nonneg(value, name: str, allow_zero: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and (v >= 0 if allow_zero else v > 0)):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, "
                         f"got {value!r}")
    return v


def _check_index_array(x, n: int, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of indices")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a))):
            raise ValueError(f"{name} must hold integers")
    a = a.astype(np.int64, copy=False)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"{name} must be in [0, {n}), got values in [{a.min()}, {a.max()}]")
    return a


def _argmax_random(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of ``scores`` (``(B, K)``), ties (``inf`` ones too) broken at random."""
    top = scores.max(axis=1, keepdims=True)
    tie = scores == top
    if np.all(tie.sum(axis=1) == 1):
        return np.argmax(tie, axis=1)
    return np.argmax(tie * (rng.random(scores.shape) + 1.0), axis=1)


# -- batch kernels ----------------------------------------------------------------------------
def _ucb_fill(contexts, wins, pulls, c_explore, tuned):
    """Decide a batch with UCB1, one impression after the other, counting the impressions
    already given to each arm in this batch as pulls whose outcome is not known yet
    ("hallucinated" pulls: the means stay, the counts ``n`` and ``N`` grow, so the
    bonuses shrink; Desautels, Krause and Burdick 2014).

    With ``n`` observed plus hallucinated pulls of the arm, ``N`` of the context and
    ``m = wins / observed pulls`` (0 if none), the index is ``m + c_explore
    sqrt(ln N / n)`` (UCB1) or ``m + sqrt(ln N / n min(1/4, m (1 - m) + sqrt(2 ln N / n)))``
    (UCB1-Tuned), ``inf`` while ``n = 0``, and ``ln N`` is taken as 0 while ``N < 1``.  The
    highest index wins, the lowest arm of exact ties.  The first impression of a context
    in a batch therefore sees exactly the indices of :meth:`UCB1._scores`.

    Parameters
    ----------
    contexts : numpy.ndarray of int64, shape (B,)
    wins, pulls : numpy.ndarray of float64, shape (n_contexts, n_arms)
        Observed sums of rewards and observations.
    c_explore : float
    tuned : bool

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
    """
    n_contexts, n_arms = pulls.shape
    extra = np.zeros(pulls.shape)
    total = np.zeros(n_contexts)
    for c in range(n_contexts):
        for a in range(n_arms):
            total[c] += pulls[c, a]
    out = np.empty(len(contexts), dtype=np.int64)
    for i in range(len(contexts)):
        c = contexts[i]
        log_n = math.log(total[c]) if total[c] > 1.0 else 0.0
        best = -np.inf
        arg = 0
        for a in range(n_arms):
            n = pulls[c, a] + extra[c, a]
            if n <= 0.0:
                v = np.inf
            else:
                m = wins[c, a] / pulls[c, a] if pulls[c, a] > 0.0 else 0.0
                if tuned:
                    var = m * (1.0 - m) + math.sqrt(2.0 * log_n / n)
                    v = m + math.sqrt(log_n / n * min(0.25, var))
                else:
                    v = m + c_explore * math.sqrt(log_n / n)
            if v > best:
                best = v
                arg = a
        out[i] = arg
        extra[c, arg] += 1.0
        total[c] += 1.0
    return out


ucb_fill = njit(cache=True, nogil=True)(_ucb_fill)


def _linucb_fill(x, theta, ainv, alpha):
    """LinUCB's decisions for a batch with hallucinated pulls (GP-BUCB's rule for a
    linear model): after impression ``i`` goes to arm ``a``, ``A_a^-1`` is updated for
    ``x_i`` by Sherman--Morrison (the mean ``theta`` is not), so the next impressions
    see a narrower bonus on ``a``.

    Parameters
    ----------
    x : numpy.ndarray of float64, shape (B, d)
        Design vectors.
    theta : numpy.ndarray of float64, shape (n_arms, d)
        Ridge coefficients.
    ainv : numpy.ndarray of float64, shape (n_arms, d, d)
        Inverses of ``A_a``; **overwritten** with the hallucinated ones.
    alpha : float
        Bonus width.

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
        The arm with the highest ``x' theta_a + alpha sqrt(x' A_a^-1 x)`` (lowest of ties).
    """
    n, d = x.shape
    n_arms = theta.shape[0]
    out = np.empty(n, dtype=np.int64)
    u = np.empty(d)
    for i in range(n):
        best = -np.inf
        arg = 0
        for a in range(n_arms):
            m = 0.0
            q = 0.0
            for j in range(d):
                m += x[i, j] * theta[a, j]
                s = 0.0
                for k in range(d):
                    s += ainv[a, j, k] * x[i, k]
                q += x[i, j] * s
            v = m + alpha * math.sqrt(max(q, 0.0))
            if v > best:
                best = v
                arg = a
        out[i] = arg
        q = 0.0
        for j in range(d):
            s = 0.0
            for k in range(d):
                s += ainv[arg, j, k] * x[i, k]
            u[j] = s
            q += x[i, j] * s
        q = 1.0 + q
        for j in range(d):
            for k in range(d):
                ainv[arg, j, k] -= u[j] * u[k] / q
    return out


linucb_fill = njit(cache=True, nogil=True)(_linucb_fill)


# -- policies -------------------------------------------------------------------------------
class CompositionContext(NamedTuple):
    """What a composition optimizer is built from.

    Attributes
    ----------
    truth : numpy.ndarray
        The world's true call probability per (channel, kind of number); only the oracle
        may read it.
    """

    truth: np.ndarray


class Policy:
    """Base class of the policies: batched decisions, order-free batched feedback.

    Every policy counts, per context x arm, the observations it was given (``pulls_``) and
    the sum of their rewards (``wins_``); subclasses add their own statistics in
    ``_allocate`` / ``_learn`` and decide in ``_scores`` (the arm with the highest score
    wins, ties at random) or by overriding ``select_many``.

    Attributes
    ----------
    n_contexts_, n_arms_ : int
        Sizes given to :meth:`reset`.
    pulls_ : numpy.ndarray of float64, shape (n_contexts, n_arms)
        Observations received per context and arm.
    wins_ : numpy.ndarray of float64, shape (n_contexts, n_arms)
        Sum of their rewards (calls).
    """

    n_features: int = 0
    """Consumer features the policy uses (0: it ignores ``features``)."""

    @classmethod
    def from_context(cls, ctx: CompositionContext, **params) -> "Policy":
        """The policy with its parameters (its table in the config); ``ctx`` is for
        policies that need to know the world (the oracle)."""
        return cls(**params)

    def reset(self, n_contexts: int = len(CHANNELS), n_arms: int = len(NUMBER_KINDS)) -> "Policy":
        """Forget everything learned; allocate state for ``n_contexts`` x ``n_arms``.

        Returns
        -------
        Policy
            ``self``.
        """
        if int(n_contexts) != n_contexts or n_contexts < 1:
            raise ValueError(f"n_contexts must be an integer >= 1, got {n_contexts!r}")
        if int(n_arms) != n_arms or n_arms < 1:
            raise ValueError(f"n_arms must be an integer >= 1, got {n_arms!r}")
        self.n_contexts_, self.n_arms_ = int(n_contexts), int(n_arms)
        self.pulls_ = np.zeros((self.n_contexts_, self.n_arms_))
        self.wins_ = np.zeros((self.n_contexts_, self.n_arms_))
        self._allocate()
        return self

    # -- the interface ------------------------------------------------------------------------
    def select(self, context, rng: np.random.Generator, features=None) -> int:
        """The kind of number to show for one impression in ``context`` (a channel index
        or name), as :meth:`select_many` for a batch of one."""
        if isinstance(context, str):
            context = channel_index(context)
        f = None if features is None else np.asarray(features, dtype=np.float64)[None, :]
        return int(self.select_many(np.array([context]), rng, f)[0])

    def select_many(self, contexts, rng: np.random.Generator, features=None) -> np.ndarray:
        """The kind of number to show for each impression of a batch.

        Parameters
        ----------
        contexts : array_like of int, shape (B,)
            Channel index of each impression.
        rng : numpy.random.Generator
            Source of the policy's randomness (exploration, tie breaks, posterior draws).
        features : array_like of float, shape (B, n_features), optional
            Consumer features; used by contextual policies, ignored by the others.

        Returns
        -------
        numpy.ndarray of int64, shape (B,)
            Arm index of each impression.
        """
        contexts, features = self._check_batch(contexts, features)
        if len(contexts) == 0:
            return np.zeros(0, dtype=np.int64)
        return _argmax_random(self._scores(contexts, features, rng), rng).astype(np.int64)

    def update(self, contexts, arms, rewards, features=None) -> "Policy":
        """Learn from observed outcomes, in any batches and any order, as late as they come.

        Parameters
        ----------
        contexts, arms : array_like of int, shape (B,)
            Channel and kind of number of each observed impression.
        rewards : array_like of float, shape (B,)
            1 if the impression led to a call, else 0 (values in [0, 1] are accepted).
        features : array_like of float, shape (B, n_features), optional
            The consumer features the decision was made with (contextual policies).

        Returns
        -------
        Policy
            ``self``.
        """
        contexts, features = self._check_batch(contexts, features)
        arms = _check_index_array(arms, self.n_arms_, "arms")
        rewards = np.asarray(rewards, dtype=np.float64)
        if arms.shape != contexts.shape or rewards.shape != contexts.shape:
            raise ValueError("contexts, arms and rewards must have the same length")
        if rewards.size and not (np.all(rewards >= 0) and np.all(rewards <= 1)):
            raise ValueError("rewards must be in [0, 1]")
        if len(contexts) == 0:
            return self
        flat = contexts * self.n_arms_ + arms
        size = self.n_contexts_ * self.n_arms_
        self.pulls_ += np.bincount(flat, minlength=size).reshape(self.pulls_.shape)
        self.wins_ += np.bincount(flat, rewards, minlength=size).reshape(self.wins_.shape)
        self._learn(contexts, arms, rewards, features)
        return self

    def estimates(self, contexts, features=None) -> np.ndarray:
        """Current estimate of each kind's call probability for each impression.

        The default is the posterior mean under a uniform prior,
        ``(wins + 1) / (pulls + 2)`` (so an untried kind ranks at 1/2, first in a
        fallback: trying it is exploration).

        Returns
        -------
        numpy.ndarray of float64, shape (B, n_arms)
        """
        contexts, _ = self._check_batch(contexts, features)
        return ((self.wins_ + 1.0) / (self.pulls_ + 2.0))[contexts]

    def target_shares(self, context, rng: np.random.Generator | None = None) -> np.ndarray:
        """Share of each kind of number the policy wants in ``context``'s pool.

        The share of impressions it expects to give each kind; the default (index
        policies) is the share of observations each kind got so far, uniform before any.

        Returns
        -------
        numpy.ndarray of float64, shape (n_arms,)
            Non-negative, sums to 1.
        """
        c = self._check_context(context)
        n = self.pulls_[c]
        total = n.sum()
        return n / total if total > 0 else np.full(self.n_arms_, 1.0 / self.n_arms_)

    # -- plumbing ------------------------------------------------------------------------------
    def _check_context(self, context) -> int:
        self._check_reset()
        if isinstance(context, str):
            context = channel_index(context)
        if not (isinstance(context, (int, np.integer)) and 0 <= context < self.n_contexts_):
            raise ValueError(f"context must be an index in [0, {self.n_contexts_}), "
                             f"got {context!r}")
        return int(context)

    def _check_reset(self) -> None:
        if not hasattr(self, "pulls_"):
            raise RuntimeError(f"{type(self).__name__}: call reset(n_contexts, n_arms) first")

    def _check_batch(self, contexts, features):
        self._check_reset()
        contexts = _check_index_array(contexts, self.n_contexts_, "contexts")
        if self.n_features == 0:
            return contexts, None
        if features is None:
            raise ValueError(f"features is required ({self.n_features} per impression)")
        features = np.asarray(features, dtype=np.float64)
        if features.shape != (len(contexts), self.n_features):
            raise ValueError(f"features must have shape ({len(contexts)}, {self.n_features}),"
                             f" got {features.shape}")
        if not np.all(np.isfinite(features)):
            raise ValueError("features must be finite")
        return contexts, features

    def _allocate(self) -> None:
        pass

    def _learn(self, contexts, arms, rewards, features) -> None:
        pass

    def _scores(self, contexts, features, rng) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({params})"


OPTIMIZERS: Registry[Policy] = Registry("composition optimizer", factory="from_context",
                                      context=1)
"""Composition optimizers by config name (``dni.optimizer``)."""


@OPTIMIZERS.register("uniform")
class Uniform(Policy):
    """Every kind with equal probability: the no-learning baseline (linear regret)."""

    def select_many(self, contexts, rng, features=None):
        """Each impression gets a kind drawn uniformly (see :meth:`Policy.select_many`)."""
        contexts, _ = self._check_batch(contexts, features)
        return rng.integers(0, self.n_arms_, len(contexts)).astype(np.int64)

    def target_shares(self, context, rng=None):
        """``1 / n_arms`` each."""
        self._check_context(context)
        return np.full(self.n_arms_, 1.0 / self.n_arms_)


@OPTIMIZERS.register("all_local")
class Fixed(Policy):
    """Always the same kind, e.g. ``Fixed("local")``: the all-local pool of common practice.

    Parameters
    ----------
    arm : str or int
        A name in :data:`NUMBER_KINDS` or an arm index.
    """

    def __init__(self, arm="local"):
        self.arm = arm
        self._arm = arm_index(arm) if isinstance(arm, str) else _check_nonneg_int(arm, "arm")

    def _allocate(self):
        if self._arm >= self.n_arms_:
            raise ValueError(f"arm {self.arm!r} is out of range for {self.n_arms_} arms")

    def select_many(self, contexts, rng, features=None):
        """``arm`` for every impression."""
        contexts, _ = self._check_batch(contexts, features)
        return np.full(len(contexts), self._arm, dtype=np.int64)

    def target_shares(self, context, rng=None):
        """All numbers of kind ``arm``."""
        self._check_context(context)
        return np.eye(self.n_arms_)[self._arm]


def _check_nonneg_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a name or a non-negative integer, got {value!r}")
    return int(value)


@OPTIMIZERS.register("epsilon_greedy")
class EpsilonGreedy(Policy):
    """The kind with the best observed call rate, a random kind with probability ``eps``.

    Untried kinds count as best (each is tried once before exploitation starts).

    Parameters
    ----------
    eps : float
        Exploration probability in [0, 1].
    decay : float, optional
        If given (> 0), the exploration probability in a context that has ``n``
        observations is ``eps / (1 + n / decay)``: halved after ``decay`` observations,
        decaying like ``1/n`` (which makes the regret logarithmic instead of linear).
    """

    def __init__(self, eps: float = 0.1, decay: float | None = None):
        self.eps = _check_fraction(eps, "eps")
        self.decay = None if decay is None else _check_nonneg(decay, "decay", allow_zero=False)

    def epsilon(self, context) -> float:
        """Current exploration probability in ``context``."""
        c = self._check_context(context)
        return float(self._eps(np.array([c]))[0])

    def _eps(self, contexts):
        if self.decay is None:
            return np.full(len(contexts), self.eps)
        return self.eps / (1.0 + self.pulls_.sum(axis=1)[contexts] / self.decay)

    def _means(self):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.pulls_ > 0, self.wins_ / self.pulls_, np.inf)

    def select_many(self, contexts, rng, features=None):
        """Greedy kind, or with probability ``epsilon`` a uniformly random one."""
        contexts, _ = self._check_batch(contexts, features)
        if len(contexts) == 0:
            return np.zeros(0, dtype=np.int64)
        greedy = _argmax_random(self._means()[contexts], rng)
        explore = rng.random(len(contexts)) < self._eps(contexts)
        random = rng.integers(0, self.n_arms_, len(contexts))
        return np.where(explore, random, greedy).astype(np.int64)

    def target_shares(self, context, rng=None):
        """``(1 - epsilon)`` on the greedy kind (split among ties), ``epsilon / n_arms`` each."""
        c = self._check_context(context)
        e = float(self._eps(np.array([c]))[0])
        m = self._means()[c]
        best = (m == m.max()).astype(np.float64)
        return (1.0 - e) * best / best.sum() + e / self.n_arms_


@OPTIMIZERS.register("ucb1")
class UCB1(Policy):
    """Upper confidence bounds (Auer, Cesa-Bianchi and Fischer 2002), per context.

    The index of arm ``a`` in context ``c`` with ``n`` observations of mean ``m`` out of
    ``N`` in the context is ``m + c_explore * sqrt(ln N / n)`` (``c_explore = sqrt(2)``
    is UCB1); untried arms come first.  UCB1's bonus is sized for rewards spread over
    [0, 1]; call probabilities of a few percent have a far smaller variance, so UCB1
    explores for a long time.  ``tuned=True`` is UCB1-Tuned, whose bonus
    ``sqrt(ln N / n * min(1/4, V))`` uses the variance bound
    ``V = m (1 - m) + sqrt(2 ln N / n)`` of a Bernoulli arm.

    A deterministic index would give every impression of a batch in a channel to the same
    arm.  With ``batch_aware`` (the default) the batch is decided as if each impression
    were a pull whose outcome is not known yet (:func:`ucb_fill`); the batch is then
    spread as sequential UCB would spread it.

    Parameters
    ----------
    c_explore : float
        Exploration coefficient, >= 0 (ignored with ``tuned``).
    tuned : bool
        UCB1-Tuned instead of UCB1.
    batch_aware : bool
        Decide batches with hallucinated pulls (else every impression of a batch sees the
        same indices, ties broken at random).
    """

    def __init__(self, c_explore: float = math.sqrt(2.0), tuned: bool = False,
                 batch_aware: bool = True):
        self.c_explore = _check_nonneg(c_explore, "c_explore")
        self.tuned = bool(tuned)
        self.batch_aware = bool(batch_aware)

    def _scores(self, contexts, features, rng):
        n = self.pulls_
        log_n = np.log(np.maximum(n.sum(axis=1, keepdims=True), 1.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            m = self.wins_ / n
            if self.tuned:
                v = m * (1.0 - m) + np.sqrt(2.0 * log_n / n)
                index = m + np.sqrt(log_n / n * np.minimum(0.25, v))
            else:
                index = m + self.c_explore * np.sqrt(log_n / n)
            index = np.where(n > 0, index, np.inf)
        return index[contexts]

    def select_many(self, contexts, rng, features=None):
        """The arm of highest index per impression (see the class docstring)."""
        if not self.batch_aware:
            return super().select_many(contexts, rng, features)
        contexts, _ = self._check_batch(contexts, features)
        return ucb_fill(contexts, self.wins_, self.pulls_, self.c_explore, self.tuned)


@OPTIMIZERS.register("thompson")
class ThompsonSampling(Policy):
    """Thompson sampling with a Beta--Bernoulli posterior per context x arm.

    Each impression draws a call probability for every kind from
    ``Beta(a0 + wins, b0 + pulls - wins)`` and shows the kind with the largest draw, so a
    batch of impressions is spread over the kinds in proportion to the posterior
    probability that each is the best -- the natural way to decide a batch before its
    feedback arrives.

    Parameters
    ----------
    prior : tuple of float
        ``(a0, b0)``, both > 0; ``(1, 1)`` is uniform.
    n_draws : int
        Posterior draws used by :meth:`target_shares`.
    """

    def __init__(self, prior: tuple[float, float] = (1.0, 1.0), n_draws: int = 4000):
        if len(prior) != 2:
            raise ValueError("prior must be a pair (a0, b0)")
        self.prior = (_check_nonneg(prior[0], "prior", False),
                      _check_nonneg(prior[1], "prior", False))
        if int(n_draws) != n_draws or n_draws < 1:
            raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
        self.n_draws = int(n_draws)

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """The Beta parameters ``(a, b)``, each ``(n_contexts, n_arms)``."""
        self._check_reset()
        a0, b0 = self.prior
        return a0 + self.wins_, b0 + self.pulls_ - self.wins_

    def _scores(self, contexts, features, rng):
        a, b = self.posterior()
        return rng.beta(a[contexts], b[contexts])

    def select_many(self, contexts, rng, features=None):
        """The kind with the largest posterior draw, per impression."""
        contexts, features = self._check_batch(contexts, features)
        # continuous draws: ties have probability 0, a plain argmax will do
        return np.argmax(self._scores(contexts, features, rng), axis=1).astype(np.int64)

    def estimates(self, contexts, features=None):
        """Posterior means ``a / (a + b)``, shape ``(B, n_arms)``."""
        contexts, _ = self._check_batch(contexts, features)
        a, b = self.posterior()
        return (a / (a + b))[contexts]

    def target_shares(self, context, rng=None):
        """Posterior probability that each kind is the best (``n_draws`` Monte Carlo draws;
        ``rng`` defaults to a fixed seed, so equal states give equal shares)."""
        c = self._check_context(context)
        rng = np.random.default_rng(0) if rng is None else rng
        a, b = self.posterior()
        draws = rng.beta(a[c], b[c], size=(self.n_draws, self.n_arms_))
        return np.bincount(draws.argmax(axis=1), minlength=self.n_arms_) / self.n_draws


@OPTIMIZERS.register("linucb")
class LinUCB(Policy):
    """LinUCB with disjoint linear models (Li, Chu, Langford and Schapire 2010).

    An impression in channel ``c`` with consumer features ``z`` has the design vector
    ``x = [onehot(c), z]`` (length ``n_contexts + n_features``); each kind ``a`` has its
    own ridge regression ``theta_a = A_a^-1 b_a`` with ``A_a = ridge I + sum x x'`` and
    ``b_a = sum r x``, so the channel one-hot times the arm gives every channel x kind
    interaction and ``z`` a per-kind slope.  The kind shown maximises
    ``x' theta_a + alpha sqrt(x' A_a^-1 x)``.  ``A`` and ``b`` are sums, so feedback order
    does not matter; ``A^-1`` is recomputed lazily after updates (``d x d`` with ``d``
    the channels plus a few features: microseconds).  Without consumer features each
    channel x kind is an independent ridge mean.  With ``batch_aware`` (the default) a
    batch is decided impression by impression with hallucinated pulls
    (:func:`linucb_fill`), so it is spread as sequential LinUCB would spread it rather
    than all going to one arm.

    Written here rather than taken from MABWiser, river or Vowpal Wabbit: none is
    installed, the algorithm is twenty lines of NumPy, and keeping it here makes the
    batched, delayed, order-free updates and the state it learns (``A_``, ``b_``)
    transparent to the tests.

    Parameters
    ----------
    alpha : float
        Width of the confidence bonus, >= 0.  The bonus is on the scale of the reward
        noise (``sqrt(p (1 - p))``, about 0.15--0.2 for call probabilities of a few
        percent), so values well below the textbook 1 suit call outcomes: the default
        0.3 earned 96--98% of the oracle's calls on :func:`reference_response` over 10^5
        impressions in batches of 1,000, where 1.0 earned 86--89% (over-exploring) and
        0.2 sometimes settled on a wrong kind for good.
    ridge : float
        Ridge penalty (> 0): the prior precision of every coefficient.
    n_features : int
        Consumer features per impression (0: context only).
    batch_aware : bool
        Decide batches with hallucinated pulls (else every impression of a batch is
        scored with the same ``A^-1``, ties broken at random).
    """

    def __init__(self, alpha: float = 0.3, ridge: float = 1.0, n_features: int = 0,
                 batch_aware: bool = True):
        self.alpha = _check_nonneg(alpha, "alpha")
        self.ridge = _check_nonneg(ridge, "ridge", allow_zero=False)
        if isinstance(n_features, bool) or int(n_features) != n_features or n_features < 0:
            raise ValueError(f"n_features must be an integer >= 0, got {n_features!r}")
        self.n_features = int(n_features)
        self.batch_aware = bool(batch_aware)

    def _allocate(self):
        d = self.n_contexts_ + self.n_features
        self.A_ = np.tile(self.ridge * np.eye(d), (self.n_arms_, 1, 1))
        self.b_ = np.zeros((self.n_arms_, d))
        self._stale = True

    def _design(self, contexts, features):
        x = np.zeros((len(contexts), self.n_contexts_ + self.n_features))
        x[np.arange(len(contexts)), contexts] = 1.0
        if self.n_features:
            x[:, self.n_contexts_:] = features
        return x

    def _learn(self, contexts, arms, rewards, features):
        x = self._design(contexts, features)
        for a in np.unique(arms):
            rows = arms == a
            xa = x[rows]
            self.A_[a] += xa.T @ xa
            self.b_[a] += xa.T @ rewards[rows]
        self._stale = True

    def _refresh(self):
        if self._stale:
            self._Ainv = np.linalg.inv(self.A_)
            self._theta = np.einsum("kij,kj->ki", self._Ainv, self.b_)
            c = self.n_contexts_
            self._mean_table = self._theta[:, :c].T.copy()
            self._var_table = np.diagonal(self._Ainv[:, :c, :c], axis1=1, axis2=2).T.copy()
            self._stale = False

    @property
    def theta_(self) -> np.ndarray:
        """Coefficients per arm, ``(n_arms, n_contexts + n_features)``."""
        self._check_reset()
        self._refresh()
        return self._theta

    def _mean_var(self, contexts, features):
        self._refresh()
        if self.n_features == 0:
            return self._mean_table[contexts], self._var_table[contexts]
        x = self._design(contexts, features)
        mean = x @ self._theta.T
        var = np.einsum("bi,kij,bj->bk", x, self._Ainv, x)
        return mean, np.maximum(var, 0.0)

    def _scores(self, contexts, features, rng):
        mean, var = self._mean_var(contexts, features)
        return mean + self.alpha * np.sqrt(var)

    def select_many(self, contexts, rng, features=None):
        """The arm of highest upper bound per impression (see the class docstring)."""
        if not self.batch_aware:
            return super().select_many(contexts, rng, features)
        contexts, features = self._check_batch(contexts, features)
        self._refresh()
        return linucb_fill(self._design(contexts, features), self._theta, self._Ainv.copy(),
                           self.alpha)

    def estimates(self, contexts, features=None):
        """Ridge predictions ``x' theta_a``, shape ``(B, n_arms)``."""
        contexts, features = self._check_batch(contexts, features)
        return self._mean_var(contexts, features)[0]


@OPTIMIZERS.register("oracle")
class Oracle(Policy):
    """Knows the true call probabilities and always shows the best kind: zero regret.

    Parameters
    ----------
    response : array_like or callable
        The true call probability per ``(context, arm)``, an ``(n_contexts, n_arms)``
        array, or ``response(contexts, features) -> (B, n_arms)`` when it depends on
        consumer features (then give ``n_features``).
    n_features : int
        Consumer features passed to a callable ``response``.
    """

    def __init__(self, response, n_features: int = 0):
        if callable(response):
            self.response = response
        else:
            r = np.asarray(response, dtype=np.float64)
            if r.ndim != 2 or not (np.all(r >= 0) and np.all(r <= 1)):
                raise ValueError("response must be a 2-D array of probabilities in [0, 1] "
                                 "or a callable")
            self.response = r
        if int(n_features) != n_features or n_features < 0:
            raise ValueError(f"n_features must be an integer >= 0, got {n_features!r}")
        self.n_features = int(n_features)

    @classmethod
    def from_context(cls, ctx: CompositionContext) -> "Oracle":
        """The oracle of the world's true response (``ctx.truth``)."""
        return cls(np.minimum(ctx.truth, 1.0))

    def reset(self, n_contexts: int | None = None, n_arms: int | None = None) -> "Oracle":
        """As :meth:`Policy.reset`; the sizes default to the response table's shape."""
        if isinstance(self.response, np.ndarray):
            shape = self.response.shape
            n_contexts = shape[0] if n_contexts is None else n_contexts
            n_arms = shape[1] if n_arms is None else n_arms
            if (n_contexts, n_arms) != shape:
                raise ValueError(f"response has shape {shape}, not ({n_contexts}, {n_arms})")
        else:
            n_contexts = len(CHANNELS) if n_contexts is None else n_contexts
            n_arms = len(NUMBER_KINDS) if n_arms is None else n_arms
        return super().reset(n_contexts, n_arms)

    def estimates(self, contexts, features=None):
        """The true probabilities, ``(B, n_arms)``."""
        contexts, features = self._check_batch(contexts, features)
        if isinstance(self.response, np.ndarray):
            return self.response[contexts]
        p = np.asarray(self.response(contexts, features), dtype=np.float64)
        if p.shape != (len(contexts), self.n_arms_):
            raise ValueError(f"response returned shape {p.shape}, "
                             f"expected ({len(contexts)}, {self.n_arms_})")
        return p

    def select_many(self, contexts, rng, features=None):
        """The kind with the highest true probability (the first of exact ties)."""
        return np.argmax(self.estimates(contexts, features), axis=1).astype(np.int64)

    def target_shares(self, context, rng=None):
        """All numbers of the best kind (needs a table ``response``)."""
        c = self._check_context(context)
        if not isinstance(self.response, np.ndarray):
            raise ValueError("target_shares needs a response table, not a callable")
        return np.eye(self.n_arms_)[int(np.argmax(self.response[c]))]


# -- playing and judging ----------------------------------------------------------------------
class Play(NamedTuple):
    """Outcome of :func:`simulate_bernoulli`, one entry per impression in decision order."""

    arms: np.ndarray
    """Kind shown (int64)."""
    rewards: np.ndarray
    """1.0 if a call resulted."""
    expected: np.ndarray
    """True call probability of the kind shown."""
    best: np.ndarray
    """True call probability of the best kind for that impression (the oracle's)."""


def _response_matrix(response, contexts, features) -> np.ndarray:
    if callable(response):
        return np.asarray(response(contexts, features), dtype=np.float64)
    return np.asarray(response, dtype=np.float64)[contexts]


def simulate_bernoulli(policy: Policy, response, contexts, rng: np.random.Generator,
                       batch: int = 1000, delay: int = 0, features=None,
                       shuffle_feedback: bool = False) -> Play:
    """Play ``policy`` (already reset) against Bernoulli calls with known probabilities.

    Impressions are decided ``batch`` at a time; the calls of a batch are fed back
    ``delay`` batches later (``delay=0``: before the next batch is decided), shuffled
    within the batch if ``shuffle_feedback``.  Feedback still pending at the end is fed.

    Parameters
    ----------
    policy : Policy
        The policy, reset to the response's shape.
    response : array_like or callable
        ``(n_contexts, n_arms)`` probabilities or ``response(contexts, features)``.
    contexts : array_like of int
        Channel of each impression, in time order.
    rng : numpy.random.Generator
        Drives both the policy and the calls.
    batch, delay : int
        Impressions per decision batch (>= 1); batches of feedback delay (>= 0).
    features : array_like, optional
        ``(len(contexts), n_features)`` consumer features.
    shuffle_feedback : bool
        Feed each batch's outcomes back in random order.

    Returns
    -------
    Play
    """
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if int(delay) != delay or delay < 0:
        raise ValueError(f"delay must be an integer >= 0, got {delay!r}")
    contexts = np.asarray(contexts, dtype=np.int64)
    n = len(contexts)
    arms = np.zeros(n, dtype=np.int64)
    rewards = np.zeros(n)
    expected = np.zeros(n)
    best = np.zeros(n)
    pending: list[np.ndarray] = []
    for start in range(0, n, batch):
        sl = slice(start, min(start + batch, n))
        c = contexts[sl]
        f = None if features is None else features[sl]
        a = policy.select_many(c, rng, f)
        p = _response_matrix(response, c, f)
        arms[sl] = a
        expected[sl] = p[np.arange(len(c)), a]
        best[sl] = p.max(axis=1)
        rewards[sl] = rng.random(len(c)) < expected[sl]
        idx = np.arange(sl.start, sl.stop)
        pending.append(rng.permutation(idx) if shuffle_feedback else idx)
        while len(pending) > delay:
            i = pending.pop(0)
            policy.update(contexts[i], arms[i], rewards[i],
                          None if features is None else features[i])
    for i in pending:
        policy.update(contexts[i], arms[i], rewards[i],
                      None if features is None else features[i])
    return Play(arms, rewards, expected, best)


def cumulative_regret(rewards_expected_oracle, rewards_expected_chosen) -> np.ndarray:
    """Cumulative (pseudo-)regret over impressions.

    Parameters
    ----------
    rewards_expected_oracle : array_like of float
        Expected reward (call probability) of the oracle's choice, per impression.
    rewards_expected_chosen : array_like of float
        Expected reward of the policy's choice, per impression.

    Returns
    -------
    numpy.ndarray of float64
        ``R(t) = sum over the first t impressions of (oracle - chosen)``; ``R[t-1]`` is
        the regret after ``t`` impressions.
    """
    o = np.asarray(rewards_expected_oracle, dtype=np.float64)
    c = np.asarray(rewards_expected_chosen, dtype=np.float64)
    if o.shape != c.shape or o.ndim != 1:
        raise ValueError("rewards_expected_oracle and rewards_expected_chosen must be 1-D "
                         "arrays of the same length")
    return np.cumsum(o - c)


def regret_exponent(regret, start: float = 0.5, points: int = 64) -> float:
    """Exponent ``p`` of ``R(t) ~ c t^p`` fitted on the tail ``t in [start T, T]``.

    A least-squares line through ``(log t, log R(t))`` at ``points`` log-spaced ``t``.
    Linear regret gives ``p ~ 1``; logarithmic regret gives a local exponent
    ``1 / ln t`` (about 0.1 at 10^5) -- anything well below 1 is sublinear.

    Parameters
    ----------
    regret : array_like of float
        Cumulative regret per impression (:func:`cumulative_regret`).
    start : float
        Where the tail starts, a fraction of ``T`` in (0, 1).
    points : int
        Points of the fit, >= 2.

    Returns
    -------
    float
        ``p``; ``nan`` if the regret is not positive on the tail (e.g. the oracle's 0).
    """
    r = np.asarray(regret, dtype=np.float64)
    if r.ndim != 1 or len(r) < 4:
        raise ValueError("regret must be a 1-D array of at least 4 values")
    if not 0.0 < start < 1.0:
        raise ValueError(f"start must be in (0, 1), got {start!r}")
    if int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    T = len(r)
    t = np.unique(np.round(np.geomspace(max(start * T, 1.0), T, int(points))).astype(np.int64))
    y = r[t - 1]
    if len(t) < 2 or np.any(~(y > 0)):
        return float("nan")
    return float(np.polyfit(np.log(t), np.log(y), 1)[0])


def regret_growth_ratio(regret) -> float:
    """``(R(T) - R(T/2)) / R(T/2)``: regret added in the second half over the first half.

    About 1 for linear regret, ``ln 2 / ln(T/2)`` (0.06 at 10^5) for logarithmic regret;
    below 1 means the policy is learning.  ``nan`` if ``R(T/2) <= 0``.
    """
    r = np.asarray(regret, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError("regret must be a 1-D array of at least 2 values")
    half = r[len(r) // 2 - 1]
    if not half > 0:
        return float("nan")
    return float((r[-1] - half) / half)

