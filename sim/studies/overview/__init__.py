"""The world itself as a study: headline figures of every run and the report's overview."""

from __future__ import annotations

from ..study import Study
from .metrics import world_metrics
from .report import overview_section

__all__ = ["OVERVIEW", "OverviewStudy"]


class OverviewStudy(Study):
    """Inventory, subscribers and calls: what every run of the world reports."""

    name = "world"

    def studied(self, config):
        return config.subscribers.populated()

    def metrics(self, result, folder=None):
        return world_metrics(result) if self.studied(result.config) else {}

    def section(self, result, labels):
        return overview_section(result, labels)


OVERVIEW = OverviewStudy()
