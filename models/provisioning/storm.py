"""A restart storm: many phones renegotiating with one provisioning server at once, the
policies that spread them out, and the closed forms a simulation of it is checked against.

A policy (:data:`STORM_POLICIES`) turns what it is configured with into a
:class:`StormPlan`: the knobs of the phones and of the server that the storm simulator
(``sim/world/storm``) understands --

* **client jitter**: a phone waits a uniform time in ``[0, jitter_seconds]`` before its
  first negotiation and again after each failed one;
* **server back-off**: a server that finds more than ``threshold_seconds`` of work queued
  answers a new request ``503 Service Unavailable`` with a ``Retry-After`` header of a
  whole number of seconds drawn uniformly from ``retry_after_low .. retry_after_high``
  (RFC 3261 section 21.5.4; the header holds delta-seconds, section 20.33), and the phone
  comes back after it;
* **server rate limit**: a token bucket (``rate`` per second, ``burst`` deep) in front of
  the server drops what exceeds it, leaving the phones to retransmit.

Policies: ``none``, ``jitter``, ``retry_after``, ``rate_limit`` and ``combined`` (all
three).  Adding one is a class with :meth:`StormPolicy.from_context` and its registration.

Closed forms: the RFC 3261 retransmission schedule of a non-INVITE request over an
unreliable transport (:func:`timer_e_schedule`), the mean queueing delay of an M/D/1 queue
(:func:`md1_mean_wait`, Pollaczek-Khinchine) and the fluid bound on draining ``N`` phones
at ``C`` per second (:func:`fluid_drain_seconds`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..registry import Registry

__all__ = [
    "STORM_POLICIES",
    "StormContext",
    "StormPlan",
    "StormPolicy",
    "fluid_drain_seconds",
    "md1_mean_wait",
    "timer_e_intervals",
    "timer_e_schedule",
]


@dataclass(frozen=True)
class StormContext:
    """What every storm policy may be sized from.

    Attributes
    ----------
    phones : int
        Phones that lost power.
    capacity : float
        Negotiations the server completes per second.
    t1 : float
        RFC 3261 T1, the round-trip estimate (s).
    """

    phones: int
    capacity: float
    t1: float


@dataclass(frozen=True)
class StormPlan:
    """The knobs of the phones and of the server in a storm.

    Attributes
    ----------
    jitter_seconds : float
        A phone waits ``U(0, jitter_seconds)`` before each negotiation it starts (0: none).
    retry_after_low, retry_after_high : int
        Whole seconds of the ``Retry-After`` a busy server answers with, drawn uniformly
        between them (both 0: the server never answers 503).
    threshold_seconds : float
        Work queued (s) above which a new request is answered 503 (with ``Retry-After``).
    rate : float
        Messages per second the rate limiter lets through (``inf``: no limiter).
    burst : float
        Depth of the limiter's token bucket (messages).
    """

    jitter_seconds: float = 0.0
    retry_after_low: int = 0
    retry_after_high: int = 0
    threshold_seconds: float = math.inf
    rate: float = math.inf
    burst: float = math.inf

    def __post_init__(self) -> None:
        if not (math.isfinite(self.jitter_seconds) and self.jitter_seconds >= 0):
            raise ValueError(f"jitter must be finite and >= 0, got {self.jitter_seconds!r}")
        if not 0 <= self.retry_after_low <= self.retry_after_high:
            raise ValueError("Retry-After bounds must satisfy 0 <= low <= high")
        if self.retry_after_high > 0 and self.retry_after_low < 1:
            raise ValueError("a Retry-After is at least one whole second")
        if not self.threshold_seconds > 0:
            raise ValueError(f"threshold must be > 0 s, got {self.threshold_seconds!r}")
        if not (self.rate > 0 and self.burst >= 1):
            raise ValueError("a rate limit needs rate > 0 and a bucket of at least 1")

    @property
    def backs_off(self) -> bool:
        """The server answers 503 with ``Retry-After`` when busy."""
        return self.retry_after_high > 0


class StormPolicy:
    """Base class of the storm policies: a policy is the plan it builds.

    Subclasses implement :meth:`from_context` with keyword-only parameters (their table
    ``[storm.policies.<name>]``).
    """

    knob: str | None = None
    """The parameter a sweep varies to find the smallest setting that meets the target
    (None: the policy has none)."""
    zero_is_none: bool = False
    """The knob at 0 is running no policy at all (no jitter, no back-off)."""

    def __init__(self, plan: StormPlan) -> None:
        self.plan = plan

    @classmethod
    def from_context(cls, ctx: StormContext, *args: Any, **params: Any) -> StormPolicy:
        """Build the policy for a storm described by ``ctx``; a subclass declares its own
        parameters (its table in the config) as keyword-only arguments after ``ctx``."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_context")


STORM_POLICIES: Registry[StormPolicy] = Registry("storm policy", "from_context", context=1)
"""Storm policies by name (``storm.policy``; parameters in ``[storm.policies.<name>]``)."""


def _window(window_seconds: float) -> float:
    if not (math.isfinite(window_seconds) and window_seconds >= 0):
        raise ValueError(f"window_seconds must be finite and >= 0, got {window_seconds!r}")
    return float(window_seconds)


def _retry_after(seconds: float, threshold_seconds: float) -> tuple[int, float]:
    """Lower bound of the Retry-After (whole seconds) and the threshold, checked."""
    if not (math.isfinite(seconds) and seconds >= 1 and seconds == int(seconds)):
        raise ValueError(f"seconds must be a whole number >= 1, got {seconds!r}")
    if not (math.isfinite(threshold_seconds) and threshold_seconds > 0):
        raise ValueError(f"threshold_seconds must be finite and > 0, got {threshold_seconds!r}")
    return int(seconds), float(threshold_seconds)


def _limit(ctx: StormContext, share: float, burst_seconds: float) -> tuple[float, float]:
    """Rate (messages/s) and bucket depth of a limiter at ``share`` of the capacity."""
    if not (math.isfinite(share) and 0 < share <= 1):
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    if not (math.isfinite(burst_seconds) and burst_seconds > 0):
        raise ValueError(f"burst_seconds must be finite and > 0, got {burst_seconds!r}")
    rate = share * ctx.capacity
    return rate, max(1.0, rate * burst_seconds)


@STORM_POLICIES.register("none")
class NoPolicy(StormPolicy):
    """Every phone negotiates as soon as it has booted and retries as its firmware does."""

    @classmethod
    def from_context(cls, ctx: StormContext) -> NoPolicy:
        return cls(StormPlan())


@STORM_POLICIES.register("jitter")
class Jitter(StormPolicy):
    """Client jitter: each phone waits ``U(0, window_seconds)`` before every negotiation
    it starts (after booting and after a failed negotiation)."""

    knob = "window_seconds"
    zero_is_none = True

    @classmethod
    def from_context(cls, ctx: StormContext, *, window_seconds: float) -> Jitter:
        return cls(StormPlan(jitter_seconds=_window(window_seconds)))


@STORM_POLICIES.register("retry_after")
class RetryAfter(StormPolicy):
    """Server back-off: with more than ``threshold_seconds`` of work queued, a new request
    is answered 503 with ``Retry-After`` uniform over the whole seconds
    ``seconds .. 2 * seconds`` (a single value would bring every refused phone back at
    once)."""

    knob = "seconds"
    zero_is_none = True

    @classmethod
    def from_context(
        cls, ctx: StormContext, *, seconds: float, threshold_seconds: float
    ) -> RetryAfter:
        low, threshold = _retry_after(seconds, threshold_seconds)
        return cls(
            StormPlan(retry_after_low=low, retry_after_high=2 * low, threshold_seconds=threshold)
        )


@STORM_POLICIES.register("rate_limit")
class RateLimit(StormPolicy):
    """Server rate limit: a token bucket admits ``share`` of the server's capacity (deep
    enough for ``burst_seconds`` of it) and drops the rest; phones retransmit."""

    @classmethod
    def from_context(cls, ctx: StormContext, *, share: float, burst_seconds: float) -> RateLimit:
        rate, burst = _limit(ctx, share, burst_seconds)
        return cls(StormPlan(rate=rate, burst=burst))


@STORM_POLICIES.register("combined")
class Combined(StormPolicy):
    """Client jitter, server back-off and a rate limit together."""

    knob = "window_seconds"

    @classmethod
    def from_context(
        cls,
        ctx: StormContext,
        *,
        window_seconds: float,
        seconds: float,
        threshold_seconds: float,
        share: float,
        burst_seconds: float,
    ) -> Combined:
        low, threshold = _retry_after(seconds, threshold_seconds)
        rate, burst = _limit(ctx, share, burst_seconds)
        return cls(
            StormPlan(
                jitter_seconds=_window(window_seconds),
                retry_after_low=low,
                retry_after_high=2 * low,
                threshold_seconds=threshold,
                rate=rate,
                burst=burst,
            )
        )


# -- closed forms ---------------------------------------------------------------------------
def timer_e_intervals(t1: float, t2: float, count: int) -> npt.NDArray[np.float64]:
    """The first ``count`` Timer E intervals of a non-INVITE client transaction.

    RFC 3261 section 17.1.2.2: Timer E starts at T1; each time it fires in the "Trying"
    state the request is retransmitted and the timer is reset to ``min(2 x previous,
    T2)``.  (In the "Proceeding" state, after a provisional response, it is reset to T2;
    the storm's server sends no provisional response.)

    Examples
    --------
    >>> timer_e_intervals(0.5, 4.0, 6).tolist()
    [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    """
    return np.minimum(t1 * 2.0 ** np.arange(count), t2)


def timer_e_schedule(t1: float, t2: float, timer_f: float) -> npt.NDArray[np.float64]:
    """Times (s after the first transmission) at which a non-INVITE request is sent, until
    Timer F (``64 x T1`` in RFC 3261) ends the transaction.

    Examples
    --------
    >>> timer_e_schedule(0.5, 4.0, 32.0).tolist()
    [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    """
    if not (t1 > 0 and t2 >= t1 and timer_f > 0):
        raise ValueError("needs 0 < T1 <= T2 and Timer F > 0")
    times = [0.0]
    k = 0
    while True:
        nxt = times[-1] + min(t1 * 2.0**k, t2)
        if not nxt < timer_f:
            return np.asarray(times)
        times.append(nxt)
        k += 1


def md1_mean_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean time a request waits in queue (before its service) in an M/D/1 queue.

    Pollaczek-Khinchine with a deterministic service ``1/mu``:
    ``W_q = rho / (2 mu (1 - rho))``, ``rho = lambda / mu`` (infinite at ``rho >= 1``).

    Examples
    --------
    >>> round(md1_mean_wait(800.0, 1000.0), 6)
    0.002
    """
    if not (arrival_rate >= 0 and service_rate > 0):
        raise ValueError("needs arrival_rate >= 0 and service_rate > 0")
    rho = arrival_rate / service_rate
    if rho >= 1:
        return math.inf
    return rho / (2.0 * service_rate * (1.0 - rho))


def fluid_drain_seconds(phones: int, capacity: float) -> float:
    """The fluid bound: ``N`` negotiations at ``C`` per second take at least ``N / C``
    seconds, and a jitter window shorter than that offers more than the server can do.

    Examples
    --------
    >>> fluid_drain_seconds(50_000, 1000.0)
    50.0
    """
    if not (phones >= 0 and capacity > 0):
        raise ValueError("needs phones >= 0 and capacity > 0")
    return phones / capacity
