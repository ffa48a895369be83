"""The DNI pool (``sim.leases``): kernel against its Python twin, hand cases, Erlang B.

The pool is checked three ways: the Numba kernel ``allocate`` against its plain-Python twin
``allocate.py_func`` on random small scenarios (outputs and every state array); its rules
on hand cases (least recently freed first, a lease frees its number at its end, overflow
or stealing on exhaustion, retirement, ``lease_at``), also against the one-SimPy-process-
per-session baseline of ``benchmarks.dni``; and its blocking against Erlang B, the closed
form of the M/G/N/N loss system it is when one group overflows on exhaustion.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.dni import erlang_validation, naive_market
from models.dni.erlang import erlang_b
from sim.world.leases import RECENT, Pool, allocate, compact


def _pool(sizes, steal=False, kernel=allocate) -> Pool:
    pool = Pool(len(sizes), steal, kernel=kernel)
    for g, k in enumerate(sizes):
        pool.buy(g, k)
    return pool


def _alloc(pool: Pool, start, length, until, group=None, first=0) -> np.ndarray:
    start = np.asarray(start, dtype=float)
    group = np.zeros(len(start), dtype=np.int64) if group is None else group
    return pool.allocate(
        start, np.asarray(length, dtype=float), group, np.arange(first, first + len(start)), until
    )


def _check_invariants(pool: Pool, until: float) -> None:
    """Conservation and consistency of a pool's state at the end of a step."""
    n, k = pool.n, int(pool.n_leases[0])
    leased = pool.num_lease[:n] >= 0
    assert not (leased & ~pool.in_pool[:n]).any()  # a leased number is in the pool
    for g in range(pool.n_groups):
        mine = pool.num_group[:n] == g
        # every number of the pool is either free (in the queue) or leased
        assert pool.in_pool[:n][mine].sum() == pool.free_count[g] + leased[mine].sum()
        walk, i = [], pool.free_head[g]
        for _ in range(pool.free_count[g]):
            walk.append(i)
            i = pool.num_next[i]
        assert all(pool.in_pool[j] and not leased[j] and pool.num_group[j] == g for j in walk)
        assert len(set(walk)) == len(walk)
    # a current lease is still running at the step's end; leases of a number never overlap
    cur = pool.num_lease[:n][leased]
    assert (pool.lease_end[cur] > until).all()
    num, s, e = pool.lease_number[:k], pool.lease_start[:k], pool.lease_end[:k]
    order = np.lexsort((s, num))
    same = num[order][1:] == num[order][:-1]
    assert (e[order][:-1][same] <= s[order][1:][same]).all()


# -- the kernel against its Python twin -----------------------------------------------------------
@st.composite
def scenarios(draw):
    """A few groups, steps of sessions on a half-second grid (so starts tie with each other
    and with lease ends, and some leases last 0 s), numbers bought and released between
    steps (sometimes more than a group has)."""
    n_groups = draw(st.integers(1, 3), label="groups")
    steal = draw(st.booleans(), label="steal")
    initial = draw(st.lists(st.integers(0, 3), min_size=n_groups, max_size=n_groups))
    steps, t0 = [], 0.0
    for _ in range(draw(st.integers(1, 6), label="steps")):
        slots = draw(st.integers(1, 40))  # the step lasts slots / 2 s
        n = draw(st.integers(0, 12))
        start = t0 + 0.5 * np.sort(
            draw(st.lists(st.integers(0, slots - 1), min_size=n, max_size=n))
        )
        length = 0.5 * np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)))
        group = np.array(
            draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), dtype=np.int64
        )
        ops = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["buy", "release"]),
                    st.integers(0, n_groups - 1),
                    st.integers(0, 3),
                ),
                max_size=3,
            )
        )
        t0 += 0.5 * slots
        steps.append((start, length.astype(float), group, t0, ops))
    return n_groups, steal, initial, steps


@settings(max_examples=300, deadline=None)
@given(sc=scenarios())
def test_allocate_matches_python_twin(sc):
    """Jitted and Python kernels give the same numbers and leave the same state, step by
    step, through buys and releases; the state stays consistent."""
    n_groups, steal, initial, steps = sc
    fast = _pool(initial, steal)
    slow = _pool(initial, steal, kernel=allocate.py_func)
    first = 0
    for start, length, group, until, ops in steps:
        ids = np.arange(first, first + len(start))
        first += len(start)
        a = fast.allocate(start, length, group, ids, until)
        b = slow.allocate(start, length, group, ids, until)
        np.testing.assert_array_equal(a, b)
        got = a >= 0
        assert (fast.num_group[a[got]] == group[got]).all()  # a number of the asked group
        _check_invariants(fast, until)
        for op, g, k in ops:
            if op == "buy":
                np.testing.assert_array_equal(fast.buy(g, k), slow.buy(g, k))
            else:
                assert fast.release(g, k) == slow.release(g, k)
    state = {k: v for k, v in vars(fast).items() if isinstance(v, np.ndarray)}
    assert state
    for name, arr in state.items():
        np.testing.assert_array_equal(arr, getattr(slow, name), err_msg=name)


def _covering_impression(pool: Pool, numbers: np.ndarray, t: np.ndarray) -> np.ndarray:
    lease = pool.lease_at(numbers, t)
    return np.where(lease >= 0, pool.lease_imp[np.maximum(lease, 0)], -1)


@settings(max_examples=300, deadline=None)
@given(sc=scenarios())
def test_compacting_the_lease_log_changes_nothing_a_session_or_a_call_sees(sc):
    """A pool whose lease log is compacted after every step (jitted and Python twin) gives
    every session the number the never-compacted pool gives, matches every (number, time)
    to the same impression, keeps only leases still referred to, and stays consistent."""
    n_groups, steal, initial, steps = sc
    plain, fast, slow = (_pool(initial, steal) for _ in range(3))
    for pool in (fast, slow):
        pool._leases(4)  # so that allocate's reserve also compacts and grows the log
    first = 0
    for start, length, group, until, ops in steps:
        ids = np.arange(first, first + len(start))
        first += len(start)
        out = plain.allocate(start, length, group, ids, until)
        for pool in (fast, slow):
            np.testing.assert_array_equal(pool.allocate(start, length, group, ids, until), out)
        kept = fast.compact()
        assert slow.compact(kernel=compact.py_func) == kept
        for name, arr in vars(fast).items():
            if isinstance(arr, np.ndarray):
                np.testing.assert_array_equal(arr, getattr(slow, name), err_msg=name)
        _check_invariants(fast, until)
        n = fast.n
        referred = np.concatenate(
            [fast.num_lease[:n], fast.recent[:n].ravel(), fast.hl[: int(fast.heap_size[0])]]
        )
        assert set(range(kept)) == set(referred[referred >= 0].tolist())
        # every number at every half second of the run so far, and just before each tick
        grid = np.arange(0.0, until + 0.5, 0.25)
        numbers = np.repeat(np.arange(n), len(grid))
        t = np.tile(grid, n)
        np.testing.assert_array_equal(
            _covering_impression(fast, numbers, t), _covering_impression(plain, numbers, t)
        )
        for op, g, k in ops:
            for pool in (plain, fast, slow):
                if op == "buy":
                    pool.buy(g, k)
                else:
                    pool.release(g, k)


def test_a_long_run_keeps_the_lease_log_the_size_of_its_recent_past():
    """A thousand times more leases than numbers pass through a log that stays small; the
    numbers given equal those of a log that never compacts."""
    rng = np.random.default_rng(3)
    n_steps, per_step = 200, 100
    pools = [_pool([20, 20], steal=s) for s in (False, True)]
    big = [_pool([20, 20], steal=s) for s in (False, True)]
    for pool in big:
        pool._leases(n_steps * per_step + 1)  # never full: never compacted
    for k in range(n_steps):
        start = np.sort(rng.uniform(k, k + 1, per_step))
        length = rng.exponential(0.25, per_step)  # 12.5 Erlangs on 20 numbers a group
        group = rng.integers(0, 2, per_step)
        ids = np.arange(k * per_step, (k + 1) * per_step)
        for pool, ref in zip(pools, big):
            out = pool.allocate(start, length, group, ids, k + 1.0)
            np.testing.assert_array_equal(out, ref.allocate(start, length, group, ids, k + 1.0))
    # some sessions were blocked (or stole) and most got a number
    assert 18_000 < int(big[0].n_leases[0]) < 20_000 == int(big[1].n_leases[0])
    for pool in pools:
        assert len(pool.lease_number) <= 4096 and int(pool.n_leases[0]) < 2048


@pytest.mark.parametrize("seed", range(5))
def test_pool_matches_one_simpy_process_per_session(seed):
    """Overflow pool against ``benchmarks.dni.naive_market`` (a SimPy Store of free numbers
    per group, one process per session) on random sessions: the same number for each,
    though the pool sees them in steps of 10 minutes."""
    rng = np.random.default_rng(seed)
    sizes = [3, 8]
    n = 3000
    start = np.sort(rng.random(n)) * 86400.0
    length = rng.exponential(600.0, n)  # ~14 and ~7 Erlangs on 3 and 8 numbers
    group = (rng.random(n) < 1 / 3).astype(np.int64)
    want = naive_market(start, length, group, sizes)
    pool = _pool(sizes)
    got = []
    for t0 in np.arange(0.0, 86400.0, 600.0):
        sel = (start >= t0) & (start < t0 + 600.0)
        got.append(
            pool.allocate(start[sel], length[sel], group[sel], np.flatnonzero(sel), t0 + 600.0)
        )
    got = np.concatenate(got)
    assert 0.3 < (got < 0).mean() < 0.9  # the pools are exhausted most of the time
    np.testing.assert_array_equal(got, want)


# -- hand cases -----------------------------------------------------------------------------------
def test_free_numbers_go_least_recently_freed_first():
    pool = _pool([3, 1])
    # numbers 0, 1, 2 bought in that order; 1 is freed at 6, 0 at 10 (2 never leased)
    assert _alloc(pool, [0.0, 1.0], [10.0, 5.0], 6.5).tolist() == [0, 1]
    assert pool.free_count[0] == 2
    # free since purchase, since 6, since 10 (not by id, not last freed first); then none
    out = _alloc(pool, [11.0, 12.0, 13.0, 14.0], [100.0] * 4, 14.5, first=2)
    assert out.tolist() == [2, 1, 0, -1]
    # a group's numbers are its own: group 1 gets number 3 and only it
    out = pool.allocate(
        np.array([15.0, 16.0]), np.array([10.0, 10.0]), np.array([1, 1]), np.array([6, 7]), 20.0
    )
    assert out.tolist() == [3, -1]


def test_a_lease_frees_its_number_exactly_at_its_end():
    just_before = np.nextafter(10.0, 0.0)
    pool = _pool([1])
    assert _alloc(pool, [0.0], [10.0], just_before).tolist() == [0]
    assert pool.busy() == 1 and pool.free_count[0] == 0  # still leased at the step's end
    assert _alloc(pool, [just_before], [1.0], just_before, first=1).tolist() == [-1]
    assert _alloc(pool, [10.0], [5.0], 12.0, first=2).tolist() == [0]  # free at 10 sharp
    assert pool.lease_end[0] == 10.0 and pool.lease_start[1] == 10.0
    _alloc(pool, [], [], 15.0)  # the step's end frees leases ending by it
    assert pool.busy() == 0 and pool.free_count[0] == 1


def test_exhaustion_without_stealing_gives_the_overflow_number():
    pool = _pool([2], steal=False)
    out = _alloc(pool, [0.0, 1.0, 2.0, 3.0], [50.0, 50.0, 1.0, 1.0], 10.0)
    assert out.tolist() == [0, 1, -1, -1]
    assert int(pool.n_leases[0]) == 2  # no lease is logged for the overflow
    assert pool.lease_end[:2].tolist() == [50.0, 51.0]  # nobody's lease was cut


def test_exhaustion_with_stealing_cuts_the_oldest_active_lease():
    pool = _pool([2, 0], steal=True)
    # lease 0 (number 0) ends early at 3; lease 1 holds number 1; lease 2 takes number 0
    assert _alloc(pool, [0.0, 1.0, 4.0], [3.0, 100.0, 200.0], 4.5).tolist() == [0, 1, 0]
    # exhausted at 5: the oldest *active* lease is 1 (lease 0 ended), cut short at 5
    assert _alloc(pool, [5.0], [10.0], 5.5, first=3).tolist() == [1]
    assert pool.lease_end[:4].tolist() == [3.0, 5.0, 204.0, 15.0]
    assert pool.lease_number[3] == 1 and pool.lease_start[3] == 5.0
    # at 6 the oldest active lease is 2 (number 0)
    assert _alloc(pool, [6.0], [300.0], 6.5, first=4).tolist() == [0]
    assert pool.lease_end[2] == 6.0
    # the cut leases' old ends (100, 204) pass without freeing the numbers re-leased since
    _alloc(pool, [], [], 250.0)
    assert pool.num_lease[:2].tolist() == [4, -1] and pool.free_count[0] == 1
    assert pool.lease_at(
        np.array([0, 0, 0, 1, 1]), np.array([4.0, 5.9, 6.0, 4.9, 5.0])
    ).tolist() == [2, 2, 4, 1, 3]
    # stealing stays within the group: group 1 has no numbers
    out = pool.allocate(np.array([251.0]), np.array([1.0]), np.array([1]), np.array([5]), 252.0)
    assert out.tolist() == [-1]


def test_release_retires_free_numbers_now_and_leased_ones_at_their_end():
    pool = _pool([3])
    # numbers 0 and 1 leased until 10 and 20, number 2 free
    assert _alloc(pool, [0.0, 1.0], [10.0, 19.0], 2.0).tolist() == [0, 1]
    assert pool.release(0, 2) == 1  # number 2 at once
    assert not pool.in_pool[2] and pool.retire_pending[0] == 1
    assert pool.size() == pool.size(0) == 1 and pool.busy() == 2
    assert _alloc(pool, [5.0], [1.0], 15.0, first=2).tolist() == [-1]  # 2 is gone
    assert not pool.in_pool[0] and pool.retire_pending[0] == 0  # retired at 10
    assert pool.size(0) == 1 and pool.free_count[0] == 0
    assert _alloc(pool, [21.0], [1.0], 30.0, first=3).tolist() == [1]  # 1 came back at 20
    assert pool.size(0) == 1 and pool.free_count[0] == 1
    # free numbers leave longest-free first
    pool = _pool([3])
    assert pool.release(0, 1) == 1 and not pool.in_pool[0]
    assert _alloc(pool, [0.0], [1.0], 1.0).tolist() == [1]
    assert pool.buy(0, 2).tolist() == [3, 4] and pool.size(0) == 4


def test_stealing_does_not_reuse_a_released_number():
    """``release`` retires a leased number 'when its lease ends'; a stolen lease ends at the
    steal, so its number leaves the pool then and the session gets the overflow number
    (the group has size 0)."""
    pool = _pool([1], steal=True)
    assert _alloc(pool, [0.0], [100.0], 1.0).tolist() == [0]
    assert pool.release(0, 1) == 0 and pool.size(0) == 0
    out = _alloc(pool, [5.0], [10.0], 6.0, first=1)
    assert out.tolist() == [-1]


def test_lease_at_finds_the_lease_covering_a_time():
    pool = _pool([2])
    # number 0: leases 0 [0, 10), 2 [10, 15), 3 [20, 30); number 1: lease 1 [1, 50)
    _alloc(pool, [0.0, 1.0], [10.0, 49.0], 10.0)
    _alloc(pool, [10.0, 20.0], [5.0, 10.0], 30.0, first=2)
    numbers = np.array([0, 0, 0, 0, 0, 0, 1, 1, -1])
    t = np.array([0.0, 9.99, 10.0, 14.0, 17.0, 25.0, 49.9, 50.0, 5.0])
    assert pool.lease_at(numbers, t).tolist() == [0, 0, 2, 2, -1, 3, 1, -1, -1]
    assert pool.lease_imp[pool.lease_at(np.array([0]), np.array([12.0]))].tolist() == [2]
    # only the number's last RECENT leases are remembered
    pool = _pool([1])
    _alloc(pool, np.arange(RECENT + 1.0), np.ones(RECENT + 1), RECENT + 1.0)
    assert pool.lease_at(np.zeros(2, dtype=np.int64), np.array([0.5, 1.5])).tolist() == [-1, 1]


# -- Erlang B -------------------------------------------------------------------------------------
LEVEL = 0.95


def test_blocking_matcheserlang_b():
    """Share of sessions given the overflow number against Erlang B(N, A).

    Six rows (A = 10, 100, 1000; exponential and lognormal leases of the same mean, for which
    B is the same: insensitivity), each measured by 20 independent replications of ~100,000
    sessions after a warm-up (``benchmarks.dni.erlang_validation``: replications because
    consecutive sessions are correlated, and independent runs need no model of that).  Each
    row is checked at the Bonferroni level 1 - 0.05 / 6, so the six checks together have a
    5 % false-alarm rate.  The intervals are narrow enough to matter: the pools one number
    smaller or larger are rejected at A = 10 and 100 (at A = 1000 they differ by only 2 %).
    """
    kinds = ("exponential", "lognormal")
    loads = (10, 100, 1000)
    level = 1 - (1 - LEVEL) / (len(kinds) * len(loads))
    df = erlang_validation(loads, kinds, seed=2024, level=level)
    assert len(df) == 6
    for row in df.itertuples():
        b = erlang_b(row.pool, row.load)
        assert 0.01 <= b <= 0.05 and row.erlang_b == pytest.approx(b, rel=1e-12)
        assert erlang_b(row.pool - 1, row.load) > 0.04  # the smallest pool with B <= 4 %
        assert abs(row.offered - row.load) < 0.01 * row.load
        assert abs(row.measured - b) <= row.ci, row
        assert row.ci < 0.1 * b, row  # the replications pin B down to 10 %
        if row.load <= 100:
            for other in (row.pool - 1, row.pool + 1):
                assert abs(row.measured - erlang_b(other, row.load)) > row.ci, (row, other)
