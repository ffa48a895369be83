"""The allocation pool: which number a phone that negotiates gets, and when a released
number may be given again.

The rules, which the service's SQLite store follows statement by statement
(``services/provisioning/store.py``; ``tests/test_provisioning_allocation.py`` runs both on
the same random sequences of operations):

* Static numbers (set by an administrator for a phone) are never in the pool.
* A device holds at most one pool number; asking again returns the same one (idempotent).
* The number given is the one available the longest: numbers never used first (lowest
  first), then numbers whose aging ended earliest.
* A released number rests ``aging_days`` before it can be given again; the rest lies
  within :data:`AGING_BOUNDS` (the 45-day floor of FCC 18-177 and the 365-day ceiling for
  business numbers of 47 CFR 52.15(f)(1)(ii)).
* With nothing available the pool raises :class:`PoolExhausted` carrying how long until a
  number leaves aging (the 503's ``Retry-After``), and never gives a number twice.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

from ..common import DAY

__all__ = [
    "AGING_BOUNDS",
    "NumberPool",
    "PoolExhausted",
    "check_aging_days",
    "retry_after_seconds",
]

AGING_BOUNDS = (45.0, 365.0)
"""Least and most days a released number rests before it is given again."""


class PoolExhausted(Exception):
    """No number is available.

    Attributes
    ----------
    next_available : float or None
        When the first aging number becomes available (seconds, the caller's clock), or
        ``None`` if none is aging.
    """

    def __init__(self, next_available: float | None) -> None:
        super().__init__("no number available")
        self.next_available = next_available


def check_aging_days(days: float, bounds: tuple[float, float] = AGING_BOUNDS) -> float:
    """``days`` if it lies within ``bounds``.

    Parameters
    ----------
    days : float
        Days a released number rests.
    bounds : tuple of float
        Least and most days allowed.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``days`` is not a finite number within the bounds.
    """
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days):
        raise ValueError("aging days must be a finite number")
    lo, hi = bounds
    if not lo <= days <= hi:
        raise ValueError(f"aging days must lie within {lo:g}..{hi:g} (got {days:g})")
    return float(days)


def retry_after_seconds(
    next_available: float | None, now: float, *, floor: int = 1, cap: int = 3600
) -> int:
    """Seconds a refused phone should wait before it asks again.

    Parameters
    ----------
    next_available : float or None
        When the first aging number becomes available, if any is aging.
    now : float
        The current time (same clock).
    floor, cap : int
        Least and most seconds returned; ``cap`` when nothing is aging.

    Returns
    -------
    int
        ``ceil(next_available - now)`` clipped to ``[floor, cap]``.
    """
    if next_available is None:
        return cap
    return int(min(cap, max(floor, math.ceil(next_available - now))))


class NumberPool:
    """The pure allocation pool (see the module's rules).

    Parameters
    ----------
    numbers : iterable of str
        The pool's numbers.
    static : iterable of str
        Numbers reserved for static assignment; they are removed from the pool.
    aging_days : float
        Days a released number rests, within ``bounds``.
    bounds : tuple of float
        Least and most aging days allowed.

    Examples
    --------
    >>> pool = NumberPool(["+12124561001", "+12124561000"], aging_days=90)
    >>> pool.allocate("a", now=0.0)
    ('+12124561000', True)
    >>> pool.allocate("a", now=5.0)
    ('+12124561000', False)
    """

    def __init__(
        self,
        numbers: Iterable[str],
        *,
        static: Iterable[str] = (),
        aging_days: float,
        bounds: tuple[float, float] = AGING_BOUNDS,
    ) -> None:
        self.aging_seconds = check_aging_days(aging_days, bounds) * DAY
        reserved = set(static)
        self._free: list[tuple[float, str]] = [(0.0, n) for n in sorted(set(numbers) - reserved)]
        heapq.heapify(self._free)
        self._holder: dict[str, str] = {}
        self._number_of: dict[str, str] = {}
        self.size = len(self._free)

    def number_of(self, device: str) -> str | None:
        """The pool number ``device`` holds, if any."""
        return self._number_of.get(device)

    def holder(self, number: str) -> str | None:
        """The device holding ``number``, if any."""
        return self._holder.get(number)

    def allocate(self, device: str, now: float) -> tuple[str, bool]:
        """The number of ``device``, allocating one if it holds none.

        Parameters
        ----------
        device : str
            The device identifier (MAC).
        now : float
            The current time in seconds.

        Returns
        -------
        number : str
        new : bool
            Whether it was allocated by this call.

        Raises
        ------
        PoolExhausted
            If the device holds none and none is available now.
        """
        held = self._number_of.get(device)
        if held is not None:
            return held, False
        if not self._free or self._free[0][0] > now:
            raise PoolExhausted(self._free[0][0] if self._free else None)
        _, number = heapq.heappop(self._free)
        self._holder[number] = device
        self._number_of[device] = number
        return number, True

    def release(self, device: str, now: float) -> str | None:
        """Put the number of ``device`` into aging; the number, or ``None`` if it held none.

        Parameters
        ----------
        device : str
            The device identifier.
        now : float
            The current time in seconds; the number is available from
            ``now + aging_days`` days.
        """
        number = self._number_of.pop(device, None)
        if number is None:
            return None
        del self._holder[number]
        heapq.heappush(self._free, (now + self.aging_seconds, number))
        return number

    def transfer(self, old: str, new: str) -> str | None:
        """Move the number of device ``old`` to device ``new`` (a replaced phone).

        Returns
        -------
        str or None
            The number moved, or ``None`` if ``old`` held none.

        Raises
        ------
        ValueError
            If ``new`` already holds a number.
        """
        if new in self._number_of:
            raise ValueError(f"device {new} already holds a number")
        number = self._number_of.pop(old, None)
        if number is None:
            return None
        self._holder[number] = new
        self._number_of[new] = number
        return number

    def available(self, now: float) -> int:
        """How many numbers could be allocated at ``now``."""
        return sum(1 for at, _ in self._free if at <= now)

    def aging(self, now: float) -> int:
        """How many released numbers are still resting at ``now``."""
        return sum(1 for at, _ in self._free if at > now)

    def next_available(self) -> float | None:
        """When the next number becomes available (``None`` if none is free or aging)."""
        return self._free[0][0] if self._free else None
