"""tnlab's simulated number world: configs, the SimPy world, studies, runs, experiments and
reports.

The layers, lowest first (``docs/architecture.md``): ``core`` -> ``config`` -> ``world`` ->
``results`` -> ``studies`` -> ``runs`` -> ``report`` -> ``experiment`` and ``cli``.  The
public API for notebooks::

    from sim import load_config, simulate, run_experiment

and, to extend it without editing it, :func:`register` (a detector, aging model, release
policy, pool sizer, composition optimizer or call-control policy class of one's own).
"""

from models.registry import register_own as register

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
    "failures",
    "load_config",
    "load_runs",
    "parse_config",
    "query",
    "register",
    "reload",
    "run_experiment",
    "simulate",
]
