"""Config of the restart storm: phones that lose power together and renegotiate with one
provisioning server, and the policy that spreads them out."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from models.provisioning.storm import STORM_POLICIES, StormContext, StormPolicy

from ..core.distributions import Distribution
from .base import Section, build_checked, check_tables, registered

__all__ = ["Storm"]

TIMER_F_T1 = 64
"""Timer F of a non-INVITE client transaction is 64 x T1 (RFC 3261 section 17.1.2.2)."""


class Storm(Section):
    """The restart storm (``storm.enabled``): phones, their RFC 3261 timers, the server,
    and the policy under study."""

    enabled: bool = Field(description="Run a restart storm in the world.")
    phones: int = Field(
        ge=1, le=1_000_000, description="Phones that lose power together (at most a million)."
    )
    capacity: float = Field(
        gt=0,
        le=10_000_000,
        description="Negotiations the provisioning server completes per second (C).",
    )
    overhead: float = Field(
        ge=0,
        le=1,
        description="What a message the server does not negotiate costs it (a retransmission "
        "of an answered request, a 503), as a share of a negotiation's 1/C.",
    )
    queue_limit: int = Field(
        ge=1,
        le=10_000_000,
        description="Messages the server's queue holds; more are dropped on arrival.",
    )
    t1_seconds: float = Field(
        gt=0, le=60, description="RFC 3261 T1, the round-trip estimate (s); Timer F is 64 x T1."
    )
    t2_seconds: float = Field(
        gt=0, le=600, description="RFC 3261 T2, the cap of Timer E's interval (s)."
    )
    boot_seconds: Distribution = Field(
        description="Time from power to a phone's first possible negotiation (s)."
    )
    retry_seconds: float = Field(
        ge=0,
        le=3600,
        description="How long a phone's firmware waits after a negotiation timed out "
        "(Timer F) before it starts another (s).",
    )
    persistent: bool = Field(
        description="The server keeps its phone -> number table through the outage (else it "
        "hands out numbers again in the order phones come back)."
    )
    horizon_seconds: float = Field(
        gt=0,
        le=21_600,
        description="Stop following the storm this long after power returns (s); phones not "
        "registered by then are counted as such (at most the world's horizon).",
    )
    target_seconds: float = Field(
        gt=0,
        le=21_600,
        description="Time-to-service target: every phone registered within this many "
        "seconds of power returning.",
    )
    policy: registered(STORM_POLICIES) = Field(
        description="The storm policy under study (models.provisioning.storm.STORM_POLICIES)."
    )
    policies: dict[str, dict[str, Any]] = Field(
        description="Each storm policy's own parameters ([storm.policies.<name>])."
    )

    @model_validator(mode="after")
    def _consistent(self):
        if self.t2_seconds < self.t1_seconds:
            raise ValueError("t2_seconds: must be at least t1_seconds (RFC 3261: T2 >= T1)")
        check_tables(STORM_POLICIES, self.policies, "policies")
        for name in {self.policy, *self.policies}:  # every table, not only the one in use
            self.build_policy(name)
        return self

    @property
    def timer_f(self) -> float:
        """Timer F (s): 64 x T1."""
        return TIMER_F_T1 * self.t1_seconds

    def context(self) -> StormContext:
        """What a storm policy is sized from."""
        return StormContext(phones=self.phones, capacity=self.capacity, t1=self.t1_seconds)

    def build_policy(self, name: str | None = None) -> StormPolicy:
        """The configured policy (or the one named), built from its table."""
        name = self.policy if name is None else name
        return build_checked(
            STORM_POLICIES,
            name,
            f"policies.{name}",
            self.context(),
            **self.policies.get(name, {}),
        )
