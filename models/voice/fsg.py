"""A JSGF grammar compiled to its minimal deterministic word automaton (same weighted language).

pocketsphinx compiles a JSGF grammar into a finite-state grammar with a state for every
word position of every alternative (a list of twelve telephone numbers spoken with "oh"
or "zero" alone makes hundreds), and its grammar search pays for every state at every
frame, active or not (``fsg_history_end_frame`` walks every state and every context
phone: 53% of the decoding time on the study's commands, measured with ``perf``).  The
language has far fewer distinct states: the numbers share their area codes, every command
shares its pauses and endings.

:func:`minimal_fsg` keeps pocketsphinx's own JSGF compiler (the grammar stays the JSGF of
:mod:`.jsgf`) and then, with OpenFst (``pynini``, the library weighted-automaton speech
decoders are built on), removes the null transitions, determinises and minimises the
automaton, each word kept together with its transition probability (an encoded acceptor):
every word sequence is accepted with the same best path weight as before, and the weights
stay where the grammar put them (no weight pushing).  1,772 states become 299 on a
replication's switch of the study.  (Alternative pronunciations, "the(2)", are not in the
compiled grammar: pocketsphinx's search adds them when the grammar is loaded.)
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

__all__ = ["minimal_fsg", "to_fst"]


def _transitions(fsg: Any) -> tuple[int, int, list[tuple[int, int, float, str | None]]]:
    """Start state, final state and transitions ``(from, to, probability, word or None)``
    of a pocketsphinx ``FsgModel`` (read from its text form: the model has no iterator)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "grammar.fsg")
        fsg.writefile(path)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    start = final = 0
    out: list[tuple[int, int, float, str | None]] = []
    for line in lines:
        fields = line.split()
        if fields and fields[0] == "START_STATE":
            start = int(fields[1])
        elif fields and fields[0] == "FINAL_STATE":
            final = int(fields[1])
        elif fields and fields[0] == "TRANSITION":
            word = fields[4] if len(fields) > 4 else None
            out.append((int(fields[1]), int(fields[2]), float(fields[3]), word))
    return start, final, out


def to_fst(fsg: Any, symbols: Any = None) -> tuple[Any, Any]:
    """A pocketsphinx ``FsgModel`` as an OpenFst acceptor over its words (tropical
    weights: minus the natural log of each transition's probability).

    Parameters
    ----------
    fsg : pocketsphinx.FsgModel
        The grammar.
    symbols : pynini.SymbolTable, optional
        The words' labels, extended as needed (a fresh table if omitted): two grammars
        compared share one.

    Returns
    -------
    tuple
        The acceptor (``pynini.Fst``) and the symbol table.
    """
    import pynini
    import pywrapfst  # OpenFst's own classes, which pynini re-exports

    start, final, transitions = _transitions(fsg)
    if symbols is None:
        symbols = pywrapfst.SymbolTable()
        symbols.add_symbol("<eps>")
    fst = pynini.Fst()
    n = 1 + max([start, final] + [max(a, b) for a, b, _, _ in transitions])
    fst.add_states(n)
    fst.set_start(start)
    fst.set_final(final)
    for a, b, p, word in transitions:
        label = 0 if word is None else symbols.add_symbol(word)
        fst.add_arc(a, pywrapfst.Arc(label, label, -math.log(p), b))
    return fst, symbols


def minimal_fsg(decoder: Any, jsgf: str, name: str) -> Any:
    """The minimal deterministic finite-state grammar of ``jsgf``, each word with its
    probability where the grammar put it (the same words, paths and weights).

    Parameters
    ----------
    decoder : pocketsphinx.Decoder
        Compiles the JSGF (``parse_jsgf``) and loads the result (its dictionary and
        language weight).
    jsgf : str
        A JSGF grammar whose first public rule is the command.
    name : str
        Name of the returned grammar.

    Returns
    -------
    pocketsphinx.FsgModel
        One final state (reached by null transitions carrying the final weights), words on
        the other transitions; ready for ``decoder.add_fsg``.
    """
    import pynini
    import pywrapfst  # OpenFst's own classes, which pynini re-exports

    fst, symbols = to_fst(decoder.parse_jsgf(jsgf))
    fst.rmepsilon()
    mapper = pywrapfst.EncodeMapper(fst.arc_type(), True, True)  # labels and weights together
    fst.encode(mapper)
    fst = pynini.determinize(fst)
    fst.minimize()
    fst.decode(mapper)
    if fst.start() < 0:
        raise ValueError(f"grammar {name!r} accepts nothing")
    final = fst.num_states()
    zero = pywrapfst.Weight.zero(fst.weight_type())
    lines = [f"FSG_BEGIN {name}", f"NUM_STATES {final + 1}"]
    lines += [f"START_STATE {fst.start()}", f"FINAL_STATE {final}"]
    for s in fst.states():
        for arc in fst.arcs(s):
            assert arc.ilabel, "null transitions were removed before determinising"
            p = math.exp(-float(arc.weight))
            lines.append(f"TRANSITION {s} {arc.nextstate} {p:.9g} {symbols.find(arc.ilabel)}")
        if fst.final(s) != zero:
            lines.append(f"TRANSITION {s} {final} {math.exp(-float(fst.final(s))):.9g}")
    lines.append("FSG_END")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "grammar.fsg")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return decoder.read_fsg(path)
