"""The provisioning records in SQLite (WAL): devices, their records, numbers, users' PINs,
headsets, registrations and history -- behind one small API that any service may open on
the same database file.

    from services.provisioning.store import Store

    store = Store("provisioning.db")             # opens (and creates) the schema
    device = store.device("0004f2a1b2c3")        # Device(mac, state, user, config, ...)
    store.set_config(device.mac, dataclasses.replace(device.config, dnd=True), now)
    store.commit()

Every method that changes something opens a transaction (``BEGIN IMMEDIATE``) if none is
open and leaves it open: the caller commits (:meth:`Store.commit`), so that several changes
-- a whole batch of negotiations -- land together, and a caller acknowledges only after its
commit.  Reads see the open transaction's changes.  A second process may open the same file:
SQLite's WAL lets it read while this one writes, and a writer waits up to ``busy_timeout``
for the other's transaction.  Times are seconds on the caller's clock (Unix time in the
service); nothing here reads a clock.

The number rules are those of :class:`models.provisioning.NumberPool`, statement by
statement (a pool number is available when it has no holder and its ``available_at`` has
passed; the one available the longest, then the lowest, is given; release sets
``available_at = now + aging``); ``tests/test_provisioning_store.py`` runs the two side by
side.  Constraints keep the invariants even against a bug: a number has one holder (its
primary key), a device holds at most one pool number (a partial unique index).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from models.common import DAY
from models.provisioning import (
    PhoneConfig,
    PoolExhausted,
    check_aging_days,
    config_from_dict,
    config_to_dict,
    copy_config,
)
from models.provisioning.digest import ALGORITHMS, ha1

from .bindings import Registrations
from .schema import PIN_LOCKOUT, SCHEMA, Binding, Device, normalize_mac, pin_hash

__all__ = ["Binding", "Device", "PIN_LOCKOUT", "Store"]


class Store(Registrations):
    """The provisioning database (see the module's docstring).

    Parameters
    ----------
    path : str
        Database file, or ``":memory:"`` (no persistence; the bench's baseline).
    realm : str
        Digest realm the device secrets are hashed with (fixed at creation: a store
        opened with another realm is refused).
    sync : {"full", "normal"}
        SQLite's ``synchronous``: ``full`` also survives a power cut; both survive the
        process being killed.
    busy_timeout : float
        Seconds a write waits for another process's transaction.
    """

    def __init__(
        self, path: str, *, realm: str, sync: str = "full", busy_timeout: float = 5.0
    ) -> None:
        if sync not in ("full", "normal"):
            raise ValueError("sync must be 'full' or 'normal'")
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if path != ":memory:":
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise OSError(f"{path}: cannot use WAL mode")
        self.db.execute(f"PRAGMA synchronous = {sync.upper()}")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.executescript(SCHEMA)
        stored = self._meta("realm")
        if stored is None:
            self._begin()
            self.db.execute("INSERT INTO meta VALUES ('realm', ?)", (realm,))
            self.commit()
        elif stored != realm:
            raise ValueError(f"{path} was created for realm {stored!r}, not {realm!r}")
        self.realm = realm

    # -- transactions -------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether changes are waiting for :meth:`commit`."""
        return self.db.in_transaction

    def _begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Make every change since the last commit durable (one transaction)."""
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def rollback(self) -> None:
        """Forget every change since the last commit."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        """Roll back anything uncommitted and close the file."""
        self.rollback()
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a setting kept with the data (e.g. ``aging_days``)."""
        self._begin()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def aging_seconds(self) -> float:
        """How long released numbers rest (the ``aging_days`` setting, 90 if unset)."""
        return float(self._meta("aging_days") or 90.0) * DAY

    # -- numbers ------------------------------------------------------------------------

    def add_numbers(self, numbers: Iterable[str], *, static: Iterable[str] = ()) -> int:
        """Add pool numbers and static numbers (existing ones keep their state).

        Returns
        -------
        int
            How many numbers were new.
        """
        self._begin()
        before = self.db.total_changes
        reserved = set(static)
        self.db.executemany(
            "INSERT OR IGNORE INTO numbers (number, kind) VALUES (?, ?)",
            [(n, "static" if n in reserved else "pool") for n in numbers]
            + [(n, "static") for n in sorted(reserved)],
        )
        added = self.db.total_changes - before
        self.db.executemany(
            "UPDATE numbers SET kind = 'static' WHERE number = ? AND holder IS NULL",
            [(n,) for n in sorted(reserved)],
        )
        return added

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Changes made inside are kept together or, if it raises, undone -- without
        touching the changes of the open transaction made before it (a savepoint)."""
        if not self.db.in_transaction:
            try:
                yield
            except BaseException:
                self.rollback()
                raise
            return
        self.db.execute("SAVEPOINT one_request")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO one_request")
            self.db.execute("RELEASE one_request")
            raise
        self.db.execute("RELEASE one_request")

    def allocate(self, mac: str, now: float) -> tuple[str, bool]:
        """The pool number of ``mac``, allocating the one available the longest if none.

        Returns
        -------
        number : str
        new : bool

        Raises
        ------
        PoolExhausted
            With when the next aging number becomes available.
        """
        row = self.db.execute(
            "SELECT number FROM numbers WHERE holder = ? AND kind = 'pool'", (mac,)
        ).fetchone()
        if row is not None:
            return str(row[0]), False
        row = self.db.execute(
            "SELECT number FROM numbers INDEXED BY free_numbers WHERE kind = 'pool'"
            " AND holder IS NULL AND available_at <= ? ORDER BY available_at, number LIMIT 1",
            (now,),
        ).fetchone()
        if row is None:
            nxt = self.db.execute(
                "SELECT min(available_at) FROM numbers INDEXED BY free_numbers"
                " WHERE kind = 'pool' AND holder IS NULL"
            ).fetchone()[0]
            raise PoolExhausted(nxt)
        self._begin()
        self.db.execute("UPDATE numbers SET holder = ? WHERE number = ?", (mac, row[0]))
        return str(row[0]), True

    def release(self, mac: str, now: float) -> list[str]:
        """Free every number ``mac`` holds: pool numbers go into aging, static ones back.

        Returns
        -------
        list of str
            The numbers freed.
        """
        held = [
            r[0] for r in self.db.execute("SELECT number FROM numbers WHERE holder = ?", (mac,))
        ]
        if held:
            self._begin()
            self.db.execute(
                "UPDATE numbers SET holder = NULL, available_at = CASE kind WHEN 'pool'"
                " THEN ? ELSE available_at END WHERE holder = ?",
                (now + self.aging_seconds, mac),
            )
        return held

    def transfer(self, old: str, new: str) -> list[str]:
        """Move every number of device ``old`` to device ``new``; the numbers moved."""
        held = [
            r[0] for r in self.db.execute("SELECT number FROM numbers WHERE holder = ?", (old,))
        ]
        if held:
            self._begin()
            self.db.execute("UPDATE numbers SET holder = ? WHERE holder = ?", (new, old))
        return held

    def assign_static(self, mac: str, number: str) -> None:
        """Give device ``mac`` the static number ``number``.

        Raises
        ------
        ValueError
            If ``number`` is not a free static number.
        """
        row = self.db.execute(
            "SELECT kind, holder FROM numbers WHERE number = ?", (number,)
        ).fetchone()
        if row is None or row[0] != "static" or row[1] not in (None, mac):
            raise ValueError(f"{number} is not a free static number")
        self._begin()
        self.db.execute("UPDATE numbers SET holder = ? WHERE number = ?", (mac, number))

    def holder(self, number: str) -> str | None:
        """The device holding ``number``, if any."""
        row = self.db.execute("SELECT holder FROM numbers WHERE number = ?", (number,)).fetchone()
        return None if row is None else row[0]

    def numbers(self, *, limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
        """Numbers with their kind, holder and ``available_at``, in order."""
        rows = self.db.execute(
            "SELECT number, kind, holder, available_at FROM numbers ORDER BY number"
            " LIMIT ? OFFSET ?",
            (limit, offset),
        )
        keys = ("number", "kind", "holder", "available_at")
        return [dict(zip(keys, r)) for r in rows]

    def next_available(self) -> float | None:
        """When the next pool number becomes available (``None`` if none is free or aging)."""
        return self.db.execute(
            "SELECT min(available_at) FROM numbers INDEXED BY free_numbers"
            " WHERE kind = 'pool' AND holder IS NULL"
        ).fetchone()[0]

    # -- devices ------------------------------------------------------------------------

    def add_devices(self, rows: Iterable[tuple[str, str, str | None]], now: float) -> int:
        """Add known hardware: ``(mac, secret, user)`` rows; the user defaults to the MAC.

        The secret is kept only as its digest hashes.  Existing devices are left alone.

        Returns
        -------
        int
            How many were new.
        """
        self._begin()
        before = self.db.total_changes
        self.db.executemany(
            "INSERT OR IGNORE INTO devices (mac, ha1, state, user, created, updated)"
            " VALUES (?, ?, 'new', ?, ?, ?)",
            (
                (
                    m := normalize_mac(mac),
                    json.dumps({a: ha1(a, m, self.realm, secret) for a in ALGORITHMS}),
                    user or m,
                    now,
                    now,
                )
                for mac, secret, user in rows
            ),
        )
        return self.db.total_changes - before

    def device(self, mac: str) -> Device | None:
        """The device ``mac`` (already normalized), if known."""
        row = self.db.execute(
            "SELECT mac, state, user, config, ha1, created, updated, replaced_by FROM devices"
            " WHERE mac = ?",
            (mac,),
        ).fetchone()
        if row is None:
            return None
        config = None if row[3] is None else config_from_dict(json.loads(row[3]))
        return Device(row[0], row[1], row[2], config, json.loads(row[4]), *row[5:])

    def devices(self, *, limit: int = 1000, offset: int = 0) -> list[Device]:
        """Devices in MAC order."""
        macs = self.db.execute(
            "SELECT mac FROM devices ORDER BY mac LIMIT ? OFFSET ?", (limit, offset)
        ).fetchall()
        return [d for (m,) in macs if (d := self.device(m)) is not None]

    def set_config(self, mac: str, config: PhoneConfig, now: float) -> None:
        """Store the record of ``mac`` and make it active."""
        self._begin()
        self.db.execute(
            "UPDATE devices SET config = ?, state = 'active', updated = ? WHERE mac = ?",
            (json.dumps(config_to_dict(config)), now, mac),
        )

    def retire(self, mac: str, now: float, *, replaced_by: str | None = None) -> list[str]:
        """Retire ``mac``: its bindings and headset mappings go; so do its numbers (into
        aging) unless the phone was replaced (then they have moved already).

        Returns
        -------
        list of str
            The numbers released.
        """
        self._begin()
        released = self.release(mac, now)
        self.db.execute("DELETE FROM bindings WHERE mac = ?", (mac,))
        self.db.execute("DELETE FROM headsets WHERE mac = ?", (mac,))
        self.db.execute(
            "UPDATE devices SET state = 'retired', updated = ?, replaced_by = ? WHERE mac = ?",
            (now, replaced_by, mac),
        )
        return released

    def replace(self, old: str, new: str, fields: Iterable[str], now: float) -> PhoneConfig:
        """Give device ``new`` the record of device ``old`` (the ``fields`` copied, the rest
        a new phone's), its numbers and its user; retire ``old``.

        Returns
        -------
        PhoneConfig
            The new phone's record.
        """
        before = self.device(old)
        if before is None or before.config is None:
            raise ValueError(f"{old} has no record")
        config = copy_config(before.config, PhoneConfig(), fields)
        self._begin()
        self.transfer(old, new)
        self.db.execute("UPDATE devices SET user = ? WHERE mac = ?", (before.user, new))
        self.db.execute("UPDATE headsets SET mac = ?, mapped_at = ? WHERE mac = ?", (new, now, old))
        self.set_config(new, config, now)
        self.retire(old, now, replaced_by=new)
        return config

    # -- users' PINs --------------------------------------------------------------------

    def set_pin(self, user: str, pin: str) -> None:
        """Set the replacement PIN of ``user`` (4-12 digits) and clear any lockout."""
        if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 12):
            raise ValueError("a PIN is 4 to 12 digits")
        salt = os.urandom(16)
        self._begin()
        self.db.execute(
            "INSERT OR REPLACE INTO users VALUES (?, ?, ?, 0, 0)",
            (user, salt, pin_hash(salt, pin)),
        )

    def check_pin(self, user: str, pin: str, now: float) -> bool:
        """Whether ``pin`` is the PIN of ``user``; a wrong one counts toward the lockout
        (:data:`PIN_LOCKOUT`), during which every PIN is wrong."""
        row = self.db.execute(
            "SELECT pin_salt, pin_hash, failures, locked_until FROM users WHERE user = ?", (user,)
        ).fetchone()
        if row is None:
            return False
        salt, digest, failures, locked_until = row
        if now < locked_until:
            return False
        ok = hmac.compare_digest(pin_hash(salt, pin), digest)
        self._begin()
        if ok:
            self.db.execute("UPDATE users SET failures = 0 WHERE user = ?", (user,))
        else:
            failures += 1
            lock = now + PIN_LOCKOUT[1] if failures >= PIN_LOCKOUT[0] else 0.0
            self.db.execute(
                "UPDATE users SET failures = ?, locked_until = ? WHERE user = ?",
                (0 if lock else failures, lock, user),
            )
        return ok

    # -- history ------------------------------------------------------------------------

    def log(
        self,
        event: str,
        now: float,
        *,
        mac: str | None = None,
        number: str | None = None,
        **detail: Any,
    ) -> None:
        """Append an event to the history."""
        self._begin()
        self.db.execute(
            "INSERT INTO history (at, event, mac, number, detail) VALUES (?, ?, ?, ?, ?)",
            (now, event, mac, number, json.dumps(detail, sort_keys=True)),
        )

    def history(self, *, after: int = 0, limit: int = 1000) -> Iterator[dict[str, Any]]:
        """Events with ``id > after``, oldest first."""
        rows = self.db.execute(
            "SELECT id, at, event, mac, number, detail FROM history WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after, limit),
        )
        for r in rows.fetchall():
            yield {
                "id": r[0],
                "at": r[1],
                "event": r[2],
                "mac": r[3],
                "number": r[4],
                "detail": json.loads(r[5]),
            }

    def set_aging_days(self, days: float) -> None:
        """Set how long released numbers rest (within the legal bounds)."""
        self.set_meta("aging_days", repr(check_aging_days(days)))
