"""Termination routing: which carrier an agent's outbound call leaves through
(``ROUTING_POLICIES``).

A policy gives, before each step, the order in which the carriers are tried (and for a
static split, the shares by which the first is drawn); the engine skips carriers at
capacity or out of calls-per-second tokens, and on a carrier's failure tries the next only
with ``failover``.  After each step the policy is told what the platform observed per
carrier: attempts (seizures) and connected calls.

* ``least_cost`` -- cheapest per minute first;
* ``quality_weighted`` -- lowest expected cost per connected minute including the agent's
  time (an unanswered call costs the agent ``ring_timeout`` seconds), with each carrier's
  answer-seizure ratio learned from the observed attempts (Beta prior, forgetting with a
  half-life), so a carrier that stops connecting -- an outage -- sinks in the order;
* ``static`` -- a fixed split by the carriers' configured shares, then the list order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.registry import Registry

__all__ = ["ROUTING_POLICIES", "RoutingContext", "RoutingPolicy", "cost_per_connected_minute"]

ROUTING_POLICIES: Registry = Registry("routing policy", context=1)
"""Termination routing policies by name (parameters in
``[platform.routing_policies.<name>]``)."""


@dataclass(frozen=True)
class RoutingContext:
    """What a routing policy knows.

    Attributes
    ----------
    rates : numpy.ndarray
        Price per minute of each carrier ($).
    shares : numpy.ndarray
        Configured static split.
    agent_cost_per_hour : float
        What an agent's hour costs ($).
    talk_seconds, answer_seconds, ring_timeout : float
        Mean talk time of a connected call, mean time to answer, and how long an
        unanswered call rings (s).
    step_seconds : float
        How often the policy is told what was observed.
    """

    rates: np.ndarray
    shares: np.ndarray
    agent_cost_per_hour: float
    talk_seconds: float
    answer_seconds: float
    ring_timeout: float
    step_seconds: float


def cost_per_connected_minute(
    rate: np.ndarray,
    asr: np.ndarray,
    agent_cost_per_hour: float,
    talk: float,
    answer: float,
    ring_timeout: float,
) -> np.ndarray:
    """Expected cost per connected minute of each carrier, the agent's time included:
    ``(agent/s x E[agent seconds per attempt] + rate/60 x asr x talk) / (asr x talk / 60)``.
    """
    asr = np.maximum(np.asarray(asr, dtype=float), 1e-9)
    agent_s = asr * (answer + talk) + (1 - asr) * ring_timeout
    cost = agent_cost_per_hour / 3600.0 * agent_s + np.asarray(rate) / 60.0 * asr * talk
    return cost / (asr * talk / 60.0)


class RoutingPolicy:
    """Base class.

    Parameters
    ----------
    ctx : RoutingContext
    failover : bool
        Try the next carrier when one fails a call.
    """

    def __init__(self, ctx: RoutingContext, *, failover: bool) -> None:
        self.ctx = ctx
        self.failover = bool(failover)

    def plan(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The carriers' order, and the split of the first choice (None: always the
        first)."""
        return np.arange(len(self.ctx.rates)), None

    def observe(self, attempts: np.ndarray, connected: np.ndarray) -> None:
        """What the platform saw per carrier in the last step."""


@ROUTING_POLICIES.register("least_cost")
class LeastCost(RoutingPolicy):
    """Cheapest carrier per minute first."""

    def plan(self) -> tuple[np.ndarray, np.ndarray | None]:
        return np.argsort(self.ctx.rates, kind="stable"), None


@ROUTING_POLICIES.register("quality_weighted")
class QualityWeighted(RoutingPolicy):
    """Lowest expected cost per connected minute, agent time included, learned ASR.

    Parameters
    ----------
    failover : bool
        Try the next carrier when one fails a call.
    prior_asr, prior_attempts : float
        Beta prior of every carrier's answer-seizure ratio (mean, weight in attempts).
    half_life_hours : float
        Observations lose half their weight in this time, so the order follows a carrier
        that changes (an outage, a recovery).
    """

    def __init__(
        self,
        ctx: RoutingContext,
        *,
        failover: bool,
        prior_asr: float,
        prior_attempts: float,
        half_life_hours: float,
    ) -> None:
        if not 0 < prior_asr < 1 or not prior_attempts > 0 or not half_life_hours > 0:
            raise ValueError("prior_asr in (0, 1), prior_attempts and half_life_hours > 0")
        super().__init__(ctx, failover=failover)
        self.prior_asr, self.prior_attempts = prior_asr, prior_attempts
        self.decay = 0.5 ** (ctx.step_seconds / (half_life_hours * 3600.0))
        n = len(ctx.rates)
        self.attempts = np.zeros(n)
        self.connected = np.zeros(n)

    def asr(self) -> np.ndarray:
        """The current estimate of each carrier's answer-seizure ratio."""
        w = self.prior_attempts
        return (self.connected + self.prior_asr * w) / (self.attempts + w)

    def plan(self) -> tuple[np.ndarray, np.ndarray | None]:
        c = self.ctx
        score = cost_per_connected_minute(
            c.rates,
            self.asr(),
            c.agent_cost_per_hour,
            c.talk_seconds,
            c.answer_seconds,
            c.ring_timeout,
        )
        return np.argsort(score, kind="stable"), None

    def observe(self, attempts: np.ndarray, connected: np.ndarray) -> None:
        self.attempts = self.attempts * self.decay + attempts
        self.connected = self.connected * self.decay + connected


@ROUTING_POLICIES.register("static")
class Static(RoutingPolicy):
    """A fixed split by the carriers' configured shares, then the list order."""

    def plan(self) -> tuple[np.ndarray, np.ndarray | None]:
        shares = np.asarray(self.ctx.shares, dtype=float)
        if not (shares.sum() > 0 and math.isfinite(shares.sum())):
            raise ValueError("static routing needs a positive share on some carrier")
        return np.arange(len(shares)), shares
