"""Daily aggregates: lifecycle events and calls by who placed them, written at each day's end
to the ``daily`` and ``daily_calls`` tables."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .kernels import TALLY
from .recorder import Table
from .schemas import CALL_KINDS

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
    """Calls of the current day by caller kind: per-kind totals of :data:`COLUMNS`
    (``totals``, one row per kind, added to by :func:`sim.world.kernels.route_tally`)."""

    COLUMNS = TALLY

    def __init__(self):
        self.totals = np.zeros((len(CALL_KINDS), len(self.COLUMNS)))

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """The totals by column name."""
        return {name: self.totals[:, k] for k, name in enumerate(self.COLUMNS)}

    def write(self, table: Table, day: int) -> None:
        """Append the day's rows to the ``daily_calls`` table and start a new day."""
        table.append(day=day, kind=np.arange(len(CALL_KINDS)), **self.columns)
        self.totals = np.zeros_like(self.totals)
