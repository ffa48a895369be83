"""Isolation policies: how tenants share the platform's trunks, media ports and call rate
(``ISOLATION_POLICIES``).

Each policy sets the generic admission knobs of the engine (:class:`Knobs`, applied by
:func:`models.platform.core.admit`) from what the operator knows: the trunks and ports it
has and each tenant's contracted load (its share of the platform's calls and their peak
rate), never the tenants' actual traffic.

* ``complete_sharing`` -- any tenant takes any free trunk and port;
* ``fixed_partition`` -- each tenant owns its share of the trunks and ports (largest
  remainders, at least one trunk each) and never takes another's;
* ``trunk_reservation`` -- guard channels: a tenant above its nominal share takes a trunk
  only while more than ``guard_share`` of the trunks are free (Ott and Krishnan 1985's
  trunk reservation, per tenant);
* ``cps_bucket`` -- a token bucket per tenant admits calls at up to ``factor`` times its
  contracted peak rate (bursts of ``burst_seconds`` of that rate);
* ``sl_debt`` -- admission by service-level debt: while at most ``contention_share`` of the
  trunks are free, a call whose predicted wait (callers waiting times the observed mean
  handle time, over the agents staffed) exceeds ``wait_factor`` times the service-level
  threshold is refused -- its tenant would only run further into debt on it, holding a
  shared trunk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.registry import Registry

__all__ = [
    "ISOLATION_POLICIES",
    "IsolationContext",
    "IsolationPolicy",
    "Knobs",
    "partition",
]

ISOLATION_POLICIES: Registry = Registry("isolation policy", context=1)
"""Isolation policies by name (parameters in ``[platform.isolation_policies.<name>]``)."""


@dataclass(frozen=True)
class IsolationContext:
    """What an isolation policy knows.

    Attributes
    ----------
    trunks, ports, call_ports : int
        The platform's trunks and media ports, and the ports a call holds.
    shares : numpy.ndarray
        Each tenant's contracted share of the platform's offered load (sums to 1).
    peak_rates : numpy.ndarray
        Each tenant's contracted peak arrival rate of calls (per second).
    sl_seconds : float
        The service-level threshold (answered within, s).
    """

    trunks: int
    ports: int
    call_ports: int
    shares: np.ndarray
    peak_rates: np.ndarray
    sl_seconds: float


@dataclass(frozen=True)
class Knobs:
    """Admission knobs per tenant (None: unlimited) and for the platform.

    Attributes
    ----------
    cap, nominal, port_cap : numpy.ndarray or None
        Most trunks a tenant may hold; its nominal share (above it the guard applies);
        most media ports it may hold.
    guard : int
        Trunks kept free for tenants below their nominal share.
    cps_rate, cps_burst : numpy.ndarray or None
        Calls per second a tenant's bucket admits, and its depth.
    wait_limit : numpy.ndarray or None
        Predicted wait (s) above which a tenant's call is refused under contention.
    contention : int
        Free trunks at or below which the wait limit applies (-1: never).
    """

    cap: np.ndarray | None = None
    nominal: np.ndarray | None = None
    guard: int = 0
    port_cap: np.ndarray | None = None
    cps_rate: np.ndarray | None = None
    cps_burst: np.ndarray | None = None
    wait_limit: np.ndarray | None = None
    contention: int = -1


def partition(total: int, shares: np.ndarray, floor: int = 1) -> np.ndarray:
    """``total`` units split by ``shares`` with largest remainders, at least ``floor``
    each (while units last).

    Examples
    --------
    >>> partition(10, np.array([0.5, 0.3, 0.2])).tolist()
    [5, 3, 2]
    """
    shares = np.asarray(shares, dtype=float)
    n = len(shares)
    base = np.minimum(np.full(n, floor), total // max(n, 1))
    rest = total - int(base.sum())
    want = shares / shares.sum() * rest
    out = base + np.floor(want).astype(np.int64)
    left = total - int(out.sum())
    order = np.argsort(-(want - np.floor(want)), kind="stable")
    out[order[:left]] += 1
    return out.astype(np.int64)


class IsolationPolicy:
    """Base class: complete sharing.  Subclasses override :meth:`knobs`."""

    def __init__(self, ctx: IsolationContext) -> None:
        self.ctx = ctx

    def knobs(self) -> Knobs:
        """The admission knobs."""
        return Knobs()


@ISOLATION_POLICIES.register("complete_sharing")
class CompleteSharing(IsolationPolicy):
    """Every tenant takes any free trunk and port."""


@ISOLATION_POLICIES.register("fixed_partition")
class FixedPartition(IsolationPolicy):
    """Each tenant owns its contracted share of the trunks and ports."""

    def knobs(self) -> Knobs:
        c = self.ctx
        trunks = partition(c.trunks, c.shares)
        calls = partition(c.ports // c.call_ports, c.shares, floor=0)
        return Knobs(cap=trunks, nominal=trunks, port_cap=calls * c.call_ports)


@ISOLATION_POLICIES.register("trunk_reservation")
class TrunkReservation(IsolationPolicy):
    """Guard channels per tenant.

    Parameters
    ----------
    guard_share : float
        Share of the trunks that must stay free for a tenant above its nominal share to
        take one.
    """

    def __init__(self, ctx: IsolationContext, *, guard_share: float) -> None:
        if not 0 <= guard_share < 1:
            raise ValueError(f"guard_share must be in [0, 1), got {guard_share!r}")
        super().__init__(ctx)
        self.guard_share = guard_share

    def knobs(self) -> Knobs:
        c = self.ctx
        return Knobs(
            nominal=partition(c.trunks, c.shares),
            guard=int(math.ceil(self.guard_share * c.trunks)),
        )


@ISOLATION_POLICIES.register("cps_bucket")
class CpsBucket(IsolationPolicy):
    """A calls-per-second token bucket per tenant.

    Parameters
    ----------
    factor : float
        Admitted rate as a multiple of the tenant's contracted peak rate.
    burst_seconds : float
        Depth of the bucket in seconds of the admitted rate (at least one call).
    """

    def __init__(self, ctx: IsolationContext, *, factor: float, burst_seconds: float) -> None:
        if not factor > 0 or not burst_seconds > 0:
            raise ValueError("factor and burst_seconds must be > 0")
        super().__init__(ctx)
        self.factor, self.burst_seconds = factor, burst_seconds

    def knobs(self) -> Knobs:
        rate = self.factor * np.asarray(self.ctx.peak_rates, dtype=float)
        return Knobs(cps_rate=rate, cps_burst=np.maximum(rate * self.burst_seconds, 1.0))


@ISOLATION_POLICIES.register("sl_debt")
class ServiceLevelDebt(IsolationPolicy):
    """Admission by service-level debt under contention.

    Parameters
    ----------
    wait_factor : float
        Refuse a call whose predicted wait exceeds this multiple of the service-level
        threshold ...
    contention_share : float
        ... while at most this share of the trunks is free.
    """

    def __init__(
        self, ctx: IsolationContext, *, wait_factor: float, contention_share: float
    ) -> None:
        if not wait_factor > 0 or not 0 <= contention_share <= 1:
            raise ValueError("wait_factor must be > 0 and contention_share in [0, 1]")
        super().__init__(ctx)
        self.wait_factor, self.contention_share = wait_factor, contention_share

    def knobs(self) -> Knobs:
        c = self.ctx
        n = len(c.shares)
        return Knobs(
            wait_limit=np.full(n, self.wait_factor * c.sl_seconds),
            contention=int(math.floor(self.contention_share * c.trunks)),
        )
