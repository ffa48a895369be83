"""Each Numba kernel agrees with its plain-Python twin (``kernel.py_func``)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit, typed
from numba.core.errors import TypingError

from models.jit import unowned
from models.platform import layout as L
from sim.world.clock import PoissonSources, advance
from sim.world.platform.tables import HOURLY_COUNTS, count_hourly
from sim.world.timesort import time_order


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# -- sim/clock.py: advance ---------------------------------------------------------------------
@st.composite
def sources(draw):
    """A consistent slice: sources whose next event is at or after their group's clock."""
    g_count = draw(st.integers(1, 3), label="groups")
    n = draw(st.integers(0, 30), label="n")
    clock = np.array(draw(st.lists(floats(0, 1e4), min_size=g_count, max_size=g_count)))
    rate = np.array(draw(st.lists(floats(0.1, 2.0), min_size=g_count, max_size=g_count)))
    t0 = draw(floats(0, 1e6), label="t0")
    dt = draw(floats(0.5, 5.0), label="dt")
    clock_end = clock + rate * dt
    group = np.array(
        draw(st.lists(st.integers(0, g_count - 1), min_size=n, max_size=n)), dtype=np.int8
    )
    span = clock_end - clock
    next_c = np.array(
        [
            draw(st.one_of(st.just(np.inf), st.just(0.0), floats(0, 1.5)), label="next_c")
            for _ in range(n)
        ],
        dtype=np.float64,
    )
    next_c = np.where(np.isinf(next_c), np.inf, clock[group] + next_c * span[group])
    inv_mult = np.array(
        draw(st.lists(st.one_of(st.just(np.inf), floats(0.02, 2.0)), min_size=n, max_size=n)),
        dtype=np.float64,
    )
    end_t = np.array(
        [
            draw(
                st.one_of(
                    st.just(np.inf),
                    st.just(t0),
                    floats(0, 1).map(lambda f: t0 + f * dt),
                    floats(1, 100).map(lambda f: t0 - f),
                ),
                label="end_t",
            )
            for _ in range(n)
        ],
        dtype=np.float64,
    )
    return dict(
        next_c=next_c,
        inv_mult=inv_mult,
        end_t=end_t,
        group=group,
        clock=clock,
        clock_end=clock_end,
        rate=rate,
        t0=t0,
    )


def _copy(s):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}


def _call(kernel, s, start, rng, out_t, out_src):
    return kernel(
        s["next_c"],
        s["inv_mult"],
        s["end_t"],
        s["group"],
        s["clock"],
        s["clock_end"],
        s["rate"],
        s["t0"],
        start,
        rng,
        out_t,
        out_src,
    )


@settings(max_examples=150, deadline=None)
@given(
    s=sources(), cap=st.integers(1, 12), seed=st.integers(0, 2**63 - 1), first=st.integers(0, 30)
)
def test_advance_matches_python_twin(s, cap, seed, first):
    """Jitted and Python advance agree call by call; resuming equals one unbounded call."""
    n = len(s["next_c"])
    a, b = _copy(s), _copy(s)
    rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
    out_ta, out_sa = np.empty(cap), np.empty(cap, dtype=np.int64)
    out_tb, out_sb = np.empty(cap), np.empty(cap, dtype=np.int64)
    start = min(first, n)
    # Reference: the same slice in one call with room for every event.
    whole = _copy(s)
    big_t, big_src = np.empty(50_000), np.empty(50_000, dtype=np.int64)
    n_big, end_big = _call(advance, whole, start, np.random.default_rng(seed), big_t, big_src)
    assert end_big == n
    got_t, got_src = [], []
    while True:
        n_out, nxt = _call(advance, a, start, rng_a, out_ta, out_sa)
        n_out_py, nxt_py = _call(advance.py_func, b, start, rng_b, out_tb, out_sb)
        assert (int(n_out), int(nxt)) == (int(n_out_py), int(nxt_py))
        np.testing.assert_array_equal(out_ta[:n_out], out_tb[:n_out])
        np.testing.assert_array_equal(out_sa[:n_out], out_sb[:n_out])
        np.testing.assert_array_equal(a["next_c"], b["next_c"])
        assert rng_a.bit_generator.state == rng_b.bit_generator.state
        # What the events mean: in source order, from ``start`` on, before each source ends.
        src, t = out_sa[:n_out], out_ta[:n_out]
        assert (np.diff(src) >= 0).all() and (src >= start).all() and (src < n).all()
        assert (t < s["end_t"][src]).all() and (t >= s["t0"]).all()
        assert start <= nxt <= n
        if nxt < n:
            assert n_out == cap, "resumed before the output was full"
        got_t.append(out_ta[:n_out].copy())
        got_src.append(out_sa[:n_out].copy())
        if nxt == n:
            break
        start = nxt
    # Resuming after a full output changes nothing: same events as one unbounded call.
    np.testing.assert_array_equal(np.concatenate(got_t), big_t[:n_big])
    np.testing.assert_array_equal(np.concatenate(got_src), big_src[:n_big])
    np.testing.assert_array_equal(a["next_c"], whole["next_c"])
    # Every source is now past the slice (or ended), apart from those before ``first``.
    done = a["next_c"][min(first, n) :]
    assert (done >= s["clock_end"][s["group"][min(first, n) :]]).all()
    np.testing.assert_array_equal(a["next_c"][: min(first, n)], s["next_c"][: min(first, n)])


def test_advance_resumes_when_output_is_full():
    """A full output returns the source to resume from, and resuming finishes the slice."""
    s = dict(
        next_c=np.array([0.0, 0.0]),
        inv_mult=np.array([0.01, 0.01]),
        end_t=np.full(2, np.inf),
        group=np.zeros(2, dtype=np.int8),
        clock=np.array([0.0]),
        clock_end=np.array([1.0]),
        rate=np.array([1.0]),
        t0=0.0,
    )
    for kernel in (advance, advance.py_func):
        c = _copy(s)
        rng = np.random.default_rng(3)
        out_t, out_src = np.empty(5), np.empty(5, dtype=np.int64)
        n_out, nxt = _call(kernel, c, 0, rng, out_t, out_src)
        assert (n_out, nxt) == (5, 0)
        assert c["next_c"][0] < 1.0  # the pending event is kept for the resumed call
        calls = 1
        while nxt < 2:
            n_out, nxt = _call(kernel, c, nxt, rng, out_t, out_src)
            calls += 1
        assert calls > 2
        assert (c["next_c"] >= 1.0).all()


@st.composite
def poisson_world(draw):
    g_count = draw(st.integers(1, 2))
    profiles = np.array(
        draw(
            st.lists(
                st.lists(floats(0, 0.01), min_size=24, max_size=24),
                min_size=g_count,
                max_size=g_count,
            )
        )
    )
    n0 = draw(st.integers(1, 20))  # zero sources: test_emit_with_no_sources
    group0 = draw(st.lists(st.integers(0, g_count - 1), min_size=n0, max_size=n0))
    mult0 = draw(st.lists(st.one_of(st.just(0.0), floats(0.1, 3)), min_size=n0, max_size=n0))
    slices = draw(st.integers(1, 6))
    # per slice: sources to add at a fraction of the slice, and sources to end
    plans = []
    for _ in range(slices):
        k = draw(st.integers(0, 4))
        plans.append(
            dict(
                frac=draw(floats(0, 0.999)),
                group=draw(st.lists(st.integers(0, g_count - 1), min_size=k, max_size=k)),
                mult=draw(st.lists(floats(0.1, 3), min_size=k, max_size=k)),
                end=draw(st.lists(st.integers(0, 40), max_size=3)),
                end_frac=draw(floats(0, 1)),
            )
        )
    return profiles, group0, mult0, plans


@settings(max_examples=40, deadline=None)
@given(world=poisson_world(), seed=st.integers(0, 2**32 - 1), out_size=st.integers(1, 8))
def test_emit_with_either_kernel_gives_the_same_calls(world, seed, out_size):
    """PoissonSources.emit with advance or advance.py_func: same (t, src) slice after slice."""
    profiles, group0, mult0, plans = world
    slice_s = 900.0
    built = []
    for kernel in (advance, advance.py_func):
        src = PoissonSources(profiles, capacity=4)
        src._out_t = np.empty(out_size)  # a tiny output buffer exercises the resume path
        src._out_src = np.empty(out_size, dtype=np.int64)
        src.add(
            0.0, np.array(group0, dtype=np.int64), np.array(mult0), np.random.default_rng(seed + 1)
        )
        built.append((src, kernel, np.random.default_rng(seed), np.random.default_rng(seed + 2)))
    t0 = 0.0
    for plan in plans:
        t1 = t0 + slice_s
        results = []
        for src, kernel, rng, rng_add in built:
            if plan["group"]:
                src.add(
                    t0 + plan["frac"] * slice_s,
                    np.array(plan["group"]),
                    np.array(plan["mult"]),
                    rng_add,
                )
            ended = [i for i in plan["end"] if i < len(src) and np.isinf(src.cols["end_t"][i])]
            src.end(ended, t0 + plan["end_frac"] * slice_s)
            results.append(src.emit(t1, rng, kernel=kernel))
        (ta, sa), (tb, sb) = results
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(sa, sb)
        assert ((ta >= t0) & (ta < t1 + 1e-6)).all()
        (a, _, ra, _), (b, _, rb, _) = built
        assert ra.bit_generator.state == rb.bit_generator.state
        np.testing.assert_array_equal(a.cols["next_c"], b.cols["next_c"])
        np.testing.assert_array_equal(a.clock, b.clock)
        t0 = t1


def test_emit_with_no_sources():
    """Adding zero sources is a no-op, and either kernel then emits nothing."""
    for kernel in (advance, advance.py_func):
        src = PoissonSources(np.full((1, 24), 1 / 3600), capacity=4)
        ids = src.add(0.0, np.empty(0, dtype=np.int64), np.empty(0), np.random.default_rng(0))
        assert len(ids) == 0 and len(src) == 0
        t, who = src.emit(900.0, np.random.default_rng(1), kernel=kernel)
        assert t.shape == (0,) and who.shape == (0,)


# -- sim/timesort.py: time_order ----------------------------------------------------------------
@st.composite
def times(draw, outside=False):
    t0 = draw(floats(-1e6, 1e6), label="t0")
    width = draw(st.one_of(st.just(0.0), floats(1e-3, 1e5)), label="width")
    t1 = t0 + width
    lo, hi = (t0 - 3 * width - 1, t1 + 3 * width + 1) if outside else (t0, t1)
    pool = draw(st.lists(floats(lo, hi), min_size=1, max_size=4), label="ties")
    values = draw(
        st.lists(
            st.one_of(floats(lo, hi), st.sampled_from(pool), st.sampled_from([t0, t1])),
            max_size=150,
        ),
        label="t",
    )
    return np.array(values, dtype=np.float64), t0, t1


@settings(max_examples=200, deadline=None)
@given(case=times())
def test_time_order_is_a_stable_argsort(case):
    """time_order equals numpy's stable argsort and its Python twin."""
    t, t0, t1 = case
    expected = np.argsort(t, kind="stable")
    got = time_order(t, t0, t1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(time_order.py_func(t, t0, t1), expected)


@settings(max_examples=60, deadline=None)
@given(case=times(outside=True))
def test_time_order_orders_times_outside_the_bounds(case):
    """Times a little outside [t0, t1] are clamped into the end buckets and still ordered."""
    t, t0, t1 = case
    expected = np.argsort(t, kind="stable")
    np.testing.assert_array_equal(time_order(t, t0, t1), expected)
    np.testing.assert_array_equal(time_order.py_func(t, t0, t1), expected)


def test_time_order_empty_single_and_all_equal():
    """n = 0 and n = 1, and a batch of identical times, keep the input order."""
    for kernel in (time_order, time_order.py_func):
        assert kernel(np.empty(0), 0.0, 1.0).shape == (0,)
        np.testing.assert_array_equal(kernel(np.array([0.5]), 0.0, 1.0), [0])
        np.testing.assert_array_equal(kernel(np.full(50, 0.25), 0.0, 1.0), np.arange(50))
        np.testing.assert_array_equal(kernel(np.full(7, 3.0), 3.0, 3.0), np.arange(7))


# -- models/jit.py: unowned --------------------------------------------------------------------
def _bump(st: tuple, k: int) -> float:
    """Writes through borrowed views of a state tuple, from a helper that unpacks it."""
    st = unowned(st)
    ints, floats_, one = st[0], st[1], unowned(st[2])
    for j in range(k):
        ints[j % ints.shape[0]] += 1
        floats_[j % floats_.shape[0], 0] += 0.5
    one[0] = float(ints.sum())
    return floats_.sum()


_bump_jit = njit(cache=True)(_bump)


def test_unowned_views_write_through_and_leave_reference_counts_alone():
    made = [(np.zeros(3, dtype=np.int64), np.zeros((2, 2)), np.zeros(1)) for _ in range(2)]
    counts = [[sys.getrefcount(a) for a in state] for state in made]
    assert _bump(made[0], 7) == _bump_jit(made[1], 7) == 3.5
    for state in made:  # the Python twin (identity) and the compiled views change the same cells
        np.testing.assert_array_equal(state[0], [3, 2, 2])
        np.testing.assert_array_equal(state[1], [[2.0, 0.0], [1.5, 0.0]])
        assert state[2][0] == 7.0
    # the compiled call took no reference it did not give back, and dropped none it lacked
    assert [[sys.getrefcount(a) for a in state] for state in made] == counts
    with pytest.raises(TypingError):  # something that holds an array
        njit(lambda x: unowned(x))((1, 2.0))


def _nested(state: tuple) -> int:
    (a, n), b = unowned(state)
    a[0] += n
    b[1] = a[0]
    return n


def _with_list(arr: np.ndarray, items) -> int:
    a, kept = unowned((arr, items))
    return len(kept) + a.shape[0]


def test_unowned_passes_other_values_and_nested_tuples_through():
    a, b = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    assert njit(_nested)(((a, 5), b)) == 5
    np.testing.assert_array_equal(a, [5, 0])
    np.testing.assert_array_equal(b, [0, 5])
    # a counted value passed through keeps its reference (one dropped per call freed it)
    items = typed.List([1, 2, 3])
    run = njit(_with_list)
    assert all(run(a, items) == 5 for _ in range(50))
    assert list(items) == [1, 2, 3]


# -- sim/world/platform/tables.py: count_hourly ------------------------------------------------
@st.composite
def finished_attempts(draw):
    n = draw(st.integers(0, 40), label="n")
    arrive = draw(st.lists(floats(7200, 4 * 3600), min_size=n, max_size=n))
    wait = draw(st.lists(floats(0, 120), min_size=n, max_size=n))
    codes = st.tuples(
        st.integers(0, 2),  # tenant
        st.sampled_from([L.VOICE, L.TEXT, L.OUTBOUND]),
        st.integers(0, len(L.OUTCOMES) - 1),
        st.integers(0, 1),
        st.integers(0, 1),
    )
    rest = draw(st.lists(codes, min_size=n, max_size=n))
    rows = np.zeros((n, 7))
    if n:
        rows[:, 0], rows[:, 1], rows[:, 2:] = arrive, wait, np.array(rest, dtype=float)
    return rows


@settings(max_examples=60, deadline=None)
@given(rows=finished_attempts(), sl=floats(0, 60))
def test_count_hourly_matches_python_twin(rows, sl):
    sums = [np.zeros((4, 3, 16)) for _ in range(2)]
    seen = [count_hourly(rows, sl, 1, sums[0]), count_hourly.py_func(rows, sl, 1, sums[1])]
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(sums[0], sums[1])
    # every voice attempt that is not closed is offered once, in the hour it arrived
    voice = (rows[:, 3] == L.VOICE) & (rows[:, 4] != L.CLOSED)
    assert sums[0][..., 0].sum() == voice.sum()
    np.testing.assert_array_equal(seen[0], np.isin(np.arange(4), rows[:, 0] // 3600 - 1))


def test_count_hourly_counts_each_kind_where_it_belongs():
    # arrival, wait, tenant, channel, outcome, queued, retried
    rows = np.array(
        [
            [3600.0, 10.0, 0, L.VOICE, L.ANSWERED, 1, 0],  # answered within 20 s, queued
            [3700.0, 30.0, 0, L.VOICE, L.ANSWERED, 1, 0],  # answered late
            [3800.0, 50.0, 1, L.VOICE, L.ABANDONED, 1, 1],  # abandoned, retried
            [3900.0, 0.0, 1, L.VOICE, L.BLOCKED, 0, 1],
            [4000.0, 0.0, 1, L.VOICE, L.CLOSED, 0, 0],
            [4100.0, 0.0, 1, L.VOICE, L.NO_PORTS, 0, 0],
            [4200.0, 0.0, 1, L.VOICE, L.REFUSED, 0, 0],
            [4300.0, 0.0, 0, L.TEXT, L.CLOSED, 0, 0],  # closed, not a text offered
            [7300.0, 5.0, 0, L.TEXT, L.ANSWERED, 1, 0],  # the next hour
            [7400.0, 0.0, 0, L.OUTBOUND, L.ANSWERED, 0, 0],
            [7500.0, 0.0, 0, L.OUTBOUND, L.CLOSED, 0, 0],  # a dial, never "closed"
            [7600.0, 0.0, 0, L.OUTBOUND, L.EXPIRED, 0, 0],
        ]
    )
    sums = np.zeros((2, 2, 16))
    seen = count_hourly(rows, 20.0, 1, sums)
    np.testing.assert_array_equal(seen, [True, True])
    names = HOURLY_COUNTS[:16]
    got = {(h, t, names[k]): v for (h, t, k), v in np.ndenumerate(sums) if v}
    assert got == {
        (0, 0, "offered"): 2, (0, 0, "answered"): 2, (0, 0, "within_sl"): 1,
        (0, 0, "queued"): 2, (0, 0, "wait_seconds"): 40.0,
        (0, 0, "closed"): 1,
        (0, 1, "offered"): 4, (0, 1, "abandoned"): 1, (0, 1, "blocked"): 1,
        (0, 1, "no_ports"): 1, (0, 1, "refused"): 1,
        (0, 1, "queued"): 1, (0, 1, "retried"): 2, (0, 1, "wait_seconds"): 50.0,
        (0, 1, "closed"): 1,
        (1, 0, "texts"): 1, (1, 0, "texts_answered"): 1, (1, 0, "texts_within_sl"): 1,
        (1, 0, "dials"): 3, (1, 0, "connected"): 1,
    }  # fmt: skip
