"""The whole experiment: the world's sections, how it is recorded, and the sweep."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import tomli_w
from pydantic import Field, field_validator, model_validator

from models.common import SUBSCRIBER_TYPES
from models.screens import SCREENS

from .aging import Aging, Residual
from .base import Section, check_params
from .dni import Dni
from .fleet import Fleet
from .platform import Platform
from .robocalls import Detection, Robocallers
from .storm import Storm
from .voice import Voice
from .world import AGING_CAP_DAYS, AGING_FLOOR_DAYS, Inventory, Record, Scenario, Spam, Subscribers

__all__ = ["ExperimentConfig"]


class ExperimentConfig(Section):
    """A whole experiment: the world, how it is recorded, and the sweep over it."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="The experiment's name (its default output folder reports/<name>): "
        "letters, digits, '_', '-' and '.', not only dots.",
    )
    description: str = Field(description="One sentence on what the experiment asks.")
    plugins: list[str] = Field(
        description="Python modules imported before the config is validated and before "
        "each run: they register their own detectors, models and policies."
    )
    policies: tuple[dict[str, Any], ...] = Field(
        description="Call-control policies of one's own, added to every run's pipeline: "
        "each a table with `policy` (a name in `models.screens.SCREENS`, or "
        "'package.module:Class') and the class's keyword parameters."
    )
    seed: int = Field(ge=0, lt=2**63, description="Root seed of every random stream.")
    replications: int = Field(ge=1, le=10_000, description="Independent runs of every sweep point.")
    common_random_numbers: bool = Field(
        description="Give every sweep point the same random streams (replication r of each "
        "point sees the same world), so points differ only by what was swept."
    )
    scenario: Scenario = Field(description="Horizon and time slicing.")
    inventory: Inventory = Field(description="The carrier's numbers.")
    record: Record = Field(description="Optional tables.")
    subscribers: Subscribers = Field(description="Subscriber types.")
    spam: Spam = Field(description="Background spam.")
    robocallers: Robocallers = Field(description="Robocall campaigns.")
    detection: Detection = Field(description="The carrier's burst detection.")
    residual: Residual = Field(description="Residual traffic after a disconnect.")
    aging: Aging = Field(description="Aging and release of disconnected numbers.")
    dni: Dni = Field(description="The call-tracking market.")
    platform: Platform = Field(description="The multi-tenant softphone platform.")
    storm: Storm = Field(description="The restart storm of IP phones.")
    fleet: Fleet = Field(description="The fleet of desk phones and their replacements.")
    voice: Voice = Field(description="The voice-command study's corpus and policies.")
    sweep: dict[str, list[Any]] = Field(
        description="Dotted keys and their values, forming a grid of points; keys under "
        "[sweep.zip] vary together (lists of one length)."
    )

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", v) or not v.strip("."):
            raise ValueError("must be letters, digits, '_', '-' and '.', not only dots")
        return v

    @model_validator(mode="after")
    def _own_policies(self):
        """Each policy names a call-control policy class and gives its parameters."""
        for i, entry in enumerate(self.policies):
            name = entry.get("policy")
            if not isinstance(name, str):
                raise ValueError(
                    f"policies.{i}.policy: required: the policy's name or module:Class"
                )
            params = {k: v for k, v in entry.items() if k != "policy"}
            check_params(SCREENS, name, params, f"policies.{i}")
        return self

    @model_validator(mode="after")
    def _fits_the_inventory(self):
        """The starting subscribers need a number each."""
        initial = sum(t.initial for t in self.subscribers.by_code())
        if initial > self.inventory.size:
            raise ValueError(
                f"subscribers: {initial:,} subscribers at the start need more numbers than "
                f"the inventory holds ({self.inventory.size:,}); raise "
                "inventory.blocks_per_area_code or lower the initial counts"
            )
        return self

    @model_validator(mode="after")
    def _regulatory(self):
        """US aging bounds (47 CFR 52.15(f)(1)(ii)), unless the study is a counterfactual."""
        if self.aging.counterfactual:
            return self
        for name in SUBSCRIBER_TYPES:
            lo, hi = getattr(self.subscribers, name).aging_days
            if lo < AGING_FLOOR_DAYS:
                raise ValueError(
                    f"subscribers.{name}.aging_days: minimum {lo:g} is below the "
                    f"{AGING_FLOOR_DAYS:g}-day FCC floor (set "
                    "aging.counterfactual = true for a counterfactual study)"
                )
            if hi > AGING_CAP_DAYS[name]:
                raise ValueError(
                    f"subscribers.{name}.aging_days: maximum exceeds the "
                    f"{AGING_CAP_DAYS[name]:g}-day regulatory cap (set "
                    "aging.counterfactual = true for a counterfactual study)"
                )
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, as it would be written in TOML."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_toml(self) -> str:
        """The fully resolved configuration as TOML text."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """SHA-256 of the resolved configuration (canonical JSON)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
