"""The restart storm as one Numba kernel: phones with RFC 3261 non-INVITE client timers and
one provisioning server, a first-in first-out queue with a deterministic service time.

Events sit in a binary heap ordered by time, then by the order they were scheduled (the
order SimPy keeps for events at one instant).  Each phone has one pending timer at a time
-- its next start, its next retransmission (Timer E) or its Timer F -- tagged with a
version number; an answer from the server bumps the version, so the pending timer is
skipped when it comes up (lazy deletion).

What one message costs the server, decided when it reaches the head of the queue:

* a request of a transaction the server has not answered: a negotiation, ``1 / C``
  seconds -- or, if the server backs off and finds more than the threshold of work queued
  behind it, a ``503`` with ``Retry-After``, ``overhead / C``;
* a request of a transaction already answered (a retransmission that waited in the queue
  while the first copy was served, or that came after the answer): ``overhead / C``, and
  the answer is sent again.

A negotiation whose phone has given up (Timer F fired while the request waited) is done
all the same: the server cannot know; it is counted as stale.  A message that finds the
queue full (``queue_limit`` messages) is dropped on arrival, at no cost; so is one the rate
limiter refuses.

Randomness that policies could otherwise shift -- a phone's jitter before its ``j``-th
negotiation, the ``Retry-After`` its ``j``-th refusal gets -- is a counter-based hash of
(key, phone, ``j``, purpose): the same phone draws the same values under every policy
(common random numbers), however many draws other phones made.

``storm_kernel.py_func`` is the plain-Python twin (``tests/test_storm_kernel.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "BIN_COLUMNS",
    "TOTAL_NAMES",
    "hash_uniform",
    "storm_kernel",
]

START, SEND, TIMER_F, SERVICE_END = 0, 1, 2, 3
NEGOTIATE, DUPLICATE, REJECT = 0, 1, 2
JITTER, RETRY_AFTER = 0, 1

BIN_COLUMNS = (
    "sent",
    "dropped_limit",
    "dropped_full",
    "negotiated",
    "stale",
    "duplicates",
    "rejected",
    "queue_max",
)
"""Per-second counts the kernel keeps (columns of ``bins``)."""
TOTAL_NAMES = (
    "work_useful",
    "work_stale",
    "work_duplicate",
    "work_reject",
    "end",
    "events",
)
"""What ``totals`` holds: server seconds per kind of work, the time the kernel stopped,
events processed."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x):
    """SplitMix64 finaliser of one uint64 (wraps modulo 2**64)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


_mix_jit = njit(cache=True)(_mix)


def _hash_uniform(key, phone, draw, purpose):
    """A uniform in [0, 1) from (key, phone, draw, purpose), with no stream used."""
    x = (np.uint64(phone) << np.uint64(32)) | (np.uint64(draw) << np.uint64(2))
    x = _mix_jit(key ^ _mix_jit(x | np.uint64(purpose)))
    return float(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


hash_uniform = njit(cache=True)(_hash_uniform)


def _push(ht, hs, hk, hp, hv, n, t, seq, kind, phone, ver):
    if n == ht.shape[0]:
        raise RuntimeError("storm: event heap overflow")
    j = n
    ht[j], hs[j], hk[j], hp[j], hv[j] = t, seq, kind, phone, ver
    while j > 0:
        up = (j - 1) // 2
        if ht[up] < ht[j] or (ht[up] == ht[j] and hs[up] < hs[j]):
            break
        ht[up], ht[j] = ht[j], ht[up]
        hs[up], hs[j] = hs[j], hs[up]
        hk[up], hk[j] = hk[j], hk[up]
        hp[up], hp[j] = hp[j], hp[up]
        hv[up], hv[j] = hv[j], hv[up]
        j = up
    return n + 1


def _pop(ht, hs, hk, hp, hv, n):
    """Remove the root (the caller has read it); return the new size."""
    n -= 1
    ht[0], hs[0], hk[0], hp[0], hv[0] = ht[n], hs[n], hk[n], hp[n], hv[n]
    j = 0
    while True:
        a = 2 * j + 1
        if a >= n:
            break
        b = a + 1
        c = a
        if b < n and (ht[b] < ht[a] or (ht[b] == ht[a] and hs[b] < hs[a])):
            c = b
        if ht[j] < ht[c] or (ht[j] == ht[c] and hs[j] < hs[c]):
            break
        ht[c], ht[j] = ht[j], ht[c]
        hs[c], hs[j] = hs[j], hs[c]
        hk[c], hk[j] = hk[j], hk[c]
        hp[c], hp[j] = hp[j], hp[c]
        hv[c], hv[j] = hv[j], hv[c]
        j = c
    return n


push = njit(cache=True)(_push)
pop = njit(cache=True)(_pop)


def _storm_kernel(
    boot,
    capacity,
    overhead,
    t1,
    t2,
    timer_f,
    queue_limit,
    retry_seconds,
    jitter,
    ra_low,
    ra_high,
    threshold,
    rate,
    burst,
    persistent,
    horizon,
    key,
):
    """Run one storm.

    Parameters
    ----------
    boot : float64 array
        When each phone could first negotiate (s after power returned).
    capacity : float
        Negotiations per second (a negotiation costs ``1 / capacity``).
    overhead : float
        Cost of an answered retransmission or a 503, as a share of a negotiation's.
    t1, t2, timer_f : float
        RFC 3261 timers (s).
    queue_limit : int
        Messages the server's queue holds; more are dropped on arrival.
    retry_seconds : float
        How long a phone waits after Timer F before negotiating again (its firmware).
    jitter : float
        Client jitter window (s): ``U(0, jitter)`` more before every negotiation.
    ra_low, ra_high : int
        Whole seconds of a 503's Retry-After (0, 0: the server never sends one).
    threshold : float
        Work queued (s at ``1 / capacity`` a message) above which new requests get 503.
    rate, burst : float
        Token bucket in front of the server (``inf``: none).
    persistent : bool
        The server kept its phone -> number table through the outage.
    horizon : float
        Stop at this time (s) even if phones are still unregistered.
    key : uint64
        Key of the counter-based draws.

    Returns
    -------
    first, registered, wait : float64 arrays
        Per phone: first transmission, registration (NaN: not by the horizon), queueing
        delay of the request that registered it.
    counts : int32 array, shape (phones, 5)
        Per phone: transactions, messages sent, Timer F expiries, 503s received, the
        number the server gave (-1: none).
    bins : int64 array, shape (seconds, 8)
        Per second: :data:`BIN_COLUMNS`.
    totals : float64 array
        :data:`TOTAL_NAMES`.
    """
    n = boot.shape[0]
    n_bins = max(1, int(np.ceil(horizon)))
    first = np.full(n, np.nan)
    registered = np.full(n, np.nan)
    wait = np.full(n, np.nan)
    counts = np.zeros((n, 5), dtype=np.int32)
    counts[:, 4] = -1
    bins = np.zeros((n_bins, 8), dtype=np.int64)
    totals = np.zeros(6)
    # Timer E intervals after the k-th transmission (RFC 3261 17.1.2.2)
    ivl = np.empty(64)
    for k in range(64):
        ivl[k] = min(t1 * 2.0 ** min(k, 60), t2)
    cur = np.full(n, -1, dtype=np.int32)  # current transaction
    active = np.zeros(n, dtype=np.bool_)
    f_time = np.zeros(n)
    k_next = np.zeros(n, dtype=np.int32)
    ver = np.zeros(n, dtype=np.int32)
    answered = np.full(n, -1, dtype=np.int32)  # the server's last answered transaction
    cap = 8 * n + 16
    ht = np.empty(cap)
    hs = np.empty(cap, dtype=np.int64)
    hk = np.empty(cap, dtype=np.int8)
    hp = np.empty(cap, dtype=np.int32)
    hv = np.empty(cap, dtype=np.int32)
    hn = 0
    seq = 0
    for p in range(n):
        t0 = boot[p] + jitter * hash_uniform(key, p, 0, JITTER)
        hn = push(ht, hs, hk, hp, hv, hn, t0, seq, START, p, 0)
        seq += 1
    q_cap = max(16, min(queue_limit, 4 * n + 16))
    qp = np.empty(q_cap, dtype=np.int32)
    qx = np.empty(q_cap, dtype=np.int32)
    qa = np.empty(q_cap)
    q_head = 0
    q_len = 0
    busy = False
    s_phone = 0
    s_txn = 0
    s_kind = 0
    s_arrival = 0.0
    s_start = 0.0
    tokens = burst
    last_fill = 0.0
    limited = rate < np.inf
    backs_off = ra_high > 0
    next_number = 0
    done = 0
    events = 0
    t = 0.0
    while hn > 0 and done < n:
        t = ht[0]
        kind = hk[0]
        p = hp[0]
        v = hv[0]
        hn = pop(ht, hs, hk, hp, hv, hn)
        if t >= horizon:  # as SimPy's run(until=horizon): nothing at the horizon itself
            t = horizon
            break
        events += 1
        b = min(int(t), n_bins - 1)
        if kind == SERVICE_END:
            if s_kind == NEGOTIATE:
                if counts[s_phone, 4] < 0:
                    if persistent:
                        counts[s_phone, 4] = s_phone
                    else:
                        counts[s_phone, 4] = next_number
                        next_number += 1
                if active[s_phone] and cur[s_phone] == s_txn:
                    registered[s_phone] = t
                    wait[s_phone] = s_start - s_arrival
                    active[s_phone] = False
                    ver[s_phone] += 1
                    done += 1
                    bins[b, 3] += 1
                    totals[0] += 1.0 / capacity
                else:
                    bins[b, 4] += 1
                    totals[1] += 1.0 / capacity
            elif s_kind == REJECT:
                bins[b, 6] += 1
                totals[3] += overhead / capacity
                if active[s_phone] and cur[s_phone] == s_txn:
                    active[s_phone] = False
                    counts[s_phone, 3] += 1
                    ver[s_phone] += 1
                    u = hash_uniform(key, s_phone, s_txn, RETRY_AFTER)
                    ra = ra_low + int(u * (ra_high - ra_low + 1))
                    u = hash_uniform(key, s_phone, s_txn + 1, JITTER)
                    hn = push(
                        ht, hs, hk, hp, hv, hn, t + (ra + jitter * u), seq, START, s_phone,
                        ver[s_phone],
                    )  # fmt: skip
                    seq += 1
            else:
                bins[b, 5] += 1
                totals[2] += overhead / capacity
            busy = False
        else:
            if v != ver[p]:
                continue  # a timer an answer made void
            if kind == TIMER_F:
                active[p] = False
                counts[p, 2] += 1
                ver[p] += 1
                u = hash_uniform(key, p, cur[p] + 1, JITTER)
                hn = push(
                    ht, hs, hk, hp, hv, hn, t + (retry_seconds + jitter * u), seq, START, p,
                    ver[p],
                )  # fmt: skip
                seq += 1
                continue
            if kind == START:
                cur[p] += 1
                active[p] = True
                f_time[p] = t + timer_f
                k_next[p] = 0
                counts[p, 0] += 1
                if cur[p] == 0:
                    first[p] = t
            # transmit (the start's first copy, or a retransmission)
            k = k_next[p]
            counts[p, 1] += 1
            bins[b, 0] += 1
            admitted = True
            if limited:
                tokens = min(burst, tokens + (t - last_fill) * rate)
                last_fill = t
                if tokens >= 1.0:
                    tokens -= 1.0
                else:
                    admitted = False
                    bins[b, 1] += 1
            if admitted and q_len >= queue_limit:
                admitted = False
                bins[b, 2] += 1
            if admitted:
                if q_len == q_cap:  # grow the ring, oldest first
                    new_cap = min(2 * q_cap, max(queue_limit, q_cap + 1))
                    np_ = np.empty(new_cap, dtype=np.int32)
                    nx = np.empty(new_cap, dtype=np.int32)
                    na = np.empty(new_cap)
                    for i in range(q_len):
                        j = (q_head + i) % q_cap
                        np_[i], nx[i], na[i] = qp[j], qx[j], qa[j]
                    qp, qx, qa, q_cap, q_head = np_, nx, na, new_cap, 0
                j = (q_head + q_len) % q_cap
                qp[j], qx[j], qa[j] = p, cur[p], t
                q_len += 1
                if q_len > bins[b, 7]:
                    bins[b, 7] = q_len
            nxt = t + ivl[min(k, 63)]
            if nxt < f_time[p]:
                k_next[p] = k + 1
                hn = push(ht, hs, hk, hp, hv, hn, nxt, seq, SEND, p, ver[p])
            else:
                hn = push(ht, hs, hk, hp, hv, hn, f_time[p], seq, TIMER_F, p, ver[p])
            seq += 1
        if not busy and q_len > 0:  # the server takes the next message
            s_phone, s_txn, s_arrival = qp[q_head], qx[q_head], qa[q_head]
            q_head = (q_head + 1) % q_cap
            q_len -= 1
            s_start = t
            if answered[s_phone] >= s_txn:
                s_kind = DUPLICATE
                cost = overhead / capacity
            elif backs_off and q_len / capacity > threshold:
                s_kind = REJECT
                answered[s_phone] = s_txn
                cost = overhead / capacity
            else:
                s_kind = NEGOTIATE
                answered[s_phone] = s_txn
                cost = 1.0 / capacity
            busy = True
            hn = push(ht, hs, hk, hp, hv, hn, t + cost, seq, SERVICE_END, s_phone, 0)
            seq += 1
    totals[4] = t
    totals[5] = events
    return first, registered, wait, counts, bins, totals


storm_kernel = njit(cache=True)(_storm_kernel)
