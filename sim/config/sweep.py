"""Sweeps: the grid of points an experiment runs, each a complete configuration."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from .base import ConfigError
from .experiment import ExperimentConfig
from .raw import ZIP, format_error, key_parts, set_path

__all__ = ["MAX_POINTS", "check_sweep", "grid_size", "stream_point", "sweep_point", "sweep_points"]

_UNSWEPT = ("sweep", "seed", "replications", "name", "common_random_numbers", "plugins")


MAX_POINTS = 10_000
"""The most points a sweep may have: each is validated before anything runs (a larger grid
is refused, never built in memory)."""


def grid_size(sweep: dict[str, list[Any]]) -> int:
    """Points of a sweep: the product of its lists' lengths, the zipped keys counting once."""
    size = 1
    zipped = [len(v) for k, v in sweep.items() if k.startswith(ZIP)]
    for key, values in sweep.items():
        if not key.startswith(ZIP):
            size *= len(values)
    return size * (zipped[0] if zipped else 1)


def _points(sweep: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """The swept keys and values of every point, in a fixed order (first key slowest)."""
    grid = {k: v for k, v in sweep.items() if not k.startswith(ZIP)}
    zipped = {k[len(ZIP) :]: v for k, v in sweep.items() if k.startswith(ZIP)}
    pairs = [dict(zip(zipped, values)) for values in zip(*zipped.values())] or [{}]
    for values in itertools.product(*grid.values(), pairs):
        yield {**dict(zip(grid, values[:-1])), **values[-1]}


def _point_raw(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(base)
    raw["sweep"] = {}
    for key, value in params.items():
        set_path(raw, key_parts(key, f"sweep.{key}"), value, f"sweep.{key}")
    return raw


def check_sweep(config: ExperimentConfig, merged: dict[str, Any]) -> None:
    """The sweep as a whole: zipped lists of one length, no empty list, no unsweepable key,
    at most :data:`MAX_POINTS` points, and every point valid -- values that are valid on
    their own may be invalid together.

    Raises
    ------
    ConfigError
        Naming ``sweep.<key>`` and the value, or the point and its values.
    """
    sweep = config.sweep
    zipped = {k: v for k, v in sweep.items() if k.startswith(ZIP)}
    if len({len(v) for v in zipped.values()}) > 1:
        lengths = ", ".join(f"{k[len(ZIP) :]}: {len(v)}" for k, v in zipped.items())
        raise ConfigError(f"sweep.zip: zipped lists differ in length ({lengths})")
    size = grid_size(sweep)
    if size > MAX_POINTS:
        raise ConfigError(
            f"sweep: {size:,} points, more than the {MAX_POINTS:,} a sweep may have "
            "(split it into several experiments)"
        )
    for key, values in sweep.items():
        path = key[len(ZIP) :] if key.startswith(ZIP) else key
        if not values:
            raise ConfigError(f"sweep.{key}: needs at least one value")
        if path.split(".")[0] in _UNSWEPT:
            raise ConfigError(f"sweep.{key}: cannot be swept")
        for value in values:  # each value on its own first: the clearest message
            try:
                ExperimentConfig.model_validate(_point_raw(merged, {path: value}))
            except ValidationError as err:
                raise ConfigError(f"sweep.{key} = {value!r}: {format_error(err)}") from None
    if len(sweep) < 2:
        return  # one key: every point was checked above
    for number, params in enumerate(_points(sweep)):
        try:
            ExperimentConfig.model_validate(_point_raw(merged, params))
        except ValidationError as err:
            where = ", ".join(f"{k}={v!r}" for k, v in params.items())
            raise ConfigError(
                f"sweep: point {number} ({where}) is invalid together: {format_error(err)}"
            ) from None


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
    base = config.to_dict()
    for params in _points(config.sweep):
        yield params, ExperimentConfig.model_validate(_point_raw(base, params))


def sweep_point(config: ExperimentConfig, number: int) -> tuple[dict[str, Any], ExperimentConfig]:
    """Point ``number`` of the config's sweep (as :func:`sweep_points` numbers them).

    Raises
    ------
    ConfigError
        If the sweep has no such point.
    """
    size = grid_size(config.sweep)
    if not 0 <= number < size:
        raise ConfigError(f"point {number}: the sweep has {size} point(s), 0 to {size - 1}")
    params = next(itertools.islice(_points(config.sweep), number, None))
    return params, ExperimentConfig.model_validate(_point_raw(config.to_dict(), params))


def stream_point(config: ExperimentConfig, number: int) -> int:
    """The point whose random streams point ``number`` uses: 0 for every point under
    common random numbers (each point sees the same worlds), else its own."""
    return 0 if config.common_random_numbers else number
