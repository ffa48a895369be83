"""Config of the world itself: horizon, numbers, subscribers and background spam."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from models.common import SUBSCRIBER_TYPES

from ..core.distributions import Distribution
from ..core.numbering import (
    BLOCK,
    area_exchange_codes,
    is_geographic_area_code,
    is_us_area_code,
)
from .base import Diurnal, Section, one_of

__all__ = [
    "AGING_CAP_DAYS",
    "AGING_FLOOR_DAYS",
    "AreaCodes",
    "Inventory",
    "Record",
    "Scenario",
    "Spam",
    "SubscriberType",
    "Subscribers",
]

AGING_FLOOR_DAYS = 45.0
"""FCC 18-177: a disconnected number ages at least 45 days."""
AGING_CAP_DAYS = {"residential": 90.0, "business": 365.0, "call_centre": 365.0, "notifier": 365.0}
"""47 CFR 52.15(f)(1)(ii): at most 90 days residential, 365 days business."""


def _area_codes(codes: list[int]) -> list[int]:
    for npa in codes:
        if not is_us_area_code(npa):
            raise ValueError(f"{npa} is not a US area code")
        if not is_geographic_area_code(npa):
            raise ValueError(
                f"{npa} is not a geographic area code (toll-free, premium and "
                "personal codes hold no thousands-blocks of a place)"
            )
    if len(set(codes)) != len(codes):
        raise ValueError("area codes repeat")
    return codes


AreaCodes = Annotated[list[int], AfterValidator(_area_codes)]
"""Real US geographic area codes (checked with ``phonenumbers``), each once."""


class Scenario(Section):
    """Horizon and time slicing of one run."""

    days: float = Field(gt=0, le=3650, description="Simulated days of one run.")
    slice_seconds: int = Field(
        ge=60,
        le=3600,
        description="Length of a traffic slice (s): calls are generated one slice at a "
        "time and policies act with at most one slice of lag. Must divide the "
        "hour (diurnal profiles are hourly).",
    )
    warm_start: bool = Field(
        description="Start in steady state: subscribers part-way through their tenure and "
        "numbers part-way through aging, as in a long-running carrier."
    )

    @field_validator("slice_seconds")
    @classmethod
    def _divides_hour(cls, v: int) -> int:
        if 3600 % v:
            raise ValueError("must divide 3600 (diurnal profiles are hourly)")
        return v


class Inventory(Section):
    """The carrier's numbers: thousands-blocks in real area codes."""

    area_codes: AreaCodes = Field(
        min_length=1, description="Real NANP area codes (checked with the phonenumbers package)."
    )
    blocks_per_area_code: int = Field(
        ge=1,
        le=1000,
        description="Thousands-blocks NPA-NXX-X (1,000 numbers each, the unit of US number "
        "pooling) per area code.",
    )
    assignment: one_of("random", "fifo") = Field(
        description="Which available number an arrival gets: a random one, or the one "
        "that rested longest (fifo)."
    )

    @model_validator(mode="after")
    def _fits(self):
        for npa in self.area_codes:
            blocks = len(area_exchange_codes(npa)) * 10
            if self.blocks_per_area_code > blocks:
                raise ValueError(
                    f"blocks_per_area_code: area code {npa} has only {blocks} thousands-blocks"
                )
        return self

    @property
    def size(self) -> int:
        """Number of telephone numbers in the inventory."""
        return len(self.area_codes) * self.blocks_per_area_code * BLOCK


class Record(Section):
    """What a run writes beyond the always-kept tables."""

    calls: bool = Field(
        description="Keep the per-call event table (large). Daily aggregates, the ledger "
        "and the subscribers are always written."
    )


class SubscriberType(Section):
    """Population, lifecycle and calling behaviour of one subscriber type."""

    initial: int = Field(ge=0, le=50_000_000, description="Subscribers at the start.")
    arrivals_per_day: float | Literal["steady"] = Field(
        description='New subscribers per day, or "steady": the steady-state rate '
        "initial / mean tenure."
    )
    tenure: Distribution = Field(description="How long a subscriber keeps the number (days).")
    calls_per_day: float = Field(
        ge=0,
        le=1e6,
        description="Outbound calls per subscriber per day (at most a "
        "million: beyond any line's capacity).",
    )
    rate_cv: float = Field(
        ge=0,
        le=10,
        description="Coefficient of variation of the subscribers' personal rate multipliers "
        "(gamma, mean 1).",
    )
    contacts_mean: float = Field(
        ge=1, le=1e6, description="Mean size of a subscriber's contact list (at most a million)."
    )
    on_net_share: float = Field(
        ge=0, le=1, description="Share of contacts who are this carrier's subscribers."
    )
    answer_prob: float = Field(ge=0, le=1, description="Probability that a call is answered.")
    duration: Distribution = Field(description="Talk time of an answered call (s).")
    aging_days: tuple[float, float] = Field(
        description="Legal bounds [min, max] of a disconnected number's aging (days)."
    )
    port_out_share: float = Field(
        ge=0, le=1, description="Share of departures that take their number to another carrier."
    )
    diurnal: Diurnal = Field(description="Hour-of-day weights of the outbound rate.")
    bursts_per_day: float = Field(
        ge=0, description="Notification bursts per line per day (0: none)."
    )
    burst_calls: int = Field(
        ge=0, le=100_000, description="Calls in one burst (the median when burst_calls_sigma > 0)."
    )
    burst_minutes: float = Field(
        gt=0,
        le=1440,
        description="Minutes a burst is spread over (with burst_calls_sigma and "
        "burst_pace_sigma > 0: sets the median dialling pace, burst_calls / burst_minutes "
        "calls a minute).",
    )
    burst_calls_sigma: float = Field(
        ge=0,
        le=3,
        description="Lognormal sigma of the calls in one burst around burst_calls (0: every "
        "burst has burst_calls calls).",
    )
    burst_pace_sigma: float = Field(
        ge=0,
        le=3,
        description="Lognormal sigma of a burst's dialling pace (calls a minute) around its "
        "median burst_calls / burst_minutes; a burst lasts its calls over its pace (0 with "
        "burst_calls_sigma 0: every burst lasts burst_minutes).",
    )
    burst_hours: tuple[int, int] = Field(
        description="Hours [first, end) of the day in which bursts start ([0, 24]: any time; "
        "e.g. [8, 9] for a contact centre dialling its backlog at opening)."
    )
    surge_day_prob: float = Field(
        ge=0,
        le=1,
        description="Probability that a line's day is a campaign day, on which an "
        "auto-dialler campaign takes the line above its usual rate (0: none).",
    )
    surge_factor: float = Field(
        ge=1, description="Median multiple of the line's usual calls on a campaign day."
    )
    surge_factor_sigma: float = Field(
        ge=0,
        le=3,
        description="Lognormal sigma of the campaign-day multiple (0: always the median).",
    )

    @field_validator("aging_days")
    @classmethod
    def _aging_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] <= 0:
            raise ValueError("minimum must be positive")
        if v[1] < v[0]:
            raise ValueError("maximum is below minimum")
        return v

    @field_validator("burst_hours")
    @classmethod
    def _burst_hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 24:
            raise ValueError("must be [first hour, end hour] with 0 <= first < end <= 24")
        return v

    @property
    def steady_arrivals_per_day(self) -> float:
        """Arrival rate: as configured, or the steady-state rate ``initial / E[tenure]``."""
        if self.arrivals_per_day != "steady":
            return self.arrivals_per_day
        return self.initial / self.tenure.mean


class Subscribers(Section):
    """The four subscriber types."""

    residential: SubscriberType = Field(description="Households.")
    business: SubscriberType = Field(description="Businesses.")
    call_centre: SubscriberType = Field(
        description="Legitimate heavy callers (dialers cap at 200-450 calls a day)."
    )
    notifier: SubscriberType = Field(
        description="Notification senders (schools, pharmacies, clinics): few ordinary "
        "calls and now and then hundreds in under an hour."
    )

    def by_code(self) -> list[SubscriberType]:
        """The types in code order (see :data:`models.common.SUBSCRIBER_TYPES`)."""
        return [getattr(self, name) for name in SUBSCRIBER_TYPES]

    def populated(self) -> bool:
        """Whether the world has subscribers at all (at the start or arriving)."""
        return any(t.initial > 0 or t.steady_arrivals_per_day > 0 for t in self.by_code())


class Spam(Section):
    """History-independent background spam received by every number."""

    calls_per_line_per_day: float = Field(
        ge=0, description="Mean spam calls a number receives per day, whatever its state."
    )
    heterogeneity_shape: float = Field(
        gt=0, description="Gamma shape of the numbers' spam rate multipliers (mean 1)."
    )
    answer_prob: float = Field(ge=0, le=1, description="Probability that spam is answered.")
    duration: Distribution = Field(description="Talk time of answered spam (s).")
    diurnal: Diurnal = Field(description="Hour-of-day weights of spam.")
