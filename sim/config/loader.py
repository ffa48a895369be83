"""Reading an experiment: TOML merged over ``defaults.toml``, ``--set`` overrides, and
validation into an :class:`~sim.config.experiment.ExperimentConfig`.

Tables merge, values and lists replace; every problem is reported as one
:class:`~sim.config.base.ConfigError` line naming the dotted key path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .base import ConfigError
from .experiment import ExperimentConfig
from .plugins import load_plugins
from .raw import ZIP, flatten, format_error, merge, parse_override, set_path
from .sweep import check_sweep

__all__ = ["DEFAULTS", "defaults", "load_config", "parse_config", "validate"]

DEFAULTS = Path(__file__).with_name("defaults.toml")
"""Every default of every key, with its source: the one place defaults live."""


@cache
def _defaults_text() -> str:
    return DEFAULTS.read_text()


def defaults() -> dict[str, Any]:
    """A fresh copy of the defaults as a nested dict."""
    return tomllib.loads(_defaults_text())


def validate(raw: dict[str, Any]) -> ExperimentConfig:
    """A merged raw config validated, or :class:`ConfigError`."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_error(err)) from None


def parse_config(raw: dict[str, Any], overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Validate an experiment given as a nested dict.

    Parameters
    ----------
    raw : dict
        The experiment's own keys (merged over the defaults).
    overrides : iterable of str
        ``"dotted.key=value"`` strings applied after merging.

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ConfigError
        One line naming the key path and what is wrong.
    """
    merged = merge(defaults(), raw)
    if isinstance(merged.get("sweep"), dict):
        merged["sweep"] = flatten(merged["sweep"])
    keys = []
    for text in overrides:
        key, value = parse_override(text)
        set_path(merged, key, value, f"--set {text}")
        keys.append(key)
    _check_unswept(keys, merged.get("sweep"))
    if isinstance(merged.get("plugins"), list):
        load_plugins(merged["plugins"])
    config = validate(merged)
    check_sweep(config, merged)
    return config


def _check_unswept(overridden: list[tuple[str, ...]], sweep: Any) -> None:
    """An override of a key that the sweep sets would be silently replaced at every point:
    refuse it, naming both."""
    if not isinstance(sweep, dict):
        return
    swept = [k.removeprefix(ZIP) for k in sweep]
    for keys in overridden:
        if keys[0] == "sweep":
            continue
        key = ".".join(keys)
        for path in swept:
            if key == path or key.startswith(f"{path}.") or path.startswith(f"{key}."):
                raise ConfigError(
                    f'--set {key}: overrides a swept key (sweep."{path}"); change the '
                    f"sweep's values instead: --set 'sweep.\"{path}\"=[...]'"
                )


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Read, merge over the defaults, override and validate an experiment TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The experiment file, e.g. ``"experiments/quickstart.toml"``.
    overrides : iterable of str
        ``"dotted.key=value"`` strings, as given to ``--set``.

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ConfigError
        Missing or unreadable file, malformed TOML, unknown key, wrong type, value out of
        range, or bad override -- as one line naming the key path.

    Examples
    --------
    >>> cfg = load_config("experiments/quickstart.toml", ["scenario.days=2"])  # doctest: +SKIP
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err.__class__.__name__})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    return parse_config(raw, overrides)
