"""Staffing policies: agents on shift per group and hour of the week
(``STAFFING_POLICIES``).

Every policy plans from the operator's forecast (:mod:`models.platform.forecast`, learned
from a history of its own records) for the target "a share ``sl_target`` answered within
``sl_seconds``, at most ``abandon_target`` abandoned":

* ``fixed`` -- the configured agents of each group whenever its tenant is open (no
  forecast);
* ``square_root`` -- ``a + beta sqrt(a)`` (Halfin and Whitt 1981), ``a`` the hour's load;
* ``erlang_c`` -- the fewest agents meeting the service level in M/M/n (no abandonment);
* ``erlang_a`` -- the fewest meeting both targets in M/M/n+M (Palm; Garnett, Mandelbaum
  and Reiman 2002), with the estimated patience;
* ``sim_optimised`` -- the fewest agent-hours meeting both targets *per day* in the
  operator's own simulation of the week (:mod:`models.platform.opsim`): a mixed-integer
  program (``scipy.optimize.milp``, HiGHS) chooses each hour's level from the Erlang A
  curves of every hour, the simulation checks the days, and a day that falls short has its
  requirement raised by the shortfall (a cut) before solving again -- simulation-based
  staffing in the manner of Atlason, Epelman and Henderson (2004), with Erlang A in place
  of their finite differences.

Every open hour gets at least one agent; text work adds its load in agents, rounded up,
to every policy but ``fixed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from models.registry import Registry

from .forecast import HOURS_PER_WEEK, Forecast
from .opsim import WeekScenario, daily_performance
from .queueing import (
    ErlangA,
    erlang_a_staffing,
    erlang_c_staffing,
    square_root_staffing,
)

__all__ = ["STAFFING_POLICIES", "StaffingContext", "StaffingPolicy"]

STAFFING_POLICIES: Registry = Registry("staffing policy", context=1)
"""Staffing policies by name (parameters in ``[platform.staffing_policies.<name>]``)."""


@dataclass(frozen=True)
class StaffingContext:
    """What a staffing policy knows.

    Attributes
    ----------
    forecast : Forecast or None
        The operator's forecast (None when the policy needs none).
    fixed : numpy.ndarray
        Configured agents per group.
    open : numpy.ndarray
        ``(groups, 168)`` whether the group's tenant is open in each hour of the week.
    sl_seconds, sl_target, abandon_target : float
        The targets.
    seed : int
        Seed of the operator's own simulations.
    """

    forecast: Forecast | None
    fixed: np.ndarray
    open: np.ndarray
    sl_seconds: float
    sl_target: float
    abandon_target: float
    seed: int


class StaffingPolicy:
    """Base class: ``schedule()`` gives ``(groups, 168)`` agents on shift."""

    needs_forecast = True

    def __init__(self, ctx: StaffingContext) -> None:
        self.ctx = ctx

    def voice(self, lam: float, handle: float, theta: float) -> int:
        """Agents for one hour's calls (subclasses)."""
        raise NotImplementedError

    def schedule(self) -> np.ndarray:
        """Agents per group and hour of the week."""
        fc = self.ctx.forecast
        if fc is None:
            raise ValueError("this staffing policy needs a forecast")
        n_groups = self.ctx.open.shape[0]
        out = np.zeros((n_groups, HOURS_PER_WEEK), dtype=np.int64)
        for g in range(n_groups):
            for h in range(HOURS_PER_WEEK):
                if self.ctx.open[g, h]:
                    lam, handle = float(fc.lam[g, h]), float(fc.handle[g])
                    n = self.voice(lam, handle, float(fc.theta[g])) if handle > 0 else 0
                    n += int(math.ceil(fc.text_erlangs[g, h] - 1e-9))
                    out[g, h] = max(n, 1)
        return out


@STAFFING_POLICIES.register("fixed")
class Fixed(StaffingPolicy):
    """The configured agents whenever the tenant is open."""

    needs_forecast = False

    def schedule(self) -> np.ndarray:
        return np.where(self.ctx.open, self.ctx.fixed[:, None], 0).astype(np.int64)


@STAFFING_POLICIES.register("square_root")
class SquareRoot(StaffingPolicy):
    """Square-root staffing.

    Parameters
    ----------
    beta : float
        Safety staffing in units of the square root of the load.
    """

    def __init__(self, ctx: StaffingContext, *, beta: float) -> None:
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        super().__init__(ctx)
        self.beta = beta

    def voice(self, lam: float, handle: float, theta: float) -> int:
        return square_root_staffing(lam, 1.0 / handle, self.beta)


@STAFFING_POLICIES.register("erlang_c")
class ErlangC(StaffingPolicy):
    """The Erlang C inverse (callers never abandon)."""

    def voice(self, lam: float, handle: float, theta: float) -> int:
        c = self.ctx
        return erlang_c_staffing(lam, 1.0 / handle, c.sl_seconds, c.sl_target)


@STAFFING_POLICIES.register("erlang_a")
class ErlangAStaffing(StaffingPolicy):
    """The Erlang A inverse (exponential patience at the estimated rate)."""

    def voice(self, lam: float, handle: float, theta: float) -> int:
        c = self.ctx
        return erlang_a_staffing(
            lam, 1.0 / handle, theta, c.sl_seconds, c.sl_target, c.abandon_target
        )


@STAFFING_POLICIES.register("sim_optimised")
class SimOptimised(StaffingPolicy):
    """Fewest agent-hours meeting both targets every day in the operator's simulation.

    Parameters
    ----------
    seeds : int
        Weeks the operator simulates per candidate schedule (common random numbers).
    iterations : int
        Rounds of solve, simulate and cut.
    below : float
        Lowest level tried in an hour, as a share of the Erlang A level.
    above : int
        Agents above the Erlang A level tried in an hour.
    """

    def __init__(
        self, ctx: StaffingContext, *, seeds: int, iterations: int, below: float, above: int
    ) -> None:
        if seeds < 1 or iterations < 1 or not 0 < below <= 1 or above < 0:
            raise ValueError("seeds, iterations >= 1; below in (0, 1]; above >= 0")
        super().__init__(ctx)
        self.seeds, self.iterations, self.below, self.above = seeds, iterations, below, above
        self.rounds: list[dict[str, float]] = []

    def schedule(self) -> np.ndarray:
        c = self.ctx
        fc = c.forecast
        if fc is None:
            raise ValueError("sim_optimised needs a forecast")
        start = ErlangAStaffing(c).schedule()
        text = np.ceil(fc.text_erlangs - 1e-9).astype(np.int64)
        scenario = WeekScenario(fc, self.seeds, c.seed)
        best = start if self._feasible(*daily_performance(scenario, start, c.sl_seconds)) else None
        raise_sl = np.zeros((start.shape[0], 7))
        lower_ab = np.zeros((start.shape[0], 7))
        for _ in range(self.iterations):
            plan = np.array(
                [
                    self._solve(g, start[g] - text[g], raise_sl[g], lower_ab[g])
                    for g in range(start.shape[0])
                ]
            )
            plan = np.where(c.open, np.maximum(plan + text, 1), 0)
            sl, ab = daily_performance(scenario, plan, c.sl_seconds)
            self.rounds.append({"agent_hours": float(plan.sum()), "worst_sl": float(np.nanmin(sl))})
            if self._feasible(sl, ab):
                if best is None or plan.sum() < best.sum():
                    best = plan
                break
            raise_sl += np.where(sl < c.sl_target, c.sl_target - sl + 0.002, 0.0)
            lower_ab += np.where(ab > c.abandon_target, ab - c.abandon_target + 0.001, 0.0)
        return start if best is None else best

    def _feasible(self, sl: np.ndarray, ab: np.ndarray) -> bool:
        c = self.ctx
        ok = (np.nan_to_num(sl, nan=1.0) >= c.sl_target) & (
            np.nan_to_num(ab, nan=0.0) <= c.abandon_target
        )
        return bool(ok.all())

    def _solve(
        self, g: int, erlang: np.ndarray, raise_sl: np.ndarray, lower_ab: np.ndarray
    ) -> np.ndarray:
        """Voice agents per hour of group ``g``: the cheapest levels whose Erlang A
        service level and abandonment, weighted by each hour's calls, meet the raised
        targets day by day."""
        c, fc = self.ctx, self.ctx.forecast
        assert fc is not None
        lam, handle, theta = fc.lam[g], float(fc.handle[g]), float(fc.theta[g])
        hours = [h for h in range(HOURS_PER_WEEK) if c.open[g, h] and lam[h] > 0 and handle > 0]
        out = np.maximum(erlang, 0).astype(np.int64)
        if not hours:
            return out
        cols: list[tuple[int, int]] = []
        for h in hours:
            lo = max(1, int(math.floor(self.below * erlang[h])))
            cols += [(h, n) for n in range(lo, int(erlang[h]) + self.above + 1)]
        n_var = len(cols)
        cost = np.array([n for _, n in cols], dtype=float)
        rows, lb, ub = [], [], []
        for h in hours:  # one level per hour
            rows.append(np.array([1.0 if hh == h else 0.0 for hh, _ in cols]))
            lb.append(1.0)
            ub.append(1.0)
        for d in range(7):
            sl_row, ab_row = np.zeros(n_var), np.zeros(n_var)
            any_hour = False
            for k, (h, n) in enumerate(cols):
                if h // 24 != d:
                    continue
                any_hour = True
                q = ErlangA(n, float(lam[h]), 1.0 / handle, max(theta, 1e-9))
                sl_row[k] = lam[h] * (q.service_level(c.sl_seconds) - c.sl_target - raise_sl[d])
                ab_row[k] = lam[h] * (q.p_abandon - c.abandon_target + lower_ab[d])
            if any_hour:
                rows += [sl_row, ab_row]
                lb += [0.0, -np.inf]
                ub += [np.inf, 0.0]
        res = optimize.milp(
            cost,
            constraints=optimize.LinearConstraint(np.array(rows), lb, ub),
            integrality=np.ones(n_var),
            bounds=optimize.Bounds(0, 1),
        )
        if res.x is None:  # no level set meets the raised targets: the Erlang A plan
            return out
        for k in np.flatnonzero(res.x > 0.5).tolist():
            hour, level = cols[k]
            out[hour] = level
        return out
