"""Scoring a replacement decision against the truth: who the new phone's user really is.

A policy (:data:`models.provisioning.replacement.REPLACEMENT_POLICIES`) decides from the
:class:`~models.provisioning.replacement.ReplacementRequest` alone -- what the server
observes.  A study knows more: the user at the desk where the new phone was installed,
and whose record the request's identifier found.  :func:`score` judges the decision with
that knowledge:

* **wrong user**: the record copied is not the desk user's (the new phone rings for, and
  shows the speed dials of, someone else) -- an administrator has to put it right;
* **refused**: the replacement waits for an administrator; *protective* when accepting
  would have copied the wrong record, *needless* otherwise;
* **fields lost**: settings of the desk user's record the new phone did not get when it
  came into service (the excluded fields of a partial copy, or all of them after a wrong
  copy); an administrator restores the whole record;
* **admin touches**: every refusal, every manual replacement and every wrong copy costs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .records import PhoneConfig, config_fields
from .replacement import ReplacementDecision

__all__ = ["Score", "non_default_fields", "score"]


def non_default_fields(record: Any, schema: type = PhoneConfig) -> frozenset[str]:
    """Fields of ``record`` that differ from a phone fresh from its box (``schema()``).

    Examples
    --------
    >>> sorted(non_default_fields(PhoneConfig(display_name="Ada", dnd=True)))
    ['display_name', 'dnd']
    """
    fresh = schema()
    return frozenset(
        name for name in config_fields(schema) if getattr(record, name) != getattr(fresh, name)
    )


@dataclass(frozen=True)
class Score:
    """A decision judged against the truth.

    Attributes
    ----------
    accepted : bool
        The record was copied without an administrator.
    wrong_user : bool
        Accepted, and the record copied is not the desk user's.
    refused : bool
        Left to an administrator (refused or manual).
    protective : bool
        Refused where accepting would have copied another user's record.
    fields_lost : int
        Configured fields of the desk user's record the phone did not get when it came
        into service.
    admin_touches : int
        Administrator interventions (0 or 1).
    """

    accepted: bool
    wrong_user: bool
    refused: bool
    protective: bool
    fields_lost: int
    admin_touches: int


def score(
    decision: ReplacementDecision,
    *,
    desk_user: int,
    found_user: int | None,
    configured: frozenset[str],
    schema: type = PhoneConfig,
) -> Score:
    """Judge a decision against the truth.

    Parameters
    ----------
    decision : ReplacementDecision
        What the policy decided.
    desk_user : int
        The user at the desk where the new phone was installed (the truth).
    found_user : int or None
        The user whose record the request's identifier found (None: none found).
    configured : frozenset of str
        The desk user's configured (non-default) fields (:func:`non_default_fields`).
    schema : type
        The record's dataclass.

    Returns
    -------
    Score

    Examples
    --------
    >>> from models.provisioning.replacement import ReplacementDecision, BASIC_EXCLUDED
    >>> d = ReplacementDecision("accept", key="headset", excluded=BASIC_EXCLUDED)
    >>> s = score(d, desk_user=3, found_user=3, configured=frozenset({"blf", "numbers"}))
    >>> s.wrong_user, s.fields_lost, s.admin_touches
    (False, 1, 0)
    """
    if decision.accepted:
        if found_user is None:
            raise ValueError("an accepted replacement must have found a record")
        if found_user != desk_user:
            return Score(True, True, False, False, len(configured), 1)
        lost = configured - set(decision.copied(schema))
        return Score(True, False, False, False, len(lost), 0)
    protective = found_user is not None and found_user != desk_user
    return Score(False, False, True, protective, 0, 1)
