"""Replacement policies: each decides from what the server observes, as documented."""

from __future__ import annotations

import dataclasses

import pytest

from models.provisioning import (
    BASIC_EXCLUDED,
    REASONS,
    REPLACEMENT_POLICIES,
    HeadsetId,
    PhoneConfig,
    ReplacementDecision,
    ReplacementRequest,
    config_fields,
)

HS = HeadsetId(0x0B0E, 0x245D, "SN123")
GOOD = ReplacementRequest(
    new_mac="0004f2aabbcc",
    headset=HS,
    pin_ok=True,
    extension="+12124561000",
    extension_known=True,
    old_registered=False,
    headset_users=1,
)


def _with(**changes) -> ReplacementRequest:
    return dataclasses.replace(GOOD, **changes)


def test_every_policy_is_registered():
    assert REPLACEMENT_POLICIES.names() == (
        "headset",
        "headset_pin",
        "refuse_registered",
        "extension_pin",
        "copy_basic",
        "manual",
    )
    for name in REPLACEMENT_POLICIES:
        assert set(REPLACEMENT_POLICIES.parameters(name)) == {"refuse_conflicts"}


CASES = [
    # policy, changes, outcome, reason
    ("headset", {}, "accept", ""),
    ("headset", {"headset": None}, "refuse", "no_headset"),
    ("headset", {"headset_users": 0}, "refuse", "unknown_headset"),
    ("headset", {"headset_users": 2}, "refuse", "headset_conflict"),
    ("headset", {"pin_ok": False, "old_registered": True}, "accept", ""),
    ("headset_pin", {}, "accept", ""),
    ("headset_pin", {"pin_ok": None}, "refuse", "pin_required"),
    ("headset_pin", {"pin_ok": False}, "refuse", "wrong_pin"),
    ("headset_pin", {"headset_users": 0, "pin_ok": False}, "refuse", "unknown_headset"),
    ("refuse_registered", {}, "accept", ""),
    ("refuse_registered", {"old_registered": True}, "refuse", "old_registered"),
    ("refuse_registered", {"headset_users": 3}, "refuse", "headset_conflict"),
    ("extension_pin", {"headset": None}, "accept", ""),
    ("extension_pin", {"extension": None}, "refuse", "no_extension"),
    ("extension_pin", {"extension_known": False}, "refuse", "unknown_extension"),
    ("extension_pin", {"pin_ok": None}, "refuse", "pin_required"),
    ("extension_pin", {"pin_ok": False}, "refuse", "wrong_pin"),
    ("copy_basic", {}, "accept", ""),
    ("copy_basic", {"headset_users": 0}, "refuse", "unknown_headset"),
    ("manual", {}, "admin", "manual"),
]


@pytest.mark.parametrize(("policy", "changes", "outcome", "reason"), CASES)
def test_decisions(policy, changes, outcome, reason):
    d = REPLACEMENT_POLICIES.build(policy).decide(_with(**changes))
    assert (d.outcome, d.reason) == (outcome, reason)
    assert d.reason == "" or d.reason in REASONS


def test_copied_fields():
    every = config_fields()
    assert REPLACEMENT_POLICIES.build("headset").decide(GOOD).copied() == every
    basic = REPLACEMENT_POLICIES.build("copy_basic").decide(GOOD).copied()
    assert set(basic) == set(every) - BASIC_EXCLUDED
    assert REPLACEMENT_POLICIES.build("headset").decide(_with(headset=None)).copied() == ()
    assert REPLACEMENT_POLICIES.build("extension_pin").decide(GOOD).key == "extension"


def test_conflicting_headset_taken_when_not_refused():
    d = REPLACEMENT_POLICIES.build("headset", refuse_conflicts=False).decide(_with(headset_users=2))
    assert d.accepted and d.ambiguous and d.key == "headset"
    with pytest.raises(TypeError):
        REPLACEMENT_POLICIES.build("headset", refuse_conflicts="yes")


def test_a_new_field_is_copied_by_the_headset_policies():
    plus = dataclasses.make_dataclass(
        "Plus", [("x", int, dataclasses.field(default=0))], bases=(PhoneConfig,), frozen=True
    )
    for name in ("headset", "headset_pin", "refuse_registered", "extension_pin"):
        assert "x" in REPLACEMENT_POLICIES.build(name).decide(GOOD).copied(plus), name


def test_decision_and_headset_validation():
    with pytest.raises(ValueError):
        ReplacementDecision("accept", "manual")
    with pytest.raises(ValueError):
        ReplacementDecision("refuse")
    with pytest.raises(ValueError):
        ReplacementDecision("refuse", "because")
    assert HeadsetId.from_key(HS.key) == HS
    for bad in ("", "0b0e:245d", "zzzz:245d:S", "0b0e:245d:", "0b0e:245d:a;b", "10000:1:s"):
        with pytest.raises(ValueError):
            HeadsetId.from_key(bad)
    with pytest.raises(ValueError):
        HeadsetId(-1, 0, "s")
