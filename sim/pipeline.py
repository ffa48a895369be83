"""The call-control pipeline: origination -> policies -> routing -> termination.

A slice's calls travel as a :class:`CallBatch`, which holds only what a carrier's network
sees.  Ground truth (who really called) travels beside it in a :class:`CallTruth` that
policies never receive.  Policies are objects with a ``screen(batch)`` method returning a
mask of calls to block (see :class:`Policy`); they are passed in, not written into the
engine, and they act on the batch of the slice just ended -- the lag of real analytics.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol, Sequence

import numpy as np

from .inventory import ASSIGNED, PORTED_OUT, Inventory
from .recorder import OUTCOMES

__all__ = ["CallBatch", "CallTruth", "Pipeline", "Policy", "BLOCKED", "VACANT", "DELIVERED",
           "OFF_NET"]

BLOCKED, VACANT, DELIVERED, OFF_NET = range(len(OUTCOMES))


@dataclass
class CallBatch:
    """The calls of one slice as the network sees them, in time order.

    Attributes
    ----------
    t : float64
        Call start (s since the run began).
    caller, callee : int64
        10-digit numbers.
    caller_id : int32
        Inventory id of the calling line, -1 for calls from outside the network.
    callee_id : int32
        Inventory id of the called number, -1 off the network (set by routing).
    blocked : bool
        Blocked by a policy.
    outcome : int8
        Code into ``recorder.OUTCOMES`` (set by routing).
    answered : bool
        Answered (set by termination).
    duration : float32
        Talk time in seconds, 0 if unanswered (set by termination).
    """

    t: np.ndarray
    caller: np.ndarray
    callee: np.ndarray
    caller_id: np.ndarray
    callee_id: np.ndarray
    blocked: np.ndarray
    outcome: np.ndarray
    answered: np.ndarray
    duration: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    def take(self, order: np.ndarray) -> "CallBatch":
        """The batch with rows reordered or selected by ``order``."""
        return CallBatch(**{f.name: getattr(self, f.name)[order] for f in fields(self)})


@dataclass
class CallTruth:
    """Ground truth of each call in a batch (never given to policies).

    Attributes
    ----------
    kind : int8
        Code into ``recorder.CALL_KINDS``: who really placed the call.
    campaign : int32
        Robocall campaign, -1 for none.
    """

    kind: np.ndarray
    campaign: np.ndarray

    def take(self, order: np.ndarray) -> "CallTruth":
        """The truth with rows reordered or selected by ``order``."""
        return CallTruth(self.kind[order], self.campaign[order])


class Policy(Protocol):
    """A call-control policy plugged into the pipeline."""

    def screen(self, batch: CallBatch) -> np.ndarray:
        """Return a boolean mask of the calls in ``batch`` to block."""


def new_batch(t, caller, callee, caller_id) -> CallBatch:
    """A batch fresh from origination: nothing routed, blocked or answered yet."""
    n = len(t)
    return CallBatch(
        t=t, caller=caller, callee=callee, caller_id=caller_id.astype(np.int32),
        callee_id=np.full(n, -1, dtype=np.int32), blocked=np.zeros(n, dtype=bool),
        outcome=np.zeros(n, dtype=np.int8), answered=np.zeros(n, dtype=bool),
        duration=np.zeros(n, dtype=np.float32),
    )


class Pipeline:
    """Policies, routing and termination of originated calls.

    Parameters
    ----------
    inventory : Inventory
        Resolves called numbers to lines and their state at call time.
    answer_prob : numpy.ndarray
        Probability that a delivered call is answered, by caller kind.
    durations : sequence
        Talk-time distribution (``sim.distributions``) by caller kind.
    rng : numpy.random.Generator
        The ``termination`` stream.
    policies : sequence of Policy
        Applied in order; a call is blocked if any policy blocks it.
    """

    def __init__(self, inventory: Inventory, answer_prob: np.ndarray, durations: Sequence,
                 rng: np.random.Generator, policies: Sequence[Policy] = ()):
        self.inventory = inventory
        self.answer_prob = np.asarray(answer_prob, dtype=np.float64)
        self.durations = list(durations)
        self.rng = rng
        self.policies = list(policies)

    def process(self, batch: CallBatch, truth: CallTruth) -> None:
        """Run the batch through policies, routing and termination (in place)."""
        for policy in self.policies:
            batch.blocked |= np.asarray(policy.screen(batch), dtype=bool)
        self._route(batch)
        self._terminate(batch, truth)

    def _route(self, batch: CallBatch) -> None:
        ids = self.inventory.ids_of(batch.callee)
        batch.callee_id = ids
        on_net = ids >= 0
        state = np.full(len(batch), PORTED_OUT, dtype=np.int8)
        state[on_net] = self.inventory.state_at(ids[on_net], batch.t[on_net])
        outcome = np.where(state == ASSIGNED, DELIVERED, VACANT)
        outcome[state == PORTED_OUT] = OFF_NET
        outcome[batch.blocked] = BLOCKED
        batch.outcome = outcome.astype(np.int8)

    def _terminate(self, batch: CallBatch, truth: CallTruth) -> None:
        reached = (batch.outcome == DELIVERED) | (batch.outcome == OFF_NET)
        answered = reached & (self.rng.random(len(batch)) < self.answer_prob[truth.kind])
        duration = np.zeros(len(batch), dtype=np.float32)
        for kind, dist in enumerate(self.durations):
            sel = np.flatnonzero(answered & (truth.kind == kind))
            if sel.size:
                duration[sel] = dist.sample(self.rng, sel.size)
        batch.answered = answered
        batch.duration = duration
