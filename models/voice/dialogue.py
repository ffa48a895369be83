"""One command's dialogue, turn by turn, judged against what the speaker meant (the
study's unit of evaluation; the service runs the same rules live).

The speaker says the command; the system hears a text and a confidence.  Not understood,
below the repeat floor, or naming equipment that does not exist: the system says so and
the speaker says the command again.  Otherwise the confirmation policy decides whether to
read it back; the speaker answers "yes" exactly when the read-back is what they meant, and
"no" otherwise (then says the command again).  An executed command that is not what was
meant and changed the equipment is a *wrong action*: the cost that matters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .grammar import Intent, parse, parse_yes_no
from .policies import ConfirmationPolicy, decide
from .recognize import Recognition
from .state import Equipment, execute, explain_missing, risky

__all__ = ["DialogueResult", "run_dialogue"]


@dataclass(frozen=True)
class DialogueResult:
    """How one command went.

    Attributes
    ----------
    turns : int
        Utterances the speaker made (commands and yes/no answers).
    executed : Intent or None
        What the system executed (None: gave up after ``max_turns``).
    completed : bool
        The system executed exactly the intended command.
    wrong_action : bool
        It executed another command that changed the equipment.
    wrong_answer : bool
        It executed another command that changed nothing (a wrong status read out, a
        command refused with an explanation).
    seconds : float
        Recognition time summed over the turns.
    first_correct : bool
        The first utterance was recognised as the intended command (exact intent).
    """

    turns: int
    executed: Intent | None
    completed: bool
    wrong_action: bool
    wrong_answer: bool
    seconds: float
    first_correct: bool


def run_dialogue(
    truth: Intent,
    state: Equipment,
    hear: Callable[[int], Recognition],
    answer: Callable[[bool, int], Recognition],
    *,
    policy: ConfirmationPolicy,
    repeat_below: float,
    max_turns: int,
) -> DialogueResult:
    """Play one command's dialogue (``state`` is not changed).

    Parameters
    ----------
    truth : Intent
        What the speaker means.
    state : Equipment
        The equipment when the command is spoken.
    hear : callable
        ``hear(k)``: the recognition of the speaker's ``k``-th saying of the command
        (callers cache it, so every policy hears the same attempts: paired comparisons).
    answer : callable
        ``answer(yes, k)``: the recognition of the ``k``-th yes (or no) of this command.
    policy : ConfirmationPolicy
        When to read back.
    repeat_below : float
        Confidence below which the system asks to repeat.
    max_turns : int
        The speaker gives up after this many utterances.
    """
    turns, attempt, answers, seconds = 0, 0, 0, 0.0
    first_correct = False
    while turns < max_turns:
        heard = hear(attempt)
        attempt += 1
        turns += 1
        seconds += heard.seconds
        intent = parse(heard.text)
        if attempt == 1:
            first_correct = intent == truth
        ok = intent is not None and explain_missing(intent, state) is None
        move = decide(
            understood=ok,
            confidence=heard.confidence,
            changes=intent is not None and intent.form.changes,
            risky=intent is not None and risky(intent, state),
            policy=policy,
            repeat_below=repeat_below,
        )
        if move.kind == "repeat" or intent is None:
            continue
        if move.kind == "confirm":
            if turns >= max_turns:
                break
            said = answer(intent == truth, answers)
            answers += 1
            turns += 1
            seconds += said.seconds
            if parse_yes_no(said.text) is not True:
                continue
        return _judge(truth, intent, state, turns, seconds, first_correct)
    return DialogueResult(turns, None, False, False, False, seconds, first_correct)


def _judge(
    truth: Intent,
    done: Intent,
    state: Equipment,
    turns: int,
    seconds: float,
    first_correct: bool,
) -> DialogueResult:
    if done == truth:
        return DialogueResult(turns, done, True, False, False, seconds, first_correct)
    if done.action == "undo":  # undoing the last change always changes something here
        changed = True
    else:
        changed = execute(done, state.copy()).change is not None
    return DialogueResult(turns, done, False, changed, not changed, seconds, first_correct)
