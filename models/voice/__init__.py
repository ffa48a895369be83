"""Managing telecommunications connections by voice (US 2023/0134524): the logic without
I/O that the voice service (``services/voice``) and the voice study share.

* :mod:`.grammar` -- the command grammar as data (:data:`FORMS`), spoken numbers, the
  text -> intent parser and intent -> canonical text.
* :mod:`.state` -- the equipment (ports, lines, cross-connects, numbers and holders,
  phones and extensions, forwarding, calls up), actions with their undo steps.
* :mod:`.jsgf` -- recogniser grammars from the command grammar and the live equipment.
* :mod:`.policies` -- confirmation policies (:data:`CONFIRMATION_POLICIES`) and the rule
  of the next move.
* :mod:`.dialogue` -- one command's dialogue judged against the truth (the study).
* :mod:`.speech`, :mod:`.recognize`, :mod:`.corpus` -- WAV checks, espeak-ng synthesis and
  noise; pocketsphinx recognition; the corpus.
"""

from __future__ import annotations

from .grammar import FORMS, Form, Intent, canonical, parse, parse_yes_no, spoken
from .policies import CONFIRMATION_POLICIES, ConfirmationPolicy, Decision, decide
from .state import Change, Equipment, Outcome, execute, explain_missing, risky, undo

__all__ = [
    "CONFIRMATION_POLICIES",
    "FORMS",
    "Change",
    "ConfirmationPolicy",
    "Decision",
    "Equipment",
    "Form",
    "Intent",
    "Outcome",
    "canonical",
    "decide",
    "execute",
    "explain_missing",
    "parse",
    "parse_yes_no",
    "risky",
    "spoken",
    "undo",
]
