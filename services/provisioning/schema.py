"""The tables of the provisioning store and the records read from them.

See :mod:`.store` for the API; this module holds the schema (SQL), the :class:`Device` and
:class:`Binding` records, MAC spelling and PIN hashing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

from models.provisioning import PhoneConfig

__all__ = ["PIN_LOCKOUT", "SCHEMA", "Binding", "Device", "normalize_mac", "pin_hash"]

PIN_LOCKOUT = (5, 900.0)
"""Wrong PINs in a row that lock a user's PIN, and for how many seconds."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    mac TEXT PRIMARY KEY CHECK (length(mac) = 12),
    ha1 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('new', 'active', 'retired')),
    user TEXT NOT NULL,
    config TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    replaced_by TEXT
);
CREATE INDEX IF NOT EXISTS devices_user ON devices (user);
CREATE TABLE IF NOT EXISTS numbers (
    number TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('pool', 'static')),
    holder TEXT REFERENCES devices (mac),
    available_at REAL NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS one_pool_number ON numbers (holder)
    WHERE kind = 'pool' AND holder IS NOT NULL;
CREATE INDEX IF NOT EXISTS free_numbers ON numbers (available_at, number)
    WHERE kind = 'pool' AND holder IS NULL;
CREATE INDEX IF NOT EXISTS held_numbers ON numbers (holder);
CREATE TABLE IF NOT EXISTS users (
    user TEXT PRIMARY KEY,
    pin_salt BLOB NOT NULL,
    pin_hash BLOB NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS headsets (
    headset TEXT NOT NULL,
    user TEXT NOT NULL,
    mac TEXT NOT NULL REFERENCES devices (mac),
    mapped_at REAL NOT NULL,
    PRIMARY KEY (headset, user)
);
CREATE INDEX IF NOT EXISTS headsets_mac ON headsets (mac);
CREATE TABLE IF NOT EXISTS bindings (
    number TEXT NOT NULL,
    contact TEXT NOT NULL,
    mac TEXT NOT NULL REFERENCES devices (mac),
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (number, contact)
);
CREATE INDEX IF NOT EXISTS bindings_mac ON bindings (mac);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    event TEXT NOT NULL,
    mac TEXT,
    number TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""


@dataclasses.dataclass(frozen=True)
class Device:
    """A phone the service knows.

    Attributes
    ----------
    mac : str
        12 lower-case hex digits.
    state : {"new", "active", "retired"}
        ``new``: known hardware with no record yet; ``active``: provisioned; ``retired``:
        removed or replaced.
    user : str
        Whose phone it is (the owner keeps the numbers when the phone is replaced).
    config : PhoneConfig or None
        The record (``None`` until provisioned).
    ha1 : dict
        ``H(mac:realm:secret)`` by digest algorithm.
    created, updated : float
    replaced_by : str or None
        The MAC of the phone that took over its record.
    """

    mac: str
    state: str
    user: str
    config: PhoneConfig | None
    ha1: dict[str, str]
    created: float
    updated: float
    replaced_by: str | None


@dataclasses.dataclass(frozen=True)
class Binding:
    """A registered contact of a number (RFC 3261 section 10)."""

    number: str
    contact: str
    mac: str
    call_id: str
    cseq: int
    expires_at: float


def normalize_mac(text: str) -> str:
    """``"00:04:F2:A1:B2:C3"`` -> ``"0004f2a1b2c3"``.

    Raises
    ------
    ValueError
        If it is not 12 hex digits (with ``:``, ``-`` or ``.`` separators allowed).
    """
    mac = text.lower().replace(":", "").replace("-", "").replace(".", "")
    if len(mac) != 12 or any(c not in "0123456789abcdef" for c in mac):
        raise ValueError(f"not a MAC address: {text[:40]!r}")
    return mac


def pin_hash(salt: bytes, pin: str) -> bytes:
    """HMAC-SHA256 of a PIN under its salt (a short PIN is guarded by the lockout)."""
    return hmac.new(salt, pin.encode("utf-8"), hashlib.sha256).digest()
