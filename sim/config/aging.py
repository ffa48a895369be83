"""Config of residual traffic after a disconnect and of the aging of numbers."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from models.aging import AGING_MODELS
from models.aging.release import RELEASE_POLICIES, ReleasePolicy
from models.common import SUBSCRIBER_TYPES

from ..core.distributions import Distribution
from .base import Section, build_checked, check_tables, registered
from .world import AGING_FLOOR_DAYS

__all__ = ["Aging", "Release", "Residual", "ResidualType", "release_policy_name"]


class ResidualType(Section):
    """Calls a disconnected number of one subscriber type keeps receiving.

    The owner's circle of outside callers grows with tenure; after the disconnect each of
    them stops at a Lomax time (an exponential stop rate, gamma-distributed across callers),
    so their total decays as ``inbound_per_day * (1 + t / stop_beta_days) ** -stop_alpha``.
    A share of owners also leave persistent callers (collectors, login codes).
    """

    inbound_per_day: float = Field(
        ge=0, description="Outside calls per day a long-tenured owner receives."
    )
    circle: float = Field(ge=1, description="Outside callers of a long-tenured owner.")
    tenure_scale_days: float = Field(
        gt=0,
        description="Tenure over which the circle grows: both scale by "
        "1 - exp(-tenure / tenure_scale_days).",
    )
    stop_alpha: float = Field(gt=0, description="Lomax shape of the decay.")
    stop_beta_days: float = Field(gt=0, description="Lomax scale of the decay (days).")
    persistent_share: float = Field(
        ge=0, le=1, description="Share of owners who leave a persistent caller."
    )
    persistent_per_day: float = Field(ge=0, description="A persistent caller's calls per day.")
    persistent_days: float = Field(
        gt=0, description="Mean days a persistent caller goes on (exponential)."
    )


class Residual(Section):
    """Residual traffic meant for numbers' previous owners, per subscriber type."""

    answer_prob: float = Field(ge=0, le=1, description="Probability a residual call is answered.")
    duration: Distribution = Field(description="Talk time of an answered residual call (s).")
    residential: ResidualType = Field(description="Residual traffic of households.")
    business: ResidualType = Field(description="Residual traffic of businesses.")
    call_centre: ResidualType = Field(description="Residual traffic of call centres.")
    notifier: ResidualType = Field(description="Residual traffic of notification senders.")

    def by_code(self) -> list[ResidualType]:
        """The per-type tables in code order (see :data:`models.common.SUBSCRIBER_TYPES`)."""
        return [getattr(self, name) for name in SUBSCRIBER_TYPES]


def release_policy_name(name: str) -> tuple[str, dict[str, Any]]:
    """A release policy's registry name and the parameter given in its name, if any
    (``"fixed_90"`` is ``("fixed", {"days": 90.0})``)."""
    if name in RELEASE_POLICIES:
        return name, {}
    match = re.fullmatch(r"([a-z][a-z0-9_]*?)_(\d+(?:\.\d+)?)", name)
    if match and match[1] in RELEASE_POLICIES:
        param = RELEASE_POLICIES[match[1]].name_parameter
        if param is not None:
            return match[1], {param: float(match[2])}
    known = ", ".join(
        f"'{n}_<{RELEASE_POLICIES[n].name_parameter}>'"
        if RELEASE_POLICIES[n].name_parameter
        else repr(n)
        for n in RELEASE_POLICIES
    )
    raise ValueError(f"unknown release policy (known: {known})")


class Release(Section):
    """When a disconnected number returns to the available pool (see
    :mod:`models.aging.release`).  Every policy keeps within the type's bounds; the profile
    model of a policy that needs one learns from a ``train_days`` run of the same world."""

    policy: str = Field(
        description="The release policy: a name in models.aging.release.RELEASE_POLICIES "
        "(drawn, quiet, model, online), fixed_<days>, or model_<quantile> / "
        "online_<quantile> (e.g. model_0.95)."
    )
    threshold: float = Field(gt=0, description="The release threshold (one of aging.thresholds).")
    model: registered(AGING_MODELS) = Field(
        description="The profile model a model-driven policy predicts with."
    )
    train_days: float = Field(
        gt=0, le=3650, description="Length of the run the profile model learns from (days)."
    )
    policies: dict[str, dict[str, Any]] = Field(
        description="Each policy's own parameters ([aging.release.policies.<name>])."
    )

    @field_validator("policy")
    @classmethod
    def _known(cls, v: str) -> str:
        name, given = release_policy_name(v)
        if name == "fixed" and given.get("days", AGING_FLOOR_DAYS) < AGING_FLOOR_DAYS:
            raise ValueError(f"would release before the {AGING_FLOOR_DAYS:g}-day floor")
        return v

    @model_validator(mode="after")
    def _buildable(self):
        check_tables(RELEASE_POLICIES, self.policies, "policies")
        self.build()
        return self

    def build(self) -> ReleasePolicy:
        """The configured policy (without its model)."""
        name, given = release_policy_name(self.policy)
        return build_checked(
            RELEASE_POLICIES, name, "policy", **{**self.policies.get(name, {}), **given}
        )


class Aging(Section):
    """How residual traffic is judged, and how disconnected numbers are released."""

    thresholds: list[float] = Field(
        min_length=1,
        max_length=10,
        description="Thresholds as multiples of the background spam rate, strictly "
        "descending: a number is below one when its residual calls over the "
        "trailing window average at most that rate.",
    )
    trailing_days: int = Field(ge=1, le=90, description="Trailing window of the rates (days).")
    early_days: int = Field(
        ge=1,
        le=90,
        description="Days of early aging traffic the carrier keeps per "
        "disconnect (the early_inbound table).",
    )
    harm_days: float = Field(
        gt=0,
        description="Residual calls reaching a new owner in their first harm_days days are harm.",
    )
    harm_price: float = Field(ge=0, description="Price of one harmful call (dollars).")
    false_clean_days: float = Field(
        gt=0,
        description="A released number above the release threshold again within "
        "this many days is a false-clean release.",
    )
    harm_margin: float = Field(
        ge=0,
        description="Non-inferiority margin on harm (dollars per disconnect): a release "
        "policy is eligible in the report when the upper end of the 95% interval of its "
        "paired harm difference against fixed 90-day aging is below this margin.",
    )
    labels: Literal["observed", "residual"] = Field(
        description="What the profile models learn from: 'observed', the crossings a "
        "carrier sees in all inbound traffic (spam included) less the mean background rate; "
        "or 'residual', the simulator's residual-only crossings (not observable).",
    )
    landmark_days: int = Field(
        ge=1,
        le=90,
        description="Landmark of the model comparison (days since the disconnect): every "
        "model is scored on the episodes still aging and not yet seen below the threshold "
        "then, predicting the days to the crossing given survival to it; at most "
        "early_days.",
    )
    counterfactual: bool = Field(
        description="Allow aging bounds outside the US rules (45-90 days residential, "
        "45-365 business) for a counterfactual study."
    )
    compare_models: bool = Field(
        description="Fit every profile model on half of each run's disconnects and judge "
        "it on the other half (metrics aging.model.*)."
    )
    models: dict[str, dict[str, Any]] = Field(
        description="Each profile model's parameters ([aging.models.<name>])."
    )
    release: Release = Field(description="The release policy.")

    @field_validator("thresholds")
    @classmethod
    def _descending(cls, v: list[float]) -> list[float]:
        if any(x <= 0 for x in v):
            raise ValueError("must be positive multiples of the background rate")
        if any(a <= b for a, b in zip(v, v[1:])):
            raise ValueError("must be strictly descending (e.g. [5, 2, 1])")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.release.threshold not in self.thresholds:
            raise ValueError("release.threshold: must be one of aging.thresholds")
        check_tables(AGING_MODELS, self.models, "models")
        for name in AGING_MODELS:
            self.model(name)
        if self.landmark_days > self.early_days:
            raise ValueError(
                f"landmark_days: {self.landmark_days} is later than the {self.early_days} "
                "days of early aging traffic kept (aging.early_days)"
            )
        days = self.release.build().early_days()
        if days > self.early_days:
            raise ValueError(
                f"release.policy: reads {days} days of early aging traffic, "
                f"more than the {self.early_days} kept (aging.early_days)"
            )
        return self

    def model(self, name: str):
        """A fresh profile model ``name`` with its parameters from ``models``."""
        return build_checked(AGING_MODELS, name, f"models.{name}", **self.models.get(name, {}))
