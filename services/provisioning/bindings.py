"""Headsets and registrations in the provisioning store (a part of :class:`.store.Store`)."""

from __future__ import annotations

import dataclasses
import sqlite3

from .schema import Binding

__all__ = ["Registrations"]


class Registrations:
    """Headset mappings and SIP bindings; mixed into :class:`.store.Store`."""

    db: sqlite3.Connection

    def _begin(self) -> None:
        raise NotImplementedError

    # -- headsets -----------------------------------------------------------------------

    def map_headset(self, headset: str, mac: str, user: str, now: float) -> None:
        """Record that ``headset`` is connected to ``mac`` (of ``user``)."""
        row = self.db.execute(
            "SELECT mac FROM headsets WHERE headset = ? AND user = ?", (headset, user)
        ).fetchone()
        if row is not None and row[0] == mac:
            return
        self._begin()
        self.db.execute(
            "INSERT OR REPLACE INTO headsets VALUES (?, ?, ?, ?)", (headset, user, mac, now)
        )

    def headset_phones(self, headset: str) -> list[tuple[str, str]]:
        """Active phones ``headset`` is mapped to, as ``(mac, user)``, most recent first."""
        return [
            (r[0], r[1])
            for r in self.db.execute(
                "SELECT h.mac, h.user FROM headsets h JOIN devices d ON d.mac = h.mac"
                " WHERE h.headset = ? AND d.state = 'active'"
                " ORDER BY h.mapped_at DESC, h.rowid DESC",
                (headset,),
            )
        ]

    # -- registrations ------------------------------------------------------------------

    def bindings(self, number: str, now: float) -> list[Binding]:
        """Unexpired bindings of ``number``."""
        rows = self.db.execute(
            "SELECT number, contact, mac, call_id, cseq, expires_at FROM bindings"
            " WHERE number = ? AND expires_at > ? ORDER BY contact",
            (number, now),
        )
        return [Binding(*r) for r in rows]

    def set_binding(self, binding: Binding) -> None:
        """Add or refresh a binding."""
        self._begin()
        self.db.execute(
            "INSERT OR REPLACE INTO bindings VALUES (?, ?, ?, ?, ?, ?)",
            dataclasses.astuple(binding),
        )

    def remove_binding(self, number: str, contact: str | None = None) -> None:
        """Remove one binding of ``number``, or all of them (``contact=None``)."""
        self._begin()
        if contact is None:
            self.db.execute("DELETE FROM bindings WHERE number = ?", (number,))
        else:
            self.db.execute(
                "DELETE FROM bindings WHERE number = ? AND contact = ?", (number, contact)
            )

    def registered(self, mac: str, now: float) -> bool:
        """Whether ``mac`` has an unexpired binding."""
        return (
            self.db.execute(
                "SELECT 1 FROM bindings WHERE mac = ? AND expires_at > ? LIMIT 1", (mac, now)
            ).fetchone()
            is not None
        )

    def expire_bindings(self, now: float) -> int:
        """Delete expired bindings; how many."""
        self._begin()
        return self.db.execute("DELETE FROM bindings WHERE expires_at <= ?", (now,)).rowcount
