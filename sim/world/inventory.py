"""The carrier's telephone-number inventory.

Numbers are int64 NANP numbers held in ascending order, so a number's dense id is its
position.  The state of every number lives in flat arrays indexed by id; every transition
goes through :meth:`Inventory._move`, which checks the from-state and appends a ledger row.

State machine::

    available --assign--> assigned --disconnect--> aging --release--> available
        |                     \\--port_out--> ported_out (left the inventory)
        \\--warm_aging--> aging       (only when a run starts in steady state)

A number leaves aging only through :meth:`Inventory.release`, which refuses to release it
before the earliest release time fixed at disconnect: no number is reassigned before its
minimum aging.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..core.numbering import BLOCK, area_exchange_codes
from .recorder import Table
from .schemas import AGING, ASSIGNED, AVAILABLE, PORTED_OUT, REASONS, STATES

__all__ = ["Inventory", "InventoryError", "make_numbers", "lookup_ids"]

_REASON = {name: code for code, name in enumerate(REASONS)}


def _lookup_ids(numbers, npa_slot, block_of):
    """Dense ids of ``numbers`` (-1 outside the inventory) by two table look-ups.

    ``npa_slot[npa]`` numbers the inventory's area codes (-1 for others) and
    ``block_of[slot * 10000 + NXX-X]`` gives a thousands-block's index (-1 if not held).
    """
    out = np.empty(numbers.shape[0], dtype=np.int32)
    for j in range(numbers.shape[0]):
        number = numbers[j]
        npa = number // 10_000_000
        out[j] = -1
        if 0 <= npa < 1000 and npa_slot[npa] >= 0:
            block = block_of[npa_slot[npa] * 10_000 + (number // BLOCK) % 10_000]
            if block >= 0:
                out[j] = block * BLOCK + number % BLOCK
    return out


lookup_ids = njit(cache=True, nogil=True)(_lookup_ids)


class InventoryError(RuntimeError):
    """A transition that the state machine forbids."""


def make_numbers(area_codes, blocks_per_area_code: int, rng: np.random.Generator) -> np.ndarray:
    """Draw the inventory's thousands-blocks and return its numbers in ascending order.

    Parameters
    ----------
    area_codes : sequence of int
        Real area codes (NPA).
    blocks_per_area_code : int
        Thousands-blocks (NPA-NXX-X) per area code, drawn without replacement among the
        area code's valid exchange codes (:func:`area_exchange_codes`) and thousands digits.
    rng : numpy.random.Generator
        The ``inventory`` stream.

    Returns
    -------
    numpy.ndarray
        int64 numbers, ascending, ``len(area_codes) * blocks_per_area_code * 1000`` of them.
    """
    blocks = []
    for npa in area_codes:
        nxx = area_exchange_codes(npa)
        chosen = rng.choice(len(nxx) * 10, size=blocks_per_area_code, replace=False)
        blocks.append(npa * 10_000 + nxx[chosen // 10] * 10 + chosen % 10)
    prefixes = np.sort(np.concatenate(blocks).astype(np.int64))
    return (prefixes[:, None] * BLOCK + np.arange(BLOCK, dtype=np.int64)).ravel()


class _AvailablePool:
    """Ids of available numbers; O(1) random pick (swap-remove) or first-in first-out."""

    def __init__(self, n: int, fifo: bool):
        self.fifo = fifo
        self.ids = np.arange(n, dtype=np.int32)
        self.size = n
        self.head = 0  # fifo: ring buffer [head, head + size)
        self.pos = np.arange(n, dtype=np.int64)  # random: position of id in ids, -1 if absent

    def put(self, i: int) -> None:
        n = len(self.ids)
        if self.fifo:
            self.ids[(self.head + self.size) % n] = i
        else:
            self.ids[self.size] = i
            self.pos[i] = self.size
        self.size += 1

    def take(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """Remove and return up to ``k`` ids."""
        k = min(k, self.size)
        n = len(self.ids)
        if self.fifo:
            out = self.ids[(self.head + np.arange(k)) % n]
            self.head = (self.head + k) % n
        elif k == 1:
            j = int(rng.integers(self.size))
            out = self.ids[j : j + 1].copy()
            last = self.ids[self.size - 1]
            self.ids[j] = last
            self.pos[last] = j
            self.pos[out[0]] = -1
        else:
            chosen = rng.choice(self.size, size=k, replace=False)
            out = self.ids[chosen]
            keep = np.ones(self.size, dtype=bool)
            keep[chosen] = False
            rest = self.ids[: self.size][keep]
            self.ids[: len(rest)] = rest
            self.pos[out] = -1
            self.pos[rest] = np.arange(len(rest))
        self.size -= k
        return out.astype(np.int32)


class Inventory:
    """Numbers, their states and owners, and the ledger of every transition.

    Parameters
    ----------
    numbers : numpy.ndarray
        Ascending int64 numbers (see :func:`make_numbers`); a number's id is its position.
    ledger : Table
        The ``ledger`` table receiving one row per transition.
    rng : numpy.random.Generator
        Stream used to pick a random available number.
    assignment : {"random", "fifo"}
        Which available number an assignment takes.

    Attributes
    ----------
    state : numpy.ndarray of int8
        Current state code of each number (see ``recorder.STATES``).
    owner : numpy.ndarray of int32
        Current subscriber holding each number, -1 if none.
    last_owner : numpy.ndarray of int32
        Most recent subscriber to have held each number, -1 if never assigned.
    assigned_at : numpy.ndarray of float64
        Time of each number's most recent assignment (NaN if never assigned).
    release_at : numpy.ndarray of float64
        Earliest release time of aging numbers (NaN otherwise).
    disconnected_at : numpy.ndarray of float64
        Time of each number's latest disconnect (-inf if never disconnected in this run).
    disconnects : numpy.ndarray of int32
        Disconnects of each number in this run.
    counts : numpy.ndarray of int64
        Numbers in each state; always sums to the inventory size.
    """

    def __init__(
        self,
        numbers: np.ndarray,
        ledger: Table,
        rng: np.random.Generator,
        assignment: str = "random",
    ):
        numbers = np.asarray(numbers, dtype=np.int64)
        if np.any(np.diff(numbers) <= 0):
            raise ValueError("numbers must be strictly ascending")
        n = len(numbers)
        self.numbers = numbers
        self.ledger = ledger
        self.rng = rng
        self.state = np.full(n, AVAILABLE, dtype=np.int8)
        self.prev_state = self.state.copy()
        self.changed_at = np.full(n, -np.inf)
        self.owner = np.full(n, -1, dtype=np.int32)
        self.last_owner = np.full(n, -1, dtype=np.int32)
        self.assigned_at = np.full(n, np.nan)
        self.release_at = np.full(n, np.nan)
        self.disconnected_at = np.full(n, -np.inf)
        self.disconnects = np.zeros(n, dtype=np.int32)
        self.counts = np.zeros(len(STATES), dtype=np.int64)
        self.counts[AVAILABLE] = n
        self._pool = _AvailablePool(n, fifo=assignment == "fifo")
        self.listeners: list = []  # called as listener(t, ids) when numbers are assigned
        # Number -> id without searching: area code -> slot, then (slot, NXX-X) -> block.
        blocks = numbers[::BLOCK] // BLOCK
        if n % BLOCK or not np.array_equal(
            numbers, (blocks[:, None] * BLOCK + np.arange(BLOCK)).ravel()
        ):
            raise ValueError("numbers must be whole thousands-blocks NPA-NXX-X000..X999")
        npas = np.unique(blocks // 10_000)
        self._npa_slot = np.full(1000, -1, dtype=np.int64)
        self._npa_slot[npas] = np.arange(len(npas))
        self._block_of = np.full(len(npas) * 10_000, -1, dtype=np.int64)
        self._block_of[self._npa_slot[blocks // 10_000] * 10_000 + blocks % 10_000] = np.arange(
            len(blocks)
        )

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def available(self) -> int:
        """Numbers that can be assigned now."""
        return self._pool.size

    def ids_of(self, numbers: np.ndarray) -> np.ndarray:
        """Dense ids of the given numbers, -1 for numbers outside the inventory (vectorized)."""
        numbers = np.asarray(numbers, dtype=np.int64)
        return lookup_ids(numbers, self._npa_slot, self._block_of)

    def state_at(self, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """State of each number at times ``t`` within the current slice.

        Exact as long as a number changed state at most once since ``t``.
        """
        changed = self.changed_at[ids] > t
        return np.where(changed, self.prev_state[ids], self.state[ids])

    def _move(
        self, t: float, ids: np.ndarray, src: int, dst: int, reason: str, owner: np.ndarray
    ) -> None:
        ids = np.asarray(ids, dtype=np.int32)
        if ids.size == 0:
            return
        if ids.size > 1:
            distinct = np.zeros(len(self.numbers), dtype=bool)
            distinct[ids] = True
            if np.count_nonzero(distinct) != ids.size:
                raise InventoryError(f"{reason}: the same number appears twice in one transition")
        wrong = self.state[ids] != src
        if wrong.any():
            bad = ids[wrong][0]
            raise InventoryError(
                f"number {self.numbers[bad]}: {reason} needs state {STATES[src]}, "
                f"it is {STATES[self.state[bad]]}"
            )
        self.prev_state[ids] = src
        self.state[ids] = dst
        self.changed_at[ids] = t
        self.counts[src] -= ids.size
        self.counts[dst] += ids.size
        self.ledger.append(
            t=t,
            number=self.numbers[ids],
            number_id=ids,
            from_state=src,
            to_state=dst,
            reason=_REASON[reason],
            owner=owner,
        )

    def assign(self, t: float, owners: np.ndarray, reason: str = "assign") -> np.ndarray:
        """Give a number to each owner, while numbers last.

        Parameters
        ----------
        t : float
            Time of assignment (s).
        owners : numpy.ndarray of int
            Subscriber ids.
        reason : {"assign", "initial"}
            Ledger reason; new assignments (not the initial population) are announced to
            ``listeners`` -- the carrier's provisioning feed that analytics subscribe to.

        Returns
        -------
        numpy.ndarray of int32
            The assigned number id of each owner, -1 where the inventory was exhausted.
        """
        owners = np.asarray(owners, dtype=np.int32)
        ids = self._pool.take(len(owners), self.rng)
        got = owners[: len(ids)]
        self._move(t, ids, AVAILABLE, ASSIGNED, reason, got)
        self.owner[ids] = got
        self.last_owner[ids] = got
        self.assigned_at[ids] = t
        if reason == "assign":
            for listener in self.listeners:
                listener(t, ids)
        out = np.full(len(owners), -1, dtype=np.int32)
        out[: len(ids)] = ids
        return out

    def disconnect(self, t: float, ids: np.ndarray, release_at: np.ndarray) -> None:
        """Take assigned numbers out of service into aging until at least ``release_at``."""
        ids = np.asarray(ids, dtype=np.int32)
        self._move(t, ids, ASSIGNED, AGING, "disconnect", self.owner[ids])
        self.owner[ids] = -1
        self.release_at[ids] = release_at
        self.disconnected_at[ids] = t
        self.disconnects[ids] += 1

    def warm_age(self, release_at: np.ndarray) -> np.ndarray:
        """Put available numbers into aging at time 0 (a world started in steady state).

        Returns the ids taken, one per entry of ``release_at`` while numbers last.
        """
        ids = self._pool.take(len(release_at), self.rng)
        self._move(0.0, ids, AVAILABLE, AGING, "warm_aging", -1)
        self.release_at[ids] = np.asarray(release_at)[: len(ids)]
        return ids

    def release(self, t: float, i: int) -> None:
        """Return an aging number to the available pool (not before its release time)."""
        if not t >= self.release_at[i]:
            raise InventoryError(
                f"number {self.numbers[i]}: released at {t:.0f} s before its aging ends "
                f"at {self.release_at[i]:.0f} s"
            )
        self._move(t, np.array([i]), AGING, AVAILABLE, "release", -1)
        self.release_at[i] = np.nan
        self._pool.put(i)

    def port_out(self, t: float, i: int) -> None:
        """An assigned number leaves the inventory with its owner (never reassigned)."""
        self._move(t, np.array([i]), ASSIGNED, PORTED_OUT, "port_out", self.owner[i])
        self.owner[i] = -1
