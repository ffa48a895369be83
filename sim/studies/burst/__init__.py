"""The robocall burst-detection study: the carrier's detection policy in the pipeline, its
per-run figures against the truth, and its section of the report."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import burst_metrics
from .policy import BurstPolicy
from .replay import keep_replay
from .report import burst_section

__all__ = ["BURST", "BurstStudy"]


class BurstStudy(Study):
    """Flags newly assigned numbers that originate bursts of calls; blocks or limits them."""

    name = "detection"

    def policies(self, config, *, replication, run_world, given):
        if not config.detection.running():
            return Policies()
        return Policies(screens=[BurstPolicy(config.detection)])

    def studied(self, config):
        return bool(config.robocallers.campaigns) and config.record.calls

    def metrics(self, result, folder=None):
        cfg = result.config
        if folder is not None and self.studied(cfg) and not cfg.detection.running():
            keep_replay(result, folder)
        return burst_metrics(result)

    def section(self, result, labels):
        return burst_section(result, labels)


BURST = BurstStudy()
