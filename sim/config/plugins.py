"""A researcher's own modules, imported before a config is validated and before each run,
so that the detectors, models and policies they register are known by name."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from .base import ConfigError

__all__ = ["load_plugins"]


def load_plugins(names: Iterable[str]) -> None:
    """Import each module (a dotted name importable from ``sys.path``).

    Raises
    ------
    ConfigError
        ``plugins: cannot import 'name' (...)`` for a module that does not import.
    """
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"plugins: {name!r} is not a module name")
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 -- any failure of a user's module
            raise ConfigError(
                f"plugins: cannot import {name!r} ({type(err).__name__}: {err})"
            ) from None
