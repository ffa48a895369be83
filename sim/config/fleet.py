"""Config of the fleet-replacement study: desk phones that fail and are replaced over
years, headsets shared, borrowed and moved, and the replacement policy under study."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from models.provisioning.replacement import REPLACEMENT_POLICIES, ReplacementPolicy

from ..core.distributions import Distribution
from .base import Section, build_checked, check_tables, registered

__all__ = ["Fleet"]


class Fleet(Section):
    """The fleet of desk phones (``fleet.enabled``): failures and replacements over the
    world's horizon, headsets and their users, and the replacement policy."""

    enabled: bool = Field(description="Run the phone fleet in the world.")
    phones: int = Field(
        ge=2,
        le=1_000_000,
        description="Desk phones, one per desk and user (at most a million).",
    )
    failures_per_year: float = Field(
        ge=0, le=12, description="Failures per phone and year (each is replaced)."
    )
    still_registered_share: float = Field(
        ge=0,
        le=1,
        description="Share of replaced phones still registered when the new one asks (a "
        "broken screen or an upgrade rather than a dead phone).",
    )
    install_hours: Distribution = Field(
        description="Hours from a failure to the new phone asking the server."
    )
    admin_hours: Distribution = Field(
        description="Hours an administrator takes to provision a refused or manual "
        "replacement, or to put a wrong copy right."
    )
    headset_share: float = Field(
        ge=0, le=1, description="Share of users with a headset of their own at the start."
    )
    borrows_per_year: float = Field(
        ge=0,
        le=52,
        description="Loans per headset and year: another user takes it to their desk for "
        "borrow_days, then it comes back.",
    )
    borrow_days: Distribution = Field(description="How long a borrowed headset stays away.")
    shares_per_year: float = Field(
        ge=0,
        le=52,
        description="Per headset and year: it becomes shared with another user for good (two "
        "desks, used at either).",
    )
    moves_per_year: float = Field(
        ge=0,
        le=52,
        description="Per headset and year: it moves to another desk and user for good.",
    )
    mapping_days: float = Field(
        gt=0,
        le=3650,
        description="The server forgets a headset's mapping to a user it has not been "
        "reported with for this many days.",
    )
    pin_forget: float = Field(
        ge=0, le=1, description="Probability a user asked for their PIN does not know it."
    )
    pin_known_by_other: float = Field(
        ge=0,
        le=1,
        description="Probability a user shown another user's name enters that user's PIN "
        "(a borrower or sharing partner who knows it).",
    )
    policy: registered(REPLACEMENT_POLICIES) = Field(
        description="The replacement policy under study "
        "(models.provisioning.replacement.REPLACEMENT_POLICIES)."
    )
    policies: dict[str, dict[str, Any]] = Field(
        description="Each replacement policy's own parameters ([fleet.policies.<name>])."
    )

    @model_validator(mode="after")
    def _consistent(self):
        check_tables(REPLACEMENT_POLICIES, self.policies, "policies")
        for name in {self.policy, *self.policies}:
            self.build_policy(name)
        return self

    def build_policy(self, name: str | None = None) -> ReplacementPolicy:
        """The configured replacement policy (or the one named), built from its table."""
        name = self.policy if name is None else name
        return build_checked(
            REPLACEMENT_POLICIES, name, f"policies.{name}", **self.policies.get(name, {})
        )
