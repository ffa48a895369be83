"""The call-control pipeline: policies -> routing, termination and tallies.

Policies are objects with a ``screen(batch)`` method returning a mask of calls to block
(:class:`~sim.world.calls.Policy`); they are handed in, not written into the engine, and
they act on the batch of the slice just ended -- the lag of real analytics.  Every call is
screened; then one compiled pass (:func:`sim.world.kernels.route_tally`) routes,
terminates and tallies the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .calls import CallBatch, CallTruth, Policy
from .daily import CallTally
from .inventory import Inventory
from .kernels import route_tally

__all__ = ["Pipeline"]


class Pipeline:
    """Policies, routing and termination of originated calls.

    Parameters
    ----------
    inventory : Inventory
        Resolves called numbers to lines and their state at call time.
    policies : sequence of Policy
        Applied in order; a call is blocked if any policy blocks it.
    """

    def __init__(self, inventory: Inventory, policies: Sequence[Policy] = ()):
        self.inventory = inventory
        self.policies = list(policies)

    def process(self, batch: CallBatch, truth: CallTruth, tally: CallTally) -> None:
        """Run the batch through policies, routing and termination (in place), and add it
        to the day's ``tally``."""
        for policy in self.policies:
            batch.blocked |= np.asarray(policy.screen(batch), dtype=bool)
        inv = self.inventory
        route_tally(
            (batch.callee_id, batch.t, batch.blocked),
            (truth.kind, truth.would_answer, truth.talk_time),
            (inv.state, inv.prev_state, inv.changed_at),
            batch.outcome,
            batch.answered,
            batch.duration,
            tally.totals,
        )
