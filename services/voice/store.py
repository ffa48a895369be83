"""The voice service's storage: the equipment (one JSON document) and the journal of
executed actions, in SQLite (WAL, ``synchronous=FULL``).  An action's new state and its
journal entry are written in one transaction, committed before the service answers."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from models.voice import Change, Equipment, Intent

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS equipment (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    intent TEXT NOT NULL,
    heard TEXT NOT NULL,
    confidence REAL NOT NULL,
    summary TEXT NOT NULL,
    inverse TEXT NOT NULL,
    undoes INTEGER REFERENCES journal(id),
    undone_by INTEGER REFERENCES journal(id)
);
"""


class Store:
    """The equipment and the journal in one SQLite file.

    Parameters
    ----------
    path : str
        Database file (``":memory:"`` for tests of the logic only).
    initial : Equipment
        The equipment written when the file is new.
    """

    def __init__(self, path: str, initial: Equipment) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        row = self.db.execute("SELECT doc FROM equipment WHERE id = 1").fetchone()
        if row is None:
            self.db.execute("INSERT INTO equipment VALUES (1, ?)", (json.dumps(initial.to_dict()),))
            self.equipment = initial.copy()
        else:
            self.equipment = Equipment.from_dict(json.loads(row[0]))

    def record(
        self,
        state: Equipment,
        change: Change,
        *,
        who: str,
        heard: str,
        confidence: float,
        undoes: int | None = None,
    ) -> int:
        """Write the new equipment and the journal entry in one committed transaction;
        the entry's id."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("UPDATE equipment SET doc = ? WHERE id = 1", (json.dumps(state.to_dict()),))
            cur = db.execute(
                "INSERT INTO journal (at, who, action, intent, heard, confidence, summary, "
                "inverse, undoes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    who,
                    change.intent.action,
                    json.dumps(change.intent.as_dict()),
                    heard,
                    confidence,
                    change.summary,
                    json.dumps([list(s) for s in change.inverse]),
                    undoes,
                ),
            )
            entry = int(cur.lastrowid or 0)
            if undoes is not None:
                db.execute("UPDATE journal SET undone_by = ? WHERE id = ?", (entry, undoes))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.equipment = state
        return entry

    def last_change(self) -> tuple[int, Change] | None:
        """The latest executed change not undone (undo entries are not undone again)."""
        row = self.db.execute(
            "SELECT id, intent, summary, inverse FROM journal WHERE undone_by IS NULL "
            "AND undoes IS NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        d = json.loads(row[1])
        action = d.pop("action")
        intent = Intent(action, tuple(d.items()))
        inverse = tuple(tuple(s) for s in json.loads(row[3]))
        return int(row[0]), Change(intent, row[2], inverse)

    def journal(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest entries, newest first."""
        cols = ("id", "at", "who", "action", "intent", "heard", "confidence", "summary")
        rows = self.db.execute(
            f"SELECT {', '.join(cols)}, undoes, undone_by FROM journal ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        out = []
        for r in rows:
            e = dict(zip(cols + ("undoes", "undone_by"), r))
            e["intent"] = json.loads(e["intent"])
            out.append(e)
        return out

    def close(self) -> None:
        """Close the database."""
        self.db.close()
