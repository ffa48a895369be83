"""The DNI market's steps in one compiled kernel: leases, calls and their routing.

:func:`market_steps` runs a block of the market's steps whose sessions are drawn already
(:mod:`sim.world.dni_draws`).  Per step, as the market always did: lease numbers to the
step's sessions in time order (:func:`sim.world.leases.allocate`), remember the sessions
of known consumers in the association store, queue the calls of the step's sessions (a
heap by call time), then route the calls that fall in the step in time order -- the store
(:mod:`sim.world.dni_store`) first, then the number's lease at the call's time, else
nothing -- and count what the pool table records.  Everything stays in flat arrays, so a
block of a day costs one call from Python.

Pending calls (``pc_*``) are kept by index in arrays the market grows before each call; the
heap ``ch``/``ci`` orders them by time.  Routed calls are written to ``out_*`` in routing
order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from models.jit import unowned

from .dni_store import pair_key, store_lookup, store_remember
from .leases import RECENT, allocate, heap_pop, heap_push

__all__ = ["PendingCalls", "market_steps"]


def _market_steps(
    step_t1,
    step_first,
    start,
    length,
    group,
    imp,
    consumer,
    known,
    number,
    call_first,
    c_t,
    c_withheld,
    c_repeat,
    c_minutes,
    window_end,
    kind,
    sponsor,
    imps_called,
    steal,
    store_on,
    mode,
    max_age,
    max_entries,
    pool,
    store,
    pc_t,
    pc_imp,
    pc_consumer,
    pc_sponsor,
    pc_number,
    pc_kind,
    pc_window,
    pc_withheld,
    pc_repeat,
    pc_minutes,
    ch,
    ci,
    cmeta,
    out_call,
    out_attr,
    out_via,
    step_busy,
    step_blocked,
    step_store,
):
    """Run a block of the market's steps.

    Parameters (arrays other than the inputs are updated in place)
    ----------
    step_t1 : float64
        End of each step of the block.
    step_first : int64
        Sessions of step ``k`` are ``step_first[k]:step_first[k + 1]``.
    start, length, group, imp, consumer, known :
        Per session (sorted by start): start, lease length (s), the group it asks for, its
        impression id, its consumer, whether the platform knows the consumer.
    number : int64
        Out: the number each session got (-1: the overflow number).
    call_first, c_t, c_withheld, c_repeat, c_minutes :
        The calls the sessions will make (those of session ``j`` are
        ``call_first[j]:call_first[j + 1]``): time, caller ID withheld, repeat call, minutes.
    window_end, kind, sponsor :
        Per session: end of its lease, kind of number shown, sponsor.
    imps_called : bool
        Per impression id (the market's impressions so far): whether a call was attributed
        to it (set here).
    steal, store_on, mode, max_age, max_entries :
        ``exhausted == "steal_lru"``; the store's use and eviction.
    pool : tuple
        :class:`sim.world.leases.Pool` state in :func:`~sim.world.leases.allocate`'s order.
    store : tuple
        :meth:`sim.world.dni_store.Store.state`.
    pc_* , ch, ci, cmeta :
        Pending calls by index, their heap (time, index) and ``cmeta`` = [heap size,
        pending calls ever queued].
    out_call, out_attr, out_via :
        Out: routed calls in routing order (index into ``pc_*``), the impression each is
        credited to (-1) and how (0 store, 1 lease, 2 none); ``cmeta[2]`` counts them.
    step_busy, step_blocked, step_store :
        Out per step: numbers leased at its end, sessions given the overflow number, pairs
        in the store.
    """
    # borrowed views: the helpers called per session and per call (allocate, the store,
    # the call heap) take a dozen arrays each, and counting references to them cost a fifth
    # of the kernel (models.jit.unowned)
    pool, store = unowned((pool, store))
    start, length, group, imp, consumer, known, number, call_first = unowned(
        (start, length, group, imp, consumer, known, number, call_first)
    )
    c_t, c_withheld, c_repeat, c_minutes, window_end, kind, sponsor, imps_called = unowned(
        (c_t, c_withheld, c_repeat, c_minutes, window_end, kind, sponsor, imps_called)
    )
    pc_t, pc_imp, pc_consumer, pc_sponsor, pc_number, pc_kind, pc_window = unowned(
        (pc_t, pc_imp, pc_consumer, pc_sponsor, pc_number, pc_kind, pc_window)
    )
    pc_withheld, pc_repeat, pc_minutes, ch, ci, cmeta = unowned(
        (pc_withheld, pc_repeat, pc_minutes, ch, ci, cmeta)
    )
    out_call, out_attr, out_via, step_busy, step_blocked, step_store = unowned(
        (out_call, out_attr, out_via, step_busy, step_blocked, step_store)
    )
    (
        num_group,
        num_lease,
        num_next,
        in_pool,
        free_head,
        free_tail,
        free_count,
        retire_pending,
        act_head,
        act_tail,
        ht,
        hl,
        heap_size,
        lease_number,
        lease_start,
        lease_end,
        lease_imp,
        lease_next,
        n_leases,
        recent,
        recent_pos,
        n_numbers,
    ) = pool
    slots, e_key, e_imp, e_t, e_prev, e_next, smeta = store
    # numbers leased = numbers in the pool (a number leaves it when its lease ends, as
    # retire_pending falls) - free ones
    in_pool_start = 0
    for i in range(n_numbers):
        if in_pool[i]:
            in_pool_start += 1
    retiring_start = 0
    for g in range(retire_pending.shape[0]):
        retiring_start += retire_pending[g]
    for k in range(step_t1.shape[0]):
        t1 = step_t1[k]
        a, b = step_first[k], step_first[k + 1]
        got = allocate(
            start[a:b],
            length[a:b],
            group[a:b],
            imp[a:b],
            steal,
            t1,
            num_group,
            num_lease,
            num_next,
            in_pool,
            free_head,
            free_tail,
            free_count,
            retire_pending,
            act_head,
            act_tail,
            ht,
            hl,
            heap_size,
            lease_number,
            lease_start,
            lease_end,
            lease_imp,
            lease_next,
            n_leases,
            recent,
            recent_pos,
        )
        blocked = 0
        for j in range(a, b):
            number[j] = got[j - a]
            if got[j - a] < 0:
                blocked += 1
        step_blocked[k] = blocked
        busy = in_pool_start - retiring_start
        for g in range(retire_pending.shape[0]):
            busy += retire_pending[g] - free_count[g]
        step_busy[k] = busy
        if store_on:
            for j in range(a, b):
                if known[j] and number[j] >= 0:
                    store_remember(
                        pair_key(consumer[j], number[j]),
                        imp[j],
                        start[j],
                        mode,
                        max_entries,
                        slots,
                        e_key,
                        e_imp,
                        e_t,
                        e_prev,
                        e_next,
                        smeta,
                    )
        # queue the calls of the step's sessions
        for j in range(a, b):
            for c in range(call_first[j], call_first[j + 1]):
                q = cmeta[1]
                cmeta[1] += 1
                pc_t[q] = c_t[c]
                pc_imp[q] = imp[j]
                pc_consumer[q] = consumer[j]
                pc_sponsor[q] = sponsor[j]
                pc_number[q] = number[j]
                pc_kind[q] = kind[j]
                pc_window[q] = window_end[j]
                pc_withheld[q] = c_withheld[c]
                pc_repeat[q] = c_repeat[c]
                pc_minutes[q] = c_minutes[c]
                cmeta[0] = heap_push(ch, ci, cmeta[0], c_t[c], q)
        # route the calls falling in the step, in time order
        while cmeta[0] > 0 and ch[0] < t1:
            q = ci[0]
            cmeta[0] = heap_pop(ch, ci, cmeta[0])
            t = pc_t[q]
            num = pc_number[q]
            by_lease = -1
            if num >= 0:
                for r in range(RECENT):
                    cand = recent[num, r]
                    if cand >= 0 and lease_start[cand] <= t and t < lease_end[cand]:
                        by_lease = lease_imp[cand]
                        break
            found = -1
            use = store_on and not pc_withheld[q]
            if use and num >= 0:
                found = store_lookup(
                    pair_key(pc_consumer[q], num),
                    t,
                    mode,
                    max_age,
                    slots,
                    e_key,
                    e_imp,
                    e_t,
                    e_prev,
                    e_next,
                    smeta,
                )
            r = cmeta[2]
            cmeta[2] += 1
            out_call[r] = q
            if found >= 0:
                out_attr[r], out_via[r] = found, 0
            elif by_lease >= 0:
                out_attr[r], out_via[r] = by_lease, 1
                if use:
                    store_remember(
                        pair_key(pc_consumer[q], num),
                        by_lease,
                        t,
                        mode,
                        max_entries,
                        slots,
                        e_key,
                        e_imp,
                        e_t,
                        e_prev,
                        e_next,
                        smeta,
                    )
            else:
                out_attr[r], out_via[r] = -1, 2
            if out_attr[r] >= 0:
                imps_called[out_attr[r]] = True
        step_store[k] = smeta[0]


market_steps = njit(cache=True, nogil=True)(_market_steps)


class PendingCalls:
    """Calls waiting for their time (by index, append-only), their heap by time and the
    routing output of a kernel call (:func:`sim.world.dni_steps.market_steps`)."""

    FIELDS = {
        "t": np.float64,
        "imp": np.int64,
        "consumer": np.int64,
        "sponsor": np.int64,
        "number": np.int64,
        "kind": np.int8,
        "window": np.float64,
        "withheld": np.bool_,
        "repeat": np.bool_,
        "minutes": np.float64,
    }

    def __init__(self, capacity: int = 1024):
        self.meta = np.zeros(3, dtype=np.int64)  # heap size, calls queued, calls routed
        self.cap = 0
        self._grow(capacity)

    def _grow(self, cap: int) -> None:
        used = int(self.meta[1])
        for name, dtype in self.FIELDS.items():
            arr = np.zeros(cap, dtype=dtype)
            if self.cap:
                arr[:used] = getattr(self, name)[:used]
            setattr(self, name, arr)
        heap = int(self.meta[0])
        ch, ci = np.zeros(cap), np.zeros(cap, dtype=np.int64)
        if self.cap:
            ch[:heap], ci[:heap] = self.ch[:heap], self.ci[:heap]
        self.ch, self.ci = ch, ci
        self.out_call = np.zeros(cap, dtype=np.int64)
        self.out_attr = np.zeros(cap, dtype=np.int64)
        self.out_via = np.zeros(cap, dtype=np.int8)
        self.cap = cap

    def reserve(self, k: int) -> int:
        """Make room for ``k`` new calls; returns how many could be routed next (waiting
        ones plus the new)."""
        if int(self.meta[1]) + k > self.cap:
            self._grow(max(2 * self.cap, int(self.meta[1]) + k))
        return int(self.meta[0]) + k

    def state(self) -> tuple:
        """The arrays :func:`~sim.world.dni_steps.market_steps` takes, in order."""
        return (
            *(getattr(self, name) for name in self.FIELDS),
            self.ch,
            self.ci,
            self.meta,
            self.out_call,
            self.out_attr,
            self.out_via,
        )
