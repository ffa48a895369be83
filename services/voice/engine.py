"""The turns of a voice session: a command is parsed, checked against the live equipment,
read back when the policy or the safety rules say so, executed and journalled; a read-back
waits for yes or no until a timeout; "undo the last change" reverts the latest change.

Every reply is a dict: ``heard`` (the text), ``confidence``, ``intent`` (or None),
``outcome`` (``executed``, ``answered``, ``confirm``, ``repeat``, ``explained``,
``cancelled``, ``timed_out``), ``reply`` (the words spoken back), ``journal`` (the entry's
id when something was executed) and ``expect`` (``command`` or ``yes_no``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.voice import (
    ConfirmationPolicy,
    Intent,
    canonical,
    decide,
    execute,
    explain_missing,
    parse,
    parse_yes_no,
    risky,
    undo,
)

from .store import Store

__all__ = ["Engine"]


@dataclass
class _Pending:
    intent: Intent
    heard: str
    confidence: float
    who: str
    deadline: float


class Engine:
    """The sessions of the service over one store.

    Parameters
    ----------
    store : Store
        The equipment and journal.
    policy : ConfirmationPolicy
        When to read back.
    repeat_below : float
        Confidence below which the speaker is asked to repeat.
    timeout : float
        Seconds a read-back waits for yes or no.
    clock : callable
        Time source (seconds).
    """

    def __init__(
        self,
        store: Store,
        policy: ConfirmationPolicy,
        *,
        repeat_below: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.policy = policy
        self.repeat_below = repeat_below
        self.timeout = timeout
        self.clock = clock
        self.pending: dict[str, _Pending] = {}

    def expects(self, session: str) -> str:
        """``yes_no`` if a read-back of ``session`` is waiting, else ``command``."""
        p = self.pending.get(session)
        return "yes_no" if p is not None and p.deadline > self.clock() else "command"

    def handle(self, session: str, who: str, heard: str, confidence: float) -> dict[str, Any]:
        """One utterance (typed text has confidence 1) of ``session``."""
        base = {"heard": heard, "confidence": round(confidence, 4), "intent": None}
        p = self.pending.pop(session, None)
        if p is not None:
            if p.deadline <= self.clock():
                return self._out(base, "timed_out", "The read-back timed out; nothing was done.")
            answer = parse_yes_no(heard)
            if answer is None:
                self.pending[session] = p
                return self._out(base, "confirm", "Please say yes or no.", p.intent, "yes_no")
            if not answer:
                return self._out(base, "cancelled", "Cancelled; nothing was done.", p.intent)
            return self._run(base, p.intent, p.who, p.heard, p.confidence)
        intent = parse(heard)
        if intent is None:
            return self._out(base, "repeat", "Sorry, I did not understand. Please repeat.")
        missing = explain_missing(intent, self.store.equipment)
        if missing is not None:
            return self._out(base, "explained", missing, intent)
        move = decide(
            understood=True,
            confidence=confidence,
            changes=intent.form.changes,
            risky=risky(intent, self.store.equipment),
            policy=self.policy,
            repeat_below=self.repeat_below,
        )
        if move.kind == "repeat":
            return self._out(base, "repeat", "I am not sure I heard that. Please repeat.")
        if move.kind == "confirm":
            self.pending[session] = _Pending(
                intent, heard, confidence, who, self.clock() + self.timeout
            )
            return self._out(
                base, "confirm", f"Did you say: {canonical(intent)}?", intent, "yes_no"
            )
        return self._run(base, intent, who, heard, confidence)

    def _run(
        self, base: dict[str, Any], intent: Intent, who: str, heard: str, confidence: float
    ) -> dict[str, Any]:
        state = self.store.equipment.copy()
        if intent.action == "undo":
            last = self.store.last_change()
            if last is None:
                return self._out(base, "explained", "There is nothing to undo.", intent)
            entry, change = last
            reply = undo(change, state)
            from models.voice import Change

            done = Change(intent, reply, ())
            jid = self.store.record(
                state, done, who=who, heard=heard, confidence=confidence, undoes=entry
            )
            return self._out(base, "executed", reply, intent, journal=jid)
        outcome = execute(intent, state)
        if outcome.change is None:
            kind = "answered" if intent.action.startswith("status") else "explained"
            return self._out(base, kind, outcome.reply, intent)
        jid = self.store.record(state, outcome.change, who=who, heard=heard, confidence=confidence)
        return self._out(base, "executed", outcome.reply, intent, journal=jid)

    @staticmethod
    def _out(
        base: dict[str, Any],
        outcome: str,
        reply: str,
        intent: Intent | None = None,
        expect: str = "command",
        journal: int | None = None,
    ) -> dict[str, Any]:
        return {
            **base,
            "intent": intent.as_dict() if intent is not None else None,
            "outcome": outcome,
            "reply": reply,
            "expect": expect,
            "journal": journal,
        }
