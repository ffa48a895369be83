"""Daily aggregates: lifecycle events and calls by who placed them, written at each day's end
to the ``daily`` and ``daily_calls`` tables."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .calls import CallBatch, CallTruth
from .recorder import Table
from .schemas import BLOCKED, CALL_KINDS, OFF_NET, OUTCOMES, VACANT

__all__ = ["CallTally", "Counters"]


@dataclass
class Counters:
    """Lifecycle events since the start of the current day."""

    arrivals: int = 0
    exhaustion: int = 0
    disconnects: int = 0
    port_outs: int = 0
    releases: int = 0

    def write(self, table: Table, day: int, subscribers: int) -> None:
        """Append the day's row to the ``daily`` table and start a new day."""
        table.append(
            day=day,
            subscribers=subscribers,
            **{f.name: getattr(self, f.name) for f in fields(self)},
        )
        for f in fields(self):
            setattr(self, f.name, 0)


class CallTally:
    """Calls of the current day by caller kind: named columns of per-kind totals."""

    COLUMNS = ("attempts", "blocked", "vacant", "off_net", "answered", "minutes")

    def __init__(self):
        self.columns = {name: np.zeros(len(CALL_KINDS)) for name in self.COLUMNS}

    def add(self, batch: CallBatch, truth: CallTruth) -> None:
        """Count a slice's calls."""
        k, kind = len(CALL_KINDS), truth.kind
        by_outcome = np.bincount(
            kind.astype(np.int64) * len(OUTCOMES) + batch.outcome, minlength=k * len(OUTCOMES)
        ).reshape(k, len(OUTCOMES))
        c = self.columns
        c["attempts"] += by_outcome.sum(axis=1)
        c["blocked"] += by_outcome[:, BLOCKED]
        c["vacant"] += by_outcome[:, VACANT]
        c["off_net"] += by_outcome[:, OFF_NET]
        c["answered"] += np.bincount(kind, weights=batch.answered, minlength=k)
        c["minutes"] += np.bincount(kind, weights=batch.duration, minlength=k) / 60.0

    def write(self, table: Table, day: int) -> None:
        """Append the day's rows to the ``daily_calls`` table and start a new day."""
        table.append(day=day, kind=np.arange(len(CALL_KINDS)), **self.columns)
        for column in self.columns.values():
            column[:] = 0
