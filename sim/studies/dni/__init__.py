"""The call-tracking (DNI) study: pool sizing and composition policies in the market,
per-run attribution and cost figures against the truth, and the report's DNI section."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import dni_metrics
from .policies import Composer
from .report import dni_section

__all__ = ["DNI", "DniStudy"]


class DniStudy(Study):
    """How large a call-tracking pool must be, which numbers it should hold, and how calls
    are attributed."""

    name = "dni"

    def policies(self, config, *, replication, run_world, given):
        cfg = config.dni
        if not cfg.enabled:
            return Policies()
        sizer = None
        if cfg.sizer != "fixed":
            sizer = cfg.build_sizer()
            sizer.reset(cfg.pool_size)
        composer = Composer(cfg.build_optimizer(), cfg) if cfg.optimizer != "none" else None
        return Policies(sizer=sizer, composer=composer)

    def studied(self, config):
        return config.dni.enabled

    def metrics(self, result, folder=None):
        return dni_metrics(result)

    def section(self, result, labels):
        return dni_section(result, labels)


DNI = DniStudy()
