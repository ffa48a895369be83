"""The phone record: every field is copied, stored and read back -- including a field
added to the schema after the copy was written."""

from __future__ import annotations

import dataclasses
import json

import pytest

from models.provisioning import (
    BASIC_EXCLUDED,
    Forwarding,
    LineAppearance,
    PhoneConfig,
    SpeedDial,
    Voicemail,
    config_fields,
    config_from_dict,
    config_to_dict,
    copy_config,
)

FULL = PhoneConfig(
    numbers=("+12124561000", "+12124561001"),
    display_name="Ada Lovelace",
    line_appearances=(
        LineAppearance("+12124561000", "Ada", True),
        LineAppearance("+12124561001", "Lab", False),
    ),
    speed_dials=(SpeedDial("Boss", "+12124561999"),),
    blf=("+12124561002",),
    forwarding=Forwarding(
        always="", busy="+12124561003", no_answer="+12124561004", no_answer_seconds=15
    ),
    dnd=True,
    voicemail=Voicemail(
        enabled=True, pilot="+12124560000", email="ada@example.org", greeting="busy"
    ),
    language="fr-CA",
    timezone="America/Toronto",
    softkeys=("redial", "park"),
    services=("directory", "weather"),
    ringtone="chime",
)


def test_every_field_of_the_full_record_differs_from_a_new_phone():
    """The fixture exercises every field, so a copy that skips one is seen."""
    blank = PhoneConfig()
    same = [n for n in config_fields() if getattr(FULL, n) == getattr(blank, n)]
    assert same == []


def test_copy_takes_every_field():
    assert copy_config(FULL, PhoneConfig()) == FULL


def test_copy_of_some_fields_leaves_the_others_at_the_new_phones():
    kept = [n for n in config_fields() if n not in BASIC_EXCLUDED]
    copy = copy_config(FULL, PhoneConfig(), kept)
    for name in config_fields():
        want = getattr(PhoneConfig() if name in BASIC_EXCLUDED else FULL, name)
        assert getattr(copy, name) == want, name


def test_copy_refuses_unknown_fields_and_other_schemas():
    with pytest.raises(ValueError, match="unknown record fields: nope"):
        copy_config(FULL, PhoneConfig(), ["nope"])
    with pytest.raises(ValueError):
        copy_config(FULL, Forwarding())


def _extended():
    """The schema with one more field, as a later engineer would add it."""
    return dataclasses.make_dataclass(
        "PhoneConfigPlus",
        [("paging_group", tuple[str, ...], dataclasses.field(default=()))],
        bases=(PhoneConfig,),
        frozen=True,
    )


def test_a_field_added_to_the_schema_is_copied_stored_and_read_back():
    plus = _extended()
    old = plus(**{n: getattr(FULL, n) for n in config_fields()}, paging_group=("floor-3",))
    assert "paging_group" in config_fields(plus)
    copied = copy_config(old, plus())
    assert copied.paging_group == ("floor-3",)
    data = json.loads(json.dumps(config_to_dict(old)))
    assert data["paging_group"] == ["floor-3"]
    assert config_from_dict(data, plus) == old


def test_json_round_trip_and_strict_reading():
    data = json.loads(json.dumps(config_to_dict(FULL)))
    assert config_from_dict(data) == FULL
    assert config_from_dict({}) == PhoneConfig()
    with pytest.raises(ValueError, match="unknown fields colour"):
        config_from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="dnd: expected bool"):
        config_from_dict({"dnd": 1})
    with pytest.raises(ValueError, match=r"speed_dials\[0\]: expected an object"):
        config_from_dict({"speed_dials": ["x"]})
    with pytest.raises(ValueError, match="forwarding.no_answer_seconds: expected int"):
        config_from_dict({"forwarding": {"no_answer_seconds": "20"}})
    with pytest.raises(ValueError, match="expected an object"):
        config_from_dict(["numbers"])  # type: ignore[arg-type]
