"""Tests of the number inventory (sim/inventory.py) and its ledger (sim/recorder.py)."""

from __future__ import annotations

from collections import deque

import numpy as np
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from models.common import DAY
from sim.core.numbering import exchange_codes, us_area_codes
from sim.world.inventory import Inventory, InventoryError, lookup_ids, make_numbers
from sim.world.recorder import Table
from sim.world.schemas import AGING, ASSIGNED, AVAILABLE, PORTED_OUT, REASONS, SCHEMAS, STATES

AREA_CODES = [212, 415]
BLOCKS = 2
N = len(AREA_CODES) * BLOCKS * 1000
MIN_AGING = 30 * DAY
DISCONNECT = REASONS.index("disconnect")
RELEASE = REASONS.index("release")
ASSIGN_REASONS = (REASONS.index("assign"), REASONS.index("initial"))
US_AREA_CODES = [int(a) for a in us_area_codes()]


def build(assignment: str):
    """The inventory of the brief, an in-memory ledger, and the assignment stream."""
    numbers = make_numbers(
        area_codes=AREA_CODES, blocks_per_area_code=BLOCKS, rng=np.random.default_rng(0)
    )
    ledger = Table("ledger")
    inv = Inventory(numbers, ledger, np.random.default_rng(1), assignment=assignment)
    return inv, ledger


def snapshot(inv: Inventory, ledger: Table):
    """Everything a forbidden transition must leave untouched."""
    return dict(
        state=inv.state.copy(),
        prev_state=inv.prev_state.copy(),
        changed_at=inv.changed_at.copy(),
        owner=inv.owner.copy(),
        last_owner=inv.last_owner.copy(),
        release_at=inv.release_at.copy(),
        counts=inv.counts.copy(),
        available=inv.available,
        rows=ledger.rows,
    )


def assert_unchanged(before: dict, after: dict) -> None:
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        else:
            assert after[key] == value, key


def ledger_codes(ledger: Table):
    """Ledger columns as plain arrays (categorical columns as their integer codes)."""
    df = ledger.to_frame()
    for name, cats in (("from_state", STATES), ("to_state", STATES), ("reason", REASONS)):
        assert list(df[name].cat.categories) == list(cats)
    return dict(
        t=df["t"].to_numpy(),
        number=df["number"].to_numpy(),
        id=df["number_id"].to_numpy().astype(np.int64),
        frm=df["from_state"].cat.codes.to_numpy().astype(np.int64),
        to=df["to_state"].cat.codes.to_numpy().astype(np.int64),
        reason=df["reason"].cat.codes.to_numpy().astype(np.int64),
        owner=df["owner"].to_numpy().astype(np.int64),
    )


def replay(rows: dict, n: int):
    """Replay the ledger number by number; return final state, owner, last owner.

    Also checks that every row starts from the state the previous row of the same number
    left it in (available for a number's first row).  Returns the row order sorted by
    number (stable) and the index of each row's predecessor for the same number (-1 if none).
    """
    ids = rows["id"]
    order = np.argsort(ids, kind="stable")
    s_ids = ids[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = s_ids[1:] != s_ids[:-1]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = first[1:]
    prev = np.where(first, -1, np.roll(order, 1))
    expected_from = np.where(first, AVAILABLE, rows["to"][np.roll(order, 1)])
    bad = np.flatnonzero(rows["frm"][order] != expected_from)
    assert bad.size == 0, f"ledger row {order[bad[0]]} does not start where the last one ended"
    state = np.full(n, AVAILABLE, dtype=np.int64)
    state[s_ids[last]] = rows["to"][order][last]
    owner = np.full(n, -1, dtype=np.int64)
    held = last & (rows["to"][order] == ASSIGNED)
    owner[s_ids[held]] = rows["owner"][order][held]
    last_owner = np.full(n, -1, dtype=np.int64)
    assigned_rows = order[rows["to"][order] == ASSIGNED]  # by number, then ledger order
    a_ids = ids[assigned_rows]
    latest = np.ones(len(a_ids), dtype=bool)
    latest[:-1] = a_ids[1:] != a_ids[:-1]
    last_owner[a_ids[latest]] = rows["owner"][assigned_rows[latest]]
    pred = np.full(len(ids), -1, dtype=np.int64)
    pred[order] = prev
    return state, owner, last_owner, pred


class InventoryMachine(RuleBasedStateMachine):
    """Random operations on an inventory, checked against a plain-Python model."""

    assignment = "random"

    def __init__(self):
        super().__init__()
        self.inv, self.ledger = build(self.assignment)
        n = len(self.inv)
        self.n = n
        self.now = 0.0
        self.state = np.full(n, AVAILABLE, dtype=np.int8)
        self.owner_of: dict[int, int] = {}  # number id -> owner
        self.number_of: dict[int, int] = {}  # owner -> number id
        self.ever_owned: dict[int, int] = {}  # number id -> last owner
        self.next_owner = 0
        self.avail = set(range(n))
        self.queue = deque(range(n))  # fifo model: order of hand-out
        self.release_at: dict[int, float] = {}
        self.disc_log: list[tuple[int, float, float]] = []  # (id, t, aging) per disconnect

    # -- helpers ------------------------------------------------------------------------
    def ids_in(self, state: int) -> list[int]:
        return np.flatnonzero(self.state == state).tolist()

    def aging_ready(self) -> list[int]:
        return sorted(i for i, r in self.release_at.items() if r <= self.now)

    def aging_waiting(self) -> list[int]:
        return sorted(i for i, r in self.release_at.items() if r > self.now)

    def fresh_owners(self, k: int) -> np.ndarray:
        owners = np.arange(self.next_owner, self.next_owner + k, dtype=np.int64)
        self.next_owner += k
        return owners

    def _assign(self, k: int) -> np.ndarray:
        inv = self.inv
        before_avail, before_rows = inv.available, self.ledger.rows
        owners = self.fresh_owners(k)
        out = inv.assign(self.now, owners)
        m = min(k, before_avail)
        assert out.shape == (k,)
        assert (out[:m] >= 0).all() and (out[m:] == -1).all()
        got = out[:m].astype(np.int64)
        assert len(set(got.tolist())) == m
        assert set(got.tolist()) <= self.avail, "assigned a number that was not available"
        if self.assignment == "fifo":
            expected = [self.queue.popleft() for _ in range(m)]
            assert got.tolist() == expected
        np.testing.assert_array_equal(inv.owner[got], owners[:m])
        assert self.ledger.rows == before_rows + m
        assert inv.available == before_avail - m
        for i, o in zip(got.tolist(), owners[:m].tolist()):
            self.state[i] = ASSIGNED
            self.owner_of[i] = o
            self.number_of[o] = i
            self.ever_owned[i] = o
            self.avail.discard(i)
        return out

    # -- rules ----------------------------------------------------------------------------
    @rule(k=st.one_of(st.integers(1, 5), st.integers(1, 2500)))
    def assign(self, k):
        self._assign(k)

    @rule(extra=st.integers(1, 40), again=st.integers(1, 5))
    def exhaust(self, extra, again):
        """Ask for more numbers than are left: the shortfall gets -1, then nothing is left."""
        k = self.inv.available + extra
        out = self._assign(k)
        assert int((out == -1).sum()) == extra
        assert self.inv.available == 0
        before = snapshot(self.inv, self.ledger)
        out = self.inv.assign(self.now, self.fresh_owners(again))
        np.testing.assert_array_equal(out, np.full(again, -1))
        assert_unchanged(before, snapshot(self.inv, self.ledger))

    @precondition(lambda self: bool((self.state == ASSIGNED).any()))
    @rule(data=st.data())
    def disconnect(self, data):
        ids = data.draw(
            st.lists(st.sampled_from(self.ids_in(ASSIGNED)), min_size=1, max_size=8, unique=True),
            label="ids",
        )
        agings = data.draw(
            st.lists(st.floats(MIN_AGING, 3 * MIN_AGING), min_size=len(ids), max_size=len(ids)),
            label="agings",
        )
        release_at = self.now + np.array(agings)
        self.inv.disconnect(self.now, np.array(ids), release_at)
        np.testing.assert_array_equal(self.inv.release_at[ids], release_at)
        for i, a, r in zip(ids, agings, release_at.tolist()):
            self.state[i] = AGING
            o = self.owner_of.pop(i)
            del self.number_of[o]
            self.release_at[i] = r
            self.disc_log.append((i, self.now, a))

    @rule(dt=st.one_of(st.just(0.0), st.floats(0, 4 * MIN_AGING)))
    def advance(self, dt):
        self.now += dt

    @precondition(lambda self: bool(self.release_at))
    @rule(data=st.data())
    def wait_and_release(self, data):
        """Jump exactly to an aging number's release time (the boundary case), maybe release."""
        i = data.draw(st.sampled_from(sorted(self.release_at)), label="id")
        self.now = max(self.now, self.release_at[i])
        if data.draw(st.booleans(), label="release it"):
            self.release(data)

    @precondition(lambda self: any(r <= self.now for r in self.release_at.values()))
    @rule(data=st.data())
    def release(self, data):
        ids = data.draw(
            st.lists(st.sampled_from(self.aging_ready()), min_size=1, max_size=6, unique=True),
            label="ids",
        )
        for i in ids:
            before_avail = self.inv.available
            self.inv.release(self.now, i)
            assert self.inv.available == before_avail + 1
            assert np.isnan(self.inv.release_at[i])
            self.state[i] = AVAILABLE
            del self.release_at[i]
            self.avail.add(i)
            self.queue.append(i)

    @precondition(lambda self: any(r > self.now for r in self.release_at.values()))
    @rule(data=st.data())
    def release_early(self, data):
        """Releasing before the aging ends raises and changes nothing."""
        i = data.draw(st.sampled_from(self.aging_waiting()), label="id")
        r = self.release_at[i]
        t = data.draw(st.sampled_from([self.now, float(np.nextafter(r, -np.inf))]), label="t")
        before = snapshot(self.inv, self.ledger)
        with pytest.raises(InventoryError):
            self.inv.release(t, i)
        assert_unchanged(before, snapshot(self.inv, self.ledger))

    @rule(data=st.data())
    def forbidden_transition(self, data):
        """Release of a non-aging number, disconnect or port-out of a non-assigned one."""
        op = data.draw(st.sampled_from(["release", "disconnect", "port_out"]), label="op")
        allowed = AGING if op == "release" else ASSIGNED
        others = np.flatnonzero(self.state != allowed).tolist()
        if not others:
            return
        i = data.draw(st.sampled_from(others), label="id")
        before = snapshot(self.inv, self.ledger)
        with pytest.raises(InventoryError):
            if op == "release":
                self.inv.release(self.now + 1e9, i)
            elif op == "disconnect":
                self.inv.disconnect(self.now, np.array([i]), np.array([self.now + MIN_AGING]))
            else:
                self.inv.port_out(self.now, i)
        assert_unchanged(before, snapshot(self.inv, self.ledger))

    @precondition(lambda self: bool((self.state == ASSIGNED).any()))
    @rule(data=st.data())
    def port_out(self, data):
        i = data.draw(st.sampled_from(self.ids_in(ASSIGNED)), label="id")
        self.inv.port_out(self.now, i)
        self.state[i] = PORTED_OUT
        o = self.owner_of.pop(i)
        del self.number_of[o]

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def counts_match_states(self):
        inv = self.inv
        assert inv.counts.sum() == len(inv) == self.n
        np.testing.assert_array_equal(inv.counts, np.bincount(inv.state, minlength=len(STATES)))
        np.testing.assert_array_equal(inv.state, self.state)
        assert inv.available == inv.counts[AVAILABLE] == len(self.avail)

    @invariant()
    def owners_one_to_one(self):
        inv = self.inv
        expected = np.full(self.n, -1, dtype=np.int64)
        expected[list(self.owner_of)] = list(self.owner_of.values())
        np.testing.assert_array_equal(inv.owner, expected)
        held = inv.owner[inv.owner >= 0]
        assert len(np.unique(held)) == len(held), "an owner holds two numbers"
        assert len(self.number_of) == len(self.owner_of)
        for o, i in self.number_of.items():
            assert inv.owner[i] == o
        assert ((inv.owner >= 0) == (inv.state == ASSIGNED)).all()
        last = np.full(self.n, -1, dtype=np.int64)
        last[list(self.ever_owned)] = list(self.ever_owned.values())
        np.testing.assert_array_equal(inv.last_owner, last)

    @invariant()
    def release_times(self):
        inv = self.inv
        np.testing.assert_array_equal(np.isnan(inv.release_at), inv.state != AGING)
        for i, r in self.release_at.items():
            assert inv.release_at[i] == r

    @invariant()
    def ledger_replays_to_current_state(self):
        inv = self.inv
        rows = ledger_codes(self.ledger)
        assert len(rows["t"]) == self.ledger.rows
        assert (np.diff(rows["t"]) >= 0).all(), "ledger times go backwards"
        np.testing.assert_array_equal(rows["number"], inv.numbers[rows["id"]])
        state, owner, last_owner, pred = replay(rows, self.n)
        np.testing.assert_array_equal(state, inv.state)
        np.testing.assert_array_equal(owner, inv.owner)
        np.testing.assert_array_equal(last_owner, inv.last_owner)
        # No number leaves aging before the aging fixed at its disconnect.
        disc = np.flatnonzero(rows["reason"] == DISCONNECT)
        assert len(disc) == len(self.disc_log)
        log = np.array(self.disc_log, dtype=np.float64).reshape(-1, 3)
        np.testing.assert_array_equal(rows["id"][disc], log[:, 0])
        np.testing.assert_array_equal(rows["t"][disc], log[:, 1])
        earliest = np.full(len(rows["t"]), np.nan)
        earliest[disc] = log[:, 1] + log[:, 2]
        rel = np.flatnonzero(rows["reason"] == RELEASE)
        assert (pred[rel] >= 0).all()
        assert (rows["reason"][pred[rel]] == DISCONNECT).all()
        assert (rows["t"][rel] >= earliest[pred[rel]]).all(), "released before its aging ended"


class FifoInventoryMachine(InventoryMachine):
    """The same machine with first-in first-out assignment."""

    assignment = "fifo"


_machine_settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestInventoryRandomMachine = InventoryMachine.TestCase
TestInventoryRandomMachine.settings = _machine_settings
TestInventoryFifoMachine = FifoInventoryMachine.TestCase
TestInventoryFifoMachine.settings = _machine_settings


# -- fifo -----------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_fifo_hands_out_released_numbers_in_release_order(data):
    """FIFO gives the untouched numbers first (by id), then released ones in release order."""
    inv, _ = build("fifo")
    n = len(inv)
    first = data.draw(st.integers(1, n), label="first")
    out = inv.assign(0.0, np.arange(first))
    np.testing.assert_array_equal(out, np.arange(first))
    gone = data.draw(
        st.lists(st.integers(0, first - 1), min_size=1, max_size=30, unique=True),
        label="disconnected",
    )
    agings = data.draw(
        st.lists(st.floats(MIN_AGING, 3 * MIN_AGING), min_size=len(gone), max_size=len(gone)),
        label="agings",
    )
    inv.disconnect(1.0, np.array(gone), 1.0 + np.array(agings))
    order = data.draw(st.permutations(gone), label="release order")
    t = 1.0
    for i in order:
        t = max(t, inv.release_at[i])
        inv.release(t, i)
    rest = n - first
    out = inv.assign(t, np.arange(n, n + rest + len(order)))
    np.testing.assert_array_equal(out[:rest], np.arange(first, n))
    np.testing.assert_array_equal(out[rest:], order)
    assert inv.available == 0
    np.testing.assert_array_equal(inv.assign(t, np.array([10 * n])), [-1])


# -- make_numbers ---------------------------------------------------------------------------
def check_numbers(numbers: np.ndarray, area_codes, blocks: int) -> None:
    assert numbers.dtype == np.int64
    assert len(numbers) == len(area_codes) * blocks * 1000
    assert (np.diff(numbers) > 0).all(), "not strictly ascending"
    assert len(np.unique(numbers)) == len(numbers)
    rows = numbers.reshape(-1, 1000)
    assert (rows[:, 0] % 1000 == 0).all()
    np.testing.assert_array_equal(rows - rows[:, :1], np.broadcast_to(np.arange(1000), rows.shape))
    npa = numbers // 10**7
    assert set(np.unique(npa).tolist()) <= set(area_codes)
    per_npa = np.unique(rows[:, 0] // 10**7, return_counts=True)
    assert dict(zip(*(a.tolist() for a in per_npa))) == {a: blocks for a in area_codes}
    nxx = (numbers // 10**4) % 1000
    assert (nxx >= 200).all(), "exchange code must start with 2-9"
    assert (nxx % 100 != 11).all(), "N11 exchange code"
    assert (nxx != 555).all()
    for n in numbers.tolist():
        parsed = phonenumbers.parse(f"+1{n}")
        assert phonenumbers.is_valid_number(parsed), n
        assert phonenumbers.region_code_for_number(parsed) == "US", n


def test_make_numbers_of_the_brief():
    """The 212/415 inventory: 4000 distinct ascending valid US numbers in whole blocks."""
    numbers = make_numbers(
        area_codes=AREA_CODES, blocks_per_area_code=BLOCKS, rng=np.random.default_rng(0)
    )
    check_numbers(numbers, AREA_CODES, BLOCKS)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks=st.integers(1, 3),
    area_codes=st.lists(st.sampled_from(US_AREA_CODES), min_size=1, max_size=3, unique=True),
)
def test_make_numbers_properties(seed, blocks, area_codes):
    """Any seed and set of area codes gives whole valid blocks, ascending, in those codes."""
    numbers = make_numbers(area_codes, blocks, np.random.default_rng(seed))
    check_numbers(numbers, area_codes, blocks)


def test_exchange_codes_make_numbers_draws_from():
    """The exchange codes blocks are drawn from start with 2-9 and exclude N11 and 555."""
    nxx = exchange_codes()
    assert (np.diff(nxx) > 0).all()
    assert ((nxx >= 200) & (nxx <= 999)).all()
    assert not ((nxx % 100) == 11).any()
    assert 555 not in nxx.tolist()
    assert {212, 415, 999, 200} <= set(nxx.tolist())


def test_make_numbers_is_reproducible():
    """The same stream state gives the same numbers."""
    a = make_numbers(AREA_CODES, BLOCKS, np.random.default_rng(7))
    b = make_numbers(AREA_CODES, BLOCKS, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


# -- ids_of / lookup_ids ----------------------------------------------------------------------
_INV, _ = build("random")
_POSITION = {int(n): i for i, n in enumerate(_INV.numbers.tolist())}
_HELD_BLOCKS = set((_INV.numbers // 1000).tolist())

_numbers = st.one_of(
    st.sampled_from(_INV.numbers.tolist()),  # in the inventory
    st.sampled_from(_INV.numbers[::1000].tolist()).flatmap(  # just outside a held block
        lambda b: st.sampled_from([b - 1, b + 1000, b - 1000, b + 999_999, b + 10**7])
    ),
    st.integers(-(2**63), 2**63 - 1),  # anything
    st.integers(-(10**10), -1),  # negative
    st.integers(10**10, 2**63 - 1),  # more than 10 digits
    st.integers(0, 10**10 - 1),  # up to 10 digits
    st.tuples(
        st.integers(200, 999).filter(lambda a: a not in AREA_CODES), st.integers(0, 10**7 - 1)
    ).map(lambda p: p[0] * 10**7 + p[1]),  # other NPA
    st.tuples(st.sampled_from(AREA_CODES), st.integers(0, 9999), st.integers(0, 999)).map(
        lambda p: p[0] * 10**7 + p[1] * 1000 + p[2]
    ),  # same NPA, mostly other blocks
    st.sampled_from(_INV.numbers.tolist()).map(lambda n: n + 10**10),  # extra leading digit
    st.sampled_from(_INV.numbers.tolist()).map(lambda n: -n),
)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_numbers, max_size=60))
def test_ids_of_matches_a_dict_lookup(values):
    """ids_of gives each number's position in the inventory, -1 for any other int64."""
    x = np.array(values, dtype=np.int64)
    expected = np.array([_POSITION.get(int(v), -1) for v in values], dtype=np.int64)
    got = _INV.ids_of(x)
    assert got.shape == x.shape
    np.testing.assert_array_equal(got, expected)
    # The table look-up and its Python twin agree on the same arrays.
    py = lookup_ids.py_func(x, _INV._npa_slot, _INV._block_of)
    np.testing.assert_array_equal(lookup_ids(x, _INV._npa_slot, _INV._block_of), py)
    np.testing.assert_array_equal(py, expected)


def test_ids_of_every_inventory_number_and_neighbours():
    """Every held number maps to its position; the numbers around each block map to -1."""
    np.testing.assert_array_equal(_INV.ids_of(_INV.numbers), np.arange(len(_INV)))
    starts = _INV.numbers[::1000]
    around = np.concatenate([starts - 1, starts + 1000])
    around = np.array([v for v in around.tolist() if v // 1000 not in _HELD_BLOCKS])
    assert len(around) > 0
    np.testing.assert_array_equal(_INV.ids_of(around), np.full(len(around), -1))
    np.testing.assert_array_equal(_INV.ids_of(np.empty(0, dtype=np.int64)), np.empty(0))


# -- construction -----------------------------------------------------------------------------
def _blocks(*prefixes):
    return np.concatenate([p * 1000 + np.arange(1000, dtype=np.int64) for p in prefixes])


def test_inventory_accepts_whole_blocks():
    """Whole, ascending thousands-blocks make an inventory whose ids are positions."""
    numbers = _blocks(2125550, 2125551, 4159870)
    inv = Inventory(numbers, Table("ledger"), np.random.default_rng(0))
    assert len(inv) == 3000
    np.testing.assert_array_equal(inv.ids_of(numbers), np.arange(3000))


@pytest.mark.parametrize(
    "numbers",
    [
        pytest.param(_blocks(2125550)[:-1], id="short-block"),
        pytest.param(_blocks(2125550)[1:], id="missing-first"),
        pytest.param(_blocks(2125550) + 1, id="shifted-by-one"),
        pytest.param(_blocks(2125550) + 500, id="straddles-two-blocks"),
        pytest.param(
            np.concatenate([_blocks(2125550)[:500], _blocks(2125551)[500:]]), id="two-halves"
        ),
        pytest.param(np.concatenate([_blocks(2125550)[:999], [2125551000]]), id="gap"),
        pytest.param(np.concatenate([_blocks(2125550), _blocks(2125551)[:10]]), id="trailing-part"),
    ],
)
def test_inventory_rejects_partial_blocks(numbers):
    """Numbers that are not whole NPA-NXX-X000..X999 blocks raise ValueError."""
    with pytest.raises(ValueError):
        Inventory(numbers, Table("ledger"), np.random.default_rng(0))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_inventory_rejects_any_damaged_block(data):
    """Dropping, or shifting, part of a valid inventory makes it invalid."""
    numbers = make_numbers(AREA_CODES, 1, np.random.default_rng(3))
    how = data.draw(st.sampled_from(["drop", "shift"]), label="how")
    if how == "drop":
        lo = data.draw(st.integers(0, len(numbers) - 1), label="lo")
        hi = data.draw(st.integers(lo + 1, len(numbers)), label="hi")
        if (hi - lo) % 1000 == 0 and lo % 1000 == 0:
            hi -= 1  # removing whole blocks leaves a valid inventory
        damaged = np.delete(numbers, np.arange(lo, hi))
    else:
        k = data.draw(st.integers(1, 999), label="k")
        damaged = numbers + k
    with pytest.raises(ValueError):
        Inventory(damaged, Table("ledger"), np.random.default_rng(0))


def test_inventory_rejects_unsorted_numbers():
    """Numbers out of order (or repeated) raise ValueError."""
    numbers = _blocks(2125550, 2125551)
    with pytest.raises(ValueError):
        Inventory(numbers[::-1], Table("ledger"), np.random.default_rng(0))
    with pytest.raises(ValueError):
        Inventory(
            np.concatenate([numbers[:1000], numbers[:1000]]),
            Table("ledger"),
            np.random.default_rng(0),
        )


def test_ledger_schema_matches_the_state_machine():
    """The ledger's categories are the inventory's state and reason codes."""
    cols = {c.name: c for c in SCHEMAS["ledger"]}
    assert cols["from_state"].categories == STATES == cols["to_state"].categories
    assert cols["reason"].categories == REASONS
    assert (AVAILABLE, ASSIGNED, AGING, PORTED_OUT) == tuple(
        STATES.index(s) for s in ("available", "assigned", "aging", "ported_out")
    )


@pytest.mark.parametrize("npa", [524, 983])
def test_make_numbers_in_partly_opened_area_codes_are_valid(npa):
    """Blocks of newer area codes come only from exchanges phonenumbers accepts."""
    numbers = make_numbers([npa], 300, np.random.default_rng(3))
    prefixes = np.unique(numbers // 10_000)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(f"+1{p}2345")) for p in prefixes)


def test_repeated_ids_in_one_transition_are_refused():
    """The same number twice in one transition raises and changes nothing."""
    inv, ledger = build("random")
    ids = inv.assign(0.0, np.arange(3))
    before = snapshot(inv, ledger)
    with pytest.raises(InventoryError, match="twice"):
        inv.disconnect(1.0, np.array([ids[0], ids[0]]), np.array([DAY, DAY]))
    assert_unchanged(before, snapshot(inv, ledger))


def test_growing_columns_accept_zero_rows():
    """Appending no rows returns no ids and leaves the columns as they were."""
    from sim.core.columns import GrowingColumns

    cols = GrowingColumns({"x": "float64"}, capacity=1)
    assert cols.extend(x=np.empty(0)).size == 0 and len(cols) == 0
    cols.extend(x=[1.0, 2.0, 3.0])
    assert cols["x"].tolist() == [1.0, 2.0, 3.0]
