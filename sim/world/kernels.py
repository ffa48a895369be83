"""The world's fused per-slice kernels.

:func:`source_calls` makes every call of a set of Poisson sources in one pass over them:
it advances each source's clock (the time-change construction of :mod:`sim.world.clock`),
and for each event picks the callee among the caller's contacts, resolves it to an inventory
id, redirects a call to a stale contact, draws whether the callee would answer and how long
they would talk, and writes the call once into preallocated buffers.  :func:`line_calls`
does the same for calls whose time and line are already known (notification bursts), and
:func:`draw_outcomes` draws answer and talk time for calls made elsewhere (spam, residual
traffic).  :func:`route_tally` routes a slice's calls, terminates them and adds them to the
day's tallies in one pass.

Randomness comes from counter-based streams (:mod:`sim.core.fastrng`): ``rc`` for the
calls (gaps between events, the contact picked) and ``ra`` for answer and talk time, drawn
in emission order, so a call's values never depend on what a policy did to another call.

Each kernel is plain Python compiled with ``njit(cache=True)``; ``kernel.py_func`` is the
twin that ``tests/test_world_kernels.py`` compares it with.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from models.jit import PREFETCH_AHEAD, prefetch, unowned

from ..core.fastrng import exponential, sample, uniform
from ..core.numbering import BLOCK
from .schemas import (
    ASSIGNED,
    BLOCKED,
    CALL_KINDS,
    DELIVERED,
    OFF_NET,
    PORTED_OUT,
    RESIDUAL,
    VACANT,
)

__all__ = [
    "N_KINDS",
    "TALLY",
    "complete_calls",
    "count_inbound",
    "draw_outcomes",
    "line_calls",
    "route_tally",
    "source_calls",
]

TALLY = ("attempts", "blocked", "vacant", "off_net", "answered", "minutes")
"""Columns of the per-kind tally that :func:`route_tally` adds to."""

N_KINDS = len(CALL_KINDS)
"""Profiles ``0..N_KINDS-1`` are caller kinds; ``N_KINDS + c`` is robocall campaign ``c``."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@njit(cache=True, nogil=True, inline="always")
def _mix(x):
    """SplitMix64 finaliser of one uint64 (:func:`sim.core.hashing.mix64`)."""
    x = x + _GOLDEN
    x = (x ^ (x >> _S30)) * _MIX1
    x = (x ^ (x >> _S27)) * _MIX2
    return x ^ (x >> _S31)


@njit(cache=True, nogil=True, inline="always")
def _lookup(number, npa_slot, block_of):
    """Inventory id of one number, -1 outside (:func:`sim.world.inventory.lookup_ids`)."""
    npa = number // 10_000_000
    if 0 <= npa < 1000 and npa_slot[npa] >= 0:
        block = block_of[npa_slot[npa] * 10_000 + (number // BLOCK) % 10_000]
        if block >= 0:
            return block * BLOCK + number % BLOCK
    return -1


def _complete_calls(n0, n1, subs, inv, prof, ra, keys, out):
    """Complete calls ``n0..n1-1`` written by :func:`source_calls` or :func:`line_calls`
    (their ``caller_id`` holds the calling line, their ``callee`` the picked contact's
    index): the callee's number and inventory id, stale contacts redirected, the caller's
    number, kind and campaign, whether the callee would answer and the talk time (from
    ``ra``, in row order).

    ``subs`` = (number_id, type, campaign, start, contact_off, contact_deg, contacts),
    ``inv`` = (numbers, npa_slot, block_of, disconnected_at), ``prof`` = (answer_p, code,
    a, b) by profile (caller kind, or ``N_KINDS + campaign`` for a robocall), ``keys`` =
    (redirect_key, first_robot_kind), ``out`` = the nine columns of
    :class:`~sim.world.calls.Calls`.

    A subscriber (kind below ``first_robot_kind``) whose picked contact's number was
    disconnected after the subscriber joined walks its list from a point given by a hash of
    the contact's index to the next contact that is not stale (the last one tried if all
    are).  The memory of the calls ahead is prefetched (their contact and their caller's
    number ``2 * PREFETCH_AHEAD`` rows ahead, then their callee's line): the contact lists
    and the inventory are far larger than the cache and read at random.
    """
    subs, inv, prof, ra, out = unowned((subs, inv, prof, ra, out))
    number_id, sub_type, sub_campaign, sub_start, contact_off, contact_deg, contacts = subs
    numbers, npa_slot, block_of, disconnected_at = inv
    answer_p, code, pa, pb = prof
    redirect_key, first_robot_kind = keys
    o_t, o_caller, o_callee, o_caller_id, o_callee_id, o_kind, o_campaign, o_answer, o_talk = out
    for j in range(n0, n1):
        ahead = j + 2 * PREFETCH_AHEAD
        if ahead < n1:
            prefetch(contacts, o_callee[ahead])
            prefetch(numbers, number_id[o_caller_id[ahead]])
        ahead = j + PREFETCH_AHEAD
        if ahead < n1:
            near = _lookup(contacts[o_callee[ahead]], npa_slot, block_of)
            if near >= 0:
                prefetch(disconnected_at, near)
        line = o_caller_id[j]
        edge = o_callee[j]
        own = number_id[line]
        kind = sub_type[line]
        campaign = sub_campaign[line]
        callee = contacts[edge]
        cid = _lookup(callee, npa_slot, block_of)
        if cid >= 0 and kind < first_robot_kind and disconnected_at[cid] > sub_start[line]:
            off = contact_off[line]
            deg = np.int64(contact_deg[line])
            pick = edge - off
            others = max(deg - 1, 1)
            h = np.int64(_mix(np.uint64(edge) ^ redirect_key) % np.uint64(others))
            for tried in range(deg - 1):
                step = 1 + (h + tried) % others
                callee = contacts[off + (pick + step) % deg]
                cid = _lookup(callee, npa_slot, block_of)
                if not (cid >= 0 and disconnected_at[cid] > sub_start[line]):
                    break
        p = np.int64(kind) if campaign < 0 else N_KINDS + np.int64(campaign)
        o_caller[j] = numbers[own]
        o_callee[j] = callee
        o_caller_id[j] = own
        o_callee_id[j] = cid
        o_kind[j] = kind
        o_campaign[j] = campaign
        o_answer[j] = uniform(ra) < answer_p[p]
        o_talk[j] = sample(ra, code[p], pa[p], pb[p])


complete_calls = njit(cache=True, nogil=True)(_complete_calls)


def _source_calls(src, clock, clock_end, rate, t0, start, line_of, subs, rc, out, n0):
    """The calls of sources ``start..`` in the current slice, written from row ``n0``:
    their time, the calling line (in ``caller_id``) and the index of the contact they dial
    (in ``callee``), to be completed by :func:`complete_calls`.

    Parameters
    ----------
    src : tuple
        ``(next_c, inv_mult, end_t, group)`` of the sources (``next_c`` updated in place;
        see :func:`sim.world.clock.advance`).
    clock, clock_end, rate : float64[G]
        Each group's integrated intensity at the slice's start and end, and its rate.
    t0 : float
        Slice start (s).
    start : int
        First source to process (to resume after the output filled up).
    line_of : int64[n] or int64[0]
        Line of each source (empty: source ``i`` is line ``i``).
    subs : tuple
        The lines (see :func:`complete_calls`; only the contact lists are read here).
    rc : uint64[2]
        Counter-based stream of the calls: per event the contact picked, then the gap to
        the source's next event.
    out : tuple
        The nine output columns.
    n0 : int
        First output row.

    Returns
    -------
    (int, int)
        Rows used (``n0`` plus those written), and the source to resume from (the number
        of sources when the slice is done).
    """
    src, clock, clock_end, rate, line_of, subs, rc, out = unowned(
        (src, clock, clock_end, rate, line_of, subs, rc, out)
    )
    next_c, inv_mult, end_t, group = src
    contact_off, contact_deg = subs[4], subs[5]
    o_t, o_callee, o_line = out[0], out[2], out[3]
    cap = o_t.shape[0]
    n = next_c.shape[0]
    ident = line_of.shape[0] == 0
    j = n0
    for i in range(start, n):
        g = group[i]
        c = next_c[i]
        if c >= clock_end[g]:
            continue
        line = i if ident else line_of[i]
        while c < clock_end[g]:
            t = t0 + (c - clock[g]) / rate[g]
            if t >= end_t[i]:
                c = np.inf
                break
            if j == cap:
                next_c[i] = c
                return j, i
            o_t[j] = t
            o_line[j] = line
            o_callee[j] = contact_off[line] + np.int64(uniform(rc) * contact_deg[line])
            j += 1
            c += exponential(rc) * inv_mult[i]
        next_c[i] = c
    return j, n


source_calls = njit(cache=True, nogil=True)(_source_calls)


def _line_calls(times, lines, subs, rc, out, n0):
    """Calls at known ``times`` from known ``lines`` (bursts), written from row ``n0`` like
    :func:`source_calls` (the output must have room for them).  Returns the rows used."""
    times, lines, subs, rc, out = unowned((times, lines, subs, rc, out))
    contact_off, contact_deg = subs[4], subs[5]
    o_t, o_callee, o_line = out[0], out[2], out[3]
    for k in range(times.shape[0]):
        line = lines[k]
        o_t[n0 + k] = times[k]
        o_line[n0 + k] = line
        o_callee[n0 + k] = contact_off[line] + np.int64(uniform(rc) * contact_deg[line])
    return n0 + times.shape[0]


line_calls = njit(cache=True, nogil=True)(_line_calls)


def _draw_outcomes(kind, prof, ra, answer, talk):
    """Whether each call would be answered and its talk time, by the caller's ``kind``
    (calls from outside: no campaign), in order, from stream ``ra`` (in place)."""
    kind, prof, ra, answer, talk = unowned((kind, prof, ra, answer, talk))
    answer_p, code, pa, pb = prof
    for j in range(kind.shape[0]):
        p = kind[j]
        answer[j] = uniform(ra) < answer_p[p]
        talk[j] = sample(ra, code[p], pa[p], pb[p])


draw_outcomes = njit(cache=True, nogil=True)(_draw_outcomes)


def _route_tally(batch, truth, line_state, outcome, answered, duration, tally):
    """Route, terminate and tally a slice's calls in one pass (in place).

    ``batch`` = (callee_id, t, blocked), ``truth`` = (kind, would_answer, talk_time),
    ``line_state`` = (state, prev_state, changed_at) of the inventory.  The outcome is
    blocked (by a policy), off the network (not ours, or ported out), delivered (assigned)
    or vacant (available or aging), judged by the line's state at the call's time (the
    previous state if it changed later).  A call reaching a person (delivered or off-net)
    is answered if its callee would answer, and lasts its talk time.  ``tally[kind]`` adds
    the columns of :data:`TALLY` (minutes in minutes).
    """
    batch, truth, line_state, outcome, answered, duration, tally = unowned(
        (batch, truth, line_state, outcome, answered, duration, tally)
    )
    callee_id, t, blocked = batch
    kind, would_answer, talk_time = truth
    state, prev_state, changed_at = line_state
    n = callee_id.shape[0]
    for j in range(n):
        if j + PREFETCH_AHEAD < n:
            ahead = callee_id[j + PREFETCH_AHEAD]
            if ahead >= 0:
                prefetch(changed_at, ahead)
                prefetch(state, ahead)
        i = callee_id[j]
        if blocked[j]:
            o = BLOCKED
        elif i < 0:
            o = OFF_NET
        else:
            s = prev_state[i] if changed_at[i] > t[j] else state[i]
            if s == PORTED_OUT:
                o = OFF_NET
            elif s == ASSIGNED:
                o = DELIVERED
            else:
                o = VACANT
        outcome[j] = o
        a = (o == DELIVERED or o == OFF_NET) and would_answer[j]
        answered[j] = a
        d = talk_time[j] if a else np.float32(0.0)
        duration[j] = d
        k = kind[j]
        tally[k, 0] += 1.0
        if o == BLOCKED:
            tally[k, 1] += 1.0
        elif o == VACANT:
            tally[k, 2] += 1.0
        elif o == OFF_NET:
            tally[k, 3] += 1.0
        if a:
            tally[k, 4] += 1.0
            tally[k, 5] += d / 60.0


route_tally = njit(cache=True, nogil=True)(_route_tally)


def _count_inbound(callee_id, kind, episode_of, seen, residual):
    """Add a slice's calls to per-number counts (in place): every call to a number of
    ours with an aging episode (``episode_of >= 0``) to ``seen`` -- what the carrier
    observes -- and every residual call to ``residual`` (ground truth)."""
    for j in range(callee_id.shape[0]):
        i = callee_id[j]
        if i < 0:
            continue
        if episode_of[i] >= 0:
            seen[i] += 1
        if kind[j] == RESIDUAL:
            residual[i] += 1


count_inbound = njit(cache=True, nogil=True)(_count_inbound)
