"""The interface every composition optimizer shares: :class:`Policy`, its context and registry.

:class:`Policy` decides batches (``select_many``), learns from order-free sums
(``update``), states the pool it wants (``target_shares``) and its per-kind estimates
(``estimates``); :data:`OPTIMIZERS` maps config names to the policies.  Also the name and
index checks the policies share (:func:`arm_index`, :func:`channel_index`).  The design
is described in ``docs/dni.md`` ("Composition optimizers").
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from ...common import CHANNELS, NUMBER_KINDS
from ...registry import Registry

__all__ = ["CompositionContext", "OPTIMIZERS", "Policy", "arm_index", "channel_index"]

# The arms are models.common.NUMBER_KINDS in this order: the consumer's own area code,
# another geographic area code, toll-free 800, other toll-free prefixes (888/877/866...),
# toll-free with memorable (vanity) digits.  The contexts are models.common.CHANNELS
# (``print`` stands for print and broadcast, where the number is read or heard).


def _index(value: object, names: tuple[str, ...], what: str) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= int(value) < len(names):
            return int(value)
        raise ValueError(f"{what} index must be in [0, {len(names)}), got {value!r}")
    if isinstance(value, str) and value in names:
        return names.index(value)
    raise ValueError(f"unknown {what} {value!r}; expected one of {names} or an index")


def arm_index(arm: int | np.integer | str) -> int:
    """Index of a kind of number given by name (one of :data:`NUMBER_KINDS`) or index.

    Raises
    ------
    ValueError
        Naming ``arm`` if it is not a known name or an index into :data:`NUMBER_KINDS`.
    """
    return _index(arm, NUMBER_KINDS, "arm")


def channel_index(channel: int | np.integer | str) -> int:
    """Index of a channel given by name (one of :data:`CHANNELS`) or index.

    Raises
    ------
    ValueError
        Naming ``channel`` if it is not a known name or an index into :data:`CHANNELS`.
    """
    return _index(channel, CHANNELS, "channel")


# -- input checks -----------------------------------------------------------------------------
def _check_fraction(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _check_nonneg(value: Any, name: str, allow_zero: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and (v >= 0 if allow_zero else v > 0)):
        raise ValueError(
            f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {value!r}"
        )
    return v


def _check_index_array(x: npt.ArrayLike, n: int, name: str) -> np.ndarray:
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
    def from_context(cls, ctx: CompositionContext, *args: Any, **params: Any) -> Policy:
        """The policy with its parameters (its table in the config); ``ctx`` is for
        policies that need to know the world (the oracle)."""
        return cls(**params)

    def reset(self, n_contexts: int = len(CHANNELS), n_arms: int = len(NUMBER_KINDS)) -> Self:
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
    def select(
        self,
        context: int | np.integer | str,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> int:
        """The kind of number to show for one impression in ``context`` (a channel index
        or name), as :meth:`select_many` for a batch of one."""
        if isinstance(context, str):
            context = channel_index(context)
        f = None if features is None else np.asarray(features, dtype=np.float64)[None, :]
        return int(self.select_many(np.array([context]), rng, f)[0])

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
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

    def update(
        self,
        contexts: npt.ArrayLike,
        arms: npt.ArrayLike,
        rewards: npt.ArrayLike,
        features: npt.ArrayLike | None = None,
    ) -> Self:
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

    def estimates(
        self, contexts: npt.ArrayLike, features: npt.ArrayLike | None = None
    ) -> np.ndarray:
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

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
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
    def _check_context(self, context: int | np.integer | str) -> int:
        self._check_reset()
        if isinstance(context, str):
            context = channel_index(context)
        if not (isinstance(context, (int, np.integer)) and 0 <= context < self.n_contexts_):
            raise ValueError(
                f"context must be an index in [0, {self.n_contexts_}), got {context!r}"
            )
        return int(context)

    def _check_reset(self) -> None:
        if not hasattr(self, "pulls_"):
            raise RuntimeError(f"{type(self).__name__}: call reset(n_contexts, n_arms) first")

    def _check_batch(
        self, contexts: npt.ArrayLike, features: npt.ArrayLike | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_reset()
        contexts = _check_index_array(contexts, self.n_contexts_, "contexts")
        if self.n_features == 0:
            return contexts, None
        if features is None:
            raise ValueError(f"features is required ({self.n_features} per impression)")
        features = np.asarray(features, dtype=np.float64)
        if features.shape != (len(contexts), self.n_features):
            raise ValueError(
                f"features must have shape ({len(contexts)}, {self.n_features}),"
                f" got {features.shape}"
            )
        if not np.all(np.isfinite(features)):
            raise ValueError("features must be finite")
        return contexts, features

    def _allocate(self) -> None:
        pass

    def _learn(
        self,
        contexts: np.ndarray,
        arms: np.ndarray,
        rewards: np.ndarray,
        features: np.ndarray | None,
    ) -> None:
        pass

    def _scores(
        self, contexts: np.ndarray, features: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.endswith("_") and not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"


OPTIMIZERS: Registry[Policy] = Registry(
    "composition optimizer", factory="from_context", context=1, base=Policy
)
"""Composition optimizers by config name (``dni.optimizer``)."""
