"""The voice command logic: grammar round trips, spoken numbers, the equipment's actions
and undo, confirmation policies, the JSGF grammar, and one dialogue judged against the
truth."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tools import require_module

from models.voice import (
    CONFIRMATION_POLICIES,
    FORMS,
    Equipment,
    Intent,
    canonical,
    decide,
    execute,
    parse,
    parse_yes_no,
    risky,
    spoken,
    undo,
)
from models.voice.corpus import equipment_for, sample_equipment, sample_intent
from models.voice.dialogue import run_dialogue
from models.voice.fsg import minimal_fsg, to_fst
from models.voice.grammar import parse_cardinal, parse_digits
from models.voice.jsgf import command_grammar
from models.voice.recognize import Recognition

SEEDS = st.integers(0, 2**32 - 1)


@settings(max_examples=200, deadline=None)
@given(SEEDS)
def test_canonical_and_spoken_text_parse_back_to_the_same_intent(seed):
    rng = np.random.default_rng(seed)
    state = sample_equipment(rng)
    intent = sample_intent(rng, state)
    assert parse(canonical(intent)) == intent
    assert parse(spoken(intent, rng)) == intent


def test_every_form_is_sampled_and_round_trips():
    rng = np.random.default_rng(5)
    state = sample_equipment(rng)
    seen = {sample_intent(rng, state).action for _ in range(400)}
    assert seen == {f.action for f in FORMS}


@pytest.mark.parametrize(
    ("words", "value"),
    [("one", 1), ("twelve", 12), ("twenty", 20), ("twenty one", 21), ("99", 99), ("7", 7)],
)
def test_cardinals(words, value):
    assert parse_cardinal(words.split()) == value


@pytest.mark.parametrize("words", ["zero", "twenty twenty", "one two", "0", "100", "oh"])
def test_not_cardinals(words):
    assert parse_cardinal(words.split()) is None


def test_spoken_numbers_digits_oh_and_nanp_groups():
    text = "release number two one two, five five five, oh one four two"
    assert parse(text) == Intent("release", (("number", "2125550142"),))
    assert parse("release number 212-555-0142") == parse(text)
    assert parse("release number 1 212 555 0142") == parse(text)  # a leading 1 (NANP)
    assert parse("release number two one two five five five") is None  # six digits
    assert parse_digits("two oh zero nine".split()) == "2009"
    assert parse_digits(["two", "to"]) is None


@pytest.mark.parametrize(
    "text",
    ["", "connect port", "connect port twelve to line", "connect port twelve line three",
     "disconnect port 3 to line 4", "please undo", "forward line one to two", "undo the change",
     "assign number 2125550142 to phone two words", "connect port 0 to line 3"],
)  # fmt: skip
def test_not_commands(text):
    assert parse(text) is None


def test_yes_no():
    assert parse_yes_no("Yes") is True and parse_yes_no("no") is False
    assert parse_yes_no("cancel") is False and parse_yes_no("yes no") is None
    assert parse_yes_no("maybe") is None


def _state() -> Equipment:
    return Equipment(
        ports={1, 2, 3},
        lines={1, 2, 3},
        cross={1: 1},
        numbers={
            "2125550100": {"state": "available", "holder": None},
            "2125550142": {"state": "assigned", "holder": "phone:lobby"},
        },
        phones={"lobby", "alpha"},
        extensions={"201": "lobby"},
        calls_up={1},
    )


@pytest.mark.parametrize(
    "text",
    ["connect port two to line three", "disconnect port one from line one",
     "assign number 2125550100 to phone alpha", "assign number 2125550100 to extension 201",
     "forward line two to 4155550123", "forward line one to 4155550123",
     "release number 2125550142", "move extension 201 to phone alpha"],
)  # fmt: skip
def test_actions_change_the_state_and_undo_restores_it(text):
    state = _state()
    before = state.to_dict()
    out = execute(parse(text), state)
    assert out.change is not None, out.reply
    assert state.to_dict() != before
    undo(out.change, state)
    assert state.to_dict() == before


@pytest.mark.parametrize(
    ("text", "reply"),
    [("connect port nine to line one", "There is no port nine."),
     ("show status of line twelve", "There is no line twelve."),
     ("release number 2125550199", "is not one of ours"),
     ("move extension 201 to phone bravo", "There is no phone named bravo."),
     ("move extension 299 to phone alpha", "There is no extension"),
     ("connect port one to line two", "already on line one"),
     ("connect port two to line one", "already on port one"),
     ("disconnect port two from line two", "is not connected"),
     ("assign number 2125550142 to phone alpha", "assigned, not available"),
     ("release number 2125550100", "available, not assigned"),
     ("move extension 201 to phone lobby", "already on phone lobby")],
)  # fmt: skip
def test_what_cannot_be_done_is_explained_and_changes_nothing(text, reply):
    state = _state()
    before = state.to_dict()
    out = execute(parse(text), state)
    assert out.change is None and reply in out.reply
    assert state.to_dict() == before


def test_queries_answer_without_change():
    state = _state()
    assert execute(parse("show status of line one"), state).reply == (
        "Line one is on port one, with a call up."
    )
    assert (
        "assigned to phone lobby" in execute(parse("show status of number 2125550142"), state).reply
    )
    assert execute(parse("show status of port two"), state).reply == "Port two is free."


def test_state_round_trips_through_json():
    state = sample_equipment(np.random.default_rng(3))
    assert Equipment.from_dict(state.to_dict()) == state


def test_risky_commands():
    state = _state()
    assert risky(parse("disconnect port one from line one"), state)  # destructive
    assert risky(parse("forward line two to 4155550123"), state)
    assert not risky(parse("connect port two to line two"), state)
    state.calls_up.add(2)
    assert risky(parse("connect port two to line two"), state)  # a call up on line two
    assert not risky(parse("move extension 201 to phone alpha"), state)


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [("never", {}, [False, False, False, False, False, False]),
     ("always", {}, [True, True, True, True, True, True]),
     ("threshold", {"threshold": 0.5}, [False, True, False, True, False, True]),
     ("destructive", {}, [False, False, False, False, True, True]),
     ("changes", {}, [False, False, True, True, True, True]),
     ("threshold_destructive", {"threshold": 0.5}, [False, True, False, True, True, True])],
)  # fmt: skip
def test_confirmation_policies(name, params, expected):
    policy = CONFIRMATION_POLICIES.build(name, **params)
    # a query, a change that is not risky, a risky change; each confident and not
    cases = [(False, False, 0.9), (False, False, 0.2), (True, False, 0.9), (True, False, 0.2),
             (True, True, 0.9), (True, True, 0.2)]  # fmt: skip
    got = [policy.confirm(changes=ch, risky=r, confidence=c) for ch, r, c in cases]
    assert got == expected


def test_threshold_is_checked():
    with pytest.raises(ValueError, match="threshold"):
        CONFIRMATION_POLICIES.build("threshold", threshold=1.5)


def test_decide_repeats_below_the_floor_whatever_the_policy():
    never = CONFIRMATION_POLICIES.build("never")
    args = {"changes": True, "risky": False, "policy": never, "repeat_below": 0.1}
    assert decide(understood=True, confidence=0.05, **args).kind == "repeat"
    assert decide(understood=False, confidence=0.9, **args).kind == "repeat"
    assert decide(understood=True, confidence=0.5, **args).kind == "execute"


def test_jsgf_names_the_live_equipment():
    state = _state()
    g = command_grammar(state, known=lambda w: w != "alpha")
    assert "<phone> = ( lobby );" in g  # a name the dictionary lacks is left out
    assert (
        "( two one two [ sil_pause ] five five five [ sil_pause ] "
        "( zero | oh ) one ( zero | oh ) ( zero | oh ) )" in g
    )
    for form in FORMS:
        assert " ".join(form.words) in g or form.destructive


@pytest.fixture(scope="module")
def decoder():
    require_module("pocketsphinx", "pip install pocketsphinx (in requirements.lock)")
    from pocketsphinx import Decoder

    return Decoder(lm=None, jsgf=None, loglevel="FATAL")


def _compiled(grammar: str, tmp_path, decoder):
    """pocketsphinx's own compilation of ``grammar`` and its minimal automaton."""
    import pocketsphinx as ps

    path = tmp_path / "command.gram"
    path.write_text(grammar)
    jsgf = ps.Jsgf(str(path))
    lw = decoder.config["lw"]  # the language weight minimal_fsg's parse uses
    fsg = jsgf.build_fsg(jsgf.get_rule("command.command"), decoder.get_logmath(), lw)
    return fsg, minimal_fsg(decoder, grammar, "command")


def _accepts(grammar: str, tmp_path, decoder) -> Callable[[str], bool]:
    """Whether the grammar admits a text, checked on both compilations (they must agree)."""
    fsg, small = _compiled(grammar, tmp_path, decoder)

    def accepts(text: str) -> bool:
        heard = bool(fsg.accept(text))
        assert bool(small.accept(text)) is heard, text
        return heard

    return accepts


def _mutations(words: list[str], rng: np.random.Generator, vocabulary: list[str]) -> list[str]:
    """The text, one word dropped, one replaced, two swapped, one repeated."""
    i, j = sorted(rng.choice(len(words), 2, replace=len(words) < 2))
    replaced = words[:i] + [str(rng.choice(vocabulary))] + words[i + 1 :]
    out = [words, words[:i] + words[i + 1 :], replaced]
    swapped = list(words)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    out += [swapped, words[: i + 1] + words[i:]]
    return [" ".join(w) for w in out]


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_minimal_automaton_has_the_weighted_language_of_the_jsgf(seed, tmp_path_factory, decoder):
    require_module("pynini", "pip install pynini (in requirements.lock)")
    import pynini

    rng = np.random.default_rng(seed)
    state = sample_equipment(rng)
    grammar = command_grammar(state)
    fsg, small = _compiled(grammar, tmp_path_factory.mktemp("g"), decoder)
    vocabulary = sorted({w for f in FORMS for w in f.words} | {"oh", "zero", "two", "sil_pause"})
    for _ in range(5):
        text = spoken(sample_intent(rng, state), rng).replace(",", "")
        assert fsg.accept(text)  # what the corpus says is in the grammar
        for variant in _mutations(text.split(), rng, vocabulary):
            assert bool(small.accept(variant)) is bool(fsg.accept(variant)), variant
    # every path keeps its weight: random paths of each weigh the same in the other, up to
    # pocketsphinx's storage of log probabilities as integers in base 1.0001 (reading the
    # minimal grammar back rounds each transition once more; no command has 32)
    original, symbols = to_fst(decoder.parse_jsgf(grammar))
    smaller, _ = to_fst(small, symbols)
    original.rmepsilon()
    smaller.rmepsilon()
    delta = 32 * math.log(1.0001)
    assert pynini.randequivalent(original, smaller, npath=200, seed=seed % 2**31, delta=delta)
    assert smaller.num_states() * 2 < original.num_states()


@settings(max_examples=20, deadline=None)
@given(seed=SEEDS)
def test_a_grammar_over_equipment_for_recorded_commands_hears_each(seed, tmp_path_factory, decoder):
    rng = np.random.default_rng(seed)
    elsewhere = sample_equipment(rng)  # the commands name another switch's equipment
    intents = [sample_intent(rng, elsewhere) for _ in range(8)]
    state = equipment_for(intents, sample_equipment(rng))
    accepts = _accepts(command_grammar(state), tmp_path_factory.mktemp("g"), decoder)
    for intent in intents:
        assert accepts(canonical(intent)), canonical(intent)


@pytest.mark.parametrize(
    ("text", "heard"),
    [
        ("disconnect port one from line one", True),  # the one cross-connect
        ("disconnect port two from line one", False),  # "two" for "twelve": no such pair
        ("disconnect port one from line two", False),
        ("release number two one two five five five oh one four two", True),  # assigned
        ("release number two one two five five five oh one oh oh", False),  # available
        ("forward line two to two one two five five five oh one oh oh", True),
        ("forward line two to one two one two five five five oh one oh", False),  # area 1xx
        ("forward line two to two one two oh five five oh one oh oh", False),  # exchange 0xx
        ("forward line two to two one two five five five oh one oh", False),  # nine digits
        ("connect port one to line two", True),  # busy port: not narrowed, explained
        ("assign number two one two five five five oh one four two to phone lobby", True),
        ("show status of port three", True),
        ("show status of port four", False),  # no such port
    ],
)
def test_jsgf_narrows_destructive_forms_to_what_they_can_act_on(text, heard, tmp_path, decoder):
    assert _accepts(command_grammar(_state()), tmp_path, decoder)(text) is heard


def test_jsgf_without_cross_connects_or_assigned_numbers_still_hears_the_rest(tmp_path, decoder):
    state = _state()
    state.cross = {}
    state.numbers["2125550142"] = {"state": "aging", "holder": None}
    accepts = _accepts(command_grammar(state), tmp_path, decoder)
    assert accepts("show status of port one") and accepts("connect port one to line one")
    assert not accepts("disconnect port one from line one")
    assert not accepts("release number two one two five five five oh one four two")
    state.phones = {"alpha"}  # no phone name the dictionary knows: no command names one
    accepts = _accepts(command_grammar(state, known=lambda w: w != "alpha"), tmp_path, decoder)
    assert accepts("show status of port one")


@pytest.mark.parametrize(
    ("text", "heard"),
    [
        ("sil_pause show status of port three", True),  # noise around the words
        ("show status of sil_pause port three", False),  # never between command words
        ("release number two one two sil_pause five five five sil_pause oh one four two", True),
        ("release number two one sil_pause two five five five oh one four two", False),
        ("forward line two to two one two sil_pause five five five oh one oh oh", True),
        ("forward line two to two one two five sil_pause five five oh one oh oh", False),
        ("sil_pause sil_pause undo the last change", False),
    ],
)
def test_jsgf_pauses_only_around_commands_and_between_number_groups(text, heard, tmp_path, decoder):
    assert _accepts(command_grammar(_state()), tmp_path, decoder)(text) is heard


def _rec(text: str, conf: float = 0.9) -> Recognition:
    return Recognition(text, conf, 0.01)


def test_dialogue_wrong_action_without_confirmation_none_with_it():
    state = _state()
    truth = parse("connect port two to line two")
    heard = [_rec("connect port three to line two"), _rec("connect port two to line two")]

    def answer(yes, k):
        return _rec("yes" if yes else "no")

    def run(name, **kw):
        return run_dialogue(
            truth,
            state,
            lambda k: heard[k],
            answer,
            policy=CONFIRMATION_POLICIES.build(name, **kw),
            repeat_below=0.05,
            max_turns=4,
        )

    never = run("never")
    assert never.wrong_action and not never.completed and never.turns == 1
    always = run("always")  # read back, "no", said again, read back, "yes"
    assert always.completed and not always.wrong_action and always.turns == 4
    assert not always.first_correct
    assert state.to_dict() == _state().to_dict()  # the dialogue changed nothing
    short = run_dialogue(
        truth, state, lambda k: heard[k], answer,
        policy=CONFIRMATION_POLICIES.build("always"), repeat_below=0.05, max_turns=3,
    )  # fmt: skip
    assert short.executed is None and short.turns == 3  # gave up: no action
