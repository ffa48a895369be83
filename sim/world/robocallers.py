"""Robocall operators: campaigns that take fresh numbers, dial from lead lists, and rotate.

A campaign acquires its numbers from the inventory exactly as a subscriber would, so they
appear in the ledger as new assignments and on the carrier's list of newly assigned
numbers.  Behaviours are set by the campaign's parameters (``sim.config.robocalls.Campaign``):

- *blaster*: one number dialling at a second or faster;
- *slow dialer*: one or a few numbers at hundreds of calls a day;
- *snowshoe*: many numbers, each under any per-number threshold.

Rotation closes the loop with the carrier's policies: ``on_block`` drops a number once
``rotate_after_blocked`` of its calls were blocked in a slice and takes a fresh one at the
end of that slice (the operator's reaction lag); ``schedule`` replaces every number every
``rotate_every_hours``.  Dropped numbers are disconnected and age like any other.
"""

from __future__ import annotations

import numpy as np
import simpy

from models.common import DAY, HOUR

from ..config.robocalls import Campaign
from .calls import CallBatch, CallTruth
from .inventory import Inventory
from .population import Population
from .schemas import BLOCKED

__all__ = ["Robocallers"]


class Robocallers:
    """Every robocall campaign of a world.

    Attributes
    ----------
    active : list of list of int
        Lines each campaign is dialling from now.

    Parameters
    ----------
    env : simpy.Environment
    campaigns : list of Campaign
    population : Population
        Lines are added to it and ended in it.
    inventory : Inventory
        Who holds each number (to find a blocked call's line).
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        campaigns: list[Campaign],
        population: Population,
        inventory: Inventory,
    ):
        self.env = env
        self.population = population
        self.inventory = inventory
        self.campaigns = campaigns
        self.active: list[list[int]] = [[] for _ in self.campaigns]
        self._running = [False] * len(self.campaigns)
        self._leads: list[tuple[int, int]] = []

    def setup(self) -> None:
        """Start each campaign's process."""
        for c, spec in enumerate(self.campaigns):
            self._leads.append(self.population.lead_list(spec.targets, spec.on_net_share))
            self.env.process(self._campaign(c, spec))

    def _campaign(self, c: int, spec):
        env = self.env
        yield env.timeout(spec.start_day * DAY)
        end = (spec.start_day + spec.days) * DAY
        self._running[c] = True
        self._acquire(c, spec.numbers)
        while env.now < end:
            wait = end - env.now
            if spec.rotate == "schedule":
                wait = min(wait, spec.rotate_every_hours * HOUR)
            yield env.timeout(wait)
            if spec.rotate == "schedule" and env.now < end:
                for line in list(self.active[c]):
                    self._replace(c, line)
        self._running[c] = False
        for line in list(self.active[c]):
            self._drop(c, line)

    def _acquire(self, c: int, k: int) -> None:
        lines = self.population.add_robocall_lines(self.env.now, c, k, self._leads[c])
        self.active[c].extend(int(x) for x in lines)

    def _drop(self, c: int, line: int) -> None:
        self.active[c].remove(line)
        self.population.end(line)

    def _replace(self, c: int, line: int) -> None:
        self._drop(c, line)
        self._acquire(c, 1)

    def after_slice(self, batch: CallBatch, truth: CallTruth) -> None:
        """Operators see which of their calls were blocked and rotate where they do that."""
        if not self.campaigns:
            return
        robo = np.flatnonzero((truth.campaign >= 0) & (batch.outcome == BLOCKED))
        if len(robo) == 0:
            return
        owner = self.inventory.owner
        lines, counts = np.unique(owner[batch.caller_id[robo]], return_counts=True)
        for line, blocked in zip(lines.tolist(), counts.tolist()):
            if line < 0:
                continue
            c = int(self.population.subs["campaign"][line])
            spec = self.campaigns[c]
            if (
                spec.rotate == "on_block"
                and self._running[c]
                and line in self.active[c]
                and blocked >= spec.rotate_after_blocked
            ):
                self._replace(c, line)
