"""Static planners: the vendor rules (:class:`OnePerTwentyVisitors`,
:class:`PeakTimesSession`) and the Erlang B planners (:class:`StaticErlang`,
:class:`TimeVaryingErlang`).

Each plans from the demand it is given.  Registered from the context they are
*oracle-informed* (``<name>_oracle_informed``: planned from the configured, true demand); the
fair versions that learn the demand from earlier days' observations are in
:mod:`models.dni.sizing.observed` under the plain names."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ...common import HOUR
from ..erlang import servers_for_blocking
from .base import SIZERS, PoolSizer, SizingContext, _ceil, _number, _Static

__all__ = ["OnePerTwentyVisitors", "PeakTimesSession", "StaticErlang", "TimeVaryingErlang"]


def _erlang_size(load: float, target: float) -> int:
    """Erlang B pool size for ``load`` erlangs (0 numbers for no load)."""
    return 0 if load == 0.0 else int(servers_for_blocking(load, target))


# -- vendor rules ---------------------------------------------------------------------------
@SIZERS.register("one_per_twenty_oracle_informed")
class OnePerTwentyVisitors(_Static):
    """Vendor rule: one number per 20 daily visitors per source (CallTrackingMetrics support).

    ``size_ = ceil(daily_visitors / visitors_per_number)``, fixed; ``busy`` is ignored.

    Parameters
    ----------
    daily_visitors : float
        Visitors per day from the source the pool serves, >= 0.
    visitors_per_number : float, optional
        Visitors per number (20 in the vendor's rule), > 0.

    Examples
    --------
    >>> OnePerTwentyVisitors(2000).size(0.0, busy=0)
    100
    """

    oracle_informed = True  # from_context plans from the true demand

    def __init__(self, daily_visitors: float, visitors_per_number: float = 20.0) -> None:
        self.daily_visitors = _number(daily_visitors, "daily_visitors")
        self.visitors_per_number = _number(visitors_per_number, "visitors_per_number", lo_open=True)
        self.size_ = _ceil(self.daily_visitors / self.visitors_per_number)

    @classmethod
    def from_context(
        cls,
        ctx: SizingContext,
        *,
        visitors_per_number: float,
    ) -> OnePerTwentyVisitors:
        """One number per ``visitors_per_number`` daily visitors."""
        return cls(ctx.true_visitors(), visitors_per_number)


@SIZERS.register("peak_session_oracle_informed")
class PeakTimesSession(_Static):
    """Vendor rule: pool = peak users/hour ÷ (60 / session minutes) (Nimbata help).

    That is the mean number of sessions in progress at the peak hour, ``N ≈ A``: per
    Erlang B it blocks 21.5% at ``A = 10``, 7.6% at 100, 2.5% at 1000 (Erlang B, derived).
    ``size_ = ceil(peak_users_per_hour * session_minutes / 60)``, fixed.

    Parameters
    ----------
    peak_users_per_hour : float
        Visitors arriving in the busiest hour, >= 0.
    session_minutes : float
        Minutes a number stays with a visitor (session plus hold time), > 0.

    Examples
    --------
    >>> PeakTimesSession(1200, 30).size(0.0, busy=0)
    600
    """

    oracle_informed = True  # from_context plans from the true demand

    def __init__(self, peak_users_per_hour: float, session_minutes: float) -> None:
        self.peak_users_per_hour = _number(peak_users_per_hour, "peak_users_per_hour")
        self.session_minutes = _number(session_minutes, "session_minutes", lo_open=True)
        self.size_ = _ceil(self.peak_users_per_hour * self.session_minutes / 60.0)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> PeakTimesSession:
        """The busiest hour's sessions times the lease length."""
        return cls(ctx.sessions_per_hour.max(), ctx.lease_minutes)


# -- Erlang B planners ----------------------------------------------------------------------
@SIZERS.register("static_erlang_oracle_informed")
class StaticErlang(_Static):
    """Erlang B sized once for the peak load (the "static Erlang B" baseline).

    ``size_`` is the smallest ``n`` with ``B(n, peak_load) <= target``; it over-provisions
    every off-peak hour.

    Parameters
    ----------
    peak_load : float
        Offered load at the peak, erlangs (leases per second x mean lease seconds), >= 0.
    target : float
        Acceptable blocking probability, in (0, 1).

    Examples
    --------
    >>> StaticErlang(100.0, 0.01).size(0.0, busy=0)
    117
    """

    oracle_informed = True  # from_context plans from the true demand

    def __init__(self, peak_load: float, target: float) -> None:
        self.peak_load = _number(peak_load, "peak_load")
        self.target = _number(target, "target", lo_open=True, hi=1.0, hi_open=True)
        self.size_ = _erlang_size(self.peak_load, self.target)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> StaticErlang:
        """Erlang B for the peak hour's load at the target blocking."""
        return cls(ctx.true_loads().max(), ctx.target_blocking)


@SIZERS.register("time_varying_erlang_oracle_informed")
class TimeVaryingErlang(PoolSizer):
    """Erlang B sized per hour of day from a 24-value load profile (a baseline).

    ``sizes_[h]`` is the Erlang B size of hour ``h``'s load.  At time ``t`` the policy
    returns the largest ``sizes_[h]`` over the hours that overlap ``[t, t + lead_seconds]``,
    so with a lead it grows ahead of a busier hour and shrinks only once the quieter hour
    has begun.  Since the size holds for a whole simulator step, a ``lead_seconds`` of at
    least the step keeps an hour's size in force from its first second.

    Parameters
    ----------
    hourly_loads : array_like of 24 floats
        Offered load in erlangs for each hour of day (hour 0 starts at ``t % DAY == 0``),
        each >= 0 (no load needs no numbers).
    target : float
        Acceptable blocking probability, in (0, 1).
    lead_seconds : float, optional
        How far ahead to look, >= 0.

    Examples
    --------
    >>> loads = [10.0] * 8 + [100.0] * 12 + [10.0] * 4
    >>> p = TimeVaryingErlang(loads, 0.01, lead_seconds=300)
    >>> p.size(7 * 3600.0, busy=0), p.size(8 * 3600.0 - 300, busy=0)
    (18, 117)
    """

    oracle_informed = True  # from_context plans from the true demand

    def __init__(
        self, hourly_loads: npt.ArrayLike, target: float, lead_seconds: float = 0.0
    ) -> None:
        loads = np.asarray(hourly_loads, dtype=np.float64)
        if loads.shape != (24,) or not (np.isfinite(loads) & (loads >= 0.0)).all():
            raise ValueError(f"hourly_loads must be 24 finite loads >= 0, got {hourly_loads!r}")
        self.hourly_loads = loads
        self.target = _number(target, "target", lo_open=True, hi=1.0, hi_open=True)
        self.lead_seconds = _number(lead_seconds, "lead_seconds")
        self.sizes_ = np.array([_erlang_size(x, self.target) for x in loads], dtype=np.int64)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> TimeVaryingErlang:
        """Each hour planned for the larger of its load and the last hour's (numbers leased
        late in an hour are still busy early in the next), a step ahead."""
        loads = ctx.true_loads()
        return cls(
            np.maximum(loads, np.roll(loads, 1)), ctx.target_blocking, lead_seconds=ctx.step_seconds
        )

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        first = math.floor(t / HOUR)
        last = math.floor((t + self.lead_seconds) / HOUR)
        hours = np.arange(first, min(last, first + 23) + 1) % 24
        self.current_ = int(self.sizes_[hours].max())
        return self.current_
