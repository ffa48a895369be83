"""The tenants' telephone numbers: business lines from the world's inventory.

A tenant's numbers are taken through the population's public assignment path
(:meth:`sim.world.population.Population.add`, type ``business``): each is a ledger row like
any assignment, a business line with its tenure, and when the line ends the number is
disconnected into aging (or ported out) like any other.  The platform then gives the tenant
a fresh number in its place at the start of the next day.  An inventory that cannot supply
them records exhaustion, and the tenant runs with fewer numbers (none: its callers cannot
reach it).
"""

from __future__ import annotations

import numpy as np

from models.common import SUBSCRIBER_TYPES

__all__ = ["TenantNumbers"]

BUSINESS = SUBSCRIBER_TYPES.index("business")


class TenantNumbers:
    """Which lines (and numbers) each tenant holds.

    Parameters
    ----------
    population : sim.world.population.Population
        Assigns numbers and ends lines.
    wanted : list of int
        Numbers each tenant holds.
    """

    def __init__(self, *, population, wanted: list[int]):
        self.population = population
        self.wanted = list(wanted)
        self.lines: list[np.ndarray] = [np.zeros(0, dtype=np.int64) for _ in wanted]
        self.replaced = 0

    def refresh(self, t: float) -> None:
        """Drop lines that ended and take numbers for what is missing."""
        subs = self.population.subs
        for k, want in enumerate(self.wanted):
            lines = self.lines[k]
            if len(lines):
                lines = lines[np.isnan(subs["end"][lines])]
            missing = want - len(lines)
            if missing > 0:
                got = self.population.add(t, BUSINESS, missing)
                if len(self.lines[k]):
                    self.replaced += len(got)
                lines = np.concatenate([lines, np.asarray(got, dtype=np.int64)])
            self.lines[k] = lines

    def numbers(self, tenant: int) -> np.ndarray:
        """Inventory ids of the tenant's numbers now."""
        lines = self.lines[tenant]
        return self.population.subs["number_id"][lines].astype(np.int64)
