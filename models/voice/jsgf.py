"""JSGF grammars for the recogniser, generated from :data:`~models.voice.grammar.FORMS`
and the live equipment: the recogniser can only hear ports, lines, numbers, phones and
extensions that exist (forwarding targets are any ten digits)."""

from __future__ import annotations

from collections.abc import Callable

from .grammar import CONFIRM_WORDS, FORMS, SLOT_KINDS, cardinal_words, digit_words
from .state import Equipment

__all__ = ["command_grammar", "confirm_grammar"]


def _alternatives(items: list[str]) -> str:
    return " | ".join(f"( {x} )" for x in items) if items else "<VOID>"


def _digits(digits: str) -> str:
    return " ".join("( zero | oh )" if d == "0" else digit_words(d)[0] for d in digits)


def command_grammar(state: Equipment, known: Callable[[str], bool] | None = None) -> str:
    """The JSGF grammar of every command form over ``state``.

    Parameters
    ----------
    state : Equipment
        The live equipment (its ports, lines, numbers, phones and extensions).
    known : callable, optional
        Whether a word is in the recogniser's dictionary; phone names it does not know are
        left out (they can still be typed).
    """
    ok = known or (lambda w: True)
    values = {
        "port": _alternatives([" ".join(cardinal_words(p)) for p in sorted(state.ports)]),
        "line": _alternatives([" ".join(cardinal_words(x)) for x in sorted(state.lines)]),
        "number": _alternatives([_digits(n) for n in sorted(state.numbers)]),
        "target": " ".join(["<digit>"] * 10),
        "extension": _alternatives([_digits(e) for e in sorted(state.extensions)]),
        "phone": _alternatives([p for p in sorted(state.phones) if ok(p)]),
    }
    assert set(values) == set(SLOT_KINDS)
    forms = []
    for form in FORMS:
        forms.append(" ".join(w if not w.startswith("<") else w for w in form.words))
    lines = [
        "#JSGF V1.0;",
        "grammar command;",
        "public <command> = " + " | ".join(f"( {f} )" for f in forms) + ";",
        "<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;",
    ]
    lines += [f"<{name}> = {rule};" for name, rule in values.items()]
    return "\n".join(lines) + "\n"


def confirm_grammar() -> str:
    """The JSGF grammar of an answer to a read-back (yes, no and their synonyms)."""
    words = " | ".join(CONFIRM_WORDS)
    return f"#JSGF V1.0;\ngrammar confirm;\npublic <answer> = {words};\n"
