"""The command grammar, defined once as data, and the text <-> intent conversions.

Every command is one :class:`Form`: its words, its slots and whether it is destructive.
The parser (:func:`parse`), the canonical text (:func:`canonical`), the spoken variants of
the corpus (:func:`spoken`) and the JSGF grammar of the recogniser (:mod:`.jsgf`) are all
derived from :data:`FORMS`, so a form added here is understood, generated and recognised.

Numbers are spoken three ways: ports and lines as cardinals ("twenty one"), extensions and
telephone numbers digit by digit, with "oh" or "zero" for 0 and NANP groups
("two one two, five five five, oh one four two").  Typed digits ("212-555-0142") are
accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CARDINAL_MAX",
    "CONFIRM_WORDS",
    "DIGIT_WORDS",
    "FORMS",
    "FORMS_BY_ACTION",
    "SLOT_KINDS",
    "Form",
    "Intent",
    "canonical",
    "cardinal_words",
    "digit_words",
    "parse",
    "parse_cardinal",
    "parse_digits",
    "parse_yes_no",
    "spoken",
    "tokens",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
"""Digit words, 0-9 ("oh" is also read as 0)."""
_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
CARDINAL_MAX = 99
"""Ports and lines are numbered 1..99 and spoken as cardinals."""
CONFIRM_WORDS = {"yes": True, "yeah": True, "correct": True, "no": False, "cancel": False}
"""Answers to a read-back."""

SLOT_KINDS = {
    "port": "cardinal",
    "line": "cardinal",
    "number": "telephone",
    "target": "telephone",
    "extension": "digits",
    "phone": "name",
}
"""Each slot and how its value is spoken: ``cardinal`` (1..99), ``telephone`` (ten digits),
``digits`` (an extension, 2-6 digits), ``name`` (a phone's name, one word)."""


@dataclass(frozen=True)
class Form:
    """One command form.

    Attributes
    ----------
    action : str
        The intent's action (unique).
    words : tuple of str
        Literal words and slots (``"<port>"``) in spoken order.
    destructive : bool
        Can disconnect or misroute a customer: always read back under the ``destructive``
        policies.
    changes : bool
        Changes the equipment (journalled, undoable); ``False`` for read-only queries.
    """

    action: str
    words: tuple[str, ...]
    destructive: bool
    changes: bool

    @property
    def slots(self) -> tuple[str, ...]:
        """The form's slot names, in order."""
        return tuple(w[1:-1] for w in self.words if w.startswith("<"))


FORMS: tuple[Form, ...] = (
    Form("connect", ("connect", "port", "<port>", "to", "line", "<line>"), False, True),
    Form("disconnect", ("disconnect", "port", "<port>", "from", "line", "<line>"), True, True),
    Form("status_line", ("show", "status", "of", "line", "<line>"), False, False),
    Form("status_port", ("show", "status", "of", "port", "<port>"), False, False),
    Form("status_number", ("show", "status", "of", "number", "<number>"), False, False),
    Form("assign_phone", ("assign", "number", "<number>", "to", "phone", "<phone>"), False, True),
    Form(
        "assign_extension",
        ("assign", "number", "<number>", "to", "extension", "<extension>"),
        False,
        True,
    ),
    Form("forward", ("forward", "line", "<line>", "to", "<target>"), True, True),
    Form("release", ("release", "number", "<number>"), True, True),
    Form("move", ("move", "extension", "<extension>", "to", "phone", "<phone>"), False, True),
    Form("undo", ("undo", "the", "last", "change"), True, True),
)
"""Every command form (the grammar)."""
FORMS_BY_ACTION = {f.action: f for f in FORMS}
"""Action -> its form."""


@dataclass(frozen=True)
class Intent:
    """A parsed command: the action and its slot values (ports and lines as int, numbers
    and extensions as digit strings, phones as names).

    Attributes
    ----------
    action : str
        A :data:`FORMS` action.
    slots : tuple of (str, object)
        Slot name and value pairs, in the form's order.
    """

    action: str
    slots: tuple[tuple[str, int | str], ...] = ()

    def get(self, name: str) -> int | str:
        """The value of slot ``name`` (KeyError if the form has none)."""
        for key, value in self.slots:
            if key == name:
                return value
        raise KeyError(name)

    @property
    def form(self) -> Form:
        """The intent's form."""
        return FORMS_BY_ACTION[self.action]

    def as_dict(self) -> dict[str, object]:
        """``{"action": ..., slot: value, ...}`` (for JSON)."""
        return {"action": self.action, **dict(self.slots)}


def cardinal_words(n: int) -> list[str]:
    """Words of a cardinal 1..99 (``21 -> ["twenty", "one"]``)."""
    if not 0 < n <= CARDINAL_MAX:
        raise ValueError(f"cardinal {n} outside 1..{CARDINAL_MAX}")
    if n < 10:
        return [DIGIT_WORDS[n]]
    if n < 20:
        return [_TEENS[n - 10]]
    tens, unit = divmod(n, 10)
    return [_TENS[tens]] + ([DIGIT_WORDS[unit]] if unit else [])


def digit_words(digits: str, zero: str = "zero") -> list[str]:
    """Words of a digit string, one per digit (``zero`` is "zero" or "oh")."""
    return [zero if d == "0" else DIGIT_WORDS[int(d)] for d in digits]


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text``; punctuation and hyphens separate words."""
    return re.findall(r"[a-z]+|[0-9]+", text.lower())


def parse_cardinal(words: list[str]) -> int | None:
    """A cardinal 1..99 from its words ("twenty one", "7", "twelve"), else None."""
    if len(words) == 1 and words[0].isdigit():
        n = int(words[0])
        return n if 0 < n <= CARDINAL_MAX and not words[0].startswith("0") else None
    if len(words) == 1:
        w = words[0]
        if w in DIGIT_WORDS[1:]:
            return DIGIT_WORDS.index(w)
        if w in _TEENS:
            return 10 + _TEENS.index(w)
        if w in _TENS[2:]:
            return 10 * _TENS.index(w)
        return None
    if len(words) == 2 and words[0] in _TENS[2:] and words[1] in DIGIT_WORDS[1:]:
        return 10 * _TENS.index(words[0]) + DIGIT_WORDS.index(words[1])
    return None


def parse_digits(words: list[str]) -> str | None:
    """A digit string from digit words, "oh" and numerals ("two one two 555 oh 1"), else
    None (also for no words)."""
    out = []
    for w in words:
        if w.isdigit():
            out.append(w)
        elif w == "oh":
            out.append("0")
        elif w in DIGIT_WORDS:
            out.append(str(DIGIT_WORDS.index(w)))
        else:
            return None
    return "".join(out) or None


def _slot_value(name: str, words: list[str]) -> int | str | None:
    kind = SLOT_KINDS[name]
    if kind == "cardinal":
        return parse_cardinal(words)
    if kind == "name":
        return words[0] if len(words) == 1 and words[0].isalpha() else None
    digits = parse_digits(words)
    if digits is None:
        return None
    if kind == "telephone":
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return digits if len(digits) == 10 else None
    return digits if 2 <= len(digits) <= 6 else None


def _match(form: Form, words: list[str]) -> Intent | None:
    slots: list[tuple[str, int | str]] = []
    i = 0
    pattern = form.words
    for k, item in enumerate(pattern):
        if not item.startswith("<"):
            if i >= len(words) or words[i] != item:
                return None
            i += 1
            continue
        nxt = next((w for w in pattern[k + 1 :] if not w.startswith("<")), None)
        end = len(words) if nxt is None else _find(words, nxt, i)
        if end is None or end == i:
            return None
        value = _slot_value(item[1:-1], words[i:end])
        if value is None:
            return None
        slots.append((item[1:-1], value))
        i = end
    return Intent(form.action, tuple(slots)) if i == len(words) else None


def _find(words: list[str], word: str, start: int) -> int | None:
    for j in range(start, len(words)):
        if words[j] == word:
            return j
    return None


def parse(text: str) -> Intent | None:
    """The intent of a command's text, or None if it is no command of the grammar.

    Examples
    --------
    >>> parse("Connect port twenty one to line 3")
    Intent(action='connect', slots=(('port', 21), ('line', 3)))
    >>> parse("release number two one two, five five five, oh one four two").get("number")
    '2125550142'
    """
    words = tokens(text)
    for form in FORMS:
        if words and words[0] == form.words[0]:
            found = _match(form, words)
            if found is not None:
                return found
    return None


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no or cancel, None for anything else."""
    words = tokens(text)
    if len(words) != 1:
        return None
    return CONFIRM_WORDS.get(words[0])


def _say(name: str, value: int | str, zero: str, groups: bool) -> str:
    kind = SLOT_KINDS[name]
    if kind == "cardinal":
        return " ".join(cardinal_words(int(value)))
    if kind == "name":
        return str(value)
    words = digit_words(str(value), zero)
    if kind == "telephone" and groups:
        return ", ".join(" ".join(words[a:b]) for a, b in ((0, 3), (3, 6), (6, 10)))
    return " ".join(words)


def canonical(intent: Intent) -> str:
    """The canonical text of an intent (what :func:`parse` reads back to the same intent).

    Examples
    --------
    >>> canonical(Intent("forward", (("line", 4), ("target", "2125550100"))))
    'forward line four to two one two five five five zero one zero zero'
    """
    values = dict(intent.slots)
    out = []
    for w in intent.form.words:
        out.append(_say(w[1:-1], values[w[1:-1]], "zero", False) if w.startswith("<") else w)
    return " ".join(out)


def spoken(intent: Intent, rng: np.random.Generator) -> str:
    """A spoken variant of an intent for the corpus: "oh" or "zero", NANP groups or not
    (commas make the synthesiser pause between groups)."""
    zero = "oh" if rng.random() < 0.5 else "zero"
    groups = bool(rng.random() < 0.5)
    values = dict(intent.slots)
    out = []
    for w in intent.form.words:
        out.append(_say(w[1:-1], values[w[1:-1]], zero, groups) if w.startswith("<") else w)
    return " ".join(out)
