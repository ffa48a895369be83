"""The restart-storm study: the storm policy handed to the world, per-run figures against
the truth (every message, timeout and number), and the report's restart-storm section."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import storm_metrics
from .report import storm_section

__all__ = ["STORM", "StormStudy"]


class StormStudy(Study):
    """How phones that lose power together should come back: client jitter, server
    back-off, rate limits."""

    name = "storm"

    def policies(self, config, *, replication, run_world, given):
        if not config.storm.enabled:
            return Policies()
        return Policies(storm=config.storm.build_policy())

    def studied(self, config):
        return config.storm.enabled

    def metrics(self, result, folder=None):
        return storm_metrics(result)

    def section(self, result, labels):
        return storm_section(result, labels)


STORM = StormStudy()
