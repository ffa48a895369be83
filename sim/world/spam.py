"""Background spam: every number of the inventory receives history-independent spam, one
Poisson source per number with a gamma rate multiplier (mean 1)."""

from __future__ import annotations

import numpy as np

from ..config.world import Spam as SpamConfig
from ..core.numbering import random_external_numbers
from .clock import PoissonSources, gamma_multipliers, hourly_rates

__all__ = ["Spam"]


class Spam:
    """The background spam sources of every number.

    Parameters
    ----------
    cfg : sim.config.world.Spam
        The ``[spam]`` section.
    n : int
        Numbers in the inventory.
    rng : numpy.random.Generator
        The ``spam`` stream (multipliers, call times, callers).

    Attributes
    ----------
    multiplier : numpy.ndarray
        Each number's spam rate relative to the mean.
    """

    def __init__(self, cfg: SpamConfig, n: int, rng: np.random.Generator):
        self.rng = rng
        self.sources = PoissonSources(
            hourly_rates(cfg.calls_per_line_per_day, cfg.diurnal)[None], capacity=n
        )
        self.multiplier = gamma_multipliers(rng, 1 / np.sqrt(cfg.heterogeneity_shape), n)
        self.sources.add(0.0, np.zeros(n, dtype=np.int64), self.multiplier, rng)

    def emit(self, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spam calls of the slice ending at ``t1``: times, called number ids, callers."""
        t, lines = self.sources.emit(t1, self.rng)
        return t, lines, random_external_numbers(self.rng, len(lines))

    def end(self, number_id: int, t: float) -> None:
        """A number left the inventory (ported out): no more of our traffic reaches it."""
        self.sources.end(number_id, t)
