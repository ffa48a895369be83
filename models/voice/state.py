"""The equipment a voice command acts on, the actions, their journal entries and undo.

A small switch and patch model: numbered ports and lines with one-to-one cross-connects,
telephone numbers (available, assigned to a phone or an extension, or aging after a
release), named IP phones and their extensions, call forwarding per line, and the lines
with a call up.  :func:`execute` checks an intent against the state and either explains
why it cannot be done (nothing changes) or applies it and returns the :class:`Change` --
what was done and the primitive steps that undo it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .grammar import Intent, cardinal_words, digit_words

__all__ = ["Change", "Equipment", "Outcome", "execute", "explain_missing", "risky", "undo"]

NUMBER_STATES = ("available", "assigned", "aging")
"""What a telephone number can be."""


@dataclass
class Equipment:
    """The state of the equipment (plain data; :meth:`to_dict` / :meth:`from_dict` for
    storage).

    Attributes
    ----------
    ports, lines : set of int
        The switch's ports and the customer lines.
    cross : dict
        Port -> line cross-connects (one-to-one).
    numbers : dict
        Ten-digit number -> ``{"state": ..., "holder": "phone:NAME" | "extension:EXT" |
        None}``.
    phones : set of str
        IP phone names (one lower-case word each).
    extensions : dict
        Extension -> the phone it rings.
    forwarding : dict
        Line -> the ten-digit number it is forwarded to.
    calls_up : set of int
        Lines with a call in progress.
    """

    ports: set[int] = field(default_factory=set)
    lines: set[int] = field(default_factory=set)
    cross: dict[int, int] = field(default_factory=dict)
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)
    phones: set[str] = field(default_factory=set)
    extensions: dict[str, str] = field(default_factory=dict)
    forwarding: dict[int, str] = field(default_factory=dict)
    calls_up: set[int] = field(default_factory=set)

    def copy(self) -> Equipment:
        """A deep copy."""
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (keys as strings, sets as sorted lists)."""
        return {
            "ports": sorted(self.ports),
            "lines": sorted(self.lines),
            "cross": {str(p): ln for p, ln in sorted(self.cross.items())},
            "numbers": {n: dict(v) for n, v in sorted(self.numbers.items())},
            "phones": sorted(self.phones),
            "extensions": dict(sorted(self.extensions.items())),
            "forwarding": {str(ln): t for ln, t in sorted(self.forwarding.items())},
            "calls_up": sorted(self.calls_up),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Equipment:
        """The state written by :meth:`to_dict`."""
        return cls(
            ports={int(p) for p in d["ports"]},
            lines={int(x) for x in d["lines"]},
            cross={int(p): int(x) for p, x in d["cross"].items()},
            numbers={str(n): dict(v) for n, v in d["numbers"].items()},
            phones={str(p) for p in d["phones"]},
            extensions={str(e): str(p) for e, p in d["extensions"].items()},
            forwarding={int(x): str(t) for x, t in d["forwarding"].items()},
            calls_up={int(x) for x in d["calls_up"]},
        )

    def port_of(self, line: int) -> int | None:
        """The port cross-connected to ``line``, if any."""
        return next((p for p, ln in self.cross.items() if ln == line), None)


@dataclass(frozen=True)
class Change:
    """An executed action: what it was and how to undo it.

    Attributes
    ----------
    intent : Intent
        The command executed.
    summary : str
        What was done, in words (the spoken reply).
    inverse : tuple
        Primitive steps that restore the state before the action (see :func:`_apply`).
    """

    intent: Intent
    summary: str
    inverse: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Outcome:
    """The result of :func:`execute`: a reply, and the change if one was made."""

    reply: str
    change: Change | None = None


def _n(digits: str) -> str:
    return ", ".join(
        " ".join(digit_words(digits[a:b])) for a, b in ((0, 3), (3, 6), (6, len(digits)))
    )


def _c(n: int) -> str:
    return " ".join(cardinal_words(n))


def _holder(h: str | None) -> str:
    if h is None:
        return "nobody"
    kind, _, name = h.partition(":")
    return f"phone {name}" if kind == "phone" else f"extension {' '.join(digit_words(name))}"


def explain_missing(intent: Intent, state: Equipment) -> str | None:
    """A spoken explanation if the intent names equipment that does not exist (never a
    guess at what was meant), else None."""
    for name, value in intent.slots:
        if name == "port" and value not in state.ports:
            return f"There is no port {_c(int(value))}."
        if name == "line" and value not in state.lines:
            return f"There is no line {_c(int(value))}."
        if name == "number" and value not in state.numbers:
            return f"Number {_n(str(value))} is not one of ours."
        if name == "phone" and value not in state.phones:
            return f"There is no phone named {value}."
        if name == "extension" and value not in state.extensions:
            return f"There is no extension {' '.join(digit_words(str(value)))}."
    return None


def risky(intent: Intent, state: Equipment) -> bool:
    """Destructive, or touching a line with a call up (read back under the destructive
    policies); a read-only query never is."""
    if not intent.form.changes:
        return False
    if intent.form.destructive:
        return True
    lines = {v for k, v in intent.slots if k == "line"}
    if "port" in dict(intent.slots) and intent.get("port") in state.cross:
        lines.add(state.cross[int(intent.get("port"))])
    return bool(lines & state.calls_up)


def _status(intent: Intent, s: Equipment) -> str:
    if intent.action == "status_line":
        line = int(intent.get("line"))
        on = s.port_of(line)
        parts = [f"Line {_c(line)} is " + (f"on port {_c(on)}" if on else "not connected")]
        if line in s.forwarding:
            parts.append(f"forwarded to {_n(s.forwarding[line])}")
        parts.append("with a call up" if line in s.calls_up else "idle")
        return ", ".join(parts) + "."
    if intent.action == "status_port":
        port = int(intent.get("port"))
        to = s.cross.get(port)
        return f"Port {_c(port)} is " + (f"on line {_c(to)}." if to else "free.")
    number = str(intent.get("number"))
    rec = s.numbers[number]
    if rec["state"] == "assigned":
        return f"Number {_n(number)} is assigned to {_holder(rec['holder'])}."
    return f"Number {_n(number)} is {rec['state']}."


def execute(intent: Intent, state: Equipment) -> Outcome:
    """Check ``intent`` against ``state`` and apply it (``state`` is changed in place only
    when the action succeeds).

    ``undo`` is handled by :func:`undo` (it needs the journal), not here.

    Returns
    -------
    Outcome
        The spoken reply; ``change`` is None when nothing changed (a query, or a command
        that cannot be done: missing equipment, a busy port, a number not available).
    """
    missing = explain_missing(intent, state)
    if missing is not None:
        return Outcome(missing)
    a = intent.action
    if a.startswith("status"):
        return Outcome(_status(intent, state))
    s = state
    steps: list[tuple[Any, ...]]
    if a == "connect":
        port, line = int(intent.get("port")), int(intent.get("line"))
        if port in s.cross:
            return Outcome(f"Port {_c(port)} is already on line {_c(s.cross[port])}.")
        if s.port_of(line) is not None:
            return Outcome(f"Line {_c(line)} is already on port {_c(s.port_of(line) or 0)}.")
        steps, summary = [("cross", port, line)], f"Port {_c(port)} connected to line {_c(line)}."
        inverse: list[tuple[Any, ...]] = [("cross", port, None)]
    elif a == "disconnect":
        port, line = int(intent.get("port")), int(intent.get("line"))
        if s.cross.get(port) != line:
            return Outcome(f"Port {_c(port)} is not connected to line {_c(line)}.")
        steps, inverse = [("cross", port, None)], [("cross", port, line)]
        summary = f"Port {_c(port)} disconnected from line {_c(line)}."
    elif a in ("assign_phone", "assign_extension"):
        number = str(intent.get("number"))
        rec = s.numbers[number]
        if rec["state"] != "available":
            return Outcome(f"Number {_n(number)} is {rec['state']}, not available.")
        who = (
            f"phone:{intent.get('phone')}"
            if a == "assign_phone"
            else f"extension:{intent.get('extension')}"
        )
        steps = [("number", number, "assigned", who)]
        inverse = [("number", number, rec["state"], rec["holder"])]
        summary = f"Number {_n(number)} assigned to {_holder(who)}."
    elif a == "forward":
        line, target = int(intent.get("line")), str(intent.get("target"))
        steps, inverse = [("forward", line, target)], [("forward", line, s.forwarding.get(line))]
        summary = f"Line {_c(line)} forwarded to {_n(target)}."
    elif a == "release":
        number = str(intent.get("number"))
        rec = s.numbers[number]
        if rec["state"] != "assigned":
            return Outcome(f"Number {_n(number)} is {rec['state']}, not assigned.")
        steps = [("number", number, "aging", None)]
        inverse = [("number", number, rec["state"], rec["holder"])]
        summary = f"Number {_n(number)} released into aging."
    elif a == "move":
        ext, phone = str(intent.get("extension")), str(intent.get("phone"))
        if s.extensions[ext] == phone:
            return Outcome(f"Extension {' '.join(digit_words(ext))} is already on phone {phone}.")
        steps, inverse = [("extension", ext, phone)], [("extension", ext, s.extensions[ext])]
        summary = f"Extension {' '.join(digit_words(ext))} moved to phone {phone}."
    else:
        raise ValueError(f"execute() does not handle {a!r}")
    for step in steps:
        _apply(s, step)
    return Outcome(summary, Change(intent, summary, tuple(inverse)))


def _apply(s: Equipment, step: tuple[Any, ...]) -> None:
    """Apply one primitive step: ``("cross", port, line|None)``, ``("number", number,
    state, holder)``, ``("forward", line, target|None)``, ``("extension", ext, phone)``."""
    kind = step[0]
    if kind == "cross":
        if step[2] is None:
            s.cross.pop(int(step[1]), None)
        else:
            s.cross[int(step[1])] = int(step[2])
    elif kind == "number":
        s.numbers[str(step[1])] = {"state": step[2], "holder": step[3]}
    elif kind == "forward":
        if step[2] is None:
            s.forwarding.pop(int(step[1]), None)
        else:
            s.forwarding[int(step[1])] = str(step[2])
    elif kind == "extension":
        s.extensions[str(step[1])] = str(step[2])
    else:
        raise ValueError(f"unknown step {kind!r}")


def undo(change: Change, state: Equipment) -> str:
    """Revert ``change`` (the latest change not yet undone) in place; the spoken reply."""
    for step in change.inverse:
        _apply(state, tuple(step))
    return f"Undone: {change.summary}"
