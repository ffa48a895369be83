"""The phone record: every setting a provisioned IP phone carries, and how it is copied.

A record is one frozen dataclass, :class:`PhoneConfig`.  Every operation on it -- copying
the old phone's record onto its replacement (:func:`copy_config`), turning it into JSON
for storage or for the phone's configuration file (:func:`config_to_dict`) and back
(:func:`config_from_dict`) -- walks :func:`dataclasses.fields`, so a field added to the
schema is copied, stored and served without touching any of them
(``tests/test_provisioning_records.py`` adds one and checks).

The fields follow what desk phones are provisioned with (line keys, speed dials, busy-lamp
fields, call forwarding, do-not-disturb, voicemail, language, time zone, soft keys,
services); the nested records are frozen dataclasses too, and sequences are tuples, so a
record is hashable and can be compared field by field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "Forwarding",
    "LineAppearance",
    "PhoneConfig",
    "SpeedDial",
    "Voicemail",
    "config_fields",
    "config_from_dict",
    "config_to_dict",
    "copy_config",
]

C = TypeVar("C")


@dataclasses.dataclass(frozen=True)
class LineAppearance:
    """One line key: which of the phone's numbers it shows, and how.

    Attributes
    ----------
    number : str
        The E.164 number the key appears (``"+12124561000"``).
    label : str
        Text beside the key.
    ring : bool
        Whether the key rings on incoming calls (a shared line may only blink).
    """

    number: str = ""
    label: str = ""
    ring: bool = True


@dataclasses.dataclass(frozen=True)
class SpeedDial:
    """One speed-dial key.

    Attributes
    ----------
    label : str
        Text beside the key.
    target : str
        What the key dials (a number or a SIP URI).
    """

    label: str = ""
    target: str = ""


@dataclasses.dataclass(frozen=True)
class Forwarding:
    """Call forwarding of the phone's lines.

    Attributes
    ----------
    always : str
        Forward every call there (empty: off).
    busy : str
        Forward when busy (empty: off).
    no_answer : str
        Forward when not answered (empty: off).
    no_answer_seconds : int
        How long the phone rings before forwarding on no answer.
    """

    always: str = ""
    busy: str = ""
    no_answer: str = ""
    no_answer_seconds: int = 20


@dataclasses.dataclass(frozen=True)
class Voicemail:
    """Voicemail settings.

    Attributes
    ----------
    enabled : bool
        Whether unanswered calls go to voicemail.
    pilot : str
        The voicemail system's number (the message key dials it).
    email : str
        Where message notifications are sent (empty: none).
    greeting : str
        Which greeting plays (``"standard"``, ``"busy"``, ``"extended_absence"``).
    """

    enabled: bool = False
    pilot: str = ""
    email: str = ""
    greeting: str = "standard"


@dataclasses.dataclass(frozen=True)
class PhoneConfig:
    """Everything a provisioned phone is configured with; the defaults are a phone fresh
    from its box.

    Attributes
    ----------
    numbers : tuple of str
        The phone's directory numbers (E.164), primary first.
    display_name : str
        Caller name shown to callees and on the phone's screen.
    line_appearances : tuple of LineAppearance
        Line keys.
    speed_dials : tuple of SpeedDial
        Speed-dial keys.
    blf : tuple of str
        Busy-lamp fields: numbers whose state the phone watches.
    forwarding : Forwarding
        Call forwarding.
    dnd : bool
        Do not disturb.
    voicemail : Voicemail
        Voicemail settings.
    language : str
        User interface language (BCP 47 tag).
    timezone : str
        IANA time-zone name.
    softkeys : tuple of str
        Soft keys shown when idle, in order.
    services : tuple of str
        Phone services (directory, XML applications) by name.
    ringtone : str
        Ring tone.
    """

    numbers: tuple[str, ...] = ()
    display_name: str = ""
    line_appearances: tuple[LineAppearance, ...] = ()
    speed_dials: tuple[SpeedDial, ...] = ()
    blf: tuple[str, ...] = ()
    forwarding: Forwarding = Forwarding()
    dnd: bool = False
    voicemail: Voicemail = Voicemail()
    language: str = "en-US"
    timezone: str = "America/New_York"
    softkeys: tuple[str, ...] = ("redial", "newcall", "cfwdall", "dnd")
    services: tuple[str, ...] = ()
    ringtone: str = "default"


def config_fields(schema: type = PhoneConfig) -> tuple[str, ...]:
    """Names of every field of a record schema, in declaration order.

    Parameters
    ----------
    schema : type
        A dataclass (``PhoneConfig`` or a subclass of it).

    Returns
    -------
    tuple of str
    """
    return tuple(f.name for f in dataclasses.fields(schema))


def copy_config(old: C, new: C, fields: Iterable[str] | None = None) -> C:
    """The ``new`` record with the ``fields`` of ``old`` copied into it.

    Parameters
    ----------
    old : dataclass instance
        The record copied from (the replaced phone's).
    new : dataclass instance
        The record copied into (usually a fresh ``PhoneConfig()``), of the same schema.
    fields : iterable of str, optional
        Which fields to copy; all of the schema's fields when omitted.

    Returns
    -------
    dataclass instance
        A new record: ``fields`` from ``old``, the rest from ``new``.

    Raises
    ------
    ValueError
        If the two records are not of the same schema or a field name is unknown.

    Examples
    --------
    >>> old = PhoneConfig(numbers=("+12124561000",), display_name="Ada", dnd=True)
    >>> copy_config(old, PhoneConfig(), ["numbers", "display_name"]).dnd
    False
    """
    if type(old) is not type(new) or not dataclasses.is_dataclass(old):
        raise ValueError("records of different schemas cannot be copied into each other")
    names = config_fields(type(old))
    wanted = names if fields is None else tuple(fields)
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise ValueError(f"unknown record fields: {', '.join(unknown)}")
    return dataclasses.replace(new, **{name: getattr(old, name) for name in wanted})  # type: ignore[type-var]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def config_to_dict(config: Any) -> dict[str, Any]:
    """A record as plain JSON-ready values (nested records as dicts, tuples as lists).

    Parameters
    ----------
    config : dataclass instance

    Returns
    -------
    dict
        Field name -> value, for every field of the schema.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ValueError("not a record")
    out: dict[str, Any] = _plain(config)
    return out


def _build(kind: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected an object")
        return _from_mapping(kind, value, where)
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ValueError(f"{where}: expected {len(args)} items")
        return tuple(_build(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(kind):
            try:
                return _build(arg, value, where)
            except ValueError:
                continue
        raise ValueError(f"{where}: matches none of {kind}")
    if kind is type(None):
        if value is not None:
            raise ValueError(f"{where}: expected null")
        return None
    if kind is float and type(value) is int:
        return float(value)
    if kind in (str, int, float, bool):
        if type(value) is not kind:
            raise ValueError(f"{where}: expected {kind.__name__}")
        return value
    raise ValueError(f"{where}: unsupported field type {kind!r}")


def _from_mapping(schema: type[C], data: Mapping[str, Any], where: str) -> C:
    hints = typing.get_type_hints(schema)
    names = {f.name for f in dataclasses.fields(schema)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{where or 'record'}: unknown fields {', '.join(unknown)}")
    values = {
        name: _build(hints[name], data[name], f"{where}.{name}".lstrip("."))
        for name in names
        if name in data
    }
    return schema(**values)


def config_from_dict(data: Mapping[str, Any], schema: type[C] = PhoneConfig) -> C:  # type: ignore[assignment]
    """The record that :func:`config_to_dict` gave, checked strictly against the schema.

    Missing fields take the schema's defaults (a phone fresh from its box).

    Parameters
    ----------
    data : mapping
        Field name -> plain value.
    schema : type
        The record's dataclass.

    Returns
    -------
    dataclass instance

    Raises
    ------
    ValueError
        Naming the field, for an unknown field or a value of the wrong type.
    """
    if not isinstance(data, Mapping):
        raise ValueError("record: expected an object")
    return _from_mapping(schema, data, "")
