"""Raw configs as nested dicts: merging, dotted key paths, overrides and error lines."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from .base import ConfigError

__all__ = [
    "ZIP",
    "flatten",
    "format_error",
    "merge",
    "key_parts",
    "parse_override",
    "set_path",
    "split_key",
]

_DIST_KINDS = {"exponential", "lognormal", "gamma", "weibull", "uniform"}
_TYPE_TAG = re.compile(r"^(float|int|str|bool|literal\[.*\]|function-after\[.*\])$")
"""Names pydantic gives the branches of a union in an error's location (not config keys)."""
_RELATIVE = re.compile(r'^((?:[A-Za-z_][\w-]*|"[^"]*")(?:\.(?:[\w-]+|"[^"]*"))*): (.*)$', re.S)
"""A model-level message naming the key below its model: ``detectors."a:B".x: ...``."""
ZIP = "zip."
"""Prefix of the flattened ``[sweep.zip]`` keys: parameters swept together."""


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` deep-merged over ``base`` (tables merge; values, lists and distributions
    replace)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "kind" not in value:
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as one level of dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_path(raw: dict[str, Any], keys: Sequence[str], value: Any, origin: str) -> None:
    """Set ``raw[a][b]... = value`` for ``keys = ("a", "b", ...)`` (list elements by index)."""
    if not keys or not all(keys):
        raise ConfigError(f"{origin}: {'.'.join(keys)!r} is not a dotted key path")
    node: Any = raw
    for i, key in enumerate(keys):
        here = ".".join(keys[: i + 1])
        if isinstance(node, list):  # campaigns.0.numbers: an element of an array of tables
            if not key.isdigit() or int(key) >= len(node):
                raise ConfigError(f"{here}: no such element ({origin})")
            key = int(key)
        elif not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(keys[:i])}: is a value, not a table ({origin})")
        if i == len(keys) - 1:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}
            node = node[key]


def key_parts(text: str, origin: str) -> tuple[str, ...]:
    """A TOML key path as its parts: ``'a."b.c".d'`` is ``("a", "b.c", "d")``.

    Raises
    ------
    ConfigError
        If ``text`` is not a TOML key path (``origin`` says where it came from).
    """
    try:
        node: Any = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        raise ConfigError(
            f"{origin}: {text!r} is not a dotted key path (quote a part that holds dots or "
            'colons: sweep."scenario.days"=[2, 3])'
        ) from None
    keys: list[str] = []
    while isinstance(node, dict):
        key, node = next(iter(node.items()))
        keys.append(key)
    return tuple(keys)


def split_key(text: str) -> tuple[str, ...]:
    """An override's key path as its parts (:func:`key_parts`); under ``sweep`` the rest of
    the path is one swept key, as the sweep table holds them (``'sweep."scenario.days"'`` is
    ``("sweep", "scenario.days")``, ``sweep.zip.a.b`` is ``("sweep", "zip.a.b")``).

    Raises
    ------
    ConfigError
        If ``text`` is not a TOML key path.
    """
    keys = key_parts(text, "--set")
    if keys[0] == "sweep" and len(keys) > 1:
        return ("sweep", ".".join(keys[1:]))
    return keys


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Split ``"a.b=3"`` into the key path's parts and its value (TOML syntax, else a
    string)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. scenario.days=2")
    return split_key(key), _parse_value(value.strip())


def format_error(err: ValidationError) -> str:
    """The first validation error as ``"dotted.key: what is wrong"``."""
    first = err.errors()[0]
    loc = [
        str(p) for p in first["loc"] if str(p) not in _DIST_KINDS and not _TYPE_TAG.match(str(p))
    ]
    path = ".".join(loc) or "config"
    msg = first["msg"].removeprefix("Value error, ")
    relative = _RELATIVE.match(msg)
    if relative:  # a model-level check naming the key below it, e.g. "business.aging_days: ..."
        path, msg = f"{path}.{relative[1]}" if loc else relative[1], relative[2]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif "input" in first and not isinstance(first["input"], (dict, list)):
        msg = f"{msg} (got {first['input']!r})"
    return f"{path}: {msg}"
