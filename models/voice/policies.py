"""Confirmation policies: when a recognised command is read back and waits for "yes".

Every policy sees the same three facts about a recognised command -- whether it would
change the equipment (a query would not), whether it is risky (destructive, or touching a
line with a call up: :func:`models.voice.state.risky`) and the recogniser's confidence --
and says whether to read it back.  Low confidence that asks the
speaker to repeat is a separate rule, the same for every policy (:func:`decide`).

Adding a policy is one class here with its registration, its table
``[voice.policies.<name>]`` in ``sim/config/defaults.toml`` and its test.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry

__all__ = [
    "CONFIRMATION_POLICIES",
    "Always",
    "Changes",
    "ConfirmationPolicy",
    "Decision",
    "Destructive",
    "Never",
    "Threshold",
    "ThresholdDestructive",
    "decide",
]


class ConfirmationPolicy:
    """Base class: :meth:`confirm` says whether a recognised command is read back."""

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        """Read the command back before acting on it?

        Parameters
        ----------
        changes : bool
            Executing it would change the equipment (every command but a query).
        risky : bool
            Destructive or touching a line with a call up.
        confidence : float
            The recogniser's confidence in [0, 1] (1 for typed text).
        """
        raise NotImplementedError


CONFIRMATION_POLICIES: Registry[ConfirmationPolicy] = Registry(
    "confirmation policy", base=ConfirmationPolicy
)
"""Name -> confirmation policy class (built with its table's keyword parameters)."""


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return float(threshold)


@CONFIRMATION_POLICIES.register("never")
class Never(ConfirmationPolicy):
    """Act at once on whatever was recognised (the baseline)."""

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return False


@CONFIRMATION_POLICIES.register("always")
class Always(ConfirmationPolicy):
    """Read back every command."""

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return True


@CONFIRMATION_POLICIES.register("threshold")
class Threshold(ConfirmationPolicy):
    """Read back when the confidence is below ``threshold``."""

    def __init__(self, *, threshold: float) -> None:
        self.threshold = _check_threshold(threshold)

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return confidence < self.threshold


@CONFIRMATION_POLICIES.register("destructive")
class Destructive(ConfirmationPolicy):
    """Read back risky commands only."""

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return risky


@CONFIRMATION_POLICIES.register("changes")
class Changes(ConfirmationPolicy):
    """Read back every command that would change the equipment; answer queries at once.

    A wrong action needs a command heard wrong *and* executed; under this policy it also
    needs a "no" heard as "yes".  The confidence is not trusted: on the tuning part of the
    corpus, ports and lines heard wrong ("seven" as "two") reached confidences of 0.99, and
    a connect names them too."""

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return changes


@CONFIRMATION_POLICIES.register("threshold_destructive")
class ThresholdDestructive(ConfirmationPolicy):
    """Read back risky commands, and any command below ``threshold``."""

    def __init__(self, *, threshold: float) -> None:
        self.threshold = _check_threshold(threshold)

    def confirm(self, *, changes: bool, risky: bool, confidence: float) -> bool:
        return risky or confidence < self.threshold


@dataclass(frozen=True)
class Decision:
    """What the system does with one recognised utterance.

    Attributes
    ----------
    kind : str
        ``"repeat"`` (not understood, or confidence below the repeat floor), ``"confirm"``
        (read back and wait for yes/no), ``"execute"`` (act now).
    """

    kind: str


def decide(
    *,
    understood: bool,
    confidence: float,
    changes: bool,
    risky: bool,
    policy: ConfirmationPolicy,
    repeat_below: float,
) -> Decision:
    """The system's next move on a recognised command.

    Parameters
    ----------
    understood : bool
        The text parsed as a command of the grammar.
    confidence : float
        The recogniser's confidence.
    changes : bool
        The command would change the equipment (``intent.form.changes``).
    risky : bool
        From :func:`models.voice.state.risky`.
    policy : ConfirmationPolicy
        The confirmation policy.
    repeat_below : float
        Confidence below which the speaker is asked to repeat, whatever the policy.
    """
    if not understood or confidence < repeat_below:
        return Decision("repeat")
    if policy.confirm(changes=changes, risky=risky, confidence=confidence):
        return Decision("confirm")
    return Decision("execute")
