"""What every config section shares: the base model, one-line errors, and the checks that
tie a section to the registries of ``models``."""

from __future__ import annotations

import inspect
import math
import re
import typing
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from models.registry import Registry

__all__ = ["ConfigError", "Diurnal", "Section", "check_tables", "one_of", "unique_names"]


class ConfigError(ValueError):
    """A configuration problem, as one line that names the key path."""


def _tuples(annotation: Any, value: Any) -> Any:
    """TOML has arrays, not tuples: a list where the schema wants a tuple (or a list of
    tuples) becomes one, so that strict validation judges the items, not the container."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _tuples(args[0], value)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin is list and args and isinstance(value, list):
        return [_tuples(args[0], item) for item in value]
    return value


class Section(BaseModel):
    """A config table: frozen, unknown keys rejected, every field described, validated
    strictly (a bool is not a number, a string is not a number, no value is coerced) and
    every float finite unless its field says otherwise."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, strict=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _toml_arrays(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fixed = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key in fixed:
                fixed[key] = _tuples(field.annotation, fixed[key])
        return fixed


def _diurnal(values: list[float]) -> list[float]:
    if len(values) != 24:
        raise ValueError(f"needs 24 hourly weights, got {len(values)}")
    if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return values


Diurnal = Annotated[list[float], AfterValidator(_diurnal)]
"""24 hour-of-day weights of a rate (any scale; the world normalises them to mean 1)."""


def one_of(*options: str):
    """A string field restricted to ``options``, failing with "must be 'a', 'b' or 'c'"."""
    listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"

    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be {listed}")
        return value

    return Annotated[str, AfterValidator(check)]


def from_template(data: Any, template: str, items: str) -> Any:
    """Raw section ``data`` with each table of the array ``items`` merged over the table
    ``template`` (an array of tables states only what differs from its defaults)."""
    if (
        isinstance(data, dict)
        and isinstance(data.get(template), dict)
        and isinstance(data.get(items), list)
    ):
        data = {
            **data,
            items: [
                {**data[template], **item} if isinstance(item, dict) else item
                for item in data[items]
            ],
        }
    return data


def unique_names(items, key: str) -> None:
    """Raise if two items of a list share a ``name``."""
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"{key}: names repeat")


def registered(registry: Registry, *reserved: str):
    """A string field naming an entry of ``registry`` (or one of the ``reserved`` names)."""

    def check(value: str) -> str:
        if value not in reserved and value not in registry:
            known = ", ".join([*reserved, *registry.names()])
            why = registry.explain(value) or ""
            if why.startswith("unknown"):
                why = f"unknown {registry.kind} (known: {known}; or your own as 'module:Class')"
            raise ValueError(why)
        return value

    return Annotated[str, AfterValidator(check)]


def check_tables(registry: Registry, tables: dict[str, dict[str, Any]], key: str) -> None:
    """Check each entry's parameter table: a registered name, no unknown or missing
    parameter, values of the annotated types.

    Raises
    ------
    ValueError
        Starting with the dotted path below ``key``, e.g. ``"cusum.h: ..."``.
    """
    for name, params in tables.items():
        part = name if re.fullmatch(r"[\w-]+", name) else f'"{name}"'  # TOML's quoting
        check_params(registry, name, params, f"{key}.{part}")


def check_params(registry: Registry, name: str, params: dict[str, Any], key: str) -> None:
    """Check one entry's parameters (the table at ``key``): a registered name, no unknown
    or missing parameter, values of the annotated types.

    Raises
    ------
    ValueError
        Starting with ``key`` or the parameter's path below it.
    """
    if name not in registry:
        raise ValueError(f"{key}: {registry.explain(name)}")
    spec = registry.parameters(name)
    for param in params:
        if param not in spec:
            raise ValueError(
                f"{key}.{param}: unknown key (parameters of {name}: {', '.join(spec) or 'none'})"
            )
    for param, p in spec.items():
        if param not in params:
            if p.default is inspect.Parameter.empty:
                raise ValueError(f"{key}.{param}: required key is missing")
            continue
        if p.annotation is inspect.Parameter.empty:
            continue
        try:
            TypeAdapter(p.annotation).validate_python(params[param], strict=True)
        except ValidationError as err:
            msg = err.errors()[0]["msg"]
            raise ValueError(f"{key}.{param}: {msg} (got {params[param]!r})") from None
        except Exception:  # noqa: BLE001 -- an annotation pydantic cannot check
            continue


def build_checked(registry: Registry, name: str, key: str, *context, **params):
    """Build an entry, turning the factory's errors into one line naming ``key``."""
    try:
        return registry.build(name, *context, **params)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{key}: {err}") from None
