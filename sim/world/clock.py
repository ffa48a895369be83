"""Poisson traffic sources advanced one time slice at a time.

Every source (a subscriber dialling out, a number receiving background spam) is a Poisson
process whose rate is ``m_i * lambda_g(t)``: a fixed personal multiplier ``m_i`` times the
hourly profile ``lambda_g`` of its group ``g``.  By the time-change theorem, its events are the
points where the group's integrated intensity ``C_g(t) = integral_0^t lambda_g`` crosses
``E_1/m_i, (E_1+E_2)/m_i, ...`` with ``E_k ~ Exp(1)``.  Each source therefore stores only
the clock value of its next event; a slice ``[t0, t1)`` with constant group rate ``r_g``
emits, for each source, every clock value below ``C_g(t1)`` at time
``t0 + (c - C_g(t0)) / r_g``.  This is exact for piecewise-constant rates (the profiles are
hourly and slices divide the hour), costs one comparison per idle source and one
exponential draw per call, and needs one float per source: that is the "hybrid" world's
flood path, while lifecycle events stay in SimPy.

The kernel :func:`advance` is compiled by Numba; ``advance.py_func`` is the same code run by
the interpreter, the oracle the property tests compare it with.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from models.common import DAY

from ..core.columns import GrowingColumns

__all__ = ["PoissonSources", "advance", "gamma_multipliers", "hourly_rates"]


def hourly_rates(per_day: float, diurnal) -> np.ndarray:
    """Per-second rate in each hour of the day: ``per_day`` shaped by a 24-hour profile."""
    weights = np.asarray(diurnal, dtype=np.float64)
    return per_day / DAY * weights / weights.mean()


def gamma_multipliers(rng: np.random.Generator, cv: float, size: int) -> np.ndarray:
    """Rate multipliers with mean 1 and coefficient of variation ``cv`` (gamma; 1 if cv=0)."""
    if cv == 0:
        return np.ones(size)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, size)


def _advance(
    next_c, inv_mult, end_t, group, clock, clock_end, rate, t0, start, rng, out_t, out_src
):
    """Emit the events of sources ``start..`` in the current slice.

    Parameters
    ----------
    next_c : float64[n]
        Clock value of each source's next event (updated in place; ``inf`` once ended).
    inv_mult : float64[n]
        ``1 / m_i`` (``inf`` for a source that never calls).
    end_t : float64[n]
        Time each source stops (``inf`` while active).
    group : int8[n]
        Group of each source (int8 keeps the per-slice sweep over idle sources lean).
    clock, clock_end, rate : float64[G]
        Each group's integrated intensity at the slice start and end, and its rate (1/s).
    t0 : float
        Slice start (s).
    start : int
        First source to process (to resume after the output filled up).
    rng : numpy.random.Generator
        Stream of the exponential gaps.
    out_t : float64[cap]
        Output: event times.
    out_src : int64[cap]
        Output: source of each event.

    Returns
    -------
    (int, int)
        Events written, and the source to resume from (``n`` when the slice is done).
    """
    n_out = 0
    cap = out_t.shape[0]
    n = next_c.shape[0]
    for i in range(start, n):
        g = group[i]
        c = next_c[i]
        while c < clock_end[g]:
            t = t0 + (c - clock[g]) / rate[g]
            if t >= end_t[i]:
                c = np.inf
                break
            if n_out == cap:
                next_c[i] = c
                return n_out, i
            out_t[n_out] = t
            out_src[n_out] = i
            n_out += 1
            c += rng.standard_exponential() * inv_mult[i]
        next_c[i] = c
    return n_out, n


advance = njit(cache=True, nogil=True)(_advance)


class PoissonSources:
    """A growing set of Poisson sources in groups that share an hourly rate profile.

    Parameters
    ----------
    profiles : numpy.ndarray
        ``(G, 24)`` rate per unit multiplier of each group in each hour of the day (1/s).
    capacity : int
        Initial number of source slots (arrays grow by doubling).

    Examples
    --------
    >>> import numpy as np
    >>> src = PoissonSources(np.full((1, 24), 1 / 3600))
    >>> ids = src.add(0.0, np.zeros(100, dtype=np.int64), np.ones(100), np.random.default_rng(1))
    >>> t, who = src.emit(3600.0, np.random.default_rng(2))
    >>> bool(((t >= 0) & (t < 3600)).all())
    True
    """

    def __init__(self, profiles: np.ndarray, capacity: int = 1024):
        self.profiles = np.ascontiguousarray(profiles, dtype=np.float64)
        self.clock = np.zeros(self.profiles.shape[0])
        self.t0 = 0.0
        self.rate = self.profiles[:, 0].copy()
        self.cols = GrowingColumns(
            {"next_c": "float64", "inv_mult": "float64", "end_t": "float64", "group": "int8"},
            capacity,
        )
        self._out_t = np.empty(4096)
        self._out_src = np.empty(4096, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.cols)

    def add(
        self, t: float, group: np.ndarray, mult: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Start new sources at time ``t`` (within the current slice).

        Returns their indices.  A multiplier of 0 makes a source that never fires.
        """
        group = np.asarray(group, dtype=np.int8)
        mult = np.asarray(mult, dtype=np.float64)
        live = mult > 0
        safe = np.where(live, mult, 1.0)
        now = self.clock[group] + self.rate[group] * (t - self.t0)
        gaps = rng.standard_exponential(len(group))
        return self.cols.extend(
            next_c=np.where(live, now + gaps / safe, np.inf),
            inv_mult=np.where(live, 1.0 / safe, np.inf),
            end_t=np.inf,
            group=group,
        )

    def end(self, idx, t: float) -> None:
        """Stop sources at time ``t``: they emit nothing at or after it."""
        self.cols["end_t"][idx] = t

    def emit(self, t1: float, rng: np.random.Generator, kernel=advance):
        """Advance every source to ``t1`` (the end of the current slice).

        Parameters
        ----------
        t1 : float
            Slice end; ``[t0, t1)`` must lie within one hour of the day (rates are hourly).
        rng : numpy.random.Generator
            Stream of the exponential gaps.
        kernel : callable
            :func:`advance` or its Python twin ``advance.py_func``.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Event times (float64, in source order, not sorted) and sources (int64).
        """
        clock_end = self.clock_at(t1)
        times, sources = [np.empty(0)], [np.empty(0, dtype=np.int64)]
        start = 0 if (self.rate > 0).any() else len(self.cols)  # a silent hour: no sweep
        c = self.cols
        while start < len(c):
            n_out, start = kernel(
                c["next_c"],
                c["inv_mult"],
                c["end_t"],
                c["group"],
                self.clock,
                clock_end,
                self.rate,
                self.t0,
                start,
                rng,
                self._out_t,
                self._out_src,
            )
            times.append(self._out_t[:n_out].copy())
            sources.append(self._out_src[:n_out].copy())
            if start >= len(c):
                break
            self._out_t = np.empty(2 * len(self._out_t))
            self._out_src = np.empty(2 * len(self._out_src), dtype=np.int64)
        self.finish(t1, clock_end)
        return np.concatenate(times), np.concatenate(sources)

    def clock_at(self, t1: float) -> np.ndarray:
        """Each group's integrated intensity at ``t1`` (within the current slice)."""
        return self.clock + self.rate * (t1 - self.t0)

    def finish(self, t1: float, clock_end: np.ndarray) -> None:
        """End the current slice at ``t1`` once every source has been advanced to it
        (by :meth:`emit` or a kernel of :mod:`sim.world.kernels`)."""
        self.clock = clock_end
        self.t0 = t1
        hour = int(t1 // 3600) % 24
        self.rate = self.profiles[:, hour].copy()
