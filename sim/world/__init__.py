"""The world: SimPy for rare lifecycle events, NumPy batches for the flood of calls.

Vocabularies and table schemas (:mod:`.schemas`), the recorder, the inventory, Poisson
clocks, the population, background spam, residual traffic and its threshold tracker, the
releaser, robocall operators, the DNI market and its pool, origination, the call-control
pipeline and the traffic process, wired together by :class:`~sim.world.world.World`.
Policies are handed in (:class:`~sim.world.world.Policies`); the world never imports a
study.
"""

from .world import Policies, World

__all__ = ["Policies", "World"]
