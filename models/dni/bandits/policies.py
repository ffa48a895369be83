"""Policies over per-channel x kind tables: :class:`Uniform`, :class:`Fixed`,
:class:`EpsilonGreedy`, :class:`UCB1` (and UCB1-Tuned) and :class:`ThompsonSampling`."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .base import OPTIMIZERS, Policy, _argmax_random, _check_fraction, _check_nonneg, arm_index
from .kernels import ucb_fill

__all__ = ["EpsilonGreedy", "Fixed", "ThompsonSampling", "UCB1", "Uniform"]


@OPTIMIZERS.register("uniform")
class Uniform(Policy):
    """Every kind with equal probability: the no-learning baseline (linear regret)."""

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """Each impression gets a kind drawn uniformly (see :meth:`Policy.select_many`)."""
        contexts, _ = self._check_batch(contexts, features)
        return rng.integers(0, self.n_arms_, len(contexts)).astype(np.int64)

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
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

    def __init__(self, arm: str | int | np.integer = "local") -> None:
        self.arm = arm
        self._arm = arm_index(arm) if isinstance(arm, str) else _check_nonneg_int(arm, "arm")

    def _allocate(self) -> None:
        if self._arm >= self.n_arms_:
            raise ValueError(f"arm {self.arm!r} is out of range for {self.n_arms_} arms")

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """``arm`` for every impression."""
        contexts, _ = self._check_batch(contexts, features)
        return np.full(len(contexts), self._arm, dtype=np.int64)

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """All numbers of kind ``arm``."""
        self._check_context(context)
        return np.eye(self.n_arms_)[self._arm]


def _check_nonneg_int(value: object, name: str) -> int:
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

    def __init__(self, eps: float = 0.1, decay: float | None = None) -> None:
        self.eps = _check_fraction(eps, "eps")
        self.decay = None if decay is None else _check_nonneg(decay, "decay", allow_zero=False)

    def epsilon(self, context: int | np.integer | str) -> float:
        """Current exploration probability in ``context``."""
        c = self._check_context(context)
        return float(self._eps(np.array([c]))[0])

    def _eps(self, contexts: np.ndarray) -> np.ndarray:
        if self.decay is None:
            return np.full(len(contexts), self.eps)
        return self.eps / (1.0 + self.pulls_.sum(axis=1)[contexts] / self.decay)

    def _means(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.pulls_ > 0, self.wins_ / self.pulls_, np.inf)

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """Greedy kind, or with probability ``epsilon`` a uniformly random one."""
        contexts, _ = self._check_batch(contexts, features)
        if len(contexts) == 0:
            return np.zeros(0, dtype=np.int64)
        greedy = _argmax_random(self._means()[contexts], rng)
        explore = rng.random(len(contexts)) < self._eps(contexts)
        random = rng.integers(0, self.n_arms_, len(contexts))
        return np.where(explore, random, greedy).astype(np.int64)

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
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

    def __init__(
        self, c_explore: float = math.sqrt(2.0), tuned: bool = False, batch_aware: bool = True
    ) -> None:
        self.c_explore = _check_nonneg(c_explore, "c_explore")
        self.tuned = bool(tuned)
        self.batch_aware = bool(batch_aware)

    def _scores(
        self, contexts: np.ndarray, features: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
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

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
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

    def __init__(self, prior: tuple[float, float] = (1.0, 1.0), n_draws: int = 4000) -> None:
        if len(prior) != 2:
            raise ValueError("prior must be a pair (a0, b0)")
        self.prior = (
            _check_nonneg(prior[0], "prior", False),
            _check_nonneg(prior[1], "prior", False),
        )
        if int(n_draws) != n_draws or n_draws < 1:
            raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
        self.n_draws = int(n_draws)

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """The Beta parameters ``(a, b)``, each ``(n_contexts, n_arms)``."""
        self._check_reset()
        a0, b0 = self.prior
        return a0 + self.wins_, b0 + self.pulls_ - self.wins_

    def _scores(
        self, contexts: np.ndarray, features: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        a, b = self.posterior()
        return rng.beta(a[contexts], b[contexts])

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """The kind with the largest posterior draw, per impression."""
        contexts, features = self._check_batch(contexts, features)
        # continuous draws: ties have probability 0, a plain argmax will do
        return np.argmax(self._scores(contexts, features, rng), axis=1).astype(np.int64)

    def estimates(
        self, contexts: npt.ArrayLike, features: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """Posterior means ``a / (a + b)``, shape ``(B, n_arms)``."""
        contexts, _ = self._check_batch(contexts, features)
        a, b = self.posterior()
        return (a / (a + b))[contexts]

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Posterior probability that each kind is the best (``n_draws`` Monte Carlo draws;
        ``rng`` defaults to a fixed seed, so equal states give equal shares)."""
        c = self._check_context(context)
        rng = np.random.default_rng(0) if rng is None else rng
        a, b = self.posterior()
        draws = rng.beta(a[c], b[c], size=(self.n_draws, self.n_arms_))
        return np.bincount(draws.argmax(axis=1), minlength=self.n_arms_) / self.n_draws
