"""The oracle optimizer: knows the true call probabilities (:class:`Oracle`, zero regret)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

import numpy as np
import numpy.typing as npt

from ...common import CHANNELS, NUMBER_KINDS
from .base import OPTIMIZERS, CompositionContext, Policy

__all__ = ["Oracle"]


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

    def __init__(
        self, response: npt.ArrayLike | Callable[..., npt.ArrayLike], n_features: int = 0
    ) -> None:
        self.response: np.ndarray | Callable[..., npt.ArrayLike]
        if callable(response):
            self.response = response
        else:
            r = np.asarray(response, dtype=np.float64)
            if r.ndim != 2 or not (np.all(r >= 0) and np.all(r <= 1)):
                raise ValueError(
                    "response must be a 2-D array of probabilities in [0, 1] or a callable"
                )
            self.response = r
        if int(n_features) != n_features or n_features < 0:
            raise ValueError(f"n_features must be an integer >= 0, got {n_features!r}")
        self.n_features = int(n_features)

    @classmethod
    def from_context(cls, ctx: CompositionContext) -> Oracle:
        """The oracle of the world's true response (``ctx.truth``)."""
        return cls(np.minimum(ctx.truth, 1.0))

    def reset(self, n_contexts: int | None = None, n_arms: int | None = None) -> Self:
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

    def estimates(
        self, contexts: npt.ArrayLike, features: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """The true probabilities, ``(B, n_arms)``."""
        contexts, features = self._check_batch(contexts, features)
        if isinstance(self.response, np.ndarray):
            return self.response[contexts]
        p = np.asarray(self.response(contexts, features), dtype=np.float64)
        if p.shape != (len(contexts), self.n_arms_):
            raise ValueError(
                f"response returned shape {p.shape}, expected ({len(contexts)}, {self.n_arms_})"
            )
        return p

    def select_many(
        self,
        contexts: npt.ArrayLike,
        rng: np.random.Generator,
        features: npt.ArrayLike | None = None,
    ) -> np.ndarray:
        """The kind with the highest true probability (the first of exact ties)."""
        return np.argmax(self.estimates(contexts, features), axis=1).astype(np.int64)

    def target_shares(
        self, context: int | np.integer | str, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """All numbers of the best kind (needs a table ``response``)."""
        c = self._check_context(context)
        if not isinstance(self.response, np.ndarray):
            raise ValueError("target_shares needs a response table, not a callable")
        return np.eye(self.n_arms_)[int(np.argmax(self.response[c]))]
