"""Sweeps: the grid of points an experiment runs, each a complete configuration."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from .base import ConfigError
from .experiment import ExperimentConfig
from .raw import ZIP, format_error, set_path

__all__ = ["check_sweep", "sweep_points"]

_UNSWEPT = ("sweep", "seed", "replications", "name", "common_random_numbers", "plugins")


def check_sweep(config: ExperimentConfig, merged: dict[str, Any]) -> None:
    """Every swept key and value on its own: zipped lists of one length, no empty list, no
    unsweepable key, each value valid over the base configuration.

    Raises
    ------
    ConfigError
        Naming ``sweep.<key>`` and the value.
    """
    zipped = {k: v for k, v in config.sweep.items() if k.startswith(ZIP)}
    if len({len(v) for v in zipped.values()}) > 1:
        lengths = ", ".join(f"{k[len(ZIP) :]}: {len(v)}" for k, v in zipped.items())
        raise ConfigError(f"sweep.zip: zipped lists differ in length ({lengths})")
    for key, values in config.sweep.items():
        path = key[len(ZIP) :] if key.startswith(ZIP) else key
        if not values:
            raise ConfigError(f"sweep.{key}: needs at least one value")
        if path.split(".")[0] in _UNSWEPT:
            raise ConfigError(f"sweep.{key}: cannot be swept")
        for value in values:
            point = copy.deepcopy(merged)
            set_path(point, path, value, f"sweep.{key}")
            point["sweep"] = {}
            try:
                ExperimentConfig.model_validate(point)
            except ValidationError as err:
                raise ConfigError(f"sweep.{key} = {value!r}: {format_error(err)}") from None


def sweep_points(config: ExperimentConfig) -> Iterator[tuple[dict[str, Any], ExperimentConfig]]:
    """Every point of the config's sweep, in a fixed order.

    Keys of ``[sweep]`` form a grid; keys under ``[sweep.zip]`` vary together (their lists
    have one length) as one more dimension of the grid -- for paired parameters.

    Yields
    ------
    params : dict
        The swept keys (dotted paths) and their values at this point (empty when there is
        no sweep).
    point : ExperimentConfig
        The configuration of this point, with an empty sweep.
    """
    grid = {k: v for k, v in config.sweep.items() if not k.startswith(ZIP)}
    zipped = {k[len(ZIP) :]: v for k, v in config.sweep.items() if k.startswith(ZIP)}
    pairs = [dict(zip(zipped, values)) for values in zip(*zipped.values())] or [{}]
    base = config.to_dict()
    base["sweep"] = {}
    for values in itertools.product(*grid.values(), pairs):
        params = {**dict(zip(grid, values[:-1])), **values[-1]}
        raw = copy.deepcopy(base)
        for key, value in params.items():
            set_path(raw, key, value, f"sweep.{key}")
        yield params, ExperimentConfig.model_validate(raw)
