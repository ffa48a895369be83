"""Config of the call-tracking (DNI) market: channels, sponsors, the pool and its policies."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from models.common import CHANNELS, DAY, NUMBER_KINDS
from models.dni import OPTIMIZERS, SIZERS, CompositionContext, SizingContext

from ..core.distributions import Distribution
from .base import (
    Diurnal,
    Section,
    build_checked,
    check_tables,
    from_template,
    one_of,
    registered,
    unique_names,
)
from .world import AreaCodes

__all__ = ["Channel", "Channels", "Dni", "Sponsor", "SponsorDefaults"]


def _per_kind(v: dict[str, float], what: str) -> dict[str, float]:
    unknown = sorted(set(v) - set(NUMBER_KINDS))
    if unknown:
        raise ValueError(
            f"unknown number kind {unknown[0]!r} (kinds: " + ", ".join(NUMBER_KINDS) + ")"
        )
    if set(v) != set(NUMBER_KINDS) or any(not (x >= 0 and math.isfinite(x)) for x in v.values()):
        raise ValueError(f"needs a {what} >= 0 for every number kind: " + ", ".join(NUMBER_KINDS))
    return v


class Channel(Section):
    """One ad channel: how many sessions it brings and how likely an impression is to lead
    to a call, before the number's kind is taken into account."""

    sessions_per_day: float = Field(
        ge=0, le=1e9, description="Ad sessions per day (0: channel off; at most a billion)."
    )
    call_prob: float = Field(
        ge=0, le=1, description="Probability an impression leads to a call, for a local number."
    )
    diurnal: Diurnal = Field(description="Hour-of-day weights of the sessions.")
    response: dict[str, float] = Field(
        description="Call multiplier of each kind of number on this channel (the world's "
        "hidden response model)."
    )

    @field_validator("response")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        return _per_kind(v, "multiplier")


class Channels(Section):
    """The four ad channels (set a channel's ``sessions_per_day`` to 0 to leave it out)."""

    search: Channel = Field(description="Search ads.")
    social: Channel = Field(description="Social-media ads.")
    display: Channel = Field(description="Display ads.")
    print: Channel = Field(description="Print and broadcast ads (the number is read or heard).")

    def by_code(self) -> list[Channel]:
        """Channels in code order (see :data:`models.common.CHANNELS`)."""
        return [getattr(self, name) for name in CHANNELS]


class SponsorDefaults(Section):
    """What every sponsor has unless it says otherwise."""

    budget_per_day: float = Field(
        gt=0,
        allow_inf_nan=True,
        description="Impressions per day the sponsor pays for (inf: no limit).",
    )


class Sponsor(SponsorDefaults):
    """An advertiser: its share of the sessions and its daily impression budget."""

    name: str = Field(min_length=1, description="The sponsor's name.")
    share: float = Field(gt=0, description="Relative share of the sessions.")


class Dni(Section):
    """The call-tracking (DNI) market: sessions, leases from a shared pool, calls, the
    association store, pool sizing and composition."""

    enabled: bool = Field(description="Run the DNI market in the world.")
    step_seconds: int = Field(ge=10, le=3600, description="The market's time step (s).")
    consumers: int = Field(
        ge=1,
        le=100_000_000,
        description="Consumers who see ads (at most 100 million: 8 bytes each in memory).",
    )
    area_codes: AreaCodes = Field(min_length=1, description="Consumers' area codes.")
    session_minutes: Distribution = Field(description="Length of an ad session (minutes).")
    hold_minutes: float = Field(
        ge=0, description="Minutes a number stays leased after the session ends."
    )
    pool_size: int = Field(ge=1, le=1_000_000, description="Numbers in the pool at the start.")
    pool_kind: one_of(*NUMBER_KINDS) = Field(
        description="Kind of every number when no composition optimizer runs."
    )
    exhausted: one_of("overflow", "steal_lru") = Field(
        description="With no free number: the overflow number (tracked, not tied to a "
        "session) or steal the least recently used lease."
    )
    in_session_share: float = Field(
        ge=0, le=1, description="Share of first calls made during the session."
    )
    delay_days: Distribution = Field(description="Delay of a later first call (days).")
    repeat_calls: float = Field(ge=0, description="Mean repeat calls after the first.")
    repeat_days: Distribution = Field(description="Gap between repeat calls (days).")
    withheld_share: float = Field(ge=0, le=1, description="Share of calls with caller ID withheld.")
    known_caller_share: float = Field(
        ge=0,
        le=1,
        description="Share of impressions from consumers whose phone number the "
        "platform knows (logged in).",
    )
    store: bool = Field(description="Keep the association store (caller, number) -> impression.")
    store_eviction: one_of("none", "age", "size") = Field(
        description="Evict store entries by age (days since last use), by size (least "
        "recently used) or never."
    )
    store_max_age_days: float = Field(gt=0, description="Age limit of store entries (days).")
    store_max_entries: int = Field(
        ge=1, le=100_000_000, description="Size limit of the store (at most 100 million)."
    )
    talk_minutes: Distribution = Field(description="Talk time of a tracked call (minutes).")
    warmup_hours: float = Field(
        ge=0,
        description="Hours at the start left out of the steady-state figures (blocking, "
        "attribution, pool, cost): the pool starts empty and fair sizers have no history.",
    )
    sizer: registered(SIZERS, "fixed") = Field(
        description='Pool sizing policy (models.dni.SIZERS), or "fixed": pool_size.'
    )
    sizers: dict[str, dict[str, Any]] = Field(
        description="Each sizing policy's own parameters ([dni.sizers.<name>])."
    )
    target_blocking: float = Field(
        gt=0, lt=1, description="Acceptable share of impressions given the overflow number."
    )
    optimizer: registered(OPTIMIZERS, "none") = Field(
        description='Pool composition optimizer (models.dni.OPTIMIZERS), or "none": every '
        "number of pool_kind."
    )
    optimizers: dict[str, dict[str, Any]] = Field(
        description="Each optimizer's own parameters ([dni.optimizers.<name>])."
    )
    rebalance_hours: float = Field(gt=0, description="How often the composition is rebalanced.")
    max_changes: int = Field(ge=1, description="Numbers bought or released per rebalancing.")
    feedback_days: float = Field(
        gt=0,
        description="An impression counts as a success for the optimizer if a call is "
        "attributed to it within this many days.",
    )
    price_month: dict[str, float] = Field(description="Rental per number and month ($), by kind.")
    price_minute: dict[str, float] = Field(description="Inbound price per minute ($), by kind.")
    channels: Channels = Field(description="The ad channels.")
    sponsor: SponsorDefaults = Field(description="Defaults of every [[dni.sponsors]] entry.")
    sponsors: list[Sponsor] = Field(
        min_length=1, max_length=1000, description="The advertisers (an array of tables)."
    )

    @model_validator(mode="before")
    @classmethod
    def _templated(cls, data: Any) -> Any:
        """Each sponsor starts from the ``sponsor`` table."""
        return from_template(data, "sponsor", "sponsors")

    @field_validator("price_month", "price_minute")
    @classmethod
    def _prices(cls, v: dict[str, float]) -> dict[str, float]:
        return _per_kind(v, "price")

    @model_validator(mode="after")
    def _consistent(self):
        unique_names(self.sponsors, "sponsors")
        check_tables(SIZERS, self.sizers, "sizers")
        check_tables(OPTIMIZERS, self.optimizers, "optimizers")
        if self.sizer != "fixed":
            self.build_sizer()
        if self.optimizer != "none":
            if self.pool_size < len(NUMBER_KINDS):
                raise ValueError(
                    f"pool_size: an optimizer keeps at least one number of each of the "
                    f"{len(NUMBER_KINDS)} kinds, so the pool needs {len(NUMBER_KINDS)} or more, "
                    f"got {self.pool_size}"
                )
            self.build_optimizer()
        return self

    def offered_loads(self) -> np.ndarray:
        """Offered load of the pool in each hour of the day (erlangs): sessions per second
        of all channels times the mean lease (session plus hold)."""
        lease = (self.session_minutes.mean + self.hold_minutes) * 60.0
        per_hour = np.zeros(24)
        for ch in self.channels.by_code():
            w = np.asarray(ch.diurnal, dtype=float)
            per_hour += ch.sessions_per_day / DAY * w / w.mean()
        return per_hour * lease

    def truth(self) -> np.ndarray:
        """The world's true call probability per (channel, kind of number)."""
        return np.array(
            [
                [ch.call_prob * ch.response[k] for k in NUMBER_KINDS]
                for ch in self.channels.by_code()
            ]
        )

    def build_sizer(self):
        """The sizing policy.  Only an oracle-informed one (``SIZERS[name].oracle_informed``)
        is handed the configured, true demand; a fair one gets None there and learns the
        demand from what the market lets it observe."""
        oracle = SIZERS[self.sizer].oracle_informed
        ctx = SizingContext(
            hourly_loads=self.offered_loads() if oracle else None,
            lease_minutes=self.session_minutes.mean + self.hold_minutes,
            daily_visitors=(
                sum(ch.sessions_per_day for ch in self.channels.by_code()) if oracle else None
            ),
            pool_size=self.pool_size,
            target_blocking=self.target_blocking,
            step_seconds=self.step_seconds,
        )
        return build_checked(
            SIZERS, self.sizer, f"sizers.{self.sizer}", ctx, **self.sizers.get(self.sizer, {})
        )

    def build_optimizer(self):
        """The composition optimizer."""
        return build_checked(
            OPTIMIZERS,
            self.optimizer,
            f"optimizers.{self.optimizer}",
            CompositionContext(self.truth()),
            **self.optimizers.get(self.optimizer, {}),
        )
