"""The platform engine: the state of every tenant's queues, agents, trunks, media ports and
carriers in flat arrays, advanced a step at a time by the event kernel.

:class:`Structure` says what is simulated (queues, agent groups, capacities, carriers);
:class:`Engine` holds the state, takes the policies' settings (isolation knobs, routing
order, outages, business hours, staffing) and runs :func:`models.platform.kernel.advance`
over each step's arrivals, returning the finished attempts and the step's counters.  The
state arrays grow as needed between steps, so a step never runs out of room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import layout as L
from .kernel import advance

__all__ = ["Step", "Structure", "Engine", "session_rows"]


@dataclass(frozen=True)
class Structure:
    """What the engine simulates.

    Attributes
    ----------
    queue_tenant, queue_skill, queue_channel, queue_priority : numpy.ndarray of int64
        One entry per queue; a tenant's queues are contiguous and tenants in order.
    group_tenant, group_skill, group_mask, group_size, group_capacity : numpy.ndarray
        One entry per agent group: its tenant, primary skill, skills (bit mask over the
        tenant's skills), most agents it ever has on shift, text sessions per agent.
        Groups are in tenant order.
    n_tenants : int
    trunks, ports : int
        Origination trunks and media ports of the platform.
    call_ports, consult_ports : int
        Media ports a call holds, and the extra ports of a warm transfer's consultation.
    carrier_cap, carrier_billing : numpy.ndarray of int64
        Channels and billing increment (s) of each carrier.
    carrier_cps, carrier_asr : numpy.ndarray of float64
        Calls-per-second cap (its bucket holds one second of calls) and answer-seizure
        ratio of each carrier.
    max_attempts : int
    failover_seconds, ring_timeout : float
    """

    queue_tenant: np.ndarray
    queue_skill: np.ndarray
    queue_channel: np.ndarray
    queue_priority: np.ndarray
    group_tenant: np.ndarray
    group_skill: np.ndarray
    group_mask: np.ndarray
    group_size: np.ndarray
    group_capacity: np.ndarray
    n_tenants: int
    trunks: int
    ports: int
    call_ports: int
    consult_ports: int
    carrier_cap: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    carrier_cps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    carrier_asr: np.ndarray = field(default_factory=lambda: np.zeros(0))
    carrier_billing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    max_attempts: int = 1
    failover_seconds: float = 0.0
    ring_timeout: float = 30.0


@dataclass
class Step:
    """What one step produced.

    Attributes
    ----------
    out_f, out_i : numpy.ndarray
        The attempts finished in the step (columns ``O_*`` of :mod:`.layout`; each column
        contiguous).
    trunk_seconds, port_seconds : float
        Integral of busy trunks and ports over the step.
    peak_trunks, peak_ports : int
        Most trunks and ports busy at once in the step.
    tenant_busy, tenant_trunk_seconds : numpy.ndarray
        Per tenant: agent busy seconds (wrap-up included, texts over capacity) and
        trunk-seconds in the step.
    carriers : numpy.ndarray
        ``(carriers, N_C_I)`` counters of the step (``C_*`` columns; ``C_PEAK`` its peak).
    carrier_billed : numpy.ndarray
        Billed seconds per carrier in the step.
    active : int
        Sessions in the system at the step's end (waiting, in service or retrying).
    earliest : float
        Earliest arrival of an attempt still in the system (inf if none).
    """

    out_f: np.ndarray
    out_i: np.ndarray
    trunk_seconds: float
    port_seconds: float
    peak_trunks: int
    peak_ports: int
    tenant_busy: np.ndarray
    tenant_trunk_seconds: np.ndarray
    carriers: np.ndarray
    carrier_billed: np.ndarray
    active: int
    earliest: float


def session_rows(
    n: int, max_attempts: int, order: Literal["C", "F"] = "C"
) -> tuple[np.ndarray, np.ndarray]:
    """Empty input rows for ``n`` sessions (patience and retry delays infinite); ``order``
    ``"F"`` keeps each column contiguous, for callers that fill them a column at a time."""
    f = np.zeros((n, L.n_in_f(max_attempts)), order=order)
    f[:, L.F_PAT :] = np.inf
    f[:, L.F_ANSWER_U] = 1.0
    i = np.zeros((n, L.N_IN_I), dtype=np.int64, order=order)
    i[:, L.I_XQUEUE] = -1
    i[:, L.I_NUMBER] = -1
    return f, i


class Engine:
    """The platform's state and its step.

    Parameters
    ----------
    s : Structure
    kernel : callable
        :func:`models.platform.kernel.advance` or its twin ``advance.py_func``.
    """

    def __init__(self, s: Structure, kernel: Any = advance) -> None:
        self.s = s
        self.kernel = kernel
        self.maxa = int(s.max_attempts)
        n_t = int(s.n_tenants)
        qt = np.asarray(s.queue_tenant, dtype=np.int64)
        gt = np.asarray(s.group_tenant, dtype=np.int64)
        if np.any(np.diff(qt) < 0) or np.any(np.diff(gt) < 0):
            raise ValueError("queues and groups must be in tenant order")
        self.q_i = np.zeros((len(qt), L.N_Q_I), dtype=np.int64)
        self.q_i[:, L.Q_TENANT] = qt
        self.q_i[:, L.Q_SKILL] = s.queue_skill
        self.q_i[:, L.Q_CHANNEL] = s.queue_channel
        self.q_i[:, L.Q_PRIO] = s.queue_priority
        self.q_i[:, L.Q_HEAD] = -1
        self.q_i[:, L.Q_TAIL] = -1
        size = np.asarray(s.group_size, dtype=np.int64)
        n_a = int(size.sum())
        group = np.repeat(np.arange(len(size)), size)
        self.ag_i = np.zeros((n_a, L.N_AG_I), dtype=np.int64)
        self.ag_i[:, L.A_TENANT] = gt[group]
        self.ag_i[:, L.A_GROUP] = group
        self.ag_i[:, L.A_RANK] = np.arange(n_a) - np.repeat(np.cumsum(size) - size, size)
        self.ag_i[:, L.A_PRIMARY] = np.asarray(s.group_skill)[group]
        self.ag_i[:, L.A_MASK] = np.asarray(s.group_mask)[group]
        self.ag_i[:, L.A_SLOT] = -1
        self.ag_i[:, L.A_CAP] = np.maximum(np.asarray(s.group_capacity)[group], 1)
        self.ag_f = np.zeros((n_a, L.N_AG_F))
        self.t_i = np.zeros((n_t, L.N_T_I), dtype=np.int64)
        self.t_f = np.zeros((n_t, L.N_T_F))
        agent_tenant = self.ag_i[:, L.A_TENANT]
        tenants = np.arange(n_t)
        self.t_i[:, L.T_A0] = np.searchsorted(agent_tenant, tenants, "left")
        self.t_i[:, L.T_A1] = np.searchsorted(agent_tenant, tenants, "right")
        self.t_i[:, L.T_Q0] = np.searchsorted(qt, tenants, "left")
        self.t_i[:, L.T_Q1] = np.searchsorted(qt, tenants, "right")
        self.t_i[:, L.T_OPEN] = 1
        self.t_f[:, L.T_MEAN_HANDLE] = 300.0
        self.g_i = np.zeros(L.N_G_I, dtype=np.int64)
        self.g_f = np.zeros(L.N_G_F)
        self.g_i[L.G_TRUNKS] = s.trunks
        self.g_i[L.G_PORTS] = s.ports
        self.g_i[L.G_CALL_PORTS] = s.call_ports
        self.g_i[L.G_CONSULT_PORTS] = s.consult_ports
        self.g_i[L.G_MAXA] = self.maxa
        self.g_i[L.G_FAILOVER] = 1
        self.g_f[L.G_FAILOVER_S] = s.failover_seconds
        self.g_f[L.G_RING_TIMEOUT] = s.ring_timeout
        self.set_knobs()
        n_c = len(s.carrier_cap)
        self.c_i = np.zeros((n_c, L.N_C_I), dtype=np.int64)
        self.c_f = np.zeros((n_c, L.N_C_F))
        self.c_i[:, L.C_CAP] = s.carrier_cap
        self.c_i[:, L.C_BILLING] = np.maximum(np.asarray(s.carrier_billing), 1)
        self.c_f[:, L.C_CPS] = s.carrier_cps
        self.c_f[:, L.C_BURST] = np.maximum(np.asarray(s.carrier_cps, dtype=float), 1.0)
        self.c_f[:, L.C_TOKENS] = self.c_f[:, L.C_BURST]
        self.c_f[:, L.C_ASR] = s.carrier_asr
        self.c_f[:, L.C_DOWN_FROM] = np.inf
        self.c_f[:, L.C_DOWN_TO] = np.inf
        self.route = np.arange(n_c, dtype=np.int64)
        self.route_w = np.zeros(n_c)
        self.slot_f = np.zeros((0, L.N_SLOT_F + L.n_in_f(self.maxa)))
        self.slot_i = np.zeros((0, L.N_SLOT_I + L.N_IN_I), dtype=np.int64)
        self.free = np.zeros(0, dtype=np.int64)
        self.heap = (
            np.zeros(0),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
        self.out_f = np.zeros((0, L.N_OUT_F))
        self.out_i = np.zeros((0, L.N_OUT_I), dtype=np.int64)
        self._grow_slots(256)
        self._grow_heap(1024 + 4 * n_a)

    # -- settings ---------------------------------------------------------------------------
    def set_knobs(
        self,
        cap: np.ndarray | None = None,
        nominal: np.ndarray | None = None,
        guard: int = 0,
        port_cap: np.ndarray | None = None,
        cps_rate: np.ndarray | None = None,
        cps_burst: np.ndarray | None = None,
        wait_limit: np.ndarray | None = None,
        contention: int = -1,
    ) -> None:
        """The isolation knobs (see :func:`models.platform.core.admit`); defaults share
        everything."""
        n_t = self.t_i.shape[0]
        big = np.iinfo(np.int64).max // 4

        def ints(v: np.ndarray | None) -> np.ndarray:
            return np.full(n_t, big, dtype=np.int64) if v is None else np.asarray(v, np.int64)

        def floats(v: np.ndarray | None) -> np.ndarray:
            return np.full(n_t, np.inf) if v is None else np.asarray(v, np.float64)

        self.t_i[:, L.T_CAP] = ints(cap)
        self.t_i[:, L.T_NOM] = ints(nominal)
        self.t_i[:, L.T_PCAP] = ints(port_cap)
        self.g_i[L.G_GUARD] = guard
        self.g_i[L.G_CONTENTION] = contention
        rate = floats(cps_rate)
        burst = np.where(np.isfinite(rate), floats(cps_burst), np.inf)
        fresh = np.isinf(self.t_f[:, L.T_CPS_BURST]) | (self.t_f[:, L.T_CPS_BURST] == 0)
        self.t_f[:, L.T_CPS_RATE] = rate
        self.t_f[:, L.T_CPS_BURST] = burst
        self.t_f[:, L.T_TOKENS] = np.where(fresh, burst, self.t_f[:, L.T_TOKENS])
        self.t_f[:, L.T_WAIT_LIMIT] = floats(wait_limit)

    def set_open(self, open_now: np.ndarray) -> None:
        """Which tenants take inbound sessions now (business hours)."""
        self.t_i[:, L.T_OPEN] = np.asarray(open_now, dtype=np.int64)

    def set_mean_handle(self, seconds: np.ndarray) -> None:
        """The observed mean handle time per tenant (the service-level debt gate's)."""
        self.t_f[:, L.T_MEAN_HANDLE] = seconds

    def set_route(self, order: np.ndarray, weights: np.ndarray | None, failover: bool) -> None:
        """Carrier order; with ``weights`` (one per entry of ``order``) the first carrier of
        each call is drawn by them (a static split), the rest follow in order."""
        self.route = np.asarray(order, dtype=np.int64)
        if weights is None:
            self.route_w = np.zeros(len(self.route))
            self.g_i[L.G_STATIC] = 0
        else:
            w = np.asarray(weights, dtype=float)
            self.route_w = np.cumsum(w) / w.sum()
            self.g_i[L.G_STATIC] = 1
        self.g_i[L.G_FAILOVER] = int(failover)

    def set_outages(self, down_from: np.ndarray, down_to: np.ndarray) -> None:
        """One outage window per carrier (inf: none) for the coming step."""
        self.c_f[:, L.C_DOWN_FROM] = down_from
        self.c_f[:, L.C_DOWN_TO] = down_to

    # -- room ------------------------------------------------------------------------------
    def _grow_slots(self, need: int) -> None:
        cap = len(self.slot_f)
        n_free = int(self.g_i[L.G_FREE_N])
        if n_free >= need:
            return
        new = max(2 * cap, cap + need - n_free)
        f = np.zeros((new, self.slot_f.shape[1]))
        i = np.zeros((new, self.slot_i.shape[1]), dtype=np.int64)
        f[:cap], i[:cap] = self.slot_f, self.slot_i
        i[cap:, L.S_CURQ] = -1
        free = np.zeros(new, dtype=np.int64)
        free[:n_free] = self.free[:n_free]
        free[n_free : n_free + new - cap] = np.arange(new - 1, cap - 1, -1)
        self.slot_f, self.slot_i, self.free = f, i, free
        self.g_i[L.G_FREE_N] = n_free + new - cap

    def _grow_heap(self, need: int) -> None:
        n = int(self.g_i[L.G_HEAP_N])
        if len(self.heap[0]) >= n + need:
            return
        cap = max(2 * len(self.heap[0]), n + need)
        grown = []
        for arr in self.heap:
            new = np.zeros(cap, dtype=arr.dtype)
            new[:n] = arr[:n]
            grown.append(new)
        self.heap = tuple(grown)  # type: ignore[assignment]

    def _state(self) -> tuple:
        return (
            self.slot_f,
            self.slot_i,
            self.free,
            self.ag_i,
            self.ag_f,
            self.q_i,
            self.t_i,
            self.t_f,
            self.g_i,
            self.g_f,
            self.c_i,
            self.c_f,
            self.route,
            self.route_w,
            *self.heap,
            self.out_f,
            self.out_i,
        )

    # -- a step ----------------------------------------------------------------------------
    def step(
        self, t0: float, t1: float, staff: np.ndarray, new_f: np.ndarray, new_i: np.ndarray
    ) -> Step:
        """Run from ``t0`` to ``t1`` with ``staff`` agents on shift per group and the
        sessions ``new_f``/``new_i`` (sorted by arrival, all in ``[t0, t1)``)."""
        n_new = len(new_f)
        if n_new and not (np.all(np.diff(new_f[:, L.F_T]) >= 0) and new_f[0, L.F_T] >= t0):
            raise ValueError("arrivals must be sorted and within the step")
        if n_new and new_f[-1, L.F_T] >= t1:
            raise ValueError("arrivals must be within the step")
        self._grow_slots(n_new + 1)
        active = int(self.g_i[L.G_ACTIVE])
        attempts = (active + n_new) * self.maxa
        self._grow_heap(8 * attempts + 2 * len(self.ag_i) + 16)
        if len(self.out_f) < attempts + 1:
            self.out_f = np.zeros((attempts + 1, L.N_OUT_F))
            self.out_i = np.zeros((attempts + 1, L.N_OUT_I), dtype=np.int64)
        self.g_i[L.G_NOUT] = 0
        self.g_i[L.G_PEAK_TRUNKS] = self.g_i[L.G_BUSY]
        self.g_i[L.G_PEAK_PORTS] = self.g_i[L.G_PBUSY]
        self.g_f[L.G_TRUNK_SEC] = 0.0
        self.g_f[L.G_PORT_SEC] = 0.0
        self.g_f[L.G_LAST_T] = t0
        self.t_f[:, L.T_BUSY_SEC] = 0.0
        self.t_f[:, L.T_TRUNK_SEC] = 0.0
        self.t_f[:, L.T_TRUNK_T] = t0
        counters = [L.C_ATTEMPTS, L.C_CONNECTED, L.C_DOWNFAIL, L.C_SKIP_FULL, L.C_SKIP_CPS]
        self.c_i[:, counters + [L.C_SEIZED]] = 0
        self.c_i[:, L.C_PEAK] = self.c_i[:, L.C_BUSY]
        self.c_f[:, L.C_BILLED_SEC] = 0.0
        self.kernel(
            float(t0),
            float(t1),
            np.ascontiguousarray(staff, dtype=np.int64),
            np.ascontiguousarray(new_f, dtype=np.float64),
            np.ascontiguousarray(new_i, dtype=np.int64),
            self._state(),
        )
        n = int(self.g_i[L.G_NOUT])
        live = self.slot_i[:, L.S_STATE] != L.FREE
        earliest = float(self.slot_f[live, L.S_ARRIVE].min()) if live.any() else np.inf
        return Step(  # copies in column order: the readers take whole columns
            out_f=np.array(self.out_f[:n], order="F"),
            out_i=np.array(self.out_i[:n], order="F"),
            trunk_seconds=float(self.g_f[L.G_TRUNK_SEC]),
            port_seconds=float(self.g_f[L.G_PORT_SEC]),
            peak_trunks=int(self.g_i[L.G_PEAK_TRUNKS]),
            peak_ports=int(self.g_i[L.G_PEAK_PORTS]),
            tenant_busy=self.t_f[:, L.T_BUSY_SEC].copy(),
            tenant_trunk_seconds=self.t_f[:, L.T_TRUNK_SEC].copy(),
            carriers=self.c_i.copy(),
            carrier_billed=self.c_f[:, L.C_BILLED_SEC].copy(),
            active=int(self.g_i[L.G_ACTIVE]),
            earliest=earliest,
        )
