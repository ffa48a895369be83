"""What happens to a session on the platform: an agent answers it, an outbound call is
dialled through the carriers, a call is transferred, an attempt ends (written as a row) and
is retried or freed.  Compiled helpers of :mod:`models.platform.kernel` (the same state
tuple ``st``; see :mod:`models.platform.core`).

``dial`` and ``serve_transfer`` are cached compiled functions of their own with
:mod:`.core`'s helpers inlined (the event heap among them, 4-ary since 2026-12-02), and
Numba's cache checks only this file: a change to a helper of :mod:`.core` comes with a
change here (or ``__pycache__/*.nb*`` deleted), or the stale copy runs."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .core import (
    carrier_token,
    heap_push,
    legs,
    ports,
    trunks,
)
from .layout import (
    A_CAP,
    A_LEAVING,
    A_ON,
    A_SLOT,
    A_START,
    A_TENANT,
    A_TEXT_T,
    A_TEXTS,
    ABANDONED,
    ANSWERED,
    C_ASR,
    C_ATTEMPTS,
    C_BILLED_SEC,
    C_BILLING,
    C_BUSY,
    C_CAP,
    C_CONNECTED,
    C_DOWN_FROM,
    C_DOWN_TO,
    C_DOWNFAIL,
    C_PEAK,
    C_SEIZED,
    C_SKIP_CPS,
    C_SKIP_FULL,
    CONSULT,
    DIALLING,
    E_CONSULT_END,
    E_END1,
    E_END2,
    E_RETRY,
    E_WRAP,
    EXPIRED,
    F_ANSWER_U,
    F_CONSULT,
    F_HANDLE,
    F_HANDLE2,
    F_PAT,
    F_RING,
    F_ROUTE_U,
    F_WRAP,
    FAILED,
    FREE,
    G_ACTIVE,
    G_CALL_PORTS,
    G_CONSULT_PORTS,
    G_FAILOVER,
    G_FAILOVER_S,
    G_FREE_N,
    G_MAXA,
    G_NOUT,
    G_PBUSY,
    G_PORTS,
    G_RING_TIMEOUT,
    G_STATIC,
    I_CHANNEL,
    I_CUSTOMER,
    I_NUMBER,
    I_QUEUE,
    I_SESSION,
    I_TENANT,
    NO_ANSWER,
    NO_PORTS,
    O_AGENT,
    O_AGENT2,
    O_ANSWER,
    O_ATTEMPT,
    O_BILLED,
    O_CARRIER,
    O_CHANNEL,
    O_CUSTOMER,
    O_END,
    O_FAILOVERS,
    O_FREE_TRUNKS,
    O_LEGS,
    O_NUMBER,
    O_OUTCOME,
    O_PORTS,
    O_PORTSEC,
    O_QUEUE,
    O_QUEUED,
    O_RETRIED,
    O_SERVED,
    O_SERVED2,
    O_SESSION,
    O_T,
    O_TENANT,
    O_WAIT,
    O_XFER,
    RETRY,
    S_AGENT,
    S_AGENT2,
    S_ANSWER,
    S_ARRIVE,
    S_ATTEMPT,
    S_BILLED,
    S_CARRIER,
    S_ENQ,
    S_EPOCH,
    S_EXTRA,
    S_FAILOVERS,
    S_FREE_TRUNKS,
    S_LEGS,
    S_LEGS_MAX,
    S_OUTCOME,
    S_PORTS,
    S_PORTS_MAX,
    S_PORTSEC,
    S_QUEUED,
    S_SERVED,
    S_SERVED2,
    S_STATE,
    S_TRUNK,
    S_WAIT,
    S_XDONE,
    SF,
    SI,
    T_BUSY_SEC,
    T_PCAP,
    T_PORTS,
    TALK1,
    TALK2,
    TEXT,
    TEXTING,
    VOICE,
    WARM,
    WARM_AS_BLIND,
    WRAPPING,
)

__all__ = ["dial", "emit", "fail", "finish", "serve", "serve_transfer", "wrap"]


def _emit(st: tuple, slot: int, t: float, outcome: int, retried: int) -> None:
    """Write the finished attempt of ``slot`` as an output row."""
    slot_f, slot_i, g_i, out_f, out_i = st[0], st[1], st[8], st[19], st[20]
    k = g_i[G_NOUT]
    g_i[G_NOUT] += 1
    wait = slot_f[slot, S_WAIT]
    if math.isnan(wait):
        wait = t - slot_f[slot, S_ENQ] if outcome == ABANDONED or outcome == EXPIRED else 0.0
    out_f[k, O_T] = slot_f[slot, S_ARRIVE]
    out_f[k, O_WAIT] = wait
    out_f[k, O_ANSWER] = slot_f[slot, S_ANSWER]
    out_f[k, O_END] = t
    out_f[k, O_PORTSEC] = slot_f[slot, S_PORTSEC]
    out_f[k, O_BILLED] = slot_f[slot, S_BILLED]
    out_f[k, O_SERVED] = slot_f[slot, S_SERVED]
    out_f[k, O_SERVED2] = slot_f[slot, S_SERVED2]
    out_i[k, O_SESSION] = slot_i[slot, SI + I_SESSION]
    out_i[k, O_ATTEMPT] = slot_i[slot, S_ATTEMPT]
    out_i[k, O_TENANT] = slot_i[slot, SI + I_TENANT]
    out_i[k, O_QUEUE] = slot_i[slot, SI + I_QUEUE]
    out_i[k, O_CHANNEL] = slot_i[slot, SI + I_CHANNEL]
    out_i[k, O_CUSTOMER] = slot_i[slot, SI + I_CUSTOMER]
    out_i[k, O_NUMBER] = slot_i[slot, SI + I_NUMBER]
    out_i[k, O_OUTCOME] = outcome
    out_i[k, O_AGENT] = slot_i[slot, S_AGENT]
    out_i[k, O_AGENT2] = slot_i[slot, S_AGENT2]
    out_i[k, O_XFER] = slot_i[slot, S_XDONE]
    out_i[k, O_LEGS] = slot_i[slot, S_LEGS_MAX]
    out_i[k, O_PORTS] = slot_i[slot, S_PORTS_MAX]
    out_i[k, O_CARRIER] = slot_i[slot, S_CARRIER]
    out_i[k, O_FREE_TRUNKS] = slot_i[slot, S_FREE_TRUNKS]
    out_i[k, O_RETRIED] = retried
    out_i[k, O_QUEUED] = slot_i[slot, S_QUEUED]
    out_i[k, O_FAILOVERS] = slot_i[slot, S_FAILOVERS]


def _release(st: tuple, slot: int, t: float) -> None:
    """Free the session's trunk and media ports at ``t``; it has no legs any more."""
    slot_i = st[1]
    ten = slot_i[slot, SI + I_TENANT]
    if slot_i[slot, S_TRUNK] != 0:
        trunks(st, ten, t, -1)
        slot_i[slot, S_TRUNK] = 0
    if slot_i[slot, S_PORTS] != 0:
        ports(st, slot, ten, t, -slot_i[slot, S_PORTS])
    slot_i[slot, S_LEGS] = 0


def _free_slot(st: tuple, slot: int) -> None:
    slot_i, free, g_i = st[1], st[2], st[8]
    slot_i[slot, S_STATE] = FREE
    free[g_i[G_FREE_N]] = slot
    g_i[G_FREE_N] += 1
    g_i[G_ACTIVE] -= 1


def _finish(st: tuple, slot: int, t: float, outcome: int) -> None:
    """The session ends with this attempt."""
    release(st, slot, t)
    emit(st, slot, t, outcome, 0)
    free_slot(st, slot)


def _fail(st: tuple, slot: int, t: float, outcome: int) -> None:
    """The attempt failed (blocked, refused, abandoned): retry after the attempt's drawn
    delay if it has one and attempts remain, else the session ends."""
    slot_f, slot_i, g_i = st[0], st[1], st[8]
    release(st, slot, t)
    k = slot_i[slot, S_ATTEMPT]
    maxa = g_i[G_MAXA]
    delay = slot_f[slot, SF + F_PAT + maxa + k]
    retry = k + 1 < maxa and delay < np.inf
    emit(st, slot, t, outcome, 1 if retry else 0)
    if retry:
        slot_i[slot, S_STATE] = RETRY
        heap_push(st, t + delay, E_RETRY, slot, slot_i[slot, S_EPOCH])
    else:
        free_slot(st, slot)


def _text_count(st: tuple, a: int, t: float, delta: int) -> None:
    """An agent's texts in progress change by ``delta`` (busy time counted per text, over
    the agent's capacity)."""
    ag_i, ag_f, t_f = st[3], st[4], st[7]
    ten = ag_i[a, A_TENANT]
    t_f[ten, T_BUSY_SEC] += (t - ag_f[a, A_TEXT_T]) * ag_i[a, A_TEXTS] / ag_i[a, A_CAP]
    ag_f[a, A_TEXT_T] = t
    ag_i[a, A_TEXTS] += delta


def _off_if_leaving(st: tuple, a: int) -> bool:
    """An agent whose shift has ended goes off once it has nothing in hand."""
    ag_i = st[3]
    if ag_i[a, A_LEAVING] != 0 and ag_i[a, A_SLOT] == -1 and ag_i[a, A_TEXTS] == 0:
        ag_i[a, A_ON] = 0
        ag_i[a, A_LEAVING] = 0
        return True
    return False


def _wrap(st: tuple, a: int, t: float, seconds: float) -> None:
    """The agent's call work is done: wrap-up for ``seconds``."""
    st[3][a, A_SLOT] = WRAPPING
    heap_push(st, t + seconds, E_WRAP, a, 0)


def _serve(st: tuple, slot: int, a: int, t: float) -> None:
    """Agent ``a`` takes a session waiting for its first answer."""
    slot_f, slot_i, ag_i, ag_f = st[0], st[1], st[3], st[4]
    slot_f[slot, S_ANSWER] = t
    slot_f[slot, S_WAIT] = t - slot_f[slot, S_ENQ]
    slot_i[slot, S_AGENT] = a
    ch = slot_i[slot, SI + I_CHANNEL]
    ep = slot_i[slot, S_EPOCH]
    if ch == TEXT:
        text_count(st, a, t, 1)
        slot_i[slot, S_STATE] = TEXTING
        heap_push(st, t + slot_f[slot, SF + F_HANDLE], E_END1, slot, ep)
        return
    ag_i[a, A_SLOT] = slot
    ag_f[a, A_START] = t
    if ch == VOICE:
        slot_i[slot, S_STATE] = TALK1
        legs(st, slot, 2)
        heap_push(st, t + slot_f[slot, SF + F_HANDLE], E_END1, slot, ep)
    else:
        slot_i[slot, S_STATE] = DIALLING
        dial(st, slot, t)


def _dial(st: tuple, slot: int, t: float) -> None:
    """Place an outbound call through the carriers in the routing order."""
    slot_f, slot_i, t_i, g_i, g_f = st[0], st[1], st[6], st[8], st[9]
    c_i, c_f, route, route_w = st[10], st[11], st[12], st[13]
    ten = slot_i[slot, SI + I_TENANT]
    ep = slot_i[slot, S_EPOCH]
    need = g_i[G_CALL_PORTS]
    if g_i[G_PORTS] - g_i[G_PBUSY] < need or t_i[ten, T_PORTS] + need > t_i[ten, T_PCAP]:
        slot_i[slot, S_OUTCOME] = NO_PORTS
        heap_push(st, t, E_END1, slot, ep)
        return
    ports(st, slot, ten, t, need)
    n = route.shape[0]
    j0 = 0
    if g_i[G_STATIC] != 0:
        u = slot_f[slot, SF + F_ROUTE_U]
        while j0 < n - 1 and route_w[j0] <= u:
            j0 += 1
    extra = 0.0
    tried = 0
    seized = -1
    for k in range(n):
        c = route[(j0 + k) % n]
        if c_i[c, C_BUSY] >= c_i[c, C_CAP]:
            c_i[c, C_SKIP_FULL] += 1
            continue
        if not carrier_token(st, c, t + extra):
            c_i[c, C_SKIP_CPS] += 1
            continue
        c_i[c, C_ATTEMPTS] += 1
        if c_f[c, C_DOWN_FROM] <= t + extra < c_f[c, C_DOWN_TO]:
            c_i[c, C_DOWNFAIL] += 1
            extra += g_f[G_FAILOVER_S]
            tried += 1
            if g_i[G_FAILOVER] == 0:
                break
            continue
        seized = c
        break
    slot_i[slot, S_FAILOVERS] = tried
    slot_f[slot, S_EXTRA] = extra
    if seized < 0:
        slot_i[slot, S_OUTCOME] = FAILED
        heap_push(st, t + extra, E_END1, slot, ep)
        return
    c = seized
    c_i[c, C_BUSY] += 1
    c_i[c, C_SEIZED] += 1
    if c_i[c, C_BUSY] > c_i[c, C_PEAK]:
        c_i[c, C_PEAK] = c_i[c, C_BUSY]
    slot_i[slot, S_CARRIER] = c
    legs(st, slot, 2)
    if slot_f[slot, SF + F_ANSWER_U] < c_f[c, C_ASR]:
        talk = slot_f[slot, SF + F_HANDLE]
        inc = c_i[c, C_BILLING]
        billed = math.ceil(talk / inc) * inc
        c_i[c, C_CONNECTED] += 1
        c_f[c, C_BILLED_SEC] += billed
        slot_f[slot, S_SERVED] = talk
        slot_f[slot, S_BILLED] = billed
        slot_i[slot, S_OUTCOME] = ANSWERED
        heap_push(st, t + extra + slot_f[slot, SF + F_RING] + talk, E_END1, slot, ep)
    else:
        slot_i[slot, S_OUTCOME] = NO_ANSWER
        heap_push(st, t + extra + g_f[G_RING_TIMEOUT], E_END1, slot, ep)


def _serve_transfer(st: tuple, slot: int, b: int, t: float) -> None:
    """Agent ``b`` takes a transferred call: a consultation first if the transfer is warm
    and the media server has the ports for it, else straight to talk."""
    slot_f, slot_i, t_i, g_i = st[0], st[1], st[6], st[8]
    ag_i, ag_f = st[3], st[4]
    ten = slot_i[slot, SI + I_TENANT]
    ep = slot_i[slot, S_EPOCH]
    slot_i[slot, S_AGENT2] = b
    ag_i[b, A_SLOT] = slot
    ag_f[b, A_START] = t
    if slot_i[slot, S_XDONE] == WARM:
        extra = g_i[G_CONSULT_PORTS]
        if g_i[G_PORTS] - g_i[G_PBUSY] >= extra and t_i[ten, T_PORTS] + extra <= t_i[ten, T_PCAP]:
            ports(st, slot, ten, t, extra)
            slot_i[slot, S_STATE] = CONSULT
            legs(st, slot, 3)
            heap_push(st, t + slot_f[slot, SF + F_CONSULT], E_CONSULT_END, slot, ep)
            return
        slot_i[slot, S_XDONE] = WARM_AS_BLIND
        wrap(st, slot_i[slot, S_AGENT], t, slot_f[slot, SF + F_WRAP])
    slot_i[slot, S_STATE] = TALK2
    legs(st, slot, 2)
    heap_push(st, t + slot_f[slot, SF + F_HANDLE2], E_END2, slot, ep)


emit = njit(cache=True, nogil=True, inline="always")(_emit)
release = njit(cache=True, nogil=True, inline="always")(_release)
free_slot = njit(cache=True, nogil=True, inline="always")(_free_slot)
finish = njit(cache=True, nogil=True, inline="always")(_finish)
fail = njit(cache=True, nogil=True, inline="always")(_fail)
text_count = njit(cache=True, nogil=True, inline="always")(_text_count)
off_if_leaving = njit(cache=True, nogil=True, inline="always")(_off_if_leaving)
wrap = njit(cache=True, nogil=True, inline="always")(_wrap)
dial = njit(cache=True, nogil=True)(_dial)
serve = njit(cache=True, nogil=True, inline="always")(_serve)
serve_transfer = njit(cache=True, nogil=True)(_serve_transfer)
