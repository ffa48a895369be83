"""Config of robocall operations and of the carrier's burst-detection policy."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from models.burst import DETECTORS, AlarmRule

from ..core.distributions import Distribution
from .base import (
    Section,
    build_checked,
    check_tables,
    from_template,
    one_of,
    registered,
    unique_names,
)
from .world import AGING_CAP_DAYS, AGING_FLOOR_DAYS

__all__ = ["Campaign", "CampaignDefaults", "Detection", "Robocallers"]


class CampaignDefaults(Section):
    """What every campaign has unless it says otherwise."""

    active_hours: tuple[int, int] = Field(
        description="Hours [first, end) of the day in which the campaign dials."
    )
    rotate: one_of("never", "on_block", "schedule") = Field(
        description="When the operator moves to fresh numbers: never, once a number is "
        "blocked, or on a schedule."
    )
    rotate_every_hours: float = Field(gt=0, description='Schedule of rotate = "schedule".')
    rotate_after_blocked: int = Field(
        ge=1, description="Blocked calls in a slice before a number is dropped (on_block)."
    )
    targets: int = Field(
        ge=1, le=10_000_000, description="Size of the lead list dialled (at most 10 million)."
    )
    on_net_share: float = Field(
        ge=0, le=1, description="Share of the leads who are this carrier's subscribers."
    )
    answer_prob: float = Field(ge=0, le=1, description="Probability that a robocall is answered.")
    duration: Distribution = Field(description="Talk time of an answered robocall (s).")

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 24:
            raise ValueError("must be [first hour, end hour] with 0 <= first < end <= 24")
        return v


class Campaign(CampaignDefaults):
    """One robocall operation: how many fresh numbers it dials from, how hard, and when it
    moves to new ones."""

    name: str = Field(min_length=1, description="The campaign's name in tables and reports.")
    behaviour: one_of("blaster", "slow_dialer", "snowshoe") = Field(
        description="What kind of operation it is (for the per-behaviour figures)."
    )
    start_day: float = Field(ge=0, description="Day the campaign starts.")
    days: float = Field(gt=0, description="Days it runs.")
    numbers: int = Field(ge=1, le=100_000, description="Numbers in use at once.")
    calls_per_number_per_day: float = Field(
        gt=0, description="Calls each number places per day while dialling."
    )


class Robocallers(Section):
    """Robocall campaigns; their numbers come from the inventory like anyone else's."""

    campaign: CampaignDefaults = Field(
        description="Defaults of every [[robocallers.campaigns]] entry."
    )
    campaigns: list[Campaign] = Field(
        max_length=100, description="The campaigns (an array of tables)."
    )
    aging_days: tuple[float, float] = Field(
        description="Aging bounds [min, max] (days) of numbers a campaign dropped."
    )

    @model_validator(mode="before")
    @classmethod
    def _templated(cls, data: Any) -> Any:
        """Each campaign starts from the ``campaign`` table."""
        return from_template(data, "campaign", "campaigns")

    @field_validator("aging_days")
    @classmethod
    def _aging(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not AGING_FLOOR_DAYS <= v[0] <= v[1] <= AGING_CAP_DAYS["business"]:
            raise ValueError(f"must satisfy {AGING_FLOOR_DAYS:g} <= min <= max <= 365")
        return v

    @model_validator(mode="after")
    def _unique(self):
        unique_names(self.campaigns, "campaigns")
        return self


class Detection(Section):
    """The burst detector plugged into the call-control pipeline and what its flags do."""

    detector: registered(DETECTORS, "none") = Field(
        description="The detector the carrier runs on its newly assigned numbers "
        '("none": no detection). Registered detectors: models.burst.DETECTORS.'
    )
    beside: list[str] = Field(
        description="More detectors run beside the main one, each alarming on its own "
        '(e.g. ["cohort"] against snowshoe campaigns).'
    )
    threshold: float = Field(
        gt=0, description="Alarm level: calls per window_seconds (see models.burst.AlarmRule)."
    )
    window_seconds: float = Field(gt=0, description="Window of the alarm level (s).")
    extra_rules: list[tuple[float, float]] = Field(
        description="More [threshold, window_seconds] rules of the per-rule detectors, each "
        "alarming on its own: a fine rule stops blasters, a daily one catches "
        "slow dialers."
    )
    baseline_per_day: float = Field(
        gt=0,
        description="The busiest legitimate rate to tolerate (calls/day): the CUSUM's "
        "pre-change rate and Kleinberg's base rate.",
    )
    detectors: dict[str, dict[str, Any]] = Field(
        description="Each detector's own parameters, by name ([detection.detectors.<name>])."
    )
    watch_days: float = Field(gt=0, description="Days a new number stays on the watch list.")
    quiet_days: float = Field(
        gt=0, description="A listed number leaves the list after this many days without a call."
    )
    purge_every_hours: float = Field(gt=0, description="How often the list is purged.")
    action: one_of("block", "limit") = Field(
        description="What a flag does: block the number's later calls, or let through at "
        "most limit_per_hour."
    )
    limit_per_hour: float = Field(gt=0, description="Calls per hour a limited number may place.")
    false_flag_budget: float = Field(
        gt=0,
        lt=1,
        description="False flags per legitimate new number the report's recommendation may cost.",
    )
    heavy_flag_budget: float = Field(
        ge=0,
        le=1,
        description="Share of legitimate heavy callers (new call-centre and notifier lines) "
        "the report's recommendation may flag.",
    )

    @field_validator("extra_rules")
    @classmethod
    def _rules(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for threshold, window in v:
            if not (threshold > 0 and window > 0):
                raise ValueError("each rule is [threshold > 0, window_seconds > 0]")
        return v

    @model_validator(mode="after")
    def _registered(self):
        for name in self.beside:
            if name not in DETECTORS:
                raise ValueError(
                    f"beside: unknown detector {name!r} (known: "
                    + ", ".join(DETECTORS.names())
                    + ")"
                )
        check_tables(DETECTORS, self.detectors, "detectors")
        for name in self.running():
            for rule in self.rules():
                self.build(name, rule)
        return self

    def running(self) -> list[str]:
        """The detectors the policy runs: the main one, then those beside it."""
        return ([] if self.detector == "none" else [self.detector]) + [
            b for b in self.beside if b != self.detector
        ]

    def rules(self, scale: float = 1.0, seed: int = 0) -> list[AlarmRule]:
        """The alarm rules, thresholds times ``scale``: the main one, then the extras."""
        pairs = [(self.threshold, self.window_seconds), *self.extra_rules]
        return [
            AlarmRule(th * scale, w, self.baseline_per_day, scale, seed + i)
            for i, (th, w) in enumerate(pairs)
        ]

    def build(self, name: str, rule: AlarmRule):
        """Detector ``name`` set to ``rule`` with its parameters from ``detectors``."""
        return build_checked(
            DETECTORS, name, f"detectors.{name}", rule, **self.detectors.get(name, {})
        )
