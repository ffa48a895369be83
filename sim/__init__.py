"""tnlab's simulated number world: configs, the SimPy world, studies, runs, experiments and
reports.

The layers, lowest first (``docs/architecture.md``): ``core`` -> ``config`` -> ``world`` ->
``results`` -> ``studies`` -> ``runs`` -> ``report`` -> ``experiment`` and ``cli``.  The
public API (what a notebook or script may import; README, "In a notebook") is the names
below, ``__all__``, beside the ``models`` library::

    from sim import load_config, simulate, run_experiment, metrics

:func:`simulate` runs one world, :func:`run_experiment` a sweep with replications;
:func:`metrics` and the studies' analyses (``aging_episodes``, ``compare_aging_models``,
``detector_curves``, ...; :mod:`sim.analysis`) judge a finished run; :func:`query`,
:func:`reload` and :func:`load_runs` read saved results; :func:`register` extends tnlab
without editing it (a detector, aging model, release policy, pool sizer, composition
optimizer or call-control policy class of one's own).  Anything else under ``sim`` is
internal and may change.
"""

from models.registry import register_own as register

from .analysis import (
    aging_episodes,
    aging_labels,
    compare_aging_models,
    detector_curves,
    metrics,
    robocall_campaigns,
)
from .config import ConfigError, ExperimentConfig, load_config, parse_config
from .experiment import run_experiment
from .results.query import query
from .results.run import SimResult
from .results.store import ExperimentResult, failures, load_runs, reload
from .runs.simulate import simulate

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "ExperimentResult",
    "SimResult",
    "aging_episodes",
    "aging_labels",
    "compare_aging_models",
    "detector_curves",
    "failures",
    "load_config",
    "load_runs",
    "metrics",
    "parse_config",
    "query",
    "register",
    "reload",
    "robocall_campaigns",
    "run_experiment",
    "simulate",
]
