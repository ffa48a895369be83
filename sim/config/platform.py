"""Config of the multi-tenant softphone platform (system 7): tenants and their skills,
trunks, media, carriers, bursts and outages, and the policies under study."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from models.common import DAY
from models.platform import (
    ISOLATION_POLICIES,
    MEDIA_DESIGNS,
    ROUTING_POLICIES,
    STAFFING_POLICIES,
    IsolationContext,
    RoutingContext,
)

from ..core.distributions import Distribution
from .base import (
    Diurnal,
    Section,
    build_checked,
    check_tables,
    from_template,
    registered,
    unique_names,
)

__all__ = ["Burst", "Carrier", "Outage", "Platform", "Skill", "SkillDefaults", "Tenant"]

MAX_SKILLS = 16
"""Skills per tenant (an agent's skills are a bit mask)."""


class SkillDefaults(Section):
    """What every skill of every tenant has unless it says otherwise."""

    share: float = Field(
        ge=0, le=1e6, description="Relative share of the tenant's callers who choose it in the IVR."
    )
    text_share: float = Field(
        ge=0, le=1e6, description="Relative share of the tenant's text sessions it gets."
    )
    priority: int = Field(
        ge=-100, le=100, description="Queue priority (higher first; texts one below calls)."
    )
    handle_seconds: Distribution = Field(description="Talk time of a call (s).")
    text_seconds: Distribution = Field(description="Length of a text session (s).")
    agents: int = Field(
        ge=0,
        le=100_000,
        description="Agents whose primary skill it is (the fixed staffing, and the history run's).",
    )
    also: list[str] = Field(description="Other skills of the tenant these agents also serve.")
    blind_transfer: float = Field(ge=0, le=1, description="Share of its calls transferred blind.")
    warm_transfer: float = Field(
        ge=0, le=1, description="Share of its calls transferred warm (after a consultation)."
    )
    transfer_to: str = Field(description='The skill transfers go to ("": none).')
    consult_seconds: float = Field(
        ge=0, le=3600, description="Consultation between the agents of a warm transfer (s)."
    )
    after_transfer_seconds: Distribution = Field(
        description="Talk time with the second agent after a transfer (s)."
    )


class Skill(SkillDefaults):
    """A skill of a tenant: its IVR choice, its queue, its agents and its transfers."""

    name: str = Field(min_length=1, max_length=64, description="The skill's name.")


def _weekly(values: list[float]) -> list[float]:
    if len(values) != 7:
        raise ValueError(f"needs 7 day-of-week weights (Monday first), got {len(values)}")
    if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return values


class TenantDefaults(Section):
    """What every tenant has unless it says otherwise."""

    numbers: int = Field(
        ge=1, le=10_000, description="Telephone numbers the tenant takes from the inventory."
    )
    customers: int = Field(
        ge=1, le=100_000_000, description="The tenant's customers (who call and retry)."
    )
    calls_per_day: float = Field(
        ge=0, le=1e7, description="Inbound calls per day (mean over the week)."
    )
    texts_per_day: float = Field(
        ge=0, le=1e7, description="Inbound text sessions per day (mean over the week)."
    )
    outbound_per_hour: float = Field(
        ge=0, le=1e6, description="Outbound (sales) dial tasks per open hour."
    )
    outbound_skill: str = Field(description='The skill whose agents dial them ("": none).')
    outbound_ttl_seconds: float = Field(
        gt=0, le=DAY, description="A dial task not started within this time expires (s)."
    )
    diurnal: Diurnal = Field(description="Hour-of-day weights of the inbound traffic.")
    weekly: list[float] = Field(
        description="Day-of-week weights of the inbound traffic, Monday first (a day of "
        "weight 0 is closed)."
    )
    open_hours: tuple[int, int] = Field(
        description="Business hours [first, end) each open day; sessions outside are closed."
    )
    ivr_seconds: float = Field(ge=0, le=3600, description="Time in the IVR before the queue (s).")
    abandons: bool = Field(description="Waiting callers abandon (false: infinite patience).")
    patience_seconds: Distribution = Field(description="Patience of a waiting caller (s).")
    retry_prob: float = Field(
        ge=0, le=1, description="Probability a blocked or abandoned caller tries again."
    )
    retry_seconds: Distribution = Field(description="Delay before a retrial (s).")
    text_capacity: int = Field(ge=1, le=20, description="Text sessions an agent handles at once.")
    wrap_seconds: float = Field(ge=0, le=3600, description="Wrap-up after each call (s).")
    talk_seconds: Distribution = Field(description="Talk time of a connected outbound call (s).")
    answer_seconds: Distribution = Field(description="Time until an outbound call is answered (s).")

    @field_validator("weekly")
    @classmethod
    def _week(cls, v: list[float]) -> list[float]:
        return _weekly(v)

    @field_validator("open_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 24:
            raise ValueError("needs 0 <= first < end <= 24")
        return v


class Tenant(TenantDefaults):
    """A client business on the platform."""

    name: str = Field(min_length=1, max_length=64, description="The tenant's name.")
    skills: list[Skill] = Field(
        min_length=1, max_length=MAX_SKILLS, description="Its skills (an array of tables)."
    )

    @model_validator(mode="after")
    def _staffed(self):
        unique_names(self.skills, "skills")
        names = [s.name for s in self.skills]
        for j, s in enumerate(self.skills):
            for other in s.also:
                if other not in names:
                    raise ValueError(f"skills.{j}.also: unknown skill {other!r}")
            if s.blind_transfer + s.warm_transfer > 1:
                raise ValueError(f"skills.{j}: blind_transfer + warm_transfer exceed 1")
            if s.blind_transfer + s.warm_transfer > 0 and s.transfer_to not in names:
                raise ValueError(
                    f"skills.{j}.transfer_to: {s.transfer_to!r} is not a skill of the tenant"
                )
        if self.outbound_per_hour > 0 and self.outbound_skill not in names:
            raise ValueError(f"outbound_skill: {self.outbound_skill!r} is not a skill")
        if sum(s.agents for s in self.skills) == 0:
            raise ValueError("skills: the tenant has no agents (every skill has agents = 0)")
        if self.calls_per_day > 0 and sum(s.share for s in self.skills) <= 0:
            raise ValueError("skills: calls come in but no skill has a share > 0")
        if self.texts_per_day > 0 and sum(s.text_share for s in self.skills) <= 0:
            raise ValueError("skills: texts come in but no skill has a text_share > 0")
        held = {s.name for s in self.skills if s.agents > 0}
        held |= {o for s in self.skills if s.agents > 0 for o in s.also}
        for j, s in enumerate(self.skills):
            needed = (
                (s.share > 0 and self.calls_per_day > 0)
                or (s.text_share > 0 and self.texts_per_day > 0)
                or (self.outbound_per_hour > 0 and self.outbound_skill == s.name)
                or any(
                    o.transfer_to == s.name and o.blind_transfer + o.warm_transfer > 0
                    for o in self.skills
                )
            )
            if needed and s.name not in held:
                raise ValueError(
                    f"skills.{j}: no agent has skill {s.name!r}, which gets sessions (give "
                    "it agents or list it in another skill's 'also')"
                )
        return self


class Carrier(Section):
    """A termination carrier for agents' outbound calls."""

    name: str = Field(min_length=1, max_length=64, description="The carrier's name.")
    channels: int = Field(ge=1, le=1_000_000, description="Concurrent calls it carries.")
    cps: float = Field(gt=0, le=10_000, description="Calls per second it accepts (a cap).")
    rate_per_minute: float = Field(ge=0, le=100, description="Price per billed minute ($).")
    billing_seconds: int = Field(
        ge=1, le=60, description="Billing increment (s): 6 for 6/6, 60 for per-minute."
    )
    asr: float = Field(gt=0, le=1, description="Answer-seizure ratio (share of calls answered).")
    static_share: float = Field(ge=0, le=1e6, description="Its weight in the static split.")


class Burst(Section):
    """A tenant's surge (a campaign, an outage of its own systems): its inbound rate times
    ``factor`` for a while."""

    tenant: str = Field(min_length=1, description="The tenant.")
    day: float = Field(ge=0, le=1e5, description="Day it starts (0 is the first).")
    hour: float = Field(ge=0, lt=24, description="Hour of that day it starts.")
    hours: float = Field(gt=0, le=24 * 365, description="How long it lasts (hours).")
    factor: float = Field(ge=0, le=1000, description="Multiplier of the tenant's inbound rate.")


class Outage(Section):
    """A carrier that fails every call for a while."""

    carrier: str = Field(min_length=1, description="The carrier.")
    day: float = Field(ge=0, le=1e5, description="Day it starts (0 is the first).")
    hour: float = Field(ge=0, lt=24, description="Hour of that day it starts.")
    hours: float = Field(gt=0, le=24 * 365, description="How long it lasts (hours).")


class Platform(Section):
    """The multi-tenant softphone platform: origination, platform and termination
    services for many client businesses at once."""

    enabled: bool = Field(description="Run the platform in the world.")
    step_seconds: int = Field(
        ge=60, le=3600, description="The platform's step (s); must divide the hour."
    )
    warmup_hours: float = Field(
        ge=0, le=1e5, description="Hours at the start left out of the figures."
    )
    trunks: int = Field(ge=1, le=1_000_000, description="Origination trunks (inbound channels).")
    media_ports: int = Field(ge=1, le=10_000_000, description="Media-server ports.")
    media: registered(MEDIA_DESIGNS) = Field(
        description="Media design (models.platform.MEDIA_DESIGNS)."
    )
    media_designs: dict[str, dict[str, Any]] = Field(
        description="Each media design's parameters ([platform.media_designs.<name>])."
    )
    isolation: registered(ISOLATION_POLICIES) = Field(
        description="Isolation policy (models.platform.ISOLATION_POLICIES)."
    )
    isolation_policies: dict[str, dict[str, Any]] = Field(
        description="Each isolation policy's parameters ([platform.isolation_policies.<name>])."
    )
    staffing: registered(STAFFING_POLICIES) = Field(
        description="Staffing policy (models.platform.STAFFING_POLICIES)."
    )
    staffing_policies: dict[str, dict[str, Any]] = Field(
        description="Each staffing policy's parameters ([platform.staffing_policies.<name>])."
    )
    routing: registered(ROUTING_POLICIES) = Field(
        description="Termination routing policy (models.platform.ROUTING_POLICIES)."
    )
    routing_policies: dict[str, dict[str, Any]] = Field(
        description="Each routing policy's parameters ([platform.routing_policies.<name>])."
    )
    history_days: float = Field(
        gt=0, le=365, description="Days of history the staffing policies learn from."
    )
    sl_seconds: float = Field(gt=0, le=3600, description="Service level: answered within (s).")
    sl_target: float = Field(gt=0, lt=1, description="Target share answered within sl_seconds.")
    abandon_target: float = Field(gt=0, lt=1, description="Most callers that may abandon.")
    noise_margin: float = Field(
        gt=0,
        lt=1,
        description="How far the other tenants' service level may move when one tenant "
        "surges (the isolation question's non-inferiority margin, a share).",
    )
    staffing_margin: float = Field(
        gt=0,
        lt=1,
        description="The staffing question's tolerance: a policy is eligible when the 95% "
        "lower bound of its service level is at least sl_target minus this, and the upper "
        "bound of its abandonment at most abandon_target plus this.",
    )
    max_attempts: int = Field(ge=1, le=10, description="Attempts of a caller, retrials included.")
    failover_seconds: float = Field(
        ge=0, le=60, description="Time a failing carrier takes to refuse a call (s)."
    )
    ring_timeout_seconds: float = Field(
        gt=0, le=300, description="How long an unanswered outbound call rings (s)."
    )
    agent_cost_per_hour: float = Field(ge=0, le=10_000, description="An agent's hour ($).")
    record_sessions: bool = Field(description="Keep the platform_sessions table (large).")
    skill: SkillDefaults = Field(description="Defaults of every skill.")
    tenant: TenantDefaults = Field(description="Defaults of every [[platform.tenants]] entry.")
    tenants: list[Tenant] = Field(
        min_length=1, max_length=1000, description="The client businesses (an array of tables)."
    )
    carriers: list[Carrier] = Field(
        min_length=1, max_length=64, description="Termination carriers (an array of tables)."
    )
    bursts: dict[str, Burst] = Field(
        description="Tenants' surges by name ([platform.bursts.<name>])."
    )
    outages: dict[str, Outage] = Field(
        description="Carrier outages by name ([platform.outages.<name>])."
    )

    @model_validator(mode="before")
    @classmethod
    def _templated(cls, data: Any) -> Any:
        """Tenants start from ``tenant``, and their skills from ``skill``."""
        data = from_template(data, "tenant", "tenants")
        if isinstance(data, dict) and isinstance(data.get("tenants"), list):
            data = dict(data)
            data["tenants"] = [
                {
                    k: v
                    for k, v in from_template({**t, "_": data.get("skill")}, "_", "skills").items()
                    if k != "_"
                }
                if isinstance(t, dict)
                else t
                for t in data["tenants"]
            ]
        return data

    @field_validator("step_seconds")
    @classmethod
    def _divides(cls, v: int) -> int:
        if 3600 % v:
            raise ValueError("must divide the hour (3600 s)")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        unique_names(self.tenants, "tenants")
        unique_names(self.carriers, "carriers")
        names = [t.name for t in self.tenants]
        for key, b in self.bursts.items():
            if b.tenant not in names:
                raise ValueError(f"bursts.{key}.tenant: unknown tenant {b.tenant!r}")
        carriers = [c.name for c in self.carriers]
        for key, o in self.outages.items():
            if o.carrier not in carriers:
                raise ValueError(f"outages.{key}.carrier: unknown carrier {o.carrier!r}")
        check_tables(MEDIA_DESIGNS, self.media_designs, "media_designs")
        check_tables(ISOLATION_POLICIES, self.isolation_policies, "isolation_policies")
        check_tables(STAFFING_POLICIES, self.staffing_policies, "staffing_policies")
        check_tables(ROUTING_POLICIES, self.routing_policies, "routing_policies")
        self.build_media()
        self.build_isolation()
        routing = self.build_routing()
        try:
            routing.plan()
        except ValueError as err:
            raise ValueError(f"carriers: {err}") from None
        if self.media_ports < self.build_media().call_ports:
            raise ValueError("media_ports: fewer than one call's ports")
        return self

    # -- what the policies are built from --------------------------------------------------
    def contracted_loads(self) -> tuple[np.ndarray, np.ndarray]:
        """Each tenant's contracted inbound load at its peak hour (erlangs of trunk holding:
        IVR plus mean talk) and peak arrival rate (calls/s) -- what the operator signed,
        from the configured normal traffic (bursts are not in a contract)."""
        loads, peaks = [], []
        for t in self.tenants:
            w = np.asarray(t.diurnal, dtype=float)
            d = np.asarray(t.weekly, dtype=float)
            peak = t.calls_per_day / DAY * (w / w.mean()).max() * (d / d.mean()).max()
            shares = np.array([s.share for s in t.skills], dtype=float)
            talk = (
                sum(s.handle_seconds.mean * w_s for s, w_s in zip(t.skills, shares / shares.sum()))
                if shares.sum() > 0
                else 0.0
            )
            loads.append(peak * (t.ivr_seconds + talk))
            peaks.append(peak)
        return np.array(loads), np.array(peaks)

    def build_media(self):
        """The media design."""
        return build_checked(
            MEDIA_DESIGNS,
            self.media,
            f"media_designs.{self.media}",
            **self.media_designs.get(self.media, {}),
        )

    def build_isolation(self):
        """The isolation policy, from the trunks, ports and contracted loads."""
        loads, peaks = self.contracted_loads()
        shares = loads / loads.sum() if loads.sum() > 0 else np.full(len(loads), 1 / len(loads))
        ctx = IsolationContext(
            trunks=self.trunks,
            ports=self.media_ports,
            call_ports=self.build_media().call_ports,
            shares=shares,
            peak_rates=peaks,
            sl_seconds=self.sl_seconds,
        )
        return build_checked(
            ISOLATION_POLICIES,
            self.isolation,
            f"isolation_policies.{self.isolation}",
            ctx,
            **self.isolation_policies.get(self.isolation, {}),
        )

    def build_routing(self, step_seconds: float | None = None):
        """The termination routing policy."""
        out = [t for t in self.tenants if t.outbound_per_hour > 0] or list(self.tenants)
        ctx = RoutingContext(
            rates=np.array([c.rate_per_minute for c in self.carriers]),
            shares=np.array([c.static_share for c in self.carriers]),
            agent_cost_per_hour=self.agent_cost_per_hour,
            talk_seconds=float(np.mean([t.talk_seconds.mean for t in out])),
            answer_seconds=float(np.mean([t.answer_seconds.mean for t in out])),
            ring_timeout=self.ring_timeout_seconds,
            step_seconds=float(step_seconds or self.step_seconds),
        )
        return build_checked(
            ROUTING_POLICIES,
            self.routing,
            f"routing_policies.{self.routing}",
            ctx,
            **self.routing_policies.get(self.routing, {}),
        )
