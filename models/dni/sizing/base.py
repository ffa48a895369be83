"""The pool sizing protocol: :class:`SizingContext`, :class:`PoolSizer`, the registry
:data:`SIZERS`, the checks the policies share, and :func:`number_days`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ...common import DAY, HOUR
from ...registry import Registry

__all__ = ["PoolSizer", "SIZERS", "SizingContext", "number_days"]

_NOISE = 1e-12


# -- helpers --------------------------------------------------------------------------------
def _ceil(x: float) -> int:
    """``ceil(x)`` ignoring float noise below ``1e-12`` relative."""
    return int(math.ceil(x - _NOISE * abs(x)))


def _number(
    value: Any,
    name: str,
    lo: float = 0.0,
    lo_open: bool = False,
    hi: float = math.inf,
    hi_open: bool = False,
) -> float:
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


def _count(value: object, name: str, lo: int = 0) -> int:
    """``value`` as an int >= ``lo``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


# -- the protocol ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SizingContext:
    """What a sizing policy plans from, whatever the policy.

    The true demand (``hourly_loads``, ``daily_visitors``) is given only to policies that
    declare themselves oracle-informed (:attr:`PoolSizer.oracle_informed`); a fair policy
    gets ``None`` there and learns the demand from what the platform observes
    (:meth:`PoolSizer.observe`).

    Attributes
    ----------
    hourly_loads : numpy.ndarray or None
        True offered load of the pool in each hour of the day (erlangs); None for a fair
        policy.
    lease_minutes : float
        Mean time a number stays with a session (session plus hold) -- configured, for
        oracle-informed policies.
    daily_visitors : float or None
        True sessions per day over all sources; None for a fair policy.
    pool_size : int
        The pool's starting size.
    target_blocking : float
        Acceptable share of sessions that find no free number.
    step_seconds : float
        How often the pool is resized (s).
    """

    hourly_loads: np.ndarray | None
    lease_minutes: float
    daily_visitors: float | None
    pool_size: int
    target_blocking: float
    step_seconds: float

    def true_loads(self) -> np.ndarray:
        """``hourly_loads``, or ``ValueError`` if this context does not hold the truth."""
        if self.hourly_loads is None:
            raise ValueError("an oracle-informed sizer needs the true hourly loads")
        return self.hourly_loads

    def true_visitors(self) -> float:
        """``daily_visitors``, or ``ValueError`` if this context does not hold the truth."""
        if self.daily_visitors is None:
            raise ValueError("an oracle-informed sizer needs the true daily visitors")
        return self.daily_visitors

    @property
    def sessions_per_hour(self) -> np.ndarray:
        """True sessions starting in each hour of the day."""
        return self.true_loads() / (self.lease_minutes * 60.0) * HOUR

    @property
    def max_size(self) -> int:
        """The most numbers a reactive policy may hold: four times the larger of the
        starting pool and 1.5 times the peak load (the starting pool alone when the demand
        is not given)."""
        if self.hourly_loads is None:
            return 4 * self.pool_size
        return 4 * max(self.pool_size, int(self.hourly_loads.max() * 1.5))


class PoolSizer:
    """A pool sizing policy: ``reset`` once, then ``size`` at every simulator step.

    Attributes
    ----------
    current_ : int
        The last size returned (the start size after :meth:`reset`).
    """

    current_: int = 0

    oracle_informed: bool = False
    """True for a policy planned from the true demand (the context's ``hourly_loads`` and
    ``daily_visitors``): a reference, not a policy a platform could run."""

    @classmethod
    def from_context(cls, ctx: SizingContext, *args: Any, **params: Any) -> PoolSizer:
        """The policy planned from ``ctx``; a subclass declares its own parameters (its
        table in the config) as keyword-only arguments after ``ctx``."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_context")

    def reset(self, start_size: int) -> None:
        """Start a run with a pool of ``start_size`` numbers.

        Parameters
        ----------
        start_size : int
            Pool size before the first step, >= 0.
        """
        self.current_ = _count(start_size, "start_size")

    def observe(self, t: float, sessions: int, lease_seconds: float | None) -> None:
        """What the platform observed over the step that ends at ``t`` (called after every
        step; the default ignores it).

        Parameters
        ----------
        t : float
            End of the step (s); the step began where the previous one ended (0 first).
        sessions : int
            Lease requests (impressions shown) in the step, blocked ones included.
        lease_seconds : float or None
            Mean lease (session plus hold) of the sessions that have ended so far; None
            before the first one ends.
        """

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
        params = ", ".join(
            f"{k}={v!r}"
            for k, v in vars(self).items()
            if not k.endswith("_") and not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"


class _Static(PoolSizer):
    """A planner whose size is fixed at construction (``size_``)."""

    size_: int

    def size(self, t: float, busy: int, offered: float | None = None) -> int:
        self.current_ = self.size_
        return self.size_


SIZERS: Registry[PoolSizer] = Registry(
    "pool sizer", factory="from_context", context=1, base=PoolSizer
)
"""Pool sizing policies by config name (``dni.sizer``)."""


# -- accounting -----------------------------------------------------------------------------
def number_days(sizes: npt.ArrayLike, step_seconds: float) -> float:
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
