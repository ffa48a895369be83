"""JSGF grammars for the recogniser, generated from :data:`~models.voice.grammar.FORMS`
and the live equipment: the recogniser can only hear ports, lines, numbers, phones and
extensions that exist; forwarding targets are any North American number (ten digits, the
area code and the exchange starting with 2-9).

Destructive forms are narrowed further to what they can act on: ``disconnect`` only the
port/line pairs that are cross-connected (a "two" for a "twelve" cannot make a pair that
does not exist) and ``release`` only assigned numbers.  That is safe only because every
destructive command is read back under every policy but ``never`` and ``threshold``
(``destructive``, ``changes``, ``threshold_destructive``, ``always``): a speaker who names a
pair that does not exist hears another pair read back and says no, instead of hearing that
it does not exist.  Commands that are not destructive are never narrowed by preconditions:
under a policy that does not read them back (``destructive``, or
``threshold_destructive`` above its threshold) a connect of a busy port heard as a free one
would be executed."""

from __future__ import annotations

from collections.abc import Callable

from .grammar import CONFIRM_WORDS, FORMS, SLOT_KINDS, cardinal_words, digit_words
from .recognize import PAUSE
from .state import Equipment

__all__ = ["command_grammar", "confirm_grammar"]


def _alternatives(items: list[str]) -> str:
    return " | ".join(f"( {x} )" for x in items) if items else "<VOID>"


_GAP = f"[ {PAUSE} ]"


def _groups(words: list[str]) -> str:
    """Ten digit words with an optional pause after the area code and the exchange."""
    if len(words) != 10:
        return " ".join(words)
    return " ".join([*words[:3], _GAP, *words[3:6], _GAP, *words[6:]])


def _nanp() -> str:
    """Ten digits whose first and fourth (area code, exchange) are 2-9."""
    return _groups(["<nxx>", "<digit>", "<digit>", "<nxx>"] + ["<digit>"] * 6)


def _digits(digits: str) -> str:
    return _groups(["( zero | oh )" if d == "0" else digit_words(d)[0] for d in digits])


def command_grammar(state: Equipment, known: Callable[[str], bool] | None = None) -> str:
    """The JSGF grammar of every command form over ``state``.

    Destructive forms admit only what they can act on (cross-connected pairs, assigned
    numbers); a form left with nothing to name is left out; optional :data:`PAUSE` words
    stand around the command and between the groups of a telephone number (see the
    module's notes).

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
        "target": _nanp(),
        "extension": _alternatives([_digits(e) for e in sorted(state.extensions)]),
        "phone": _alternatives([p for p in sorted(state.phones) if ok(p)]),
    }
    assert set(values) == set(SLOT_KINDS)
    pairs = [
        f"{' '.join(cardinal_words(p))} from line {' '.join(cardinal_words(x))}"
        for p, x in sorted(state.cross.items())
    ]
    assigned = [_digits(n) for n, r in sorted(state.numbers.items()) if r["state"] == "assigned"]
    narrowed = {  # a form with nothing to act on is left out (pocketsphinx's <VOID> is not)
        "disconnect": "disconnect port ( " + _alternatives(pairs) + " )" if pairs else "",
        "release": "release number ( " + _alternatives(assigned) + " )" if assigned else "",
    }
    forms = [narrowed.get(form.action, " ".join(form.words)) for form in FORMS]
    void = {f"<{name}>" for name, rule in values.items() if rule == "<VOID>"}
    forms = [f for f in forms if f and not void & set(f.split())]
    lines = [
        "#JSGF V1.0;",
        "grammar command;",
        f"public <command> = {_GAP} ( " + " | ".join(f"( {f} )" for f in forms) + f" ) {_GAP};",
        "<digit> = zero | oh | one | <nxx>;",
        "<nxx> = two | three | four | five | six | seven | eight | nine;",
    ]
    lines += [f"<{name}> = {rule};" for name, rule in values.items()]
    return "\n".join(lines) + "\n"


def confirm_grammar() -> str:
    """The JSGF grammar of an answer to a read-back (yes, no and their synonyms)."""
    words = " | ".join(CONFIRM_WORDS)
    return f"#JSGF V1.0;\ngrammar confirm;\npublic <answer> = {words};\n"
