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

from models.common import HOUR
from models.platform import layout as L
from models.platform.engine import Step

from ..recorder import Table
from ..schemas import PLATFORM_HOURLY

__all__ = ["HOURLY_COUNTS", "Hourly", "session_columns"]

HOURLY_COUNTS = PLATFORM_HOURLY
"""Columns of ``platform_hourly`` after ``t`` and ``tenant``."""
_C = {name: k for k, name in enumerate(HOURLY_COUNTS)}


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

    def _of(self, hour: int) -> np.ndarray:
        if hour not in self.hours:
            self.hours[hour] = np.zeros((self.n, len(HOURLY_COUNTS)))
        return self.hours[hour]

    def sessions(self, f: np.ndarray, i: np.ndarray) -> None:
        """Count a step's finished attempts in the hours they arrived."""
        if len(f) == 0:
            return
        hour = (f[:, L.O_T] // HOUR).astype(np.int64)
        ch, out = i[:, L.O_CHANNEL], i[:, L.O_OUTCOME]
        answered = out == L.ANSWERED
        within = answered & (f[:, L.O_WAIT] <= self.sl)
        voice = (ch == L.VOICE) & (out != L.CLOSED)
        text = (ch == L.TEXT) & (out != L.CLOSED)
        dial = ch == L.OUTBOUND
        waited = np.where(answered | (out == L.ABANDONED), f[:, L.O_WAIT], 0.0)
        columns = {
            "offered": voice,
            "closed": (out == L.CLOSED) & (ch != L.OUTBOUND),
            "answered": voice & answered,
            "within_sl": voice & within,
            "queued": voice & (i[:, L.O_QUEUED] != 0),
            "abandoned": voice & (out == L.ABANDONED),
            "blocked": voice & (out == L.BLOCKED),
            "no_ports": voice & (out == L.NO_PORTS),
            "refused": voice & (out == L.REFUSED),
            "retried": voice & (i[:, L.O_RETRIED] != 0),
            "wait_seconds": np.where(voice, waited, 0.0),
            "texts": text,
            "texts_answered": text & answered,
            "texts_within_sl": text & within,
            "dials": dial,
            "connected": dial & answered,
        }
        hours, at = np.unique(hour, return_inverse=True)
        key = at * self.n + i[:, L.O_TENANT]
        cols = [_C[name] for name in columns]
        sums = np.stack(
            [
                np.bincount(key, weights=np.asarray(v, dtype=float), minlength=len(hours) * self.n)
                for v in columns.values()
            ],
            axis=1,
        ).reshape(len(hours), self.n, len(cols))
        for h, add in zip(hours.tolist(), sums):
            self._of(h)[:, cols] += add

    def step(self, t0: float, t1: float, agents: np.ndarray, step: Step) -> None:
        """Agents staffed, busy time and trunk time of a step, in its hour."""
        acc = self._of(int(t0 // HOUR))
        acc[:, _C["agent_hours"]] += agents * (t1 - t0) / HOUR
        acc[:, _C["busy_hours"]] += step.tenant_busy / HOUR
        acc[:, _C["trunk_hours"]] += step.tenant_trunk_seconds / HOUR

    def flush(self, before: float) -> None:
        """Write every hour that ends by ``before``."""
        for h in sorted(self.hours):
            if (h + 1) * HOUR > before:
                break
            acc = self.hours.pop(h)
            self.table.append(
                t=h * HOUR,
                tenant=np.arange(self.n),
                **{name: acc[:, k] for k, name in enumerate(HOURLY_COUNTS)},
            )
