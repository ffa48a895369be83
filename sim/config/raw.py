"""Raw configs as nested dicts: merging, dotted key paths, overrides and error lines."""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

from pydantic import ValidationError

from .base import ConfigError

__all__ = ["ZIP", "flatten", "format_error", "merge", "parse_override", "set_path"]

_DIST_KINDS = {"exponential", "lognormal", "gamma", "weibull", "uniform"}
_TYPE_TAG = re.compile(r"^(float|int|str|bool|literal\[.*\]|function-after\[.*\])$")
"""Names pydantic gives the branches of a union in an error's location (not config keys)."""
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


def set_path(raw: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    """Set ``raw[a][b]... = value`` for ``dotted = "a.b..."`` (list elements by index)."""
    keys = dotted.split(".")
    if not all(keys):
        raise ConfigError(f"{origin}: {dotted!r} is not a dotted key path")
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


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b=3"`` into the key path and its value (TOML syntax, else a string)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. scenario.days=2")
    return key, _parse_value(value.strip())


def format_error(err: ValidationError) -> str:
    """The first validation error as ``"dotted.key: what is wrong"``."""
    first = err.errors()[0]
    loc = [
        str(p) for p in first["loc"] if str(p) not in _DIST_KINDS and not _TYPE_TAG.match(str(p))
    ]
    path = ".".join(loc) or "config"
    msg = first["msg"].removeprefix("Value error, ")
    relative = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg)
    if relative:  # a model-level check naming the key below it, e.g. "business.aging_days: ..."
        path, msg = f"{path}.{relative[1]}" if loc else relative[1], relative[2]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif "input" in first and not isinstance(first["input"], (dict, list)):
        msg = f"{msg} (got {first['input']!r})"
    return f"{path}: {msg}"
