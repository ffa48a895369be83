"""Experiment configuration: TOML files validated by frozen pydantic sections.

One schema module per concern (:mod:`.world`, :mod:`.robocalls`, :mod:`.aging`, :mod:`.dni`,
:mod:`.experiment`), the loader (:mod:`.loader`: defaults, merging, ``--set``), sweeps
(:mod:`.sweep`) and ``defaults.toml``, the one place every default lives.  Names of
detectors, models, release policies, sizers and optimizers are checked against the
registries of ``models``.  ``docs/config.md`` is generated from these schemas
(``python -m sim.config.docs``).
"""

from .base import ConfigError
from .experiment import ExperimentConfig
from .loader import load_config, parse_config
from .raw import parse_override
from .sweep import stream_point, sweep_point, sweep_points

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "load_config",
    "parse_config",
    "parse_override",
    "stream_point",
    "sweep_point",
    "sweep_points",
]
