"""The simulated number world: a SimPy environment carrying config, streams and recorder.

Components (inventory, traffic, population) are built in a fixed order, set up (initial
state, SimPy processes), run to the horizon, and asked for their results -- the lifecycle
hooks of desmod, without its dependency.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import simpy

from .config import ExperimentConfig
from .detection import BurstPolicy
from .dni_policies import dni_policies
from .inventory import Inventory, make_numbers
from .market import Market
from .pipeline import Policy
from .population import DAY, Population
from .recorder import Recorder
from .release import Releaser
from .residual import ResidualTraffic
from .robocallers import Robocallers
from .seeding import Streams
from .status import AgingTracker
from .traffic import Traffic

__all__ = ["World", "COUNTERS"]

COUNTERS = ("arrivals", "exhaustion", "disconnects", "port_outs", "releases")
"""Lifecycle events counted per day in the ``daily`` table."""


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
    policies : sequence of Policy
        Call-control policies plugged into the pipeline, after the one the config's
        ``[detection]`` section asks for (if any).
    progress : callable, optional
        Called with the simulated seconds of each finished slice (e.g. a tqdm ``update``).
    aging_model : object, optional
        The fitted profile model of a ``model`` or ``online`` release policy.

    Attributes
    ----------
    horizon : float
        End of the run (s).
    counters : dict
        Lifecycle events since the start of the current day.
    """

    def __init__(self, config: ExperimentConfig, streams: Streams, recorder: Recorder,
                 policies: Sequence[Policy] = (), progress: Callable[[float], None] | None = None,
                 aging_model=None):
        super().__init__()
        self.config = config
        self.streams = streams
        self.recorder = recorder
        self.horizon = config.scenario.days * DAY
        self.counters = dict.fromkeys(COUNTERS, 0)
        self._progress = progress
        inv = config.inventory
        numbers = make_numbers(inv.area_codes, inv.blocks_per_area_code, self.rng("inventory"))
        self.inventory = Inventory(numbers, recorder["ledger"], self.rng("assignment"),
                                   inv.assignment)
        if config.detection.detector != "none":
            policies = [BurstPolicy(config.detection, self.inventory, recorder,
                                    seed=int(self.rng("detection").integers(2**31))),
                        *policies]
        self.traffic = Traffic(self, policies)
        self.population = Population(self)
        self.robocallers = Robocallers(self)
        self.residual = ResidualTraffic(self)
        self.tracker = AgingTracker(self)
        self.releaser = Releaser(self, aging_model)
        self.market = Market(self, *dni_policies(config.dni)) if config.dni.enabled else None

    def rng(self, name: str) -> np.random.Generator:
        """The named random stream of this run."""
        return self.streams.get(name)

    def number_left(self, number_id: int, t: float) -> None:
        """A number left the inventory (ported out): it no longer receives our traffic."""
        self.traffic.spam.end(number_id, t)

    def progress(self, seconds: float) -> None:
        """Report simulated progress (called by the traffic process)."""
        if self._progress is not None:
            self._progress(seconds)

    def setup(self) -> None:
        """Initial state and the SimPy processes of every component."""
        self.population.setup()
        self.robocallers.setup()
        if self.market is not None:
            self.process(self.market.run())

    def simulate(self) -> None:
        """Set up, run to the horizon, and write the end-of-run tables."""
        self.setup()
        self.run(until=self.process(self.traffic.run()))
        self.population.write_table()
        self.tracker.write_tables()
