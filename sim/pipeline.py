"""The call-control pipeline: origination -> policies -> routing -> termination.

A slice's calls travel as a :class:`CallBatch`, which holds only what a carrier's network
sees.  Ground truth (who really called) travels beside it in a :class:`CallTruth` that
policies never receive.  Policies are objects with a ``screen(batch)`` method returning a
mask of calls to block (see :class:`Policy`); they are passed in, not written into the
engine, and they act on the batch of the slice just ended -- the lag of real analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
from numba import njit

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
        Inventory id of the called number, -1 off the network (set by origination or by
        routing; -2 until then).
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


@dataclass
class CallTruth:
    """Ground truth of each call in a batch (never given to policies).

    Attributes
    ----------
    kind : int8
        Code into ``recorder.CALL_KINDS``: who really placed the call.
    campaign : int32
        Robocall campaign, -1 for none.
    would_answer : bool
        Whether the called party answers if the call reaches them.
    talk_time : float32
        How long they talk if it is answered (s).

    The last two are drawn at origination, so blocking one call never changes what
    happens to another: runs with and without a policy share their random numbers.
    """

    kind: np.ndarray
    campaign: np.ndarray
    would_answer: np.ndarray
    talk_time: np.ndarray


class Policy(Protocol):
    """A call-control policy plugged into the pipeline."""

    def screen(self, batch: CallBatch) -> np.ndarray:
        """Return a boolean mask of the calls in ``batch`` to block."""


def new_batch(t, caller, callee, caller_id, callee_id=None) -> CallBatch:
    """A batch fresh from origination: nothing routed, blocked or answered yet.

    ``callee_id`` may be given when origination already looked the called numbers up
    (routing does it otherwise).
    """
    n = len(t)
    if callee_id is None:
        callee_id = np.full(n, -2, dtype=np.int32)  # -2: not looked up yet
    return CallBatch(
        t=t, caller=caller, callee=callee, caller_id=caller_id.astype(np.int32),
        callee_id=np.asarray(callee_id, dtype=np.int32), blocked=np.zeros(n, dtype=bool),
        outcome=np.zeros(n, dtype=np.int8), answered=np.zeros(n, dtype=bool),
        duration=np.zeros(n, dtype=np.float32),
    )


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
        if len(batch) and batch.callee_id.min() == -2:
            batch.callee_id = inv.ids_of(batch.callee)
        batch.outcome = route_outcomes(batch.callee_id, batch.t, batch.blocked, inv.state,
                                       inv.prev_state, inv.changed_at)

    def _terminate(self, batch: CallBatch, truth: CallTruth) -> None:
        reached = (batch.outcome == DELIVERED) | (batch.outcome == OFF_NET)
        batch.answered = reached & truth.would_answer
        batch.duration = np.where(batch.answered, truth.talk_time, np.float32(0))
