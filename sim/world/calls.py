"""Calls as they travel through a slice: what the network sees, the truth beside it, and
what a call-control policy is allowed to see.

A slice's calls are first assembled as :class:`Calls` (every column, truth included), then
split into a :class:`CallBatch` -- only what a carrier's network sees -- and a
:class:`CallTruth` that policies never receive.  A policy sees the batch of each slice and,
once, a :class:`PolicyContext`: an allowlist of what else a carrier knows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Protocol

import numpy as np

from .recorder import Table

__all__ = [
    "POLICY_TABLES",
    "WORLD_STREAMS",
    "CallBatch",
    "CallTruth",
    "Calls",
    "Policy",
    "PolicyContext",
]


@dataclass
class Calls:
    """One slice's calls, every column (origination's output), in one order.

    Attributes
    ----------
    t : float64
        Call start (s since the run began).
    caller, callee : int64
        10-digit numbers.
    caller_id, callee_id : int32
        Inventory ids of the calling line and the called number (-1 outside).
    kind : int8
        Who really placed the call (``schemas.CALL_KINDS``).
    campaign : int32
        Robocall campaign, -1 for none.
    would_answer : bool
        Whether the called party answers if the call reaches them.
    talk_time : float32
        How long they talk if it is answered (s).
    """

    t: np.ndarray
    caller: np.ndarray
    callee: np.ndarray
    caller_id: np.ndarray
    callee_id: np.ndarray
    kind: np.ndarray
    campaign: np.ndarray
    would_answer: np.ndarray
    talk_time: np.ndarray

    def take(self, order: np.ndarray) -> Calls:
        """The calls reordered (or selected) by ``order``."""
        return Calls(**{f.name: getattr(self, f.name)[order] for f in fields(self)})

    def split(self) -> tuple[CallBatch, CallTruth]:
        """What the network sees, fresh from origination, and the truth beside it."""
        n = len(self.t)
        batch = CallBatch(
            t=self.t,
            caller=self.caller,
            callee=self.callee,
            caller_id=np.asarray(self.caller_id, dtype=np.int32),
            callee_id=np.asarray(self.callee_id, dtype=np.int32),
            blocked=np.zeros(n, dtype=bool),
            outcome=np.zeros(n, dtype=np.int8),
            answered=np.zeros(n, dtype=bool),
            duration=np.zeros(n, dtype=np.float32),
        )
        truth = CallTruth(
            kind=self.kind,
            campaign=self.campaign,
            would_answer=self.would_answer,
            talk_time=self.talk_time,
        )
        return batch, truth


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
        Inventory id of the called number, -1 off the network.
    blocked : bool
        Blocked by a policy.
    outcome : int8
        Code into ``schemas.OUTCOMES`` (set by routing).
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

    ``would_answer`` and ``talk_time`` are drawn at origination, so blocking one call never
    changes what happens to another: runs with and without a policy share their random
    numbers.
    """

    kind: np.ndarray
    campaign: np.ndarray
    would_answer: np.ndarray
    talk_time: np.ndarray


POLICY_TABLES = ("flags", "watchlist")
"""The output tables a call-control policy may write."""
WORLD_STREAMS = (
    "inventory",
    "assignment",
    "subscribers",
    "contacts",
    "calls",
    "spam",
    "answer",
    "residual",
    "robocallers",
    "redirect",
    "dni",
)
"""The world's own random streams, which no policy may draw from (drawing from them would
both shift the world and let a policy foresee it)."""


class PolicyContext:
    """What a call-control policy may see besides each slice's batch -- an allowlist: the
    inventory's numbers (read-only), the feed of newly assigned numbers and each number's
    last assignment time, its own output tables and random streams of its own.  Never the
    world, the recorder or the truth.

    Parameters
    ----------
    numbers : numpy.ndarray
        The inventory's numbers by id.
    subscribe : callable
        ``subscribe(listener)`` calls ``listener(t, ids)`` whenever numbers are newly
        assigned (the carrier's provisioning feed).
    tables : dict
        The run's tables; the policy gets only those of :data:`POLICY_TABLES`.
    rng : callable
        ``rng(name)``: the run's named random stream ``name``.
    """

    __slots__ = ("numbers", "_subscribe", "_tables", "_rng", "_assigned_at")

    def __init__(
        self,
        numbers: np.ndarray,
        subscribe: Callable,
        tables: dict[str, Table],
        rng: Callable[[str], np.random.Generator],
    ):
        self.numbers = numbers.view()
        self.numbers.flags.writeable = False
        self._subscribe = subscribe
        self._tables = {name: tables[name] for name in POLICY_TABLES if name in tables}
        self._rng = rng
        self._assigned_at = np.full(len(numbers), np.nan)
        subscribe(self._assigned)

    def _assigned(self, t: float, ids: np.ndarray) -> None:
        self._assigned_at[ids] = t

    def on_assign(self, listener: Callable[[float, np.ndarray], None]) -> None:
        """Call ``listener(t, ids)`` whenever numbers are newly assigned."""
        self._subscribe(listener)

    def assigned_at(self, ids: np.ndarray) -> np.ndarray:
        """When each number (by id) was last given to a new owner during the run (NaN if
        not since the run began): the carrier's own provisioning records, e.g. to treat
        numbers assigned within a few days as new."""
        return self._assigned_at[np.asarray(ids, dtype=np.int64)]

    def table(self, name: str) -> Table:
        """An output table the policy writes (one of :data:`POLICY_TABLES`)."""
        if name not in self._tables:
            raise KeyError(f"a policy writes only the tables {', '.join(POLICY_TABLES)}")
        return self._tables[name]

    def flag(self, t: np.ndarray, ids: np.ndarray) -> None:
        """Record that the policy flagged these numbers (by id) at times ``t``: the
        ``flags`` table that the burst study scores against the truth, as it does the
        built-in detectors' flags."""
        ids = np.asarray(ids, dtype=np.int64)
        self.table("flags").append(t=t, number=self.numbers[ids], number_id=ids)

    def rng(self, name: str) -> np.random.Generator:
        """A random stream of the policy's own (any name but the world's)."""
        if name in WORLD_STREAMS or name.split(".")[0] in WORLD_STREAMS:
            raise ValueError(f"stream {name!r} is the world's; a policy draws from its own")
        return self._rng(name)


class Policy(Protocol):
    """A call-control policy plugged into the pipeline.

    It may also define ``attach(context: PolicyContext)``, called once before the run.  A
    config names one of its own in its ``policies`` list (``models.screens.SCREENS``).
    """

    def screen(self, batch: CallBatch) -> np.ndarray:
        """Return a boolean mask of the calls in ``batch`` to block."""
