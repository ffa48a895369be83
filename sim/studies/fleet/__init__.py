"""The fleet-replacement study: the replacement policy handed to the world, per-run figures
against the truth (who each new phone's user really is), and the report's fleet section."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import fleet_metrics
from .report import fleet_section

__all__ = ["FLEET", "FleetStudy"]


class FleetStudy(Study):
    """How a replaced desk phone should find its user's record: headset, PIN, extension,
    partial copy, or an administrator."""

    name = "fleet"

    def policies(self, config, *, replication, run_world, given):
        if not config.fleet.enabled:
            return Policies()
        return Policies(replacement=config.fleet.build_policy())

    def studied(self, config):
        return config.fleet.enabled

    def metrics(self, result, folder=None):
        return fleet_metrics(result)

    def section(self, result, labels):
        return fleet_section(result, labels)


FLEET = FleetStudy()
