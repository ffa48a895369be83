"""The multi-tenant softphone platform inside a world (``platform.enabled``).

One SimPy process steps the platform every ``platform.step_seconds``: at the end of each
step it takes the step's sessions from origination, puts agents on and off shift by the
schedule, sets business hours, the isolation knobs, the routing order and the carriers'
outages, runs the event engine (:class:`models.platform.Engine`) over the step, and
records what finished.  Tenants' numbers are business lines of the world
(:mod:`.tenants`), refreshed at the start of every day.
"""

from __future__ import annotations

import numpy as np
import simpy

from models.common import DAY, HOUR
from models.platform import Engine
from models.platform import layout as L

from ...config.platform import Platform as PlatformConfig
from ..recorder import Table
from .origination import Origination
from .structure import PlatformPolicies, layout_of, structure_of
from .tables import Hourly, session_columns
from .tenants import TenantNumbers

__all__ = ["Platform"]


class Platform:
    """The platform and its tenants inside a world.

    Parameters
    ----------
    env : simpy.Environment
    cfg : sim.config.platform.Platform
        The ``[platform]`` section.
    horizon : float
        End of the run (s).
    population : sim.world.population.Population
        Assigns the tenants' numbers.
    tables : dict of Table
        ``platform_sessions``, ``platform_hourly``, ``platform_carriers``,
        ``platform_media``.
    rng : numpy.random.Generator
        The run's ``platform`` stream (origination names its streams below it).
    policies : PlatformPolicies, optional
        Isolation, staffing schedule, routing and media design (None: what the config
        names, with its fixed staffing).
    """

    def __init__(
        self,
        *,
        env: simpy.Environment,
        cfg: PlatformConfig,
        horizon: float,
        population,
        tables: dict[str, Table],
        rng: np.random.Generator,
        policies: PlatformPolicies | None = None,
    ):
        self.env = env
        self.cfg = cfg
        self.horizon = horizon
        self.tables = tables
        self.policies = policies if policies is not None else PlatformPolicies.from_config(cfg)
        self.layout = layout_of(cfg)
        self.schedule = np.asarray(self.policies.schedule, dtype=np.int64)
        self.engine = Engine(structure_of(cfg, self.layout, self.schedule, self.policies.media))
        knobs = self.policies.isolation.knobs()
        self.engine.set_knobs(
            cap=knobs.cap,
            nominal=knobs.nominal,
            guard=knobs.guard,
            port_cap=knobs.port_cap,
            cps_rate=knobs.cps_rate,
            cps_burst=knobs.cps_burst,
            wait_limit=knobs.wait_limit,
            contention=knobs.contention,
        )
        self.numbers = TenantNumbers(population=population, wanted=[t.numbers for t in cfg.tenants])
        self.origination = Origination(
            cfg=cfg, rng=rng, queue_base=self.layout.queue_base, horizon=horizon
        )
        n = len(cfg.tenants)
        self.hourly = Hourly(tables["platform_hourly"], n, cfg.sl_seconds)
        self.rates = np.array([c.rate_per_minute for c in cfg.carriers])
        # observed talk per tenant, starting from one call at the configured mean (a prior)
        self._talk = np.array(
            [np.mean([s.handle_seconds.mean for s in t.skills]) for t in cfg.tenants]
        )
        self._calls = np.ones(n)
        self._wrap = np.array([t.wrap_seconds for t in cfg.tenants])
        self._day = -1

    def setup(self) -> None:
        """The tenants take their numbers."""
        self.numbers.refresh(0.0)
        self._day = 0

    def run(self):
        """SimPy process: one step every ``platform.step_seconds`` until the horizon."""
        t0 = 0.0
        step = float(self.cfg.step_seconds)
        while t0 < self.horizon:
            t1 = min(t0 + step, self.horizon)
            yield self.env.timeout(t1 - t0)
            self._step(t0, t1)
            t0 = t1
        self.hourly.flush(np.inf)

    # -- a step ---------------------------------------------------------------------------
    def _outages(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        names = [c.name for c in self.cfg.carriers]
        lo = np.full(len(names), np.inf)
        hi = np.full(len(names), np.inf)
        for o in self.cfg.outages.values():
            start = o.day * DAY + o.hour * HOUR
            end = start + o.hours * HOUR
            if start < t1 and end > t0:
                k = names.index(o.carrier)
                lo[k], hi[k] = start, end
        return lo, hi

    def _step(self, t0: float, t1: float) -> None:
        day = int(t0 // DAY)
        if day != self._day:
            self.numbers.refresh(t0)
            self._day = day
        new_f, new_i = self.origination.take(t0, t1, self.numbers.numbers)
        how = (day % 7) * 24 + int(t0 % DAY // HOUR)
        staff = self.schedule[:, how]
        eng = self.engine
        eng.set_open(self.origination.is_open(t0))
        eng.set_mean_handle(self._talk / self._calls + self._wrap)
        order, weights = self.policies.routing.plan()
        eng.set_route(order, weights, self.policies.routing.failover)
        eng.set_outages(*self._outages(t0, t1))
        step = eng.step(t0, t1, staff, new_f, new_i)
        f, i = step.out_f, step.out_i
        self.policies.routing.observe(
            step.carriers[:, L.C_ATTEMPTS].astype(float), step.carriers[:, L.C_CONNECTED]
        )
        seen = (i[:, L.O_CHANNEL] == L.VOICE) & (i[:, L.O_OUTCOME] == L.ANSWERED)
        n_t = len(self.cfg.tenants)
        self._talk += np.bincount(i[seen, L.O_TENANT], f[seen, L.O_SERVED], minlength=n_t)
        self._calls += np.bincount(i[seen, L.O_TENANT], minlength=n_t)
        if self.cfg.record_sessions:
            self.tables["platform_sessions"].append(
                **session_columns(step, self.layout.queue_skill, self.rates)
            )
        agents = np.bincount(self.layout.group_tenant, weights=staff, minlength=n_t)
        self.hourly.sessions(f, i)
        self.hourly.step(t0, t1, agents, step)
        if t1 // DAY > t0 // DAY:  # complete hours are written once a day
            self.hourly.flush(min(t1, step.earliest))
        dt = t1 - t0
        self.tables["platform_media"].append(
            t=t0,
            trunks_peak=step.peak_trunks,
            trunks_mean=step.trunk_seconds / dt,
            ports_peak=step.peak_ports,
            ports_mean=step.port_seconds / dt,
            in_system=step.active,
            agents=int(staff.sum()),
        )
        c = step.carriers
        self.tables["platform_carriers"].append(
            t=t0,
            carrier=np.arange(len(c)),
            attempts=c[:, L.C_ATTEMPTS],
            connected=c[:, L.C_CONNECTED],
            failed_down=c[:, L.C_DOWNFAIL],
            skipped_full=c[:, L.C_SKIP_FULL],
            skipped_cps=c[:, L.C_SKIP_CPS],
            peak_channels=c[:, L.C_PEAK],
            billed_minutes=step.carrier_billed / 60.0,
            cost=step.carrier_billed / 60.0 * self.rates,
        )
