"""The DNI platform's association store as an array hash map, for compiled kernels.

The store maps (caller, number) to the impression a call on that pair is credited to, with
the time the pair was last used.  It is an open-addressing hash table (linear probing,
deletion by backward shift, so no tombstones) over *entries* kept in flat arrays; the
entries are also chained in a doubly linked list from least to most recently used, so
eviction by size pops the head.  Eviction by age is lazy, as the platform does it: a pair
found older than the limit on look-up is deleted then (so ``count`` includes stale pairs
not looked up since).

State (:class:`Store`): ``slots`` (power-of-two table of entry indices, -1 empty),
``e_key``, ``e_imp``, ``e_t``, ``e_prev``, ``e_next`` (per entry) and ``meta`` = [count,
LRU head, LRU tail, free-list head, entries ever used].  The kernels never grow the arrays:
:meth:`Store.reserve` makes room before a kernel call.  ``remember`` and ``lookup`` behave
as an ``OrderedDict`` with ``move_to_end`` on every use (the reference twin in
``tests/dni_reference.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "EVICT_NEVER",
    "EVICT_AGE",
    "EVICT_SIZE",
    "Store",
    "pair_key",
    "store_find",
    "store_remember",
    "store_lookup",
    "store_rehash",
]

EVICT_NEVER, EVICT_AGE, EVICT_SIZE = 0, 1, 2
"""Eviction modes (``dni.store_eviction``: never, age, size)."""
_LOW = 2**31 - 1


def _pair_key(consumer, number):
    return consumer * (_LOW + 1) + number


def _slot(key, mask):
    c = key >> 31
    h = c * 2654435761 + (key & _LOW) * 40503 + 1
    return (h ^ (h >> 21) ^ (h >> 37)) & mask


def _find(key, slots, e_key):
    mask = slots.shape[0] - 1
    s = _slot(key, mask)
    while True:
        e = slots[s]
        if e < 0 or e_key[e] == key:
            return s
        s = (s + 1) & mask


def _unlink(e, e_prev, e_next, meta):
    p, q = e_prev[e], e_next[e]
    if p >= 0:
        e_next[p] = q
    else:
        meta[1] = q
    if q >= 0:
        e_prev[q] = p
    else:
        meta[2] = p


def _append(e, e_prev, e_next, meta):
    e_prev[e] = meta[2]
    e_next[e] = -1
    if meta[2] >= 0:
        e_next[meta[2]] = e
    else:
        meta[1] = e
    meta[2] = e


def _delete(s, slots, e_key, e_prev, e_next, meta):
    """Delete the entry in slot ``s`` (backward-shift deletion)."""
    e = slots[s]
    _unlink(e, e_prev, e_next, meta)
    e_next[e] = meta[3]  # onto the free list
    meta[3] = e
    meta[0] -= 1
    mask = slots.shape[0] - 1
    hole = s
    j = s
    while True:
        j = (j + 1) & mask
        f = slots[j]
        if f < 0:
            break
        home = _slot(e_key[f], mask)
        # f may move into the hole unless its home lies cyclically in (hole, j]
        if (j > hole and (home <= hole or home > j)) or (j < hole and home <= hole and home > j):
            slots[hole] = f
            hole = j
    slots[hole] = -1


def _remember(key, imp, t, mode, max_entries, slots, e_key, e_imp, e_t, e_prev, e_next, meta):
    s = _find(key, slots, e_key)
    e = slots[s]
    if e >= 0:
        _unlink(e, e_prev, e_next, meta)
    else:
        if meta[3] >= 0:
            e = meta[3]
            meta[3] = e_next[e]
        else:
            e = meta[4]
            meta[4] += 1
        e_key[e] = key
        slots[s] = e
        meta[0] += 1
    e_imp[e] = imp
    e_t[e] = t
    _append(e, e_prev, e_next, meta)
    if mode == 2:
        while meta[0] > max_entries:
            head = meta[1]
            _delete(_find(e_key[head], slots, e_key), slots, e_key, e_prev, e_next, meta)


def _lookup(key, t, mode, max_age, slots, e_key, e_imp, e_t, e_prev, e_next, meta):
    s = _find(key, slots, e_key)
    e = slots[s]
    if e < 0:
        return -1
    if mode == 1 and t - e_t[e] > max_age:
        _delete(s, slots, e_key, e_prev, e_next, meta)
        return -1
    _unlink(e, e_prev, e_next, meta)
    _append(e, e_prev, e_next, meta)
    e_t[e] = t
    return e_imp[e]


def _rehash(slots, e_key, e_next, head):
    """Put every live entry (the LRU chain from ``head``) into the empty table ``slots``."""
    e = head
    while e >= 0:
        slots[_find(e_key[e], slots, e_key)] = e
        e = e_next[e]


pair_key = njit(cache=True, nogil=True)(_pair_key)
_slot = njit(cache=True, nogil=True)(_slot)
store_find = njit(cache=True, nogil=True)(_find)
_find = store_find
_unlink = njit(cache=True, nogil=True)(_unlink)
_append = njit(cache=True, nogil=True)(_append)
_delete = njit(cache=True, nogil=True)(_delete)
store_remember = njit(cache=True, nogil=True)(_remember)
store_lookup = njit(cache=True, nogil=True)(_lookup)
store_rehash = njit(cache=True, nogil=True)(_rehash)


class Store:
    """The association store's arrays (see the module's docstring).

    Parameters
    ----------
    mode : int
        :data:`EVICT_NEVER`, :data:`EVICT_AGE` or :data:`EVICT_SIZE`.
    max_age : float
        Seconds unused after which a pair is evicted on look-up (``EVICT_AGE``).
    max_entries : int
        Most pairs kept (``EVICT_SIZE``).
    capacity : int
        Entries to allocate at first.
    """

    def __init__(self, mode: int, max_age: float, max_entries: int, capacity: int = 1024):
        self.mode, self.max_age, self.max_entries = int(mode), float(max_age), int(max_entries)
        self.meta = np.array([0, -1, -1, -1, 0], dtype=np.int64)
        self._entries(capacity)

    def __len__(self) -> int:
        return int(self.meta[0])

    def _entries(self, cap: int) -> None:
        old = self.__dict__.get("e_key")
        new = {
            "e_key": np.zeros(cap, dtype=np.int64),
            "e_imp": np.zeros(cap, dtype=np.int64),
            "e_t": np.zeros(cap),
            "e_prev": np.full(cap, -1, dtype=np.int64),
            "e_next": np.full(cap, -1, dtype=np.int64),
        }
        if old is not None:
            used = int(self.meta[4])
            for name, arr in new.items():
                arr[:used] = getattr(self, name)[:used]
        self.__dict__.update(new)
        self.slots = np.full(1 << int(np.ceil(np.log2(2 * cap))), -1, dtype=np.int64)
        store_rehash(self.slots, self.e_key, self.e_next, self.meta[1])

    def reserve(self, k: int) -> None:
        """Make room for ``k`` more pairs (at most half the table is ever filled)."""
        need = int(self.meta[4]) + int(k)
        if need > len(self.e_key):
            self._entries(max(2 * len(self.e_key), need))

    def state(self) -> tuple:
        """The arrays a kernel takes, in order (``slots`` to ``meta``)."""
        return self.slots, self.e_key, self.e_imp, self.e_t, self.e_prev, self.e_next, self.meta

    def items(self) -> list[tuple[int, int, int, float]]:
        """(consumer, number, impression, last use), least recently used first."""
        out, e = [], int(self.meta[1])
        while e >= 0:
            key = int(self.e_key[e])
            out.append((key >> 31, key & _LOW, int(self.e_imp[e]), float(self.e_t[e])))
            e = int(self.e_next[e])
        return out
