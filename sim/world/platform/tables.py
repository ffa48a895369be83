"""The platform's tables: a row per finished attempt (``platform_sessions``), per tenant and
hour (``platform_hourly``), per carrier and step (``platform_carriers``) and per step for
the shared media and trunks (``platform_media``); schemas in :mod:`sim.world.schemas`,
columns in ``docs/tables.md``.

Hourly rows count attempts by the hour they *arrived* in, so an hour is written once no
attempt that arrived in it is still in the system; agents, busy time and trunk time are
counted in the step they fall in.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from models.common import HOUR
from models.platform import layout as L
from models.platform.engine import Step

from ..recorder import Table
from ..schemas import PLATFORM_HOURLY

__all__ = ["HOURLY_COUNTS", "Hourly", "session_columns"]

HOURLY_COUNTS = PLATFORM_HOURLY
"""Columns of ``platform_hourly`` after ``t`` and ``tenant``."""
_C = {name: k for k, name in enumerate(HOURLY_COUNTS)}
_COUNTED = HOURLY_COUNTS[: HOURLY_COUNTS.index("connected") + 1]
"""The counts of finished attempts (the first columns; the rest are counted per step)."""
_READ_I = (L.O_TENANT, L.O_CHANNEL, L.O_OUTCOME, L.O_QUEUED, L.O_RETRIED)
_PENDING_ROWS = 1 << 16
"""Finished attempts kept before they are counted (about 3 MB)."""


def session_columns(step: Step, queue_skill: np.ndarray, rates: np.ndarray) -> dict:
    """The ``platform_sessions`` columns of a step's finished attempts."""
    f, i = step.out_f, step.out_i
    carrier = i[:, L.O_CARRIER]
    billed = f[:, L.O_BILLED]
    cost = np.where(carrier >= 0, billed / 60.0 * rates[np.maximum(carrier, 0)], 0.0)
    return {
        "t": f[:, L.O_T],
        "session": i[:, L.O_SESSION],
        "attempt": i[:, L.O_ATTEMPT],
        "tenant": i[:, L.O_TENANT],
        "customer": i[:, L.O_CUSTOMER],
        "number_id": i[:, L.O_NUMBER],
        "channel": i[:, L.O_CHANNEL],
        "skill": queue_skill[i[:, L.O_QUEUE]],
        "outcome": i[:, L.O_OUTCOME],
        "wait": f[:, L.O_WAIT],
        "queued": i[:, L.O_QUEUED] != 0,
        "answered_at": f[:, L.O_ANSWER],
        "talk": f[:, L.O_SERVED],
        "talk2": f[:, L.O_SERVED2],
        "end": f[:, L.O_END],
        "agent": i[:, L.O_AGENT],
        "agent2": i[:, L.O_AGENT2],
        "transfer": i[:, L.O_XFER],
        "legs": i[:, L.O_LEGS],
        "ports": i[:, L.O_PORTS],
        "port_seconds": f[:, L.O_PORTSEC],
        "carrier": carrier,
        "failovers": i[:, L.O_FAILOVERS],
        "billed_seconds": billed,
        "cost": cost,
        "free_trunks": i[:, L.O_FREE_TRUNKS],
        "retried": i[:, L.O_RETRIED] != 0,
    }


def _count_hourly(rows: np.ndarray, sl: float, first: int, sums: np.ndarray) -> np.ndarray:
    """Add finished attempts to ``sums[hour - first, tenant, count]`` (the counts of
    ``_COUNTED``, in order) in row order; returns which hours had a row.

    ``rows``: arrival, wait, tenant, channel, outcome, queued, retried (as floats).
    """
    seen = np.zeros(sums.shape[0], dtype=np.bool_)
    for r in range(rows.shape[0]):
        h = int(rows[r, 0] // HOUR) - first
        seen[h] = True
        acc = sums[h, int(rows[r, 2])]
        wait, ch, out = rows[r, 1], int(rows[r, 3]), int(rows[r, 4])
        answered = out == L.ANSWERED
        within = answered and wait <= sl
        if out == L.CLOSED:
            if ch != L.OUTBOUND:
                acc[1] += 1.0  # closed
        elif ch == L.VOICE:
            acc[0] += 1.0  # offered
            acc[2] += answered
            acc[3] += within
            acc[4] += rows[r, 5] != 0.0  # queued
            acc[5] += out == L.ABANDONED
            acc[6] += out == L.BLOCKED
            acc[7] += out == L.NO_PORTS
            acc[8] += out == L.REFUSED
            acc[9] += rows[r, 6] != 0.0  # retried
            if answered or out == L.ABANDONED:
                acc[10] += wait
        elif ch == L.TEXT:
            acc[11] += 1.0
            acc[12] += answered
            acc[13] += within
        if ch == L.OUTBOUND:
            acc[14] += 1.0  # dials
            acc[15] += answered
    return seen


count_hourly = njit(cache=True, nogil=True)(_count_hourly)


class Hourly:
    """Accumulates ``platform_hourly`` rows and writes each hour once it is complete.

    Parameters
    ----------
    table : Table
        ``platform_hourly``.
    n_tenants : int
    sl_seconds : float
    """

    def __init__(self, table: Table, n_tenants: int, sl_seconds: float):
        self.table = table
        self.n = n_tenants
        self.sl = sl_seconds
        self.hours: dict[int, np.ndarray] = {}
        self._pending: list[np.ndarray] = []
        self._rows = 0

    def _of(self, hour: int) -> np.ndarray:
        if hour not in self.hours:
            self.hours[hour] = np.zeros((self.n, len(HOURLY_COUNTS)))
        return self.hours[hour]

    def sessions(self, f: np.ndarray, i: np.ndarray) -> None:
        """Count a step's finished attempts in the hours they arrived (kept until the next
        :meth:`flush` or until enough rows wait: counting a day's rows at once costs a
        twentieth of counting each step's)."""
        if len(f) == 0:
            return
        cols = np.stack(  # only what the counts read
            [f[:, L.O_T], f[:, L.O_WAIT], *(i[:, c] for c in _READ_I)], axis=1
        )
        self._pending.append(cols)
        self._rows += len(cols)
        if self._rows >= _PENDING_ROWS:
            self._count()

    def _count(self) -> None:
        if not self._pending:
            return
        rows = np.concatenate(self._pending)
        self._pending.clear()
        self._rows = 0
        hour = (rows[:, 0] // HOUR).astype(np.int64)
        first = int(hour.min())
        sums = np.zeros((int(hour.max()) - first + 1, self.n, len(_COUNTED)))
        seen = count_hourly(rows, self.sl, first, sums)
        for h in np.flatnonzero(seen).tolist():
            self._of(first + h)[:, : len(_COUNTED)] += sums[h]

    def step(self, t0: float, t1: float, agents: np.ndarray, step: Step) -> None:
        """Agents staffed, busy time and trunk time of a step, in its hour."""
        acc = self._of(int(t0 // HOUR))
        acc[:, _C["agent_hours"]] += agents * (t1 - t0) / HOUR
        acc[:, _C["busy_hours"]] += step.tenant_busy / HOUR
        acc[:, _C["trunk_hours"]] += step.tenant_trunk_seconds / HOUR

    def flush(self, before: float) -> None:
        """Write every hour that ends by ``before`` (hours in order, tenants in order)."""
        self._count()
        done = [h for h in sorted(self.hours) if (h + 1) * HOUR <= before]
        if not done:
            return
        acc = np.concatenate([self.hours.pop(h) for h in done])
        self.table.append(
            t=np.repeat(np.array(done) * HOUR, self.n),
            tenant=np.tile(np.arange(self.n), len(done)),
            **{name: acc[:, k] for k, name in enumerate(HOURLY_COUNTS)},
        )
