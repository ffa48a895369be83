"""The operator's own simulation of a staffing schedule: a week of its forecast model run
through the platform engine.

Each agent group is simulated as its own queue (its forecast arrivals, Poisson per hour;
talk times resampled from those it observed; exponential patience at its estimated rate;
its wrap-up), with ample trunks, on fixed seeds so that two schedules face the same
callers (common random numbers).  This is what a simulation-based staffing optimiser
evaluates -- the operator's model, never the world's truth.
"""

from __future__ import annotations

import numpy as np

from models.common import DAY, HOUR

from . import layout as L
from .engine import Engine, Structure, session_rows
from .forecast import HOURS_PER_WEEK, Forecast

__all__ = ["WeekScenario", "daily_performance"]


class WeekScenario:
    """Callers of one week per seed, drawn once from a forecast (common random numbers).

    Parameters
    ----------
    fc : Forecast
    seeds : int
        Weeks drawn.
    seed : int
        Root seed.
    """

    def __init__(self, fc: Forecast, seeds: int, seed: int) -> None:
        self.fc = fc
        self.weeks: list[tuple[np.ndarray, np.ndarray]] = []
        n_g = len(fc.handle)
        for k in range(seeds):
            rng = np.random.default_rng([seed, k])
            counts = rng.poisson(fc.lam * HOUR)  # (groups, hours)
            group = np.repeat(np.repeat(np.arange(n_g), HOURS_PER_WEEK), counts.ravel())
            hour = np.repeat(np.tile(np.arange(HOURS_PER_WEEK), n_g), counts.ravel())
            m = len(group)
            f, i = session_rows(m, 1)
            f[:, L.F_T] = (hour + rng.random(m)) * HOUR
            talk = np.zeros(m)
            for g in range(n_g):
                sel = group == g
                pool = fc.samples[g]
                if len(pool):
                    talk[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]
            f[:, L.F_HANDLE] = talk
            f[:, L.F_WRAP] = fc.wrap[group]
            f[:, L.F_PAT] = rng.exponential(1.0, m) / np.maximum(fc.theta[group], 1e-12)
            i[:, L.I_TENANT] = group
            i[:, L.I_QUEUE] = group
            i[:, L.I_SESSION] = np.arange(m)
            order = np.argsort(f[:, L.F_T], kind="stable")
            self.weeks.append((f[order], i[order]))


def daily_performance(
    scenario: WeekScenario, schedule: np.ndarray, sl_seconds: float
) -> tuple[np.ndarray, np.ndarray]:
    """Share answered within ``sl_seconds`` and share abandoned, per group and day of the
    week, averaged over the scenario's weeks (NaN for a day without calls).

    Parameters
    ----------
    scenario : WeekScenario
    schedule : numpy.ndarray
        ``(groups, 168)`` agents on shift.
    sl_seconds : float

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(groups, 7)`` service level and abandonment.
    """
    n_g = schedule.shape[0]
    gs = np.arange(n_g, dtype=np.int64)
    structure = Structure(
        queue_tenant=gs,
        queue_skill=np.zeros(n_g, dtype=np.int64),
        queue_channel=np.zeros(n_g, dtype=np.int64),
        queue_priority=np.zeros(n_g, dtype=np.int64),
        group_tenant=gs,
        group_skill=np.zeros(n_g, dtype=np.int64),
        group_mask=np.ones(n_g, dtype=np.int64),
        group_size=np.maximum(schedule.max(axis=1), 0).astype(np.int64),
        group_capacity=np.ones(n_g, dtype=np.int64),
        n_tenants=n_g,
        trunks=10**9,
        ports=10**9,
        call_ports=1,
        consult_ports=1,
    )
    offered = np.zeros((n_g, 7))
    within = np.zeros((n_g, 7))
    abandoned = np.zeros((n_g, 7))
    for f, i in scenario.weeks:
        engine = Engine(structure)
        bounds = np.searchsorted(f[:, L.F_T], np.arange(HOURS_PER_WEEK + 1) * HOUR)
        rows_f, rows_i = [], []
        for h in range(HOURS_PER_WEEK):
            sl = slice(bounds[h], bounds[h + 1])
            out = engine.step(h * HOUR, (h + 1) * HOUR, schedule[:, h], f[sl], i[sl])
            rows_f.append(out.out_f)
            rows_i.append(out.out_i)
        out = engine.step(
            HOURS_PER_WEEK * HOUR, 10 * HOURS_PER_WEEK * HOUR, schedule[:, -1], f[:0], i[:0]
        )
        rows_f.append(out.out_f)
        rows_i.append(out.out_i)
        of, oi = np.concatenate(rows_f), np.concatenate(rows_i)
        day = np.minimum((of[:, L.O_T] // DAY).astype(np.int64), 6)
        g = oi[:, L.O_TENANT]
        ok = (oi[:, L.O_OUTCOME] == L.ANSWERED) & (of[:, L.O_WAIT] <= sl_seconds)
        np.add.at(offered, (g, day), 1.0)
        np.add.at(within, (g, day), ok)
        np.add.at(abandoned, (g, day), oi[:, L.O_OUTCOME] == L.ABANDONED)
    with np.errstate(invalid="ignore", divide="ignore"):
        return within / offered, abandoned / offered
