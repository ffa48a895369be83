"""Fair planners: the vendor rules and the Erlang B planners, planned from the demand the
platform observed on earlier days instead of the true demand.

A platform sees, every step, how many sessions asked for a number and how long the sessions
that have ended lasted (:meth:`PoolSizer.observe`).  :class:`DemandHistory` keeps those
counts by day and hour of day.  At the first step of every day an :class:`ObservedPlanner`
estimates each hour's demand from the last ``history_days`` complete days (hour ``h``: the
mean request rate over the steps of hour ``h`` on those days, times the observed mean lease)
and plans the day with the planner of :mod:`models.dni.sizing.planners` it wraps.  The
Erlang B planners plan for the upper end of the estimate, ``load + z * se``, where ``se``
is the standard error of the mean rate from the spread of the per-step rates (so a
planner with one day of history is more cautious than one with seven).

Before a whole day has been observed there is no hour-of-day profile to plan from; the
planner then plans as if every hour looked like the last hour it observed (a persistence
forecast), and the static planners never shrink during that first day.  Before anything has
been observed the pool keeps its starting size.  Nothing here reads the configured demand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...common import DAY, HOUR
from .base import SIZERS, PoolSizer, SizingContext, _count, _number
from .planners import OnePerTwentyVisitors, PeakTimesSession, StaticErlang, TimeVaryingErlang

__all__ = [
    "Demand",
    "DemandHistory",
    "ObservedOnePerTwenty",
    "ObservedPeakSession",
    "ObservedPlanner",
    "ObservedStaticErlang",
    "ObservedTimeVaryingErlang",
]


@dataclass(frozen=True)
class Demand:
    """An estimate of the demand by hour of day.

    Attributes
    ----------
    sessions_per_hour : numpy.ndarray
        Estimated sessions starting in each hour of the day (24 values).
    se_per_hour : numpy.ndarray
        Standard error of each estimate (sessions per hour).
    lease_minutes : float
        Observed mean lease (session plus hold).
    """

    sessions_per_hour: np.ndarray
    se_per_hour: np.ndarray
    lease_minutes: float

    @property
    def daily_visitors(self) -> float:
        """Estimated sessions per day."""
        return float(self.sessions_per_hour.sum())

    def loads(self, z: float = 0.0) -> np.ndarray:
        """Offered load per hour of day (erlangs), ``z`` standard errors above the
        estimate."""
        rate = self.sessions_per_hour + z * self.se_per_hour
        return rate / HOUR * self.lease_minutes * 60.0


class DemandHistory:
    """Lease requests observed per step, by day and hour of day.

    Parameters
    ----------
    history_days : int
        How many complete days an estimate uses (the most recent ones), >= 1.

    Examples
    --------
    >>> h = DemandHistory(history_days=7)
    >>> for k in range(288):  # one day of 5-minute steps, 10 requests each
    ...     h.observe(300.0 * (k + 1), 10, 1800.0)
    >>> d = h.estimate(1)
    >>> float(d.sessions_per_hour[0]), float(d.se_per_hour[0]), d.lease_minutes
    (120.0, 0.0, 30.0)
    """

    def __init__(self, history_days: int) -> None:
        self.history_days = _count(history_days, "history_days", 1)
        # per (day, hour): steps, requests, seconds, sum and sum of squares of the
        # per-step rates (sessions per hour)
        self._days: dict[int, np.ndarray] = {}
        self._recent: list[tuple[float, float, float]] = []  # (start, requests, seconds)
        self._last = 0.0
        self.lease_seconds: float | None = None

    def observe(self, t: float, sessions: int, lease_seconds: float | None) -> None:
        """Record the step ``[previous t, t)`` (see :meth:`PoolSizer.observe`)."""
        start, seconds = self._last, float(t) - self._last
        self._last = float(t)
        if lease_seconds is not None:
            self.lease_seconds = float(lease_seconds)
        if seconds <= 0:
            return
        day, hour = int(start // DAY), int(start % DAY // HOUR)
        acc = self._days.setdefault(day, np.zeros((24, 5)))
        rate = sessions / seconds * HOUR
        acc[hour] += (1.0, sessions, seconds, rate, rate * rate)
        self._recent.append((start, float(sessions), seconds))
        while self._recent and self._recent[0][0] < float(t) - HOUR:
            self._recent.pop(0)

    def complete_days(self, day: int) -> list[int]:
        """The complete days observed before ``day`` that an estimate for it uses."""
        return [d for d in range(max(0, day - self.history_days), day) if d in self._days]

    def estimate(self, day: int) -> Demand | None:
        """The demand of each hour of ``day`` from the last ``history_days`` complete days
        before it (None if there is none, or no lease has ended yet).  An hour never
        observed is estimated as the busiest observed hour (cautious)."""
        days = self.complete_days(day)
        if not days or self.lease_seconds is None:
            return None
        acc = np.sum([self._days[d] for d in days], axis=0)
        steps, requests, seconds, total, squares = acc.T
        seen = steps > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = requests / seconds * HOUR
            var = (squares - total * total / steps) / (steps - 1)
            se = np.sqrt(np.maximum(var, 0.0) / steps)
        se = np.where(steps > 1, se, mean)  # one step: no spread to estimate from
        busiest = int(np.argmax(np.where(seen, mean, -np.inf)))
        mean = np.where(seen, mean, mean[busiest])
        se = np.where(seen, se, se[busiest])
        return Demand(mean, se, self.lease_seconds / 60.0)

    def recent(self) -> Demand | None:
        """Every hour as the last hour observed (a persistence forecast; None before the
        first step or before a lease has ended)."""
        if not self._recent or self.lease_seconds is None:
            return None
        n = np.array([r[1] for r in self._recent])
        seconds = np.array([r[2] for r in self._recent])
        rate = n.sum() / seconds.sum() * HOUR
        per_step = n / seconds * HOUR
        se = per_step.std(ddof=1) / math.sqrt(len(n)) if len(n) > 1 else rate
        return Demand(np.full(24, rate), np.full(24, se), self.lease_seconds / 60.0)


class ObservedPlanner(PoolSizer):
    """A planner re-planned every day from the demand observed on earlier days.

    Subclasses say what they plan from a :class:`Demand` (:meth:`plan`) and whether the plan
    is one size for the whole day (``static``).

    Parameters
    ----------
    target : float
        Acceptable blocking probability, in (0, 1).
    step_seconds : float
        The simulator's step (the time-varying planner's lead), > 0.
    history_days : int
        Complete days an estimate uses, >= 1.
    z : float
        Standard errors above the estimated load the Erlang B planners plan for, >= 0.
    """

    static = True

    def __init__(
        self, target: float, step_seconds: float, history_days: int = 7, z: float = 0.0
    ) -> None:
        self.target = _number(target, "target", lo_open=True, hi=1.0, hi_open=True)
        self.step_seconds = _number(step_seconds, "step_seconds", lo_open=True)
        self.history_days = _count(history_days, "history_days", 1)
        self.z = _number(z, "z")
        self.reset(0)

    def plan(self, demand: Demand) -> PoolSizer:
        """The day's planner for an estimated demand."""
        raise NotImplementedError

    def reset(self, start_size: int) -> None:
        self.current_ = _count(start_size, "start_size")
        self.history_ = DemandHistory(self.history_days)
        self.planned_day_ = -1
        self.plan_: PoolSizer | None = None

    def observe(self, t: float, sessions: int, lease_seconds: float | None) -> None:
        self.history_.observe(t, sessions, lease_seconds)

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        day = int(math.floor(t / DAY))
        if self.planned_day_ != day and self.history_.complete_days(day):
            demand = self.history_.estimate(day)
            if demand is not None:
                self.plan_, self.planned_day_ = self.plan(demand), day
        if self.planned_day_ == day and self.plan_ is not None:
            self.current_ = self.plan_.size(t, busy)
            return self.current_
        demand = self.history_.recent()  # no whole day observed yet
        if demand is not None:
            n = self.plan(demand).size(t, busy)
            self.current_ = max(self.current_, n) if self.static else n
        return self.current_


@SIZERS.register("one_per_twenty")
class ObservedOnePerTwenty(ObservedPlanner):
    """One number per ``visitors_per_number`` visitors of an observed day (vendor rule).

    Examples
    --------
    >>> p = ObservedOnePerTwenty(300.0, visitors_per_number=20.0)
    >>> p.reset(5)
    >>> for k in range(288):
    ...     p.observe(300.0 * (k + 1), 10, 1800.0)
    >>> p.size(24 * 3600.0, busy=0)  # 2,880 visitors a day
    144
    """

    def __init__(
        self, step_seconds: float, visitors_per_number: float = 20.0, history_days: int = 7
    ) -> None:
        self.visitors_per_number = _number(visitors_per_number, "visitors_per_number", lo_open=True)
        super().__init__(0.5, step_seconds, history_days)

    @classmethod
    def from_context(
        cls, ctx: SizingContext, *, visitors_per_number: float, history_days: int
    ) -> ObservedOnePerTwenty:
        """The rule on the visitors of the last ``history_days`` observed days."""
        return cls(ctx.step_seconds, visitors_per_number, history_days)

    def plan(self, demand: Demand) -> PoolSizer:
        return OnePerTwentyVisitors(demand.daily_visitors, self.visitors_per_number)


@SIZERS.register("peak_session")
class ObservedPeakSession(ObservedPlanner):
    """Observed peak sessions per hour times the observed mean lease (vendor rule)."""

    def __init__(self, step_seconds: float, history_days: int = 7) -> None:
        super().__init__(0.5, step_seconds, history_days)

    @classmethod
    def from_context(cls, ctx: SizingContext, *, history_days: int) -> ObservedPeakSession:
        """The rule on the busiest hour of the last ``history_days`` observed days."""
        return cls(ctx.step_seconds, history_days)

    def plan(self, demand: Demand) -> PoolSizer:
        return PeakTimesSession(demand.sessions_per_hour.max(), demand.lease_minutes)


@SIZERS.register("static_erlang")
class ObservedStaticErlang(ObservedPlanner):
    """Erlang B for the busiest hour's observed load (``z`` standard errors above its
    estimate), one size all day."""

    @classmethod
    def from_context(
        cls, ctx: SizingContext, *, history_days: int, z: float
    ) -> ObservedStaticErlang:
        """Erlang B at the target blocking for the observed peak load."""
        return cls(ctx.target_blocking, ctx.step_seconds, history_days, z)

    def plan(self, demand: Demand) -> PoolSizer:
        return StaticErlang(float(demand.loads(self.z).max()), self.target)


@SIZERS.register("time_varying_erlang")
class ObservedTimeVaryingErlang(ObservedPlanner):
    """Erlang B per hour of day for the observed load (``z`` standard errors above its
    estimate); each hour planned for the larger of its load and the last hour's, a step
    ahead, as :meth:`TimeVaryingErlang.from_context` does with the true loads.

    Examples
    --------
    >>> p = ObservedTimeVaryingErlang(0.01, 300.0)
    >>> p.reset(50)
    >>> p.size(0.0, busy=0)  # nothing observed yet: the starting pool
    50
    >>> for k in range(288):  # 200 requests per 5 minutes, 36-minute leases: 1,440 erlangs
    ...     p.observe(300.0 * (k + 1), 200, 36 * 60.0)
    >>> p.size(24 * 3600.0, busy=0)
    1469
    """

    static = False

    @classmethod
    def from_context(
        cls, ctx: SizingContext, *, history_days: int, z: float
    ) -> ObservedTimeVaryingErlang:
        """Erlang B per hour at the target blocking for the observed loads."""
        return cls(ctx.target_blocking, ctx.step_seconds, history_days, z)

    def plan(self, demand: Demand) -> PoolSizer:
        loads = demand.loads(self.z)
        return TimeVaryingErlang(
            np.maximum(loads, np.roll(loads, 1)), self.target, lead_seconds=self.step_seconds
        )
