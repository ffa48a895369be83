"""Building blocks of the platform's event kernel: the event heap, the queues, resource
accounting, agent search, admission and queue choice.

Every function takes the engine's state as one tuple ``st`` -- ``(slot_f, slot_i, free,
ag_i, ag_f, q_i, t_i, t_f, g_i, g_f, c_i, c_f, route, route_w, ht, hk, hid, hep, hseq,
out_f, out_i)``, see :class:`models.platform.engine.Engine` -- and changes it in place;
each is compiled with Numba and is called compiled by the plain-Python twin
(``models.platform.kernel.advance.py_func``).

They are inlined into the cached functions of :mod:`.kernel` and :mod:`.service`, and
Numba's cache checks only each function's own file: a change here must come with a change
to those files (or their ``__pycache__/*.nb*`` deleted), or their cached copies keep the
old code (a stale binary heap push beside a 4-ary pop would pop events out of order).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .layout import (
    A_CAP,
    A_IDLE,
    A_LEAVING,
    A_MASK,
    A_ON,
    A_PRIMARY,
    A_SLOT,
    A_TENANT,
    A_TEXTS,
    BLOCKED,
    C_BURST,
    C_CPS,
    C_TLAST,
    C_TOKENS,
    G_BUSY,
    G_CALL_PORTS,
    G_CONTENTION,
    G_GUARD,
    G_HEAP_N,
    G_LAST_T,
    G_PBUSY,
    G_PEAK_PORTS,
    G_PEAK_TRUNKS,
    G_PORT_SEC,
    G_PORTS,
    G_SEQ,
    G_TRUNK_SEC,
    G_TRUNKS,
    NO_PORTS,
    Q_CHANNEL,
    Q_HEAD,
    Q_LEN,
    Q_PRIO,
    Q_SKILL,
    Q_TAIL,
    Q_TENANT,
    REFUSED,
    S_CURQ,
    S_ENQ,
    S_LEGS,
    S_LEGS_MAX,
    S_NEXT,
    S_PORT_T,
    S_PORTS,
    S_PORTS_MAX,
    S_PORTSEC,
    S_PREV,
    T_A0,
    T_A1,
    T_CAP,
    T_CPS_BURST,
    T_CPS_RATE,
    T_MEAN_HANDLE,
    T_NOM,
    T_PCAP,
    T_PORTS,
    T_Q0,
    T_Q1,
    T_STAFFED,
    T_TLAST,
    T_TOKENS,
    T_TRUNK_SEC,
    T_TRUNK_T,
    T_TRUNKS,
    T_WAIT_LIMIT,
    T_WAITING,
    TEXT,
)

__all__ = [
    "admit",
    "carrier_token",
    "choose_queue",
    "find_agent",
    "heap_pop",
    "heap_push",
    "legs",
    "ports",
    "q_pop",
    "q_push",
    "q_remove",
    "settle",
    "trunks",
]

OK = -1
"""What :func:`admit` returns for an admitted call (otherwise the refusal's outcome)."""


def _heap_push(st: tuple, t: float, kind: int, ident: int, ep: int) -> None:
    """Schedule an event (time, kind, id, epoch); ties go in order of scheduling.

    The heap is 4-ary (children of ``j`` at ``4j+1 .. 4j+4``): half the levels of a binary
    heap, so a pop moves half as many entries of the five arrays; events are ordered by
    (time, sequence), a total order, so any heap pops them in the same order.
    """
    g_i, ht, hk, hid, hep, hseq = st[8], st[14], st[15], st[16], st[17], st[18]
    j = g_i[G_HEAP_N]
    seq = g_i[G_SEQ]
    g_i[G_SEQ] += 1
    g_i[G_HEAP_N] += 1
    while j > 0:
        parent = (j - 1) >> 2
        if ht[parent] < t or (ht[parent] == t and hseq[parent] < seq):
            break
        ht[j], hk[j], hid[j], hep[j], hseq[j] = (
            ht[parent],
            hk[parent],
            hid[parent],
            hep[parent],
            hseq[parent],
        )
        j = parent
    ht[j], hk[j], hid[j], hep[j], hseq[j] = t, kind, ident, ep, seq


def _heap_pop(st: tuple) -> tuple[float, int, int, int]:
    """Remove the earliest event; returns (time, kind, id, epoch)."""
    g_i, ht, hk, hid, hep, hseq = st[8], st[14], st[15], st[16], st[17], st[18]
    t, kind, ident, ep = ht[0], hk[0], hid[0], hep[0]
    n = g_i[G_HEAP_N] - 1
    g_i[G_HEAP_N] = n
    lt, lk, li, le, ls = ht[n], hk[n], hid[n], hep[n], hseq[n]
    j = 0
    while True:
        a = 4 * j + 1
        if a >= n:
            break
        c = a
        for b in range(a + 1, min(a + 4, n)):
            if ht[b] < ht[c] or (ht[b] == ht[c] and hseq[b] < hseq[c]):
                c = b
        if lt < ht[c] or (lt == ht[c] and ls < hseq[c]):
            break
        ht[j], hk[j], hid[j], hep[j], hseq[j] = ht[c], hk[c], hid[c], hep[c], hseq[c]
        j = c
    if n > 0:
        ht[j], hk[j], hid[j], hep[j], hseq[j] = lt, lk, li, le, ls
    return t, kind, ident, ep


def _q_push(st: tuple, q: int, slot: int) -> None:
    """Append a slot to the tail of queue ``q``."""
    slot_i, q_i = st[1], st[5]
    tail = q_i[q, Q_TAIL]
    slot_i[slot, S_PREV] = tail
    slot_i[slot, S_NEXT] = -1
    slot_i[slot, S_CURQ] = q
    if tail >= 0:
        slot_i[tail, S_NEXT] = slot
    else:
        q_i[q, Q_HEAD] = slot
    q_i[q, Q_TAIL] = slot
    q_i[q, Q_LEN] += 1


def _q_remove(st: tuple, slot: int) -> None:
    """Take a slot out of its queue (wherever it is)."""
    slot_i, q_i = st[1], st[5]
    q = slot_i[slot, S_CURQ]
    prev, nxt = slot_i[slot, S_PREV], slot_i[slot, S_NEXT]
    if prev >= 0:
        slot_i[prev, S_NEXT] = nxt
    else:
        q_i[q, Q_HEAD] = nxt
    if nxt >= 0:
        slot_i[nxt, S_PREV] = prev
    else:
        q_i[q, Q_TAIL] = prev
    q_i[q, Q_LEN] -= 1
    slot_i[slot, S_CURQ] = -1


def _q_pop(st: tuple, q: int) -> int:
    """Remove and return the head of queue ``q``."""
    slot = st[5][q, Q_HEAD]
    q_remove(st, slot)
    return slot


def _settle(st: tuple, t: float) -> None:
    """Integrate trunk- and port-seconds of the platform up to ``t``."""
    g_i, g_f = st[8], st[9]
    dt = t - g_f[G_LAST_T]
    if dt > 0:
        g_f[G_TRUNK_SEC] += g_i[G_BUSY] * dt
        g_f[G_PORT_SEC] += g_i[G_PBUSY] * dt
        g_f[G_LAST_T] = t


def _trunks(st: tuple, ten: int, t: float, delta: int) -> None:
    """A tenant takes (``delta = 1``) or frees (-1) a trunk at ``t``."""
    t_i, t_f, g_i = st[6], st[7], st[8]
    settle(st, t)
    t_f[ten, T_TRUNK_SEC] += t_i[ten, T_TRUNKS] * (t - t_f[ten, T_TRUNK_T])
    t_f[ten, T_TRUNK_T] = t
    t_i[ten, T_TRUNKS] += delta
    g_i[G_BUSY] += delta
    if g_i[G_BUSY] > g_i[G_PEAK_TRUNKS]:
        g_i[G_PEAK_TRUNKS] = g_i[G_BUSY]


def _ports(st: tuple, slot: int, ten: int, t: float, delta: int) -> None:
    """A session takes or frees ``delta`` media ports at ``t`` (its port-seconds kept)."""
    slot_f, slot_i, t_i, g_i = st[0], st[1], st[6], st[8]
    settle(st, t)
    slot_f[slot, S_PORTSEC] += slot_i[slot, S_PORTS] * (t - slot_f[slot, S_PORT_T])
    slot_f[slot, S_PORT_T] = t
    slot_i[slot, S_PORTS] += delta
    if slot_i[slot, S_PORTS] > slot_i[slot, S_PORTS_MAX]:
        slot_i[slot, S_PORTS_MAX] = slot_i[slot, S_PORTS]
    t_i[ten, T_PORTS] += delta
    g_i[G_PBUSY] += delta
    if g_i[G_PBUSY] > g_i[G_PEAK_PORTS]:
        g_i[G_PEAK_PORTS] = g_i[G_PBUSY]


def _legs(st: tuple, slot: int, n: int) -> None:
    """The session now has ``n`` media legs."""
    slot_i = st[1]
    slot_i[slot, S_LEGS] = n
    if n > slot_i[slot, S_LEGS_MAX]:
        slot_i[slot, S_LEGS_MAX] = n


def _find_agent(st: tuple, q: int, channel: int) -> int:
    """The agent an arriving session of queue ``q`` goes to, or -1.

    Eligible: on shift and not leaving, with the queue's skill; idle for a call, not on a
    call and below its text capacity for a text.  Preferred: agents whose primary skill it
    is, then (texts) the fewest texts in progress, then the longest idle, then the lowest
    index.
    """
    ag_i, ag_f, q_i, t_i = st[3], st[4], st[5], st[6]
    ten = q_i[q, Q_TENANT]
    skill = q_i[q, Q_SKILL]
    best = -1
    b_prim, b_texts, b_idle = 0, 0, 0.0
    for a in range(t_i[ten, T_A0], t_i[ten, T_A1]):
        if ag_i[a, A_ON] == 0 or ag_i[a, A_LEAVING] != 0 or ag_i[a, A_SLOT] != -1:
            continue
        if (ag_i[a, A_MASK] >> skill) & 1 == 0:
            continue
        texts = ag_i[a, A_TEXTS]
        if channel == TEXT:
            if texts >= ag_i[a, A_CAP]:
                continue
        elif texts > 0:
            continue
        prim = 1 if ag_i[a, A_PRIMARY] == skill else 0
        idle = ag_f[a, A_IDLE]
        if best < 0:
            better = True
        elif prim != b_prim:
            better = prim > b_prim
        elif channel == TEXT and texts != b_texts:
            better = texts < b_texts
        else:
            better = idle < b_idle
        if better:
            best, b_prim, b_texts, b_idle = a, prim, texts, idle
    return best


def _choose_queue(st: tuple, a: int) -> int:
    """The queue a free agent takes its next session from, or -1: among the non-empty
    queues of its skills that it may serve now (texts only while it has texts in
    progress), its primary skill first, then the highest priority, then the oldest
    head."""
    slot_f, ag_i, q_i, t_i = st[0], st[3], st[5], st[6]
    if ag_i[a, A_ON] == 0 or ag_i[a, A_LEAVING] != 0 or ag_i[a, A_SLOT] != -1:
        return -1
    ten = ag_i[a, A_TENANT]
    texts = ag_i[a, A_TEXTS]
    best = -1
    b_prim, b_prio, b_t = 0, 0, 0.0
    for q in range(t_i[ten, T_Q0], t_i[ten, T_Q1]):
        if q_i[q, Q_LEN] == 0:
            continue
        skill = q_i[q, Q_SKILL]
        if (ag_i[a, A_MASK] >> skill) & 1 == 0:
            continue
        ch = q_i[q, Q_CHANNEL]
        if ch == TEXT:
            if texts >= ag_i[a, A_CAP]:
                continue
        elif texts > 0:
            continue
        prim = 1 if ag_i[a, A_PRIMARY] == skill else 0
        prio = q_i[q, Q_PRIO]
        head_t = slot_f[q_i[q, Q_HEAD], S_ENQ]
        if best < 0:
            better = True
        elif prim != b_prim:
            better = prim > b_prim
        elif prio != b_prio:
            better = prio > b_prio
        else:
            better = head_t < b_t
        if better:
            best, b_prim, b_prio, b_t = q, prim, prio, head_t
    return best


def _admit(st: tuple, ten: int, t: float) -> int:
    """Admission of an inbound call of tenant ``ten`` at ``t`` under the isolation knobs:
    returns ``OK`` (the caller then takes a trunk and the call's ports) or the outcome of
    the refusal (``refused``, ``blocked`` or ``no_ports``).

    In order: the tenant's calls-per-second token bucket; a free trunk; the tenant's cap
    (a fixed partition); trunk reservation (above its nominal share a tenant takes a trunk
    only while more than ``guard`` are free); the service-level debt gate (while at most
    ``contention`` trunks are free, a call whose predicted wait -- callers waiting times
    the observed mean handle time over staffed agents -- exceeds the tenant's limit is
    refused); then media ports, shared and per tenant.
    """
    t_i, t_f, g_i = st[6], st[7], st[8]
    rate = t_f[ten, T_CPS_RATE]
    if rate < np.inf:
        tokens = t_f[ten, T_TOKENS] + rate * (t - t_f[ten, T_TLAST])
        if tokens > t_f[ten, T_CPS_BURST]:
            tokens = t_f[ten, T_CPS_BURST]
        t_f[ten, T_TOKENS] = tokens
        t_f[ten, T_TLAST] = t
        if tokens < 1.0:
            return REFUSED
    free = g_i[G_TRUNKS] - g_i[G_BUSY]
    if free <= 0 or t_i[ten, T_TRUNKS] >= t_i[ten, T_CAP]:
        return BLOCKED
    if t_i[ten, T_TRUNKS] >= t_i[ten, T_NOM] and free <= g_i[G_GUARD]:
        return BLOCKED
    limit = t_f[ten, T_WAIT_LIMIT]
    if limit < np.inf and free <= g_i[G_CONTENTION]:
        staffed = t_i[ten, T_STAFFED]
        predicted = t_i[ten, T_WAITING] * t_f[ten, T_MEAN_HANDLE] / max(staffed, 1)
        if staffed == 0 or predicted > limit:
            return REFUSED
    need = g_i[G_CALL_PORTS]
    if g_i[G_PORTS] - g_i[G_PBUSY] < need or t_i[ten, T_PORTS] + need > t_i[ten, T_PCAP]:
        return NO_PORTS
    if rate < np.inf:
        t_f[ten, T_TOKENS] -= 1.0
    return OK


def _carrier_token(st: tuple, c: int, t: float) -> bool:
    """Take one of carrier ``c``'s calls-per-second tokens at ``t`` if there is one."""
    c_f = st[11]
    tokens = c_f[c, C_TOKENS] + c_f[c, C_CPS] * (t - c_f[c, C_TLAST])
    if tokens > c_f[c, C_BURST]:
        tokens = c_f[c, C_BURST]
    c_f[c, C_TLAST] = t
    if tokens < 1.0:
        c_f[c, C_TOKENS] = tokens
        return False
    c_f[c, C_TOKENS] = tokens - 1.0
    return True


heap_push = njit(cache=True, nogil=True, inline="always")(_heap_push)
heap_pop = njit(cache=True, nogil=True, inline="always")(_heap_pop)
q_push = njit(cache=True, nogil=True, inline="always")(_q_push)
q_remove = njit(cache=True, nogil=True, inline="always")(_q_remove)
q_pop = njit(cache=True, nogil=True, inline="always")(_q_pop)
settle = njit(cache=True, nogil=True, inline="always")(_settle)
trunks = njit(cache=True, nogil=True, inline="always")(_trunks)
ports = njit(cache=True, nogil=True, inline="always")(_ports)
legs = njit(cache=True, nogil=True, inline="always")(_legs)
find_agent = njit(cache=True, nogil=True, inline="always")(_find_agent)
choose_queue = njit(cache=True, nogil=True, inline="always")(_choose_queue)
admit = njit(cache=True, nogil=True, inline="always")(_admit)
carrier_token = njit(cache=True, nogil=True, inline="always")(_carrier_token)
