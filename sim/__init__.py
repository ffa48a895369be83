"""tnlab's simulated number world: configs, the SimPy world, runs, experiments and reports.

The public API for notebooks::

    from sim import load_config, simulate, run_experiment
"""

from .config import ConfigError, ExperimentConfig, load_config, parse_config
from .experiment import ExperimentResult, load_runs, run_experiment
from .runner import SimResult, simulate

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "ExperimentResult",
    "SimResult",
    "load_config",
    "load_runs",
    "parse_config",
    "run_experiment",
    "simulate",
]
