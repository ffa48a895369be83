"""The shape of a study: what it plugs into the world, what it measures per run, and its
section of the report.  Each study is a subpackage of ``sim.studies``; studies never import
each other, and the world never imports a study."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ..config.experiment import ExperimentConfig
from ..results.run import SimResult
from ..results.store import ExperimentResult
from ..world.world import Policies

__all__ = ["RunWorld", "Study"]


class RunWorld(Protocol):
    """Runs a world in memory (a study's own training runs): ``run_world(config, point,
    replication) -> SimResult``."""

    def __call__(self, config: ExperimentConfig, point: int, replication: int) -> SimResult: ...


class Study:
    """Base class of the studies (``sim.studies.STUDIES``); every hook has a default that
    does nothing.

    Attributes
    ----------
    name : str
        Short name (also the prefix of the study's metric keys).
    """

    name = "study"

    def policies(
        self,
        config: ExperimentConfig,
        *,
        replication: int,
        run_world: RunWorld,
        given: dict[str, Any],
    ) -> Policies:
        """The policies this study plugs into a run of ``config``.

        Parameters
        ----------
        config : ExperimentConfig
            The run's configuration.
        replication : int
            Which replication (for the study's own training runs).
        run_world : RunWorld
            Runs another world in memory.
        given : dict
            Collaborators a caller handed to ``simulate`` (e.g. ``aging_model``).
        """
        return Policies()

    def training_worlds(self, config: ExperimentConfig) -> int:
        """Worlds this study runs in memory for its own training before each run of
        ``config`` (for estimates of an experiment's time)."""
        return 0

    def metrics(self, result: SimResult, folder: Path | None = None) -> dict[str, float]:
        """Per-run metrics, judged against the run's ground truth (``folder``: where the run
        is kept, for extra files)."""
        return {}

    def studied(self, config: ExperimentConfig) -> bool:
        """Whether an experiment (its config, sweep included) studies this: the report
        holds the sections of the studies its experiment studies, and only those."""
        return False

    def section(self, result: ExperimentResult, labels: dict[int, str]) -> str:
        """HTML of the study's section of the report (called only when :meth:`studied`)."""
        return ""
