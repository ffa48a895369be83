"""The call-control pipeline: policies -> routing -> termination.

Policies are objects with a ``screen(batch)`` method returning a mask of calls to block
(:class:`~sim.world.calls.Policy`); they are handed in, not written into the engine, and
they act on the batch of the slice just ended -- the lag of real analytics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .calls import CallBatch, CallTruth, Policy
from .inventory import Inventory
from .schemas import ASSIGNED, BLOCKED, DELIVERED, OFF_NET, PORTED_OUT, VACANT

__all__ = ["Pipeline", "route_outcomes"]


def _route_outcomes(callee_id, t, blocked, state, prev_state, changed_at):
    """Outcome code of each call from the called line's state at the call's time.

    Blocked by a policy; off the network (not ours, or ported out); delivered to an
    assigned line; vacant (available or aging: "not in service").  A line that changed
    state after the call's time is judged by its previous state.
    """
    out = np.empty(callee_id.shape[0], dtype=np.int8)
    for j in range(callee_id.shape[0]):
        i = callee_id[j]
        if blocked[j]:
            out[j] = BLOCKED
            continue
        if i < 0:
            out[j] = OFF_NET
            continue
        s = prev_state[i] if changed_at[i] > t[j] else state[i]
        if s == PORTED_OUT:
            out[j] = OFF_NET
        elif s == ASSIGNED:
            out[j] = DELIVERED
        else:
            out[j] = VACANT
    return out


route_outcomes = njit(cache=True, nogil=True)(_route_outcomes)


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

    def process(self, batch: CallBatch, truth: CallTruth) -> None:
        """Run the batch through policies, routing and termination (in place)."""
        for policy in self.policies:
            batch.blocked |= np.asarray(policy.screen(batch), dtype=bool)
        self._route(batch)
        self._terminate(batch, truth)

    def _route(self, batch: CallBatch) -> None:
        inv = self.inventory
        batch.outcome = route_outcomes(
            batch.callee_id, batch.t, batch.blocked, inv.state, inv.prev_state, inv.changed_at
        )

    def _terminate(self, batch: CallBatch, truth: CallTruth) -> None:
        reached = (batch.outcome == DELIVERED) | (batch.outcome == OFF_NET)
        batch.answered = reached & truth.would_answer
        batch.duration = np.where(batch.answered, truth.talk_time, np.float32(0))
