"""Reactive sizing policies that watch the pool's utilisation: :class:`UtilisationTrigger`
and :class:`Autoscaler`."""

from __future__ import annotations

import math

from ...common import HOUR
from .base import _NOISE, SIZERS, PoolSizer, SizingContext, _ceil, _count, _number

__all__ = ["Autoscaler", "UtilisationTrigger"]


def _utilisation(busy: int, size: int) -> float:
    """``busy / size``; an empty pool is idle if nothing is leased, else overloaded."""
    if size > 0:
        return busy / size
    return math.inf if busy > 0 else 0.0


# -- reactive policies ----------------------------------------------------------------------
@SIZERS.register("utilisation")
class UtilisationTrigger(PoolSizer):
    """Grow by a fixed step when more than 75% of the pool is leased (a baseline).

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

    def __init__(
        self,
        threshold: float = 0.75,
        step: int = 10,
        min_size: int = 1,
        max_size: int | None = None,
        shrink_below: float | None = None,
        shrink_after_seconds: float = HOUR,
    ) -> None:
        self.threshold = _number(threshold, "threshold", lo_open=True, hi=1.0)
        self.step = _count(step, "step", 1)
        self.min_size = _count(min_size, "min_size")
        self.max_size = (
            None if max_size is None else _count(max_size, "max_size", max(self.min_size, 1))
        )
        self.shrink_below = _number(
            self.threshold / 2 if shrink_below is None else shrink_below,
            "shrink_below",
            hi=self.threshold,
            hi_open=True,
        )
        self.shrink_after_seconds = _number(shrink_after_seconds, "shrink_after_seconds")
        self._low_since: float | None = None

    @classmethod
    def from_context(
        cls,
        ctx: SizingContext,
        *,
        threshold: float,
    ) -> UtilisationTrigger:
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
    """+g% every 5 minutes while utilisation is high, up to a cap (a baseline).

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

    def __init__(
        self,
        growth: float = 0.1,
        every_seconds: float = 300.0,
        cap: int | None = None,
        floor: int = 1,
        target_utilisation: float = 0.75,
        low_utilisation: float | None = None,
    ) -> None:
        self.growth = _number(growth, "growth", lo_open=True)
        self.every_seconds = _number(every_seconds, "every_seconds")
        self.floor = _count(floor, "floor")
        self.cap = None if cap is None else _count(cap, "cap", max(self.floor, 1))
        self.target_utilisation = _number(
            target_utilisation, "target_utilisation", lo_open=True, hi=1.0
        )
        self.low_utilisation = _number(
            self.target_utilisation / 2 if low_utilisation is None else low_utilisation,
            "low_utilisation",
            hi=self.target_utilisation,
            hi_open=True,
        )
        self._last = -math.inf

    @classmethod
    def from_context(
        cls,
        ctx: SizingContext,
        *,
        growth: float,
        every_seconds: float,
        target_utilisation: float,
        low_utilisation: float,
    ) -> Autoscaler:
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
        return cls(growth, every_seconds, ctx.max_size, 1, target_utilisation, low_utilisation)

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
