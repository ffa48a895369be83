"""Replacing a phone: who may take over the old phone's record, decided from what the
server observes.

When a phone with no record of its own asks to be provisioned, the server gathers a
:class:`ReplacementRequest` -- the new phone's MAC, the headset identifier it reports (what
a USB or DECT headset tells its base: vendor id, product id, serial), the PIN and
extension the user typed if any, how many users that headset is mapped to, and whether the
old phone is still registered -- and asks the configured policy for a
:class:`ReplacementDecision`: accept (and which fields of the record to copy), refuse with
a reason, or leave it to an administrator.

Policies (:data:`REPLACEMENT_POLICIES`):

``headset``
    The headset alone finds the old phone's record (US 11,588,864): everything is copied.
``headset_pin``
    The headset finds the record and the user's PIN confirms it.
``refuse_registered``
    The headset finds the record, refused while the old phone is still registered (a
    headset moved to a second desk is not a replacement).
``extension_pin``
    The Cisco-style baseline: the user types the old extension and its PIN; no headset.
``copy_basic``
    The headset finds the record but, as in replace-phone tools that rebuild only the
    basics, speed dials, busy-lamp fields and services are not copied.
``manual``
    Every replacement waits for an administrator.

Every headset policy takes ``refuse_conflicts``: a headset mapped to more than one user is
refused (``True``) or, as a naive implementation would, the most recently mapped phone is
taken (``False``; the decision says ``ambiguous`` so that a study can count the wrong
copies).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from ..registry import Registry
from .records import PhoneConfig, config_fields

__all__ = [
    "BASIC_EXCLUDED",
    "REASONS",
    "REPLACEMENT_POLICIES",
    "HeadsetId",
    "ReplacementDecision",
    "ReplacementPolicy",
    "ReplacementRequest",
]

REASONS = (
    "no_headset",
    "unknown_headset",
    "headset_conflict",
    "pin_required",
    "wrong_pin",
    "old_registered",
    "no_extension",
    "unknown_extension",
    "manual",
)
"""Why a replacement is refused or left to an administrator (the server's 403 says it)."""

BASIC_EXCLUDED = frozenset({"speed_dials", "blf", "services"})
"""Fields that ``copy_basic`` leaves at the new phone's defaults."""


@dataclasses.dataclass(frozen=True)
class HeadsetId:
    """What a headset reports about itself.

    Attributes
    ----------
    vendor_id : int
        USB vendor id (0-65535).
    product_id : int
        USB product id (0-65535).
    serial : str
        Serial number (1-64 printable ASCII characters, no separators).
    """

    vendor_id: int
    product_id: int
    serial: str

    def __post_init__(self) -> None:
        for name in ("vendor_id", "product_id"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 0xFFFF:
                raise ValueError(f"headset {name} must be an integer in 0..65535")
        s = self.serial
        if (
            not isinstance(s, str)
            or not 1 <= len(s) <= 64
            or not all("!" <= ch <= "~" and ch not in ",;=\"'\\<>" for ch in s)
        ):
            raise ValueError("headset serial must be 1-64 printable ASCII characters")

    @property
    def key(self) -> str:
        """One string naming the headset: ``"vvvv:pppp:SERIAL"`` (hex ids)."""
        return f"{self.vendor_id:04x}:{self.product_id:04x}:{self.serial}"

    @classmethod
    def from_key(cls, key: str) -> HeadsetId:
        """The headset named by :attr:`key`.

        Raises
        ------
        ValueError
            If ``key`` is not of that form.
        """
        parts = key.split(":", 2)
        if len(parts) != 3 or not all(len(p) == 4 for p in parts[:2]):
            raise ValueError(f"not a headset key: {key!r}")
        try:
            vid, pid = int(parts[0], 16), int(parts[1], 16)
        except ValueError:
            raise ValueError(f"not a headset key: {key!r}") from None
        return cls(vid, pid, parts[2])


@dataclasses.dataclass(frozen=True)
class ReplacementRequest:
    """What the server observes when a phone with no record of its own asks.

    Attributes
    ----------
    new_mac : str
        The asking phone's MAC (12 lower-case hex digits).
    headset : HeadsetId or None
        The headset it reports, if any.
    pin_ok : bool or None
        ``None`` if no PIN was offered; else whether it is the PIN of the user whose record
        the identifier found.
    extension : str or None
        The extension the user typed, if any.
    extension_known : bool
        Whether that extension belongs to a phone with a record.
    old_registered : bool
        Whether the phone whose record was found is registered now.
    headset_users : int
        How many users the headset is mapped to (0: unknown headset).
    """

    new_mac: str
    headset: HeadsetId | None
    pin_ok: bool | None
    extension: str | None
    extension_known: bool
    old_registered: bool
    headset_users: int


Outcome = Literal["accept", "refuse", "admin"]
Key = Literal["headset", "extension"]


@dataclasses.dataclass(frozen=True)
class ReplacementDecision:
    """A policy's answer.

    Attributes
    ----------
    outcome : {"accept", "refuse", "admin"}
        Copy the record now, refuse, or leave it to an administrator.
    reason : str
        One of :data:`REASONS` (empty when accepted).
    key : {"headset", "extension"} or None
        Which identifier found the old record (``None`` unless accepted).
    excluded : frozenset of str
        Fields of the record that are not copied (left at the new phone's defaults).
    ambiguous : bool
        Accepted although the headset is mapped to several users (the most recently
        mapped phone's record is taken).
    """

    outcome: Outcome
    reason: str = ""
    key: Key | None = None
    excluded: frozenset[str] = frozenset()
    ambiguous: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in ("accept", "refuse", "admin"):
            raise ValueError(f"unknown outcome {self.outcome!r}")
        if (self.outcome == "accept") != (self.reason == ""):
            raise ValueError("a refusal needs a reason and an acceptance has none")
        if self.reason and self.reason not in REASONS:
            raise ValueError(f"unknown reason {self.reason!r}")

    @property
    def accepted(self) -> bool:
        """Whether the record is copied now."""
        return self.outcome == "accept"

    def copied(self, schema: type = PhoneConfig) -> tuple[str, ...]:
        """The fields copied from the old record, in schema order (none unless accepted).

        Parameters
        ----------
        schema : type
            The record's dataclass.
        """
        if not self.accepted:
            return ()
        return tuple(n for n in config_fields(schema) if n not in self.excluded)


REPLACEMENT_POLICIES: Registry[ReplacementPolicy] = Registry("replacement policy")
"""Replacement policies by name, built as ``REPLACEMENT_POLICIES.build(name, **params)``."""


def _refuse(reason: str) -> ReplacementDecision:
    return ReplacementDecision("refuse", reason)


class ReplacementPolicy:
    """Base of the replacement policies.

    Parameters
    ----------
    refuse_conflicts : bool
        Refuse a headset mapped to more than one user (else take the most recent mapping).
    """

    key: ClassVar[Key | None] = "headset"
    needs_pin: ClassVar[bool] = False
    refuse_while_registered: ClassVar[bool] = False
    excluded: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, refuse_conflicts: bool = True) -> None:
        if type(refuse_conflicts) is not bool:
            raise TypeError("refuse_conflicts must be true or false")
        self.refuse_conflicts = refuse_conflicts

    def decide(self, request: ReplacementRequest) -> ReplacementDecision:
        """Accept, refuse or leave to an administrator.

        Parameters
        ----------
        request : ReplacementRequest
            What the server observed.

        Returns
        -------
        ReplacementDecision
        """
        ambiguous = False
        if self.key == "headset":
            if request.headset is None:
                return _refuse("no_headset")
            if request.headset_users == 0:
                return _refuse("unknown_headset")
            if request.headset_users > 1:
                if self.refuse_conflicts:
                    return _refuse("headset_conflict")
                ambiguous = True
        else:
            if request.extension is None:
                return _refuse("no_extension")
            if not request.extension_known:
                return _refuse("unknown_extension")
        if self.needs_pin:
            if request.pin_ok is None:
                return _refuse("pin_required")
            if not request.pin_ok:
                return _refuse("wrong_pin")
        if self.refuse_while_registered and request.old_registered:
            return _refuse("old_registered")
        return ReplacementDecision(
            "accept", key=self.key, excluded=self.excluded, ambiguous=ambiguous
        )


@REPLACEMENT_POLICIES.register("headset")
class Headset(ReplacementPolicy):
    """The headset alone finds the old record; every field is copied."""


@REPLACEMENT_POLICIES.register("headset_pin")
class HeadsetPin(ReplacementPolicy):
    """The headset finds the old record; the user's PIN must confirm it."""

    needs_pin = True


@REPLACEMENT_POLICIES.register("refuse_registered")
class RefuseRegistered(ReplacementPolicy):
    """The headset finds the old record; refused while the old phone is registered."""

    refuse_while_registered = True


@REPLACEMENT_POLICIES.register("extension_pin")
class ExtensionPin(ReplacementPolicy):
    """Cisco-style: the old extension and its PIN, no headset."""

    key = "extension"
    needs_pin = True


@REPLACEMENT_POLICIES.register("copy_basic")
class CopyBasic(ReplacementPolicy):
    """The headset finds the old record; speed dials, BLF and services are not copied."""

    excluded = BASIC_EXCLUDED


@REPLACEMENT_POLICIES.register("manual")
class Manual(ReplacementPolicy):
    """Every replacement is left to an administrator."""

    key = None

    def decide(self, request: ReplacementRequest) -> ReplacementDecision:
        """Always ``admin`` with reason ``"manual"``."""
        return ReplacementDecision("admin", "manual")
