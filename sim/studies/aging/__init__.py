"""The aging study: release policies in the closed loop (trained on a separate run of the
same world when they need a profile model), per-run release figures and model comparisons
against the truth, and the report's aging section."""

from __future__ import annotations

from ...world.world import Policies
from ..study import Study
from .metrics import aging_metrics, model_metrics
from .models import training_model
from .report import aging_section

__all__ = ["AGING", "AgingStudy"]


class AgingStudy(Study):
    """How long a disconnected number must rest before its next owner stops getting the
    previous owner's calls."""

    name = "aging"

    def policies(self, config, *, replication, run_world, given):
        policy = config.aging.release.build()
        if policy.needs_model:
            model = given.get("aging_model")
            policy.use_model(
                model
                if model is not None
                else training_model(config, replication, run_world, given.get("training"))
            )
        return Policies(release=policy)

    def training_worlds(self, config):
        return int(config.aging.release.build().needs_model)

    def studied(self, config):
        swept = any(k.removeprefix("zip.").startswith("aging.") for k in config.sweep)
        aging = config.aging
        return config.subscribers.populated() and (
            swept or aging.compare_models or aging.release.policy != "drawn"
        )

    def metrics(self, result, folder=None):
        if not result.config.subscribers.populated():
            return {}
        found = aging_metrics(result)
        if result.config.aging.compare_models:
            found.update(model_metrics(result, folder))
        return found

    def section(self, result, labels):
        return aging_section(result, labels)


AGING = AgingStudy()
