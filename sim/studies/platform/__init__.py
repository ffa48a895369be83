"""The softphone-platform study (system 7): isolation, staffing, termination routing and
media designs in the world's multi-tenant platform, per-run figures against the truth,
closed-form checks, and the report's section."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import platform_metrics
from .policies import platform_policies
from .report import platform_section

__all__ = ["PLATFORM", "PlatformStudy"]


class PlatformStudy(Study):
    """How many trunks, agents and media ports each design needs, what customers
    experience, and which isolation policy keeps a noisy tenant from hurting the rest."""

    name = "platform"

    def policies(self, config, *, replication, run_world, given):
        if not config.platform.enabled:
            return Policies()
        return Policies(platform=platform_policies(config, replication, run_world))

    def studied(self, config):
        return config.platform.enabled

    def metrics(self, result, folder=None):
        return platform_metrics(result)

    def section(self, result, labels):
        return platform_section(result, labels)


PLATFORM = PlatformStudy()
