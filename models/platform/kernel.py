"""The platform's event kernel: every tenant's calls, texts and outbound tasks through
admission, IVR, queues, agents, transfers and carriers, in one Numba loop.

:func:`advance` processes, in time order, the sessions handed in for a step (sorted by
arrival) and the events on the heap (abandonments, retrials, end of IVR, ends of talk and
consultation, ends of wrap-up) up to the step's end; state persists between steps.  Each
finished attempt is written as one row of ``out_f``/``out_i``.  The rules:

* an inbound call is admitted (:func:`models.platform.core.admit`: the isolation knobs,
  a trunk, media ports), spends the tenant's IVR time, then joins its queue; an agent who
  is free takes it at once (primary skill first, then the longest idle);
* a waiting caller abandons when its patience runs out; blocked, refused and abandoned
  attempts retry after their drawn delay (inf: no retry), up to ``max_attempts``;
* a free agent takes the next session of its skills (primary skill first, then priority,
  then the oldest); an agent handles one call, or up to its capacity of text sessions;
* a call with a transfer goes, after the first agent's talk, to the target skill's
  queue: blind, the first agent wraps up at once; warm, the first agent holds the caller
  until a second agent answers, they consult (the consultation's extra media ports, if
  the server has them; otherwise the transfer is done blind), then the first leaves;
* an outbound task is dialled by a free agent of its skill through the carriers in the
  routing policy's order (a static split draws the first by the task's uniform):
  carriers at capacity or out of calls-per-second tokens are skipped; a carrier that is
  down answers with a failure after ``failover_seconds`` and the next is tried only with
  failover; the callee answers if the task's uniform is below the carrier's
  answer-seizure ratio;
* agents go on and off shift at the step's start (one leaving mid-call finishes first),
  and wrap up after every call.

``advance.py_func`` is the plain-Python twin (it calls the compiled helpers of
:mod:`models.platform.core`); ``tests/test_platform_kernel.py`` checks that both give the
same state and rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..jit import unowned
from .core import (
    OK,
    admit,
    choose_queue,
    find_agent,
    heap_pop,
    heap_push,
    legs,
    ports,
    q_pop,
    q_push,
    q_remove,
    settle,
    trunks,
)
from .layout import (
    A_GROUP,
    A_IDLE,
    A_LEAVING,
    A_ON,
    A_RANK,
    A_SLOT,
    A_START,
    A_TENANT,
    A_TEXT_T,
    A_TEXTS,
    ABANDONED,
    ANSWERED,
    BLIND,
    C_BUSY,
    CLOSED,
    E_ABANDON,
    E_CONSULT_END,
    E_END1,
    E_END2,
    E_ENQUEUE,
    E_RETRY,
    E_WRAP,
    EXPIRED,
    F_HANDLE,
    F_HANDLE2,
    F_IVR,
    F_PAT,
    F_T,
    F_WRAP,
    G_ACTIVE,
    G_BUSY,
    G_CALL_PORTS,
    G_CONSULT_PORTS,
    G_FREE_N,
    G_HEAP_N,
    G_TRUNKS,
    I_CHANNEL,
    I_QUEUE,
    I_TENANT,
    I_XFER,
    I_XQUEUE,
    IVR,
    NO_XFER,
    OUTBOUND,
    Q_CHANNEL,
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
    S_PORT_T,
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
    T_OPEN,
    T_STAFFED,
    T_TRUNK_SEC,
    T_TRUNK_T,
    T_TRUNKS,
    T_WAITING,
    TALK2,
    TEXT,
    VOICE,
    WAITING,
    XWAIT,
)
from .service import (
    fail,
    finish,
    off_if_leaving,
    serve,
    serve_transfer,
    text_count,
    wrap,
)

__all__ = ["advance"]


def _pull(st: tuple, a: int, t: float) -> None:
    """A free agent takes waiting sessions (several texts, up to its capacity)."""
    slot_i, q_i, t_i = st[1], st[5], st[6]
    while True:
        q = choose_queue(st, a)
        if q < 0:
            return
        slot = q_pop(st, q)
        ch = q_i[q, Q_CHANNEL]
        if ch == VOICE:
            t_i[slot_i[slot, SI + I_TENANT], T_WAITING] -= 1
        if slot_i[slot, S_STATE] == XWAIT:
            serve_transfer(st, slot, a, t)
            return
        serve(st, slot, a, t)
        if ch != TEXT:
            return


def _enqueue(st: tuple, slot: int, t: float) -> None:
    """A new attempt reaches its queue: an agent now, or wait (and maybe abandon)."""
    slot_f, slot_i, t_i = st[0], st[1], st[6]
    q = slot_i[slot, SI + I_QUEUE]
    ch = slot_i[slot, SI + I_CHANNEL]
    slot_f[slot, S_ENQ] = t
    slot_i[slot, S_STATE] = WAITING
    a = find_agent(st, q, ch)
    if a >= 0:
        serve(st, slot, a, t)
        return
    slot_i[slot, S_QUEUED] = 1
    q_push(st, q, slot)
    if ch == VOICE:
        t_i[slot_i[slot, SI + I_TENANT], T_WAITING] += 1
    patience = slot_f[slot, SF + F_PAT + slot_i[slot, S_ATTEMPT]]
    if patience < np.inf:
        heap_push(st, t + patience, E_ABANDON, slot, slot_i[slot, S_EPOCH])


def _enqueue_transfer(st: tuple, slot: int, t: float) -> None:
    """A transferred call joins its target queue (transferred callers do not abandon)."""
    slot_f, slot_i, t_i = st[0], st[1], st[6]
    q = slot_i[slot, SI + I_XQUEUE]
    slot_f[slot, S_ENQ] = t
    slot_i[slot, S_STATE] = XWAIT
    b = find_agent(st, q, VOICE)
    if b >= 0:
        serve_transfer(st, slot, b, t)
        return
    q_push(st, q, slot)
    t_i[slot_i[slot, SI + I_TENANT], T_WAITING] += 1


def _arrive(st: tuple, slot: int, t: float) -> None:
    """Attempt ``S_ATTEMPT`` of the session in ``slot`` arrives at ``t``."""
    slot_f, slot_i, t_i, g_i = st[0], st[1], st[6], st[8]
    slot_i[slot, S_EPOCH] += 1
    slot_f[slot, S_ARRIVE] = t
    slot_f[slot, S_ENQ] = t
    slot_f[slot, S_ANSWER] = np.nan
    slot_f[slot, S_WAIT] = np.nan
    slot_f[slot, S_PORT_T] = t
    slot_f[slot, S_PORTSEC] = 0.0
    slot_f[slot, S_EXTRA] = 0.0
    slot_f[slot, S_SERVED] = 0.0
    slot_f[slot, S_SERVED2] = 0.0
    slot_f[slot, S_BILLED] = 0.0
    for col in (S_AGENT, S_AGENT2, S_CARRIER, S_OUTCOME):
        slot_i[slot, col] = -1
    for col in (S_TRUNK, S_PORTS, S_PORTS_MAX, S_LEGS, S_LEGS_MAX, S_XDONE, S_QUEUED):
        slot_i[slot, col] = 0
    slot_i[slot, S_FAILOVERS] = 0
    slot_i[slot, S_FREE_TRUNKS] = g_i[G_TRUNKS] - g_i[G_BUSY]
    ten = slot_i[slot, SI + I_TENANT]
    ch = slot_i[slot, SI + I_CHANNEL]
    if ch != OUTBOUND and t_i[ten, T_OPEN] == 0:
        finish(st, slot, t, CLOSED)
        return
    if ch == VOICE:
        verdict = admit(st, ten, t)
        if verdict != OK:
            fail(st, slot, t, verdict)
            return
        trunks(st, ten, t, 1)
        slot_i[slot, S_TRUNK] = 1
        ports(st, slot, ten, t, g_i[G_CALL_PORTS])
        legs(st, slot, 1)
        ivr = slot_f[slot, SF + F_IVR]
        if ivr > 0:
            slot_i[slot, S_STATE] = IVR
            heap_push(st, t + ivr, E_ENQUEUE, slot, slot_i[slot, S_EPOCH])
            return
    enqueue(st, slot, t)


def _end_first(st: tuple, slot: int, t: float) -> None:
    """End of a call's first talk, a text session, or an outbound call."""
    slot_f, slot_i, c_i = st[0], st[1], st[10]
    ch = slot_i[slot, SI + I_CHANNEL]
    a = slot_i[slot, S_AGENT]
    wrap_s = slot_f[slot, SF + F_WRAP]
    if ch == TEXT:
        slot_f[slot, S_SERVED] = slot_f[slot, SF + F_HANDLE]
        finish(st, slot, t, ANSWERED)
        text_count(st, a, t, -1)
        if st[3][a, A_TEXTS] == 0:
            st[4][a, A_IDLE] = t
        if not off_if_leaving(st, a):
            pull(st, a, t)
        return
    if ch == OUTBOUND:
        c = slot_i[slot, S_CARRIER]
        if c >= 0:
            c_i[c, C_BUSY] -= 1
        finish(st, slot, t, slot_i[slot, S_OUTCOME])
        wrap(st, a, t, wrap_s)
        return
    slot_f[slot, S_SERVED] = slot_f[slot, SF + F_HANDLE]
    kind = slot_i[slot, SI + I_XFER]
    if kind == NO_XFER:
        finish(st, slot, t, ANSWERED)
        wrap(st, a, t, wrap_s)
        return
    slot_i[slot, S_XDONE] = kind
    if kind == BLIND:
        wrap(st, a, t, wrap_s)
        legs(st, slot, 1)
    else:
        legs(st, slot, 2)  # the first agent holds the caller
    enqueue_transfer(st, slot, t)


def _free_agent(st: tuple, a: int, t: float) -> None:
    """End of an agent's wrap-up."""
    ag_i, ag_f, t_f = st[3], st[4], st[7]
    ten = ag_i[a, A_TENANT]
    t_f[ten, T_BUSY_SEC] += t - ag_f[a, A_START]
    ag_i[a, A_SLOT] = -1
    ag_f[a, A_IDLE] = t
    if not off_if_leaving(st, a):
        pull(st, a, t)


def _staffing(st: tuple, staff: np.ndarray, t: float) -> None:
    """Agents go on and off shift: agent of rank r in group g is on while r < staff[g]."""
    ag_i, ag_f, t_i = st[3], st[4], st[6]
    for a in range(ag_i.shape[0]):
        on = ag_i[a, A_RANK] < staff[ag_i[a, A_GROUP]]
        ten = ag_i[a, A_TENANT]
        if on:
            if ag_i[a, A_ON] == 0:
                ag_i[a, A_ON] = 1
                ag_i[a, A_LEAVING] = 0
                t_i[ten, T_STAFFED] += 1
                ag_f[a, A_IDLE] = t
                ag_f[a, A_TEXT_T] = t
            elif ag_i[a, A_LEAVING] != 0:
                ag_i[a, A_LEAVING] = 0
                t_i[ten, T_STAFFED] += 1
        elif ag_i[a, A_ON] != 0 and ag_i[a, A_LEAVING] == 0:
            t_i[ten, T_STAFFED] -= 1
            ag_i[a, A_LEAVING] = 1
            off_if_leaving(st, a)
    for a in range(ag_i.shape[0]):
        if ag_i[a, A_ON] != 0:
            pull(st, a, t)


def _advance(
    t0: float, t1: float, staff: np.ndarray, new_f: np.ndarray, new_i: np.ndarray, st: tuple
) -> int:
    """Run the platform from ``t0`` to ``t1``.

    Parameters
    ----------
    t0, t1 : float
        The step (s).
    staff : numpy.ndarray of int64
        Agents on shift per group from ``t0``.
    new_f, new_i : numpy.ndarray
        The sessions arriving in the step, sorted by arrival (float and int input rows).
    st : tuple
        The state (see :class:`models.platform.engine.Engine`): the caller makes room for
        the step's slots, events and rows beforehand.
    """
    st = unowned(st)
    slot_f, slot_i, free, ag_i, t_i, t_f, g_i = st[0], st[1], st[2], st[3], st[6], st[7], st[8]
    ht = st[14]
    staffing(st, staff, t0)
    n_in_f = new_f.shape[1]
    n_in_i = new_i.shape[1]
    i = 0
    n_new = new_f.shape[0]
    while True:
        t_arr = new_f[i, F_T] if i < n_new else np.inf
        t_ev = ht[0] if g_i[G_HEAP_N] > 0 else np.inf
        if t_arr >= t1 and t_ev >= t1:
            break
        if t_arr <= t_ev:
            g_i[G_FREE_N] -= 1
            slot = free[g_i[G_FREE_N]]
            g_i[G_ACTIVE] += 1
            for c in range(n_in_f):
                slot_f[slot, SF + c] = new_f[i, c]
            for c in range(n_in_i):
                slot_i[slot, SI + c] = new_i[i, c]
            slot_i[slot, S_ATTEMPT] = 0
            arrive(st, slot, t_arr)
            i += 1
            continue
        t, kind, ident, ep = heap_pop(st)
        if kind == E_WRAP:
            free_agent(st, ident, t)
            continue
        slot = ident
        if slot_i[slot, S_EPOCH] != ep:
            continue
        state = slot_i[slot, S_STATE]
        if kind == E_ABANDON:
            if state == WAITING:
                q_remove(st, slot)
                ch = slot_i[slot, SI + I_CHANNEL]
                if ch == VOICE:
                    t_i[slot_i[slot, SI + I_TENANT], T_WAITING] -= 1
                fail(st, slot, t, EXPIRED if ch == OUTBOUND else ABANDONED)
        elif kind == E_RETRY:
            if state == RETRY:
                slot_i[slot, S_ATTEMPT] += 1
                arrive(st, slot, t)
        elif kind == E_ENQUEUE:
            if state == IVR:
                enqueue(st, slot, t)
        elif kind == E_END1:
            end_first(st, slot, t)
        elif kind == E_CONSULT_END:
            wrap(st, slot_i[slot, S_AGENT], t, slot_f[slot, SF + F_WRAP])
            ports(st, slot, slot_i[slot, SI + I_TENANT], t, -st[8][G_CONSULT_PORTS])
            slot_i[slot, S_STATE] = TALK2
            legs(st, slot, 2)
            heap_push(st, t + slot_f[slot, SF + F_HANDLE2], E_END2, slot, ep)
        elif kind == E_END2:
            slot_f[slot, S_SERVED2] = slot_f[slot, SF + F_HANDLE2]
            b = slot_i[slot, S_AGENT2]
            wrap_s = slot_f[slot, SF + F_WRAP]
            finish(st, slot, t, ANSWERED)
            wrap(st, b, t, wrap_s)
    settle(st, t1)
    for ten in range(t_i.shape[0]):
        t_f[ten, T_TRUNK_SEC] += t_i[ten, T_TRUNKS] * (t1 - t_f[ten, T_TRUNK_T])
        t_f[ten, T_TRUNK_T] = t1
    for a in range(ag_i.shape[0]):
        if ag_i[a, A_TEXTS] > 0:
            text_count(st, a, t1, 0)
    return i


pull = njit(cache=True, nogil=True, inline="always")(_pull)
enqueue = njit(cache=True, nogil=True, inline="always")(_enqueue)
enqueue_transfer = njit(cache=True, nogil=True)(_enqueue_transfer)
arrive = njit(cache=True, nogil=True, inline="always")(_arrive)
end_first = njit(cache=True, nogil=True, inline="always")(_end_first)
free_agent = njit(cache=True, nogil=True, inline="always")(_free_agent)
staffing = njit(cache=True, nogil=True)(_staffing)
advance = njit(cache=True, nogil=True)(_advance)
