"""The simulated number world: a SimPy environment that builds its components, wires them
together and runs them to the horizon.

Components receive their collaborators as constructor arguments, in a fixed order: the
inventory, background spam, residual traffic, the threshold tracker, the releaser, the
population, robocall operators, the DNI market and the traffic process.  The policies under
study (:class:`Policies`) are handed in: the world never builds them and never imports a
study.  The lifecycle hooks follow desmod's pattern (build, set up, run, write the
end-of-run tables) without its dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from models.aging.release import Drawn, ReleasePolicy
from models.common import DAY
from models.provisioning.storm import StormPlan

from ..config.experiment import ExperimentConfig
from ..core.seeding import Streams
from .calls import Policy, PolicyContext
from .daily import Counters
from .fleet import Fleet
from .inventory import Inventory, make_numbers
from .market import Market
from .origination import Origination
from .pipeline import Pipeline
from .platform import Platform
from .population import Population
from .recorder import Recorder
from .release import Releaser
from .residual import ResidualTraffic
from .robocallers import Robocallers
from .spam import Spam
from .status import AgingTracker
from .storm import Storm
from .traffic import Traffic

__all__ = ["Policies", "World"]


@dataclass
class Policies:
    """The policies under study that a world is handed.

    Attributes
    ----------
    screens : list of Policy
        Call-control policies, applied in order (each may define ``attach(context)``).
    release : ReleasePolicy or None
        When disconnected numbers go back to the pool (None: a uniform time within the
        bounds, :class:`models.aging.release.Drawn`).
    sizer : models.dni.PoolSizer or None
        Resizes the DNI pool (None: fixed size).
    composer : object or None
        Composition of the DNI pool (None: every number of ``dni.pool_kind``).
    platform : sim.world.platform.PlatformPolicies or None
        Isolation, staffing, routing and media design of the softphone platform (None:
        what ``[platform]`` names, with its fixed staffing).
    storm : models.provisioning.storm.StormPolicy or None
        The restart storm's policy (None: phones and server as configured, no policy).
    replacement : models.provisioning.replacement.ReplacementPolicy or None
        Decides the phone fleet's replacements (needed when ``fleet.enabled``).
    """

    screens: list[Policy] = field(default_factory=list)
    release: ReleasePolicy | None = None
    sizer: Any = None
    composer: Any = None
    platform: Any = None
    storm: Any = None
    replacement: Any = None

    def merge(self, other: Policies) -> Policies:
        """Both sets: screens of ``self`` first; ``other`` fills what ``self`` leaves
        unset."""
        return Policies(
            screens=[*self.screens, *other.screens],
            release=self.release if self.release is not None else other.release,
            sizer=self.sizer if self.sizer is not None else other.sizer,
            composer=self.composer if self.composer is not None else other.composer,
            platform=self.platform if self.platform is not None else other.platform,
            storm=self.storm if self.storm is not None else other.storm,
            replacement=self.replacement if self.replacement is not None else other.replacement,
        )


def _connected(owner: str, **collaborators: Any) -> None:
    """Fail at construction if a collaborator is missing, naming it."""
    for name, value in collaborators.items():
        if value is None:
            raise TypeError(f"{owner}: collaborator {name!r} is not connected")


class World(simpy.Environment):
    """One replication of the number world.

    Parameters
    ----------
    config : ExperimentConfig
        A single point's configuration (its sweep is ignored).
    streams : Streams
        The run's named random streams.
    recorder : Recorder
        Receives every table.
    policies : Policies
        The policies under study.
    progress : callable, optional
        Called with the simulated seconds of each finished slice (e.g. a tqdm ``update``).

    Attributes
    ----------
    horizon : float
        End of the run (s).
    """

    def __init__(
        self,
        config: ExperimentConfig,
        streams: Streams,
        recorder: Recorder,
        policies: Policies,
        progress: Callable[[float], None] | None = None,
    ):
        super().__init__()
        _connected("World", config=config, streams=streams, recorder=recorder, policies=policies)
        self.config = config
        self.horizon = config.scenario.days * DAY
        rng = streams.get
        tables = recorder.tables
        inv = config.inventory
        self.inventory = Inventory(
            make_numbers(inv.area_codes, inv.blocks_per_area_code, rng("inventory")),
            recorder["ledger"],
            rng("assignment"),
            inv.assignment,
        )
        context = PolicyContext(
            self.inventory.numbers, self.inventory.listeners.append, tables, rng
        )
        for policy in policies.screens:
            attach = getattr(policy, "attach", None)
            if attach is not None:
                attach(context)
        counters = Counters()
        background = config.spam.calls_per_line_per_day
        self.spam = Spam(config.spam, len(self.inventory), rng("spam"))
        types = config.subscribers.by_code()
        self.residual = ResidualTraffic(
            specs=config.residual.by_code(),
            types=types,
            background=background,
            spam_multiplier=self.spam.multiplier,
            inventory=self.inventory,
            slice_seconds=config.scenario.slice_seconds,
            horizon=self.horizon,
            rng=rng("residual"),
        )
        self.tracker = AgingTracker(
            cfg=config.aging,
            background=background,
            inventory=self.inventory,
            residual=self.residual,
            tables=tables,
        )
        bounds = np.array([t.aging_days for t in types] + [config.robocallers.aging_days])
        self.releaser = Releaser(
            env=self,
            policy=policies.release or Drawn(),
            bounds=bounds,
            inventory=self.inventory,
            residual=self.residual,
            tracker=self.tracker,
            counters=counters,
            background=background,
            release_rate=config.aging.release.threshold * background,
        )
        self.population = Population(
            env=self,
            horizon=self.horizon,
            types=types,
            campaigns=config.robocallers.campaigns,
            days=config.scenario.days,
            inventory=self.inventory,
            releaser=self.releaser,
            spam=self.spam,
            counters=counters,
            exhaustion=recorder["exhaustion"],
            subscribers=recorder["subscribers"],
            rng=rng("subscribers"),
            rng_contacts=rng("contacts"),
            rng_robo=rng("robocallers"),
            warm_start=config.scenario.warm_start,
        )
        self.robocallers = Robocallers(
            env=self,
            campaigns=config.robocallers.campaigns,
            population=self.population,
            inventory=self.inventory,
        )
        self.market = None
        if config.dni.enabled:
            self.market = Market(
                env=self,
                cfg=config.dni,
                horizon=self.horizon,
                tables=tables,
                rng=rng("dni"),
                sizer=policies.sizer,
                optimizer=policies.composer,
            )
        self.storm = None
        if config.storm.enabled:
            self.storm = Storm(
                env=self,
                cfg=config.storm,
                plan=policies.storm.plan if policies.storm is not None else StormPlan(),
                horizon=self.horizon,
                tables=tables,
                rng=rng("storm"),
            )
        self.fleet = None
        if config.fleet.enabled:
            self.fleet = Fleet(
                env=self,
                cfg=config.fleet,
                policy=policies.replacement,
                horizon=self.horizon,
                tables=tables,
                rng=rng("fleet"),
            )
        self.platform = None
        if config.platform.enabled:
            self.platform = Platform(
                env=self,
                cfg=config.platform,
                horizon=self.horizon,
                population=self.population,
                tables=tables,
                rng=rng("platform"),
                policies=policies.platform,
            )
        # Rows are put in time order only when someone looks at them; values never depend
        # on the order, because all per-call randomness is drawn in emission order.
        origination = Origination(
            config=config,
            population=self.population,
            spam=self.spam,
            residual=self.residual,
            inventory=self.inventory,
            rng_calls=rng("calls"),
            rng_answer=rng("answer"),
            redirect_key=np.uint64(rng("redirect").integers(2**63)),
            sort=bool(policies.screens) or "calls" in recorder,
        )
        self.traffic = Traffic(
            env=self,
            horizon=self.horizon,
            slice_seconds=config.scenario.slice_seconds,
            origination=origination,
            pipeline=Pipeline(self.inventory, policies.screens),
            inventory=self.inventory,
            counters=counters,
            active=lambda: self.population.active,
            tables=tables,
            watchers=[self.tracker.count, self.robocallers.after_slice],
            daily=[self.tracker.end_day, self.releaser.end_day],
            progress=progress,
        )

    def setup(self) -> None:
        """The initial state and the SimPy processes of every component."""
        self.population.setup()
        self.robocallers.setup()
        if self.market is not None:
            self.process(self.market.run())
        if self.platform is not None:
            self.platform.setup()
            self.process(self.platform.run())
        if self.storm is not None:
            self.process(self.storm.run())
        if self.fleet is not None:
            self.fleet.setup()

    def simulate(self) -> None:
        """Set up, run to the horizon, and write the end-of-run tables."""
        self.setup()
        self.run(until=self.process(self.traffic.run()))
        self.population.write_table()
        self.tracker.write_tables()
