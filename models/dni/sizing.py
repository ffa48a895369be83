"""Pool sizing policies: the baselines of REFERENCE.md ("DNI pools and dynamic number
assignment") that decide how many tracking numbers a DNI pool holds.

Every policy is a :class:`PoolSizer` with one protocol, so that a simulator stepping every
``step_seconds`` (say 300 s) can drive any of them::

    sizer.reset(start_size)
    for each step:  n = sizer.size(t, busy, offered)   # pool size for [t, t + step)

``t`` is the simulation time in seconds (``t = 0`` is a midnight, so ``t % DAY`` is the
time of day), ``busy`` the numbers leased at ``t`` and ``offered`` the offered load
observed over the last step, in erlangs (``None`` when unknown).  Static planners fix
their size at construction and ignore ``busy`` and ``offered``; reactive ones
(:class:`UtilisationTrigger`, :class:`Autoscaler`) watch ``busy / size``.

* :class:`OnePerTwentyVisitors` -- "1 number per 20 daily visitors per source"
  (CallTrackingMetrics support).
* :class:`PeakTimesSession` -- "pool = peak users/hour / (60 / session minutes)"
  (Nimbata help), i.e. ``N ≈ A`` at the peak, which blocks 21.5% at ``A = 10``.
* :class:`UtilisationTrigger` -- add a fixed step of numbers when 75% are in use.
* :class:`StaticErlang` -- Erlang B sized once for the peak load.
* :class:`TimeVaryingErlang` -- Erlang B sized per hour of day from a load profile.
* :class:`Autoscaler` -- +g% every 5 minutes while utilisation is high, up to a cap.

:func:`number_days` integrates a pool's sizes over time (the quantity a number rental is
billed on).  Sizes are rounded up; products such as ``120 * 45 / 60`` are rounded up
after discarding float noise below ``1e-12`` relative (so 90.00000000000001 is 90).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..common import DAY, HOUR
from ..registry import Registry
from .erlang import servers_for_blocking

__all__ = [
    "Autoscaler",
    "OnePerTwentyVisitors",
    "PeakTimesSession",
    "PoolSizer",
    "SIZERS",
    "SizingContext",
    "StaticErlang",
    "TimeVaryingErlang",
    "UtilisationTrigger",
    "number_days",
]

_NOISE = 1e-12


# -- helpers --------------------------------------------------------------------------------
def _ceil(x: float) -> int:
    """``ceil(x)`` ignoring float noise below ``1e-12`` relative."""
    return int(math.ceil(x - _NOISE * abs(x)))


def _number(value, name: str, lo: float = 0.0, lo_open: bool = False,
            hi: float = math.inf, hi_open: bool = False) -> float:
    """``value`` as a finite float in the interval, else ``ValueError`` naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    if not math.isfinite(v) or below or above:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{name} must be in {lb}{lo}, {hi}{rb}, got {value!r}")
    return v


def _count(value, name: str, lo: int = 0) -> int:
    """``value`` as an int >= ``lo``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _utilisation(busy: int, size: int) -> float:
    """``busy / size``; an empty pool is idle if nothing is leased, else overloaded."""
    if size > 0:
        return busy / size
    return math.inf if busy > 0 else 0.0


def _erlang_size(load: float, target: float) -> int:
    """Erlang B pool size for ``load`` erlangs (0 numbers for no load)."""
    return 0 if load == 0.0 else int(servers_for_blocking(load, target))


# -- the protocol ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SizingContext:
    """What a sizing policy plans from, whatever the policy.

    Attributes
    ----------
    hourly_loads : numpy.ndarray
        Offered load of the pool in each hour of the day (erlangs).
    lease_minutes : float
        Mean time a number stays with a session (session plus hold).
    daily_visitors : float
        Sessions per day over all sources.
    pool_size : int
        The pool's starting size.
    target_blocking : float
        Acceptable share of sessions that find no free number.
    step_seconds : float
        How often the pool is resized (s).
    """

    hourly_loads: np.ndarray
    lease_minutes: float
    daily_visitors: float
    pool_size: int
    target_blocking: float
    step_seconds: float

    @property
    def sessions_per_hour(self) -> np.ndarray:
        """Sessions starting in each hour of the day."""
        return self.hourly_loads / (self.lease_minutes * 60.0) * HOUR

    @property
    def max_size(self) -> int:
        """The most numbers a reactive policy may hold: four times the larger of the
        starting pool and 1.5 times the peak load."""
        return 4 * max(self.pool_size, int(self.hourly_loads.max() * 1.5))


class PoolSizer:
    """A pool sizing policy: ``reset`` once, then ``size`` at every simulator step.

    Attributes
    ----------
    current_ : int
        The last size returned (the start size after :meth:`reset`).
    """

    current_: int = 0

    @classmethod
    def from_context(cls, ctx: SizingContext) -> "PoolSizer":
        """The policy planned from ``ctx``; keyword-only parameters after ``ctx`` are the
        policy's own (its table in the config)."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_context")

    def reset(self, start_size: int) -> None:
        """Start a run with a pool of ``start_size`` numbers.

        Parameters
        ----------
        start_size : int
            Pool size before the first step, >= 0.
        """
        self.current_ = _count(start_size, "start_size")

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        """The pool size wanted for the next step.

        Parameters
        ----------
        t : float
            Simulation time in seconds; ``t = 0`` is a midnight.
        busy : int
            Numbers currently leased, >= 0.
        offered : float or None
            Offered load observed over the last step (erlangs), if known.

        Returns
        -------
        int
            The pool size for ``[t, t + step)``.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class _Static(PoolSizer):
    """A planner whose size is fixed at construction (``size_``)."""

    size_: int

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        self.current_ = self.size_
        return self.size_


SIZERS: Registry[PoolSizer] = Registry("pool sizer", factory="from_context", context=1)
"""Pool sizing policies by config name (``dni.sizer``)."""


# -- vendor rules ---------------------------------------------------------------------------
@SIZERS.register("one_per_twenty")
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

    def __init__(self, daily_visitors: float, visitors_per_number: float = 20.0):
        self.daily_visitors = _number(daily_visitors, "daily_visitors")
        self.visitors_per_number = _number(visitors_per_number, "visitors_per_number",
                                           lo_open=True)
        self.size_ = _ceil(self.daily_visitors / self.visitors_per_number)

    @classmethod
    def from_context(cls, ctx: SizingContext, *,
                     visitors_per_number: float) -> "OnePerTwentyVisitors":
        """One number per ``visitors_per_number`` daily visitors."""
        return cls(ctx.daily_visitors, visitors_per_number)


@SIZERS.register("peak_session")
class PeakTimesSession(_Static):
    """Vendor rule: pool = peak users/hour ÷ (60 / session minutes) (Nimbata help).

    That is the mean number of sessions in progress at the peak hour, ``N ≈ A``: per
    Erlang B it blocks 21.5% at ``A = 10``, 7.6% at 100, 2.5% at 1000 (REFERENCE.md).
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

    def __init__(self, peak_users_per_hour: float, session_minutes: float):
        self.peak_users_per_hour = _number(peak_users_per_hour, "peak_users_per_hour")
        self.session_minutes = _number(session_minutes, "session_minutes", lo_open=True)
        self.size_ = _ceil(self.peak_users_per_hour * self.session_minutes / 60.0)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> "PeakTimesSession":
        """The busiest hour's sessions times the lease length."""
        return cls(ctx.sessions_per_hour.max(), ctx.lease_minutes)


# -- Erlang B planners ----------------------------------------------------------------------
@SIZERS.register("static_erlang")
class StaticErlang(_Static):
    """Erlang B sized once for the peak load (REFERENCE.md baseline "static Erlang B").

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

    def __init__(self, peak_load: float, target: float):
        self.peak_load = _number(peak_load, "peak_load")
        self.target = _number(target, "target", lo_open=True, hi=1.0, hi_open=True)
        self.size_ = _erlang_size(self.peak_load, self.target)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> "StaticErlang":
        """Erlang B for the peak hour's load at the target blocking."""
        return cls(ctx.hourly_loads.max(), ctx.target_blocking)


@SIZERS.register("time_varying_erlang")
class TimeVaryingErlang(PoolSizer):
    """Erlang B sized per hour of day from a 24-value load profile (REFERENCE.md baseline).

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

    def __init__(self, hourly_loads, target: float, lead_seconds: float = 0.0):
        loads = np.asarray(hourly_loads, dtype=np.float64)
        if loads.shape != (24,) or not (np.isfinite(loads) & (loads >= 0.0)).all():
            raise ValueError(f"hourly_loads must be 24 finite loads >= 0, got {hourly_loads!r}")
        self.hourly_loads = loads
        self.target = _number(target, "target", lo_open=True, hi=1.0, hi_open=True)
        self.lead_seconds = _number(lead_seconds, "lead_seconds")
        self.sizes_ = np.array([_erlang_size(x, self.target) for x in loads], dtype=np.int64)

    @classmethod
    def from_context(cls, ctx: SizingContext) -> "TimeVaryingErlang":
        """Each hour planned for the larger of its load and the last hour's (numbers leased
        late in an hour are still busy early in the next), a step ahead."""
        loads = ctx.hourly_loads
        return cls(np.maximum(loads, np.roll(loads, 1)), ctx.target_blocking,
                   lead_seconds=ctx.step_seconds)

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        first = math.floor(t / HOUR)
        last = math.floor((t + self.lead_seconds) / HOUR)
        hours = np.arange(first, min(last, first + 23) + 1) % 24
        self.current_ = int(self.sizes_[hours].max())
        return self.current_


# -- reactive policies ----------------------------------------------------------------------
@SIZERS.register("utilisation")
class UtilisationTrigger(PoolSizer):
    """Grow by a fixed step when more than 75% of the pool is leased (REFERENCE.md baseline).

    At each call: if ``busy / size > threshold`` the pool grows by ``step`` (up to
    ``max_size``).  If ``busy / size < shrink_below`` (default ``threshold / 2``) for
    ``shrink_after_seconds`` in a row, it shrinks by ``step`` -- only to a size that is
    at least ``min_size`` and keeps ``busy / size <= threshold`` -- and the wait starts
    again, so it shrinks at most one step per ``shrink_after_seconds``.  The gap between
    the two thresholds and the wait are the hysteresis that keeps it from flapping.

    Parameters
    ----------
    threshold : float, optional
        Utilisation above which the pool grows, in (0, 1].
    step : int, optional
        Numbers added or removed at a time, >= 1.
    min_size, max_size : int, optional
        Bounds on the size (``max_size=None``: unbounded).
    shrink_below : float, optional
        Utilisation below which the pool may shrink, in [0, threshold).
    shrink_after_seconds : float, optional
        How long utilisation must stay below ``shrink_below`` before each shrink step.

    Examples
    --------
    >>> p = UtilisationTrigger(threshold=0.75, step=10)
    >>> p.reset(40)
    >>> p.size(0.0, busy=31), p.size(300.0, busy=31)
    (50, 50)
    """

    def __init__(self, threshold: float = 0.75, step: int = 10, min_size: int = 1,
                 max_size: int | None = None, shrink_below: float | None = None,
                 shrink_after_seconds: float = 3600.0):
        self.threshold = _number(threshold, "threshold", lo_open=True, hi=1.0)
        self.step = _count(step, "step", 1)
        self.min_size = _count(min_size, "min_size")
        self.max_size = None if max_size is None else _count(max_size, "max_size",
                                                              max(self.min_size, 1))
        self.shrink_below = _number(self.threshold / 2 if shrink_below is None
                                    else shrink_below, "shrink_below",
                                    hi=self.threshold, hi_open=True)
        self.shrink_after_seconds = _number(shrink_after_seconds, "shrink_after_seconds")
        self._low_since: float | None = None

    @classmethod
    def from_context(cls, ctx: SizingContext, *, threshold: float) -> "UtilisationTrigger":
        """Grow by a twentieth of the starting pool above ``threshold`` utilisation, up to
        ``ctx.max_size``."""
        return cls(threshold, max(1, ctx.pool_size // 20), 1, ctx.max_size)

    def _clip(self, n: int) -> int:
        n = max(n, self.min_size)
        return n if self.max_size is None else min(n, self.max_size)

    def reset(self, start_size: int) -> None:
        self.current_ = self._clip(_count(start_size, "start_size"))
        self._low_since = None

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        busy = _count(busy, "busy")
        u = _utilisation(busy, self.current_)
        if u > self.threshold:
            self.current_ = self._clip(self.current_ + self.step)
            self._low_since = None
        elif u < self.shrink_below:
            if self._low_since is None:
                self._low_since = t
            if t - self._low_since >= self.shrink_after_seconds:
                smaller = self.current_ - self.step
                if smaller >= self.min_size and busy <= self.threshold * smaller:
                    self.current_ = smaller
                self._low_since = t
        else:
            self._low_since = None
        return self.current_


@SIZERS.register("autoscaler")
class Autoscaler(PoolSizer):
    """+g% every 5 minutes while utilisation is high, up to a cap (REFERENCE.md baseline).

    At most once per ``every_seconds``: if ``busy / size > target_utilisation`` the pool
    grows by ``g`` of its size (rounded up, at least one number) up to ``cap``; if
    ``busy / size < low_utilisation`` (default half the target) it shrinks by the same
    factor, to ``floor(size / (1 + g))`` but not below ``floor`` nor below
    ``ceil(busy / target_utilisation)``.  Sizes therefore move geometrically, like a
    cloud autoscaler's, and never exceed ``cap``.

    Parameters
    ----------
    growth : float, optional
        Fractional growth per action ``g``, > 0 (0.1 = +10%).
    every_seconds : float, optional
        Minimum time between two actions, >= 0.
    cap : int or None, optional
        Largest size (``None``: unbounded).
    floor : int, optional
        Smallest size, >= 0.
    target_utilisation : float, optional
        Utilisation above which the pool grows, in (0, 1].
    low_utilisation : float or None, optional
        Utilisation below which it shrinks, in [0, target_utilisation).

    Examples
    --------
    >>> p = Autoscaler(growth=0.1, cap=125)
    >>> p.reset(100)
    >>> [p.size(300.0 * i, busy=p.current_) for i in range(4)]
    [110, 121, 125, 125]
    """

    def __init__(self, growth: float = 0.1, every_seconds: float = 300.0,
                 cap: int | None = None, floor: int = 1, target_utilisation: float = 0.75,
                 low_utilisation: float | None = None):
        self.growth = _number(growth, "growth", lo_open=True)
        self.every_seconds = _number(every_seconds, "every_seconds")
        self.floor = _count(floor, "floor")
        self.cap = None if cap is None else _count(cap, "cap", max(self.floor, 1))
        self.target_utilisation = _number(target_utilisation, "target_utilisation",
                                          lo_open=True, hi=1.0)
        self.low_utilisation = _number(
            self.target_utilisation / 2 if low_utilisation is None else low_utilisation,
            "low_utilisation", hi=self.target_utilisation, hi_open=True)
        self._last = -math.inf

    @classmethod
    def from_context(cls, ctx: SizingContext, *, growth: float, every_seconds: float,
                     target_utilisation: float, low_utilisation: float) -> "Autoscaler":
        """The autoscaler up to ``ctx.max_size``.

        Parameters
        ----------
        ctx : SizingContext
        growth : float
            Fractional growth per action (0.1 = +10%).
        every_seconds : float
            Minimum time between two actions.
        target_utilisation, low_utilisation : float
            Grow above the first, shrink below the second.
        """
        return cls(growth, every_seconds, ctx.max_size, 1, target_utilisation,
                   low_utilisation)

    def _clip(self, n: int) -> int:
        n = max(n, self.floor)
        return n if self.cap is None else min(n, self.cap)

    def reset(self, start_size: int) -> None:
        self.current_ = self._clip(_count(start_size, "start_size"))
        self._last = -math.inf

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        busy = _count(busy, "busy")
        if t - self._last < self.every_seconds:
            return self.current_
        n = self.current_
        u = _utilisation(busy, n)
        if u > self.target_utilisation:
            new = self._clip(n + max(1, _ceil(n * self.growth)))
        elif u < self.low_utilisation:
            shrunk = int(math.floor(n / (1.0 + self.growth) + _NOISE * n))
            new = self._clip(max(shrunk, _ceil(busy / self.target_utilisation)))
        else:
            new = n
        if new != n:
            self.current_ = new
            self._last = t
        return self.current_


# -- accounting -----------------------------------------------------------------------------
def number_days(sizes, step_seconds: float) -> float:
    """Pool size integrated over time, in number-days (what number rental is billed on).

    Parameters
    ----------
    sizes : array_like
        Pool size during each step, each >= 0.
    step_seconds : float
        Length of a step in seconds, > 0.

    Returns
    -------
    float
        ``sum(sizes) * step_seconds / DAY``.

    Examples
    --------
    >>> number_days([100] * 288, 300.0)
    100.0
    """
    arr = np.asarray(sizes, dtype=np.float64)
    if not (np.isfinite(arr) & (arr >= 0.0)).all():
        raise ValueError(f"sizes must be finite and >= 0, got {sizes!r}")
    step = _number(step_seconds, "step_seconds", lo_open=True)
    return float(arr.sum() * step / DAY)
