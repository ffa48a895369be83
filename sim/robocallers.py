"""Robocall operators: campaigns that take fresh numbers, dial from lead lists, and rotate.

A campaign acquires its numbers from the inventory exactly as a subscriber would, so they
appear in the ledger as new assignments and on the carrier's list of newly assigned
numbers.  Behaviours are set by the campaign's parameters (``sim.config.Campaign``):

- *blaster*: one number dialling at a second or faster;
- *slow dialer*: one or a few numbers at hundreds of calls a day;
- *snowshoe*: many numbers, each under any per-number threshold.

Rotation closes the loop with the carrier's policies: ``on_block`` drops a number once
``rotate_after_blocked`` of its calls were blocked in a slice and takes a fresh one at the
end of that slice (the operator's reaction lag); ``schedule`` replaces every number every
``rotate_every_hours``.  Dropped numbers are disconnected and age like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .pipeline import BLOCKED, CallBatch, CallTruth
from .population import DAY

if TYPE_CHECKING:
    from .world import World

__all__ = ["Robocallers"]


class Robocallers:
    """Every robocall campaign of a world.

    Attributes
    ----------
    active : list of list of int
        Lines each campaign is dialling from now.
    """

    def __init__(self, world: "World"):
        self.world = world
        self.campaigns = world.config.robocallers.campaigns
        self.active: list[list[int]] = [[] for _ in self.campaigns]
        self._running = [False] * len(self.campaigns)
        self._leads: list[tuple[int, int]] = []

    def setup(self) -> None:
        """Start each campaign's process."""
        for c, spec in enumerate(self.campaigns):
            self._leads.append(self.world.population.lead_list(spec.targets, spec.on_net_share))
            self.world.process(self._campaign(c, spec))

    def _campaign(self, c: int, spec):
        world = self.world
        yield world.timeout(spec.start_day * DAY)
        end = (spec.start_day + spec.days) * DAY
        self._running[c] = True
        self._acquire(c, spec.numbers)
        while world.now < end:
            wait = end - world.now
            if spec.rotate == "schedule":
                wait = min(wait, spec.rotate_every_hours * 3600.0)
            yield world.timeout(wait)
            if spec.rotate == "schedule" and world.now < end:
                for line in list(self.active[c]):
                    self._replace(c, line)
        self._running[c] = False
        for line in list(self.active[c]):
            self._drop(c, line)

    def _acquire(self, c: int, k: int) -> None:
        lines = self.world.population.add_robocall_lines(self.world.now, c, k, self._leads[c])
        self.active[c].extend(int(x) for x in lines)

    def _drop(self, c: int, line: int) -> None:
        self.active[c].remove(line)
        self.world.population.end(line)

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
        owner = self.world.inventory.owner
        lines, counts = np.unique(owner[batch.caller_id[robo]], return_counts=True)
        for line, blocked in zip(lines.tolist(), counts.tolist()):
            if line < 0:
                continue
            c = int(self.world.population.subs["campaign"][line])
            spec = self.campaigns[c]
            if (spec.rotate == "on_block" and self._running[c] and line in self.active[c]
                    and blocked >= spec.rotate_after_blocked):
                self._replace(c, line)
