"""The DNI pool: numbers leased to ad sessions, in a Numba kernel.

Numbers belong to *groups* (a kind of number, and for local numbers an area code).  Free
numbers of a group wait in a first-in first-out queue, so a session gets the number that has
been free the longest (least recently used).  Leased numbers sit in a heap by lease end; a
lease returns its number to the queue when it ends.  When a group has no free number the
session gets the overflow number (``-1``) or steals the group's oldest active lease.

All state lives in flat arrays (:class:`Pool`), so one kernel call allocates a whole step's
sessions in time order.  Leases are logged (number, start, end, impression); the ``recent``
ring keeps each number's last few leases, so a call can be matched to the lease that held
its number at the call's time.  When the log is full, :func:`compact` drops the leases
nothing refers to any more (neither a number, its recent ring, the heap nor a group's list
of active leases) and renumbers the rest, so the log stays the size of the pool's recent
past however long the run (not 56 bytes for every lease ever made).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["Pool", "allocate", "compact", "heap_push", "heap_pop", "RECENT"]

RECENT = 4
"""Leases remembered per number for matching calls (ample: a lease lasts at least the hold)."""


def _heap_push(ht, hl, size, t, lease):
    j = size
    ht[j] = t
    hl[j] = lease
    while j > 0:
        parent = (j - 1) // 2
        if ht[parent] <= ht[j]:
            break
        ht[parent], ht[j] = ht[j], ht[parent]
        hl[parent], hl[j] = hl[j], hl[parent]
        j = parent
    return size + 1


def _heap_pop(ht, hl, size):
    size -= 1
    ht[0] = ht[size]
    hl[0] = hl[size]
    j = 0
    while True:
        a = 2 * j + 1
        if a >= size:
            break
        b = a + 1
        c = b if b < size and ht[b] < ht[a] else a
        if ht[j] <= ht[c]:
            break
        ht[c], ht[j] = ht[j], ht[c]
        hl[c], hl[j] = hl[j], hl[c]
        j = c
    return size


def _allocate(
    start,
    length,
    group,
    impression,
    steal,
    until,
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
):
    """Allocate the sessions of one step, in time order; then free leases ending by ``until``.

    Parameters (all arrays are updated in place)
    ----------
    start, length : float64
        Session starts (ascending) and lease lengths (s).
    group : int64
        The group each session asks for.
    impression : int64
        Impression id of each session (logged with its lease).
    steal : bool
        On exhaustion steal the group's oldest active lease instead of the overflow number.
    until : float
        End of the step.
    num_* , free_*, act_*, ht, hl, lease_*, recent* :
        Pool state (see :class:`Pool`).  ``heap_size`` and ``n_leases`` are one-element
        arrays.

    Returns
    -------
    numpy.ndarray of int64
        The number given to each session, -1 for the overflow number.
    """
    out = np.empty(start.shape[0], dtype=np.int64)
    for j in range(start.shape[0] + 1):
        t = start[j] if j < start.shape[0] else until
        # leases ended by t give their numbers back (or retire them)
        while heap_size[0] > 0 and ht[0] <= t:
            lease = hl[0]
            heap_size[0] = heap_pop(ht, hl, heap_size[0])
            i = lease_number[lease]
            if num_lease[i] != lease:
                continue  # stolen: the number was leased again
            num_lease[i] = -1
            g = num_group[i]
            if retire_pending[g] > 0:
                retire_pending[g] -= 1
                in_pool[i] = False
                continue
            num_next[i] = -1
            if free_count[g] == 0:
                free_head[g] = i
            else:
                num_next[free_tail[g]] = i
            free_tail[g] = i
            free_count[g] += 1
        if j == start.shape[0]:
            break
        g = group[j]
        i = -1
        if free_count[g] > 0:
            i = free_head[g]
            free_head[g] = num_next[i]
            free_count[g] -= 1
        elif steal:
            while act_head[g] >= 0:  # oldest lease of the group still holding its number
                old = act_head[g]
                act_head[g] = lease_next[old]
                if lease_end[old] > t:
                    i = lease_number[old]
                    lease_end[old] = t
                    if retire_pending[g] > 0:  # its lease ended now: it leaves the pool
                        retire_pending[g] -= 1
                        in_pool[i] = False
                        num_lease[i] = -1
                        i = -1
                        continue
                    break
        if i < 0:
            out[j] = -1
            continue
        lease = n_leases[0]
        n_leases[0] += 1
        lease_number[lease] = i
        lease_start[lease] = t
        lease_end[lease] = t + length[j]
        lease_imp[lease] = impression[j]
        lease_next[lease] = -1
        if act_head[g] < 0:
            act_head[g] = lease
        else:
            lease_next[act_tail[g]] = lease
        act_tail[g] = lease
        num_lease[i] = lease
        recent[i, recent_pos[i]] = lease
        recent_pos[i] = (recent_pos[i] + 1) % recent.shape[1]
        heap_size[0] = heap_push(ht, hl, heap_size[0], t + length[j], lease)
        out[j] = i
    return out


def _compact(refs, log):
    """Keep only the leases still referred to, renumbered in their order; returns how many.

    Call between steps (every session after it starts no earlier than the last step's
    end).  A lease is kept if it holds its number, is in its number's ``recent`` ring or
    waits in the heap of lease ends.  A group's list of active leases keeps, in order, the
    leases that still hold their number: any other one has ended by the last step's end,
    which :func:`allocate` would skip when stealing.

    Parameters (updated in place)
    ----------
    refs : tuple
        What refers to leases: ``(num_lease, recent, act_head, act_tail, hl, heap_size)``.
    log : tuple
        The log: ``(lease_number, lease_start, lease_end, lease_imp, lease_next,
        n_leases)``.  All of :class:`Pool`'s state.

    Returns
    -------
    int
        The leases kept (``n_leases[0]`` after the call).
    """
    num_lease, recent, act_head, act_tail, hl, heap_size = refs
    lease_number, lease_start, lease_end, lease_imp, lease_next, n_leases = log
    k = n_leases[0]
    live = np.zeros(k, dtype=np.bool_)
    for i in range(num_lease.shape[0]):
        if num_lease[i] >= 0:
            live[num_lease[i]] = True
        for r in range(recent.shape[1]):
            if recent[i, r] >= 0:
                live[recent[i, r]] = True
    for h in range(heap_size[0]):
        live[hl[h]] = True
    for g in range(act_head.shape[0]):  # relink each list through the leases it keeps
        head, last, old = -1, -1, act_head[g]
        while old >= 0:
            nxt = lease_next[old]
            if num_lease[lease_number[old]] == old:
                if last < 0:
                    head = old
                else:
                    lease_next[last] = old
                last = old
            old = nxt
        if last >= 0:
            lease_next[last] = -1
        act_head[g], act_tail[g] = head, last
    new = np.full(k, -1, dtype=np.int64)
    m = 0
    for old in range(k):
        if live[old]:
            new[old] = m
            m += 1
    for old in range(k):  # new[old] <= old: moving in order overwrites only what was read
        j = new[old]
        if j >= 0:
            lease_number[j] = lease_number[old]
            lease_start[j] = lease_start[old]
            lease_end[j] = lease_end[old]
            lease_imp[j] = lease_imp[old]
            lease_next[j] = new[lease_next[old]] if lease_next[old] >= 0 else -1
    for i in range(num_lease.shape[0]):
        if num_lease[i] >= 0:
            num_lease[i] = new[num_lease[i]]
        for r in range(recent.shape[1]):
            if recent[i, r] >= 0:
                recent[i, r] = new[recent[i, r]]
    for h in range(heap_size[0]):
        hl[h] = new[hl[h]]
    for g in range(act_head.shape[0]):
        if act_head[g] >= 0:
            act_head[g], act_tail[g] = new[act_head[g]], new[act_tail[g]]
    n_leases[0] = m
    return m


heap_push = njit(cache=True, nogil=True)(_heap_push)
heap_pop = njit(cache=True, nogil=True)(_heap_pop)
allocate = njit(cache=True, nogil=True)(_allocate)
compact = njit(cache=True, nogil=True)(_compact)


class Pool:
    """State of the platform's pool of tracking numbers, grown as numbers are bought.

    Parameters
    ----------
    n_groups : int
        Number of groups (kinds of number, local ones per area code).
    steal : bool
        On exhaustion steal the oldest lease of the group (else: the overflow number).

    Attributes
    ----------
    num_group, in_pool, num_lease :
        Per number: its group, whether it is still in the pool, its current lease (-1).
    lease_number, lease_start, lease_end, lease_imp :
        The lease log (``lease_end`` cut short when a lease is stolen): the leases still
        referred to, renumbered when :meth:`compact` drops the others.
    """

    def __init__(self, n_groups: int, steal: bool, kernel=allocate):
        self.steal = steal
        self.kernel = kernel
        self.n_groups = n_groups
        self.n = 0
        self._num(64)
        self.free_head = np.full(n_groups, -1, dtype=np.int64)
        self.free_tail = np.full(n_groups, -1, dtype=np.int64)
        self.free_count = np.zeros(n_groups, dtype=np.int64)
        self.retire_pending = np.zeros(n_groups, dtype=np.int64)
        self.act_head = np.full(n_groups, -1, dtype=np.int64)
        self.act_tail = np.full(n_groups, -1, dtype=np.int64)
        self.heap_size = np.zeros(1, dtype=np.int64)
        self.n_leases = np.zeros(1, dtype=np.int64)
        self._leases(1024)

    def _num(self, cap: int) -> None:
        old = self.__dict__.get("num_group")
        new = {
            "num_group": np.zeros(cap, dtype=np.int64),
            "num_lease": np.full(cap, -1, dtype=np.int64),
            "num_next": np.full(cap, -1, dtype=np.int64),
            "in_pool": np.zeros(cap, dtype=bool),
            "recent": np.full((cap, RECENT), -1, dtype=np.int64),
            "recent_pos": np.zeros(cap, dtype=np.int64),
        }
        if old is not None:
            for name, arr in new.items():
                arr[: len(getattr(self, name))] = getattr(self, name)
        self.__dict__.update(new)

    def _leases(self, cap: int) -> None:
        old = self.__dict__.get("lease_number")
        new = {
            "lease_number": np.zeros(cap, dtype=np.int64),
            "lease_start": np.zeros(cap),
            "lease_end": np.zeros(cap),
            "lease_imp": np.zeros(cap, dtype=np.int64),
            "lease_next": np.full(cap, -1, dtype=np.int64),
            "ht": np.zeros(cap),
            "hl": np.zeros(cap, dtype=np.int64),
        }  # heap of lease ends
        if old is not None:
            k = int(self.n_leases[0])
            for name, arr in new.items():
                arr[:k] = getattr(self, name)[:k]
        self.__dict__.update(new)

    # -- buying and releasing ------------------------------------------------------------
    def buy(self, group: int, k: int) -> np.ndarray:
        """Add ``k`` free numbers to ``group``; returns their ids."""
        if self.n + k > len(self.num_group):
            self._num(max(2 * len(self.num_group), self.n + k))
        ids = np.arange(self.n, self.n + k)
        self.n += k
        self.num_group[ids] = group
        self.in_pool[ids] = True
        for i in ids.tolist():
            self.num_next[i] = -1
            if self.free_count[group] == 0:
                self.free_head[group] = i
            else:
                self.num_next[self.free_tail[group]] = i
            self.free_tail[group] = i
            self.free_count[group] += 1
        return ids

    def release(self, group: int, k: int) -> int:
        """Take ``k`` numbers of ``group`` out of the pool (at most all it has): free ones
        now (those free the longest first), leased ones when their lease ends.  Returns how
        many left now."""
        k = min(k, self.size(group))
        now = 0
        while now < k and self.free_count[group] > 0:
            i = self.free_head[group]
            self.free_head[group] = self.num_next[i]
            self.free_count[group] -= 1
            self.in_pool[i] = False
            now += 1
        self.retire_pending[group] += k - now
        return now

    def size(self, group: int | None = None) -> int:
        """Numbers in the pool (of one group), net of those waiting to be retired."""
        sel = self.in_pool[: self.n]
        if group is not None:
            sel = sel & (self.num_group[: self.n] == group)
            return int(sel.sum() - self.retire_pending[group])
        return int(sel.sum() - self.retire_pending.sum())

    def busy(self) -> int:
        """Numbers leased now."""
        return int((self.num_lease[: self.n] >= 0).sum())

    # -- a step ----------------------------------------------------------------------------
    def reserve(self, k: int) -> None:
        """Make room in the lease log for ``k`` more leases (between steps): compact it when
        it is full, and grow it if it would still be more than half full."""
        cap = len(self.lease_number)
        if int(self.n_leases[0]) + k <= cap:
            return
        need = self.compact() + int(k)
        if 2 * need > cap:
            self._leases(max(2 * cap, 2 * need))

    def compact(self, kernel=compact) -> int:
        """Drop the leases nothing refers to and renumber the rest (between steps; see
        :func:`compact`); returns how many are kept."""
        refs = ("num_lease", "recent", "act_head", "act_tail", "hl", "heap_size")
        log = ("lease_number", "lease_start", "lease_end", "lease_imp", "lease_next", "n_leases")
        return int(kernel(*(tuple(getattr(self, k) for k in names) for names in (refs, log))))

    def state(self) -> tuple:
        """The pool's arrays in :func:`allocate`'s order, then the count of numbers (what
        :func:`sim.world.dni_steps.market_steps` takes)."""
        return (*self._arrays(), self.n)

    def _arrays(self) -> tuple:
        return (
            self.num_group,
            self.num_lease,
            self.num_next,
            self.in_pool,
            self.free_head,
            self.free_tail,
            self.free_count,
            self.retire_pending,
            self.act_head,
            self.act_tail,
            self.ht,
            self.hl,
            self.heap_size,
            self.lease_number,
            self.lease_start,
            self.lease_end,
            self.lease_imp,
            self.lease_next,
            self.n_leases,
            self.recent,
            self.recent_pos,
        )

    def allocate(self, start, length, group, impression, until: float) -> np.ndarray:
        """Lease numbers to a step's sessions (sorted by start); see :func:`allocate`."""
        self.reserve(len(start))
        return self.kernel(
            np.asarray(start, dtype=np.float64),
            np.asarray(length, dtype=np.float64),
            np.asarray(group, dtype=np.int64),
            np.asarray(impression, dtype=np.int64),
            self.steal,
            float(until),
            *self._arrays(),
        )

    def lease_at(self, numbers: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The lease holding each number at each time (-1 if none among its recent ones)."""
        numbers = np.asarray(numbers, dtype=np.int64)
        out = np.full(len(numbers), -1, dtype=np.int64)
        ok = numbers >= 0
        cand = self.recent[numbers[ok]]  # (k, RECENT)
        safe = np.maximum(cand, 0)
        tt = np.asarray(t)[ok][:, None]
        hit = (cand >= 0) & (self.lease_start[safe] <= tt) & (tt < self.lease_end[safe])
        pick = np.where(hit.any(axis=1), cand[np.arange(len(cand)), hit.argmax(axis=1)], -1)
        out[ok] = pick
        return out
