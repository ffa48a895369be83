"""Kleinberg's burst automaton (exact Viterbi, offline) and the cohort detector.

Kernels are checked against their plain-Python twins (``kernel.py_func``) and against
brute force / naive recomputation; the cohort detector is then run on a synthetic carrier
with a snowshoe campaign among ordinary new numbers, call-centre lines, notification bursts
and a business that activates 30 lines at once.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.burst.base import OutOfOrderError
from models.burst.cohort import NEVER, CohortDetector, cohort_step
from models.burst.kleinberg import kleinberg_bursts, kleinberg_flags, kleinberg_states, viterbi_path

DAY = 86400.0


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# -- Kleinberg: brute force and greedy references ----------------------------------------------
def brute_force(cost0, cost1, up):
    """Least cost over all 2^m paths (summed as the kernel does) and the tie-rule path.

    The tie rule picks the elementwise minimum of the least-cost paths; checked here to be
    itself a least-cost path, and to be the smallest of them read from the last gap
    backwards (how the kernel finds it).
    """
    m = len(cost0)
    paths = list(itertools.product((0, 1), repeat=m))
    cost = [path_cost(p, cost0, cost1, up) for p in paths]
    best = min(cost)
    optimal = np.array([p for p, c in zip(paths, cost) if c == best], dtype=np.int8)
    least = optimal.min(axis=0)
    if not math.isinf(best) and len(optimal) > 1 and all(float(c) == int(c) for c in cost):
        assert path_cost(least, cost0, cost1, up) == best  # lattice: exact costs only
        assert tuple(least[::-1]) == min(tuple(p[::-1]) for p in optimal)
    return best, least, len(optimal)


def path_cost(path, cost0, cost1, up):
    acc, prev = 0.0, 0
    for k, q in enumerate(path):
        if q == 1 and prev == 0:
            acc = acc + up
        acc = acc + (cost1[k] if q else cost0[k])
        prev = q
    return acc


def greedy_states(gaps, base_rate, s, gamma):
    """A greedy walk (as in ports that choose states greedily): each state given the previous."""
    a = (base_rate, s * base_rate)
    up = gamma * math.log(len(gaps) + 1)
    q, out = 0, []
    for x in gaps:
        cost = [a[j] * x - math.log(a[j]) + (up if j > q else 0.0) for j in (0, 1)]
        q = int(cost[1] < cost[0])
        out.append(q)
    return np.array(out, dtype=np.int8)


def costs(gaps, base_rate, s):
    a0, a1 = base_rate, s * base_rate
    return a0 * gaps - math.log(a0), a1 * gaps - math.log(a1)


@st.composite
def streams(draw, max_ids=5, max_events=40):
    """A time-ordered stream (t, ids) with repeated times and a few numbers."""
    n_ids = draw(st.integers(1, max_ids), label="n_ids")
    n = draw(st.integers(0, max_events), label="n")
    gaps = draw(st.lists(st.one_of(st.just(0.0), floats(0, 50)), min_size=n, max_size=n))
    t = draw(floats(0, 1e5), label="t0") + np.cumsum(np.array(gaps, dtype=np.float64))
    ids = np.array(
        draw(st.lists(st.integers(0, n_ids - 1), min_size=n, max_size=n)), dtype=np.int64
    )
    return t, ids, n_ids


kparams = dict(base_rate=floats(0.005, 2.0), s=floats(1.05, 6.0), gamma=floats(0.0, 3.0))


# -- Kleinberg: kernels equal their Python twins -----------------------------------------------
@settings(max_examples=150, deadline=None)
@given(m=st.integers(0, 30), data=st.data(), up=floats(0, 10))
def test_viterbi_path_matches_python_twin(m, data, up):
    cost0 = np.array(data.draw(st.lists(floats(-5, 5), min_size=m, max_size=m)))
    cost1 = np.array(data.draw(st.lists(floats(-5, 5), min_size=m, max_size=m)))
    a, b = np.zeros(m, dtype=np.int8), np.zeros(m, dtype=np.int8)
    assert viterbi_path(cost0, cost1, up, a) == viterbi_path.py_func(cost0, cost1, up, b)
    np.testing.assert_array_equal(a, b)


@settings(max_examples=150, deadline=None)
@given(stream=streams(), **kparams)
def test_kleinberg_flags_match_python_twin(stream, base_rate, s, gamma):
    t, ids, n_ids = stream
    jit = kleinberg_bursts(t, ids, n_ids, base_rate, s, gamma)
    py = kleinberg_bursts(t, ids, n_ids, base_rate, s, gamma, kernel=kleinberg_flags.py_func)
    np.testing.assert_array_equal(jit, py)


# -- Kleinberg: exactness against brute force --------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(m=st.integers(0, 9), data=st.data(), up=st.integers(0, 4))
def test_viterbi_equals_brute_force_with_ties(m, data, up):
    """Small integer costs: sums are exact, ties are everywhere; the tie rule decides."""
    cost0 = np.array(data.draw(st.lists(st.integers(0, 4), min_size=m, max_size=m)), float)
    cost1 = np.array(data.draw(st.lists(st.integers(0, 4), min_size=m, max_size=m)), float)
    best, path, _ = brute_force(cost0, cost1, float(up))
    for kernel in (viterbi_path, viterbi_path.py_func):
        states = np.zeros(m, dtype=np.int8)
        assert kernel(cost0, cost1, float(up), states) == best
        np.testing.assert_array_equal(states, path)


def test_tie_rule_picks_the_least_optimal_path():
    """All costs equal and a free entry: every path ties, the all-zero path is chosen."""
    states = np.ones(5, dtype=np.int8)
    assert viterbi_path(np.ones(5), np.ones(5), 0.0, states) == 5.0
    np.testing.assert_array_equal(states, 0)
    c1 = np.array([1.0, 0.0, 1.0, 0.0])
    for c0, optimal, chosen in [
        # four optimal paths of cost 2: their elementwise minimum is the all-zero path
        (
            [0.0, 1.0, 1.0, 0.0],
            {(0, 0, 0, 0), (0, 1, 0, 0), (0, 1, 1, 0), (0, 1, 1, 1)},
            (0, 0, 0, 0),
        ),
        # two optimal paths: the burst is kept, and ends as early as it can
        ([0.0, 2.0, 2.0, 0.0], {(0, 1, 1, 0), (0, 1, 1, 1)}, (0, 1, 1, 0)),
    ]:
        c0 = np.array(c0)
        cost = {p: path_cost(p, c0, c1, 1.0) for p in itertools.product((0, 1), repeat=4)}
        assert {p for p, c in cost.items() if c == 2.0} == optimal and min(cost.values()) == 2
        for kernel in (viterbi_path, viterbi_path.py_func):
            states = np.full(4, 7, dtype=np.int8)
            assert kernel(c0, c1, 1.0, states) == 2.0
            assert tuple(states) == chosen


@settings(max_examples=200, deadline=None)
@given(m=st.integers(0, 9), data=st.data(), **kparams)
def test_kleinberg_states_equal_brute_force(m, data, base_rate, s, gamma):
    """Real gaps: Viterbi's cost is the exact minimum, and its path is optimal (the one)."""
    scale = 1.0 / base_rate
    gaps = np.array(
        data.draw(st.lists(st.one_of(st.just(0.0), floats(0, 4 * scale)), min_size=m, max_size=m))
    )
    c0, c1 = costs(gaps, base_rate, s)
    up = gamma * math.log(m + 1)
    best, path, n_best = brute_force(c0, c1, up)
    for kernel in (viterbi_path, viterbi_path.py_func):
        states, cost = kleinberg_states(gaps, base_rate, s, gamma, kernel=kernel)
        assert cost == best
        assert path_cost(states, c0, c1, up) == best
        if n_best == 1:
            np.testing.assert_array_equal(states, path)


@settings(max_examples=150, deadline=None)
@given(stream=streams(max_events=60), **kparams)
def test_flag_time_is_the_end_of_the_first_burst_gap(stream, base_rate, s, gamma):
    """kleinberg_bursts is kleinberg_states number by number: t of the event ending gap 1."""
    t, ids, n_ids = stream
    flags = kleinberg_bursts(t, ids, n_ids, base_rate, s, gamma)
    for k in range(n_ids):
        tk = t[ids == k]
        states, _ = kleinberg_states(np.diff(tk), base_rate, s, gamma)
        burst = np.flatnonzero(states == 1)
        assert flags[k] == (tk[burst[0] + 1] if len(burst) else np.inf)


# -- Kleinberg: what it flags ------------------------------------------------------------------
def _flag_index(t_number, flag):
    return int(np.searchsorted(t_number, flag)) if np.isfinite(flag) else -1


def test_constant_high_rate_is_a_burst_from_the_start():
    """A robocaller at a steady s * base_rate from day one: flagged at its second call."""
    a0 = 5 / DAY
    for rate in (2 * a0, 3 * a0, 20 * a0):
        t = np.arange(30) / rate
        flags = kleinberg_bursts(t, np.zeros(30, dtype=np.int64), 1, a0, s=2.0, gamma=1.0)
        assert flags[0] == t[1]


def test_poisson_above_burst_rate_is_flagged_near_its_start():
    a0, s = 5 / DAY, 2.0
    rng = np.random.default_rng(5)
    n_num, n_ev = 200, 50
    tt = np.cumsum(rng.exponential(1 / (2 * s * a0), (n_num, n_ev)), axis=1)
    t, ids = tt.ravel(), np.repeat(np.arange(n_num), n_ev)
    order = np.argsort(t, kind="stable")
    flags = kleinberg_bursts(t[order], ids[order], n_num, a0, s, gamma=1.0)
    idx = np.array([_flag_index(tt[k], flags[k]) for k in range(n_num)])
    assert (idx >= 1).all()  # every one flagged
    assert np.median(idx) <= 2 and np.percentile(idx, 95) <= 6


def test_base_rate_without_burst_is_not_flagged():
    a0 = 5 / DAY
    t = np.arange(200) / a0
    assert kleinberg_bursts(t, np.zeros(200, dtype=np.int64), 1, a0)[0] == np.inf
    # Poisson at the base rate: gamma = 2 keeps spurious bursts negligible (see the module
    # docstring: gamma = 1 flags about 10% of them).
    rng = np.random.default_rng(11)
    n_num, n_ev = 500, 100
    tt = np.cumsum(rng.exponential(1 / a0, (n_num, n_ev)), axis=1)
    t, ids = tt.ravel(), np.repeat(np.arange(n_num), n_ev)
    order = np.argsort(t, kind="stable")
    flags = kleinberg_bursts(t[order], ids[order], n_num, a0, 2.0, gamma=2.0)
    assert np.isfinite(flags).sum() <= 5


def test_greedy_misses_what_viterbi_finds():
    """One short gap never pays ln(n) up front, so the greedy walk never enters a burst;
    the optimal path pays it once and recovers it over a long run of short gaps."""
    a0, s, gamma = 1.0, 2.0, 1.0
    gaps = np.concatenate([np.full(10, 1.0), np.full(40, 0.1), np.full(10, 1.0)])
    states, _ = kleinberg_states(gaps, a0, s, gamma)
    np.testing.assert_array_equal(states, np.r_[np.zeros(10), np.ones(40), np.zeros(10)])
    assert not greedy_states(gaps, a0, s, gamma).any()
    c0, c1 = costs(gaps, a0, s)
    up = gamma * math.log(len(gaps) + 1)
    assert path_cost(states, c0, c1, up) < path_cost(np.zeros(60, int), c0, c1, up) - 5
    t = np.concatenate([[0.0], np.cumsum(gaps)])
    flag = kleinberg_bursts(t, np.zeros(len(t), dtype=np.int64), 1, a0, s, gamma)[0]
    assert flag == t[11]  # the event that ends the first short gap


def test_kleinberg_edge_cases_and_errors():
    t = np.array([0.0, 5.0, 3.0])
    with pytest.raises(OutOfOrderError):
        kleinberg_bursts(t, np.zeros(3, dtype=np.int64), 1, 1.0)
    with pytest.raises(OutOfOrderError):
        kleinberg_bursts(t, np.zeros(3, dtype=np.int64), 1, 1.0, kernel=kleinberg_flags.py_func)
    # fewer than two events: never a burst
    flags = kleinberg_bursts(np.array([0.0, 0.0]), np.array([0, 1]), 3, 1.0)
    np.testing.assert_array_equal(flags, np.inf)
    assert kleinberg_bursts(np.empty(0), np.empty(0, dtype=np.int64), 0, 1.0).shape == (0,)
    for kwargs, name in [
        (dict(base_rate=0.0), "base_rate"),
        (dict(base_rate=np.inf), "base_rate"),
        (dict(s=1.0), "s"),
        (dict(gamma=-1.0), "gamma"),
        (dict(gamma=np.nan), "gamma"),
    ]:
        args = dict(base_rate=1.0) | kwargs
        with pytest.raises(ValueError, match=name):
            kleinberg_bursts(np.zeros(2), np.zeros(2, dtype=np.int64), 1, **args)
    with pytest.raises(ValueError, match="ids"):
        kleinberg_bursts(np.zeros(2), np.array([0, 3]), 2, 1.0)


# -- Cohort detector: kernel twin, naive reference, batches ------------------------------------
@st.composite
def cohort_cases(draw):
    n_ids = draw(st.integers(1, 8), label="n_ids")
    cohort_seconds = draw(floats(1, 100), label="cohort_seconds")
    # each number unassigned (None) or assigned at a time in one of three buckets
    assign = draw(
        st.lists(
            st.one_of(st.none(), floats(0, 3 * cohort_seconds)), min_size=n_ids, max_size=n_ids
        ),
        label="assign",
    )
    window = draw(floats(1, 10), label="window")
    n = draw(st.integers(0, 60), label="n")
    gaps = draw(st.lists(st.one_of(st.just(0.0), floats(0, 0.7 * window)), min_size=n, max_size=n))
    t = draw(floats(0, 100), label="t0") + np.cumsum(np.array(gaps, dtype=np.float64))
    ids = np.array(
        draw(st.lists(st.integers(0, n_ids - 1), min_size=n, max_size=n)), dtype=np.int64
    )
    params = dict(
        cohort_seconds=cohort_seconds,
        window=window,
        threshold=draw(st.one_of(st.integers(0, 6), floats(0, 6)), label="thr"),
        min_members=draw(st.integers(1, 4), label="min_members"),
        max_member_calls=draw(st.integers(1, 4), label="max_member_calls"),
    )
    return params, assign, t, ids, n_ids


def _detector(params, assign, n_ids, kernel=cohort_step):
    det = CohortDetector(**params, kernel=kernel).reset(n_ids)
    who = np.array([i for i, a in enumerate(assign) if a is not None], dtype=np.int64)
    det.assign(who, np.array([assign[i] for i in who], dtype=np.float64))
    return det


STATE = (
    "cohort_",
    "member_win_",
    "member_calls_",
    "cohort_win_",
    "cohort_calls_",
    "cohort_members_",
    "cohort_key_",
    "flagged_at_",
)


def assert_same_state(a, b):
    for name in STATE:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def naive_alarms(params, assign, t, ids):
    """Recount each event's cohort window from scratch."""
    cs, w = params["cohort_seconds"], params["window"]
    cohort = [None if a is None else math.floor(a / cs) for a in assign]
    alarm = np.zeros(len(t), dtype=bool)
    for j in range(len(t)):
        c = cohort[ids[j]]
        if c is None:
            continue
        win = math.floor(t[j] / w)
        mates = [k for k in range(j + 1) if cohort[ids[k]] == c and math.floor(t[k] / w) == win]
        volume, members = len(mates), len({int(ids[k]) for k in mates})
        own = sum(1 for k in mates if ids[k] == ids[j])
        alarm[j] = (
            volume > params["threshold"]
            and members >= params["min_members"]
            and own <= params["max_member_calls"]
        )
    return alarm


@settings(max_examples=150, deadline=None)
@given(case=cohort_cases())
def test_cohort_kernel_matches_python_twin_and_naive_count(case):
    params, assign, t, ids, n_ids = case
    jit = _detector(params, assign, n_ids)
    py = _detector(params, assign, n_ids, kernel=cohort_step.py_func)
    a = jit.update(t, ids)
    np.testing.assert_array_equal(a, py.update(t, ids))
    assert_same_state(jit, py)
    np.testing.assert_array_equal(a, naive_alarms(params, assign, t, ids))
    unassigned = [i for i, x in enumerate(assign) if x is None]
    assert not np.isin(ids[a], unassigned).any()


@settings(max_examples=150, deadline=None)
@given(case=cohort_cases(), cuts=st.lists(st.integers(0, 60), max_size=5))
def test_cohort_batches_equal_one_batch(case, cuts):
    params, assign, t, ids, n_ids = case
    whole = _detector(params, assign, n_ids)
    parts = _detector(params, assign, n_ids)
    expected = whole.update(t, ids)
    edges = [0, *sorted(min(c, len(t)) for c in cuts), len(t)]
    got = np.concatenate(
        [parts.update(t[lo:hi], ids[lo:hi]) for lo, hi in zip(edges[:-1], edges[1:])]
    )
    np.testing.assert_array_equal(got, expected)
    assert_same_state(whole, parts)


def _check_invariant(det):
    """Each cohort's counts are the sums over its current members active in its window."""
    for c in range(det.n_cohorts_):
        members = np.flatnonzero(det.cohort_ == c)
        live = members[
            (det.member_win_[members] != NEVER) & (det.member_win_[members] == det.cohort_win_[c])
        ]
        assert det.cohort_calls_[c] == det.member_calls_[live].sum()
        assert det.cohort_members_[c] == len(live)


@settings(max_examples=100, deadline=None)
@given(case=cohort_cases(), data=st.data())
def test_cohort_forget_and_reassign_keep_counts_consistent(case, data):
    params, assign, t, ids, n_ids = case
    det = _detector(params, assign, n_ids)
    edges = [0, *sorted(data.draw(st.lists(st.integers(0, len(t)), max_size=4))), len(t)]
    out = np.empty(0, dtype=np.int64)  # forgotten and not assigned again: no cohort
    for lo, hi in zip(edges[:-1], edges[1:]):
        alarm = det.update(t[lo:hi], ids[lo:hi])
        assert not np.isin(ids[lo:hi][alarm], out).any()
        _check_invariant(det)
        gone = np.array(data.draw(st.lists(st.integers(0, n_ids - 1), max_size=3)), np.int64)
        det.forget(gone)
        _check_invariant(det)
        assert (det.cohort_[gone] == -1).all() and np.isinf(det.flagged_at_[gone]).all()
        again = np.unique(data.draw(st.lists(st.integers(0, n_ids - 1), max_size=3)))
        det.assign(again, t[hi - 1] if hi > 0 else 0.0)
        _check_invariant(det)
        out = np.setdiff1d(np.union1d(out, gone), again)
        assert (det.cohort_[out] == -1).all()


def test_cohort_rule_conditions():
    """Each of the three conditions gates the alarm."""
    det = CohortDetector(60, 100, threshold=3, min_members=3, max_member_calls=2).reset(6)
    det.assign([0, 1, 2, 3], 10.0)  # one cohort; 4, 5 unassigned
    t = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 100, 101])
    ids = np.array([0, 0, 1, 2, 0, 4, 4, 3, 1, 1])
    # event: 0:V1 1:V2 2:V3 3:V4 M3 own1 -> alarm; 4: own(0)=3 > 2 -> no; 5,6: no cohort;
    # 7: V5 M4 own1 -> alarm; 8: new window V1 -> no; 9: V2 -> no
    np.testing.assert_array_equal(det.update(t, ids), [0, 0, 0, 1, 0, 0, 0, 1, 0, 0])
    assert det.flagged_at_[2] == 3.0 and det.flagged_at_[3] == 7.0
    assert np.isinf(det.flagged_at_[[0, 1, 4, 5]]).all()
    assert det.state_bytes_per_id == 16
    assert det.n_cohorts_ == 1 and det.cohort_key_[0] == 0


def test_cohort_errors():
    det = CohortDetector(60, 100, 3, 3, 2).reset(3)
    det.assign([0, 1], 0.0)
    with pytest.raises(OutOfOrderError):
        det.update(np.array([1.0, 0.5]), np.array([0, 1]))
    det = CohortDetector(60, 100, 3, 3, 2).reset(3)
    det.update(np.array([5.0]), np.array([2]))
    with pytest.raises(OutOfOrderError):
        det.update(np.array([4.0]), np.array([2]))
    with pytest.raises(ValueError, match="repeat"):
        det.assign([1, 1], 0.0)
    with pytest.raises(ValueError, match="ids"):
        det.update(np.array([6.0]), np.array([3]))


@pytest.mark.parametrize(
    "name,value",
    [
        ("cohort_seconds", 0),
        ("cohort_seconds", -1.0),
        ("cohort_seconds", np.nan),
        ("window", 0.0),
        ("window", np.inf),
        ("window", "1h"),
        ("threshold", -1),
        ("threshold", np.nan),
        ("min_members", 0),
        ("min_members", 2.5),
        ("min_members", True),
        ("max_member_calls", 0),
        ("max_member_calls", 1.5),
    ],
)
def test_cohort_bad_parameters_name_the_parameter(name, value):
    params = dict(
        cohort_seconds=60, window=3600, threshold=25, min_members=30, max_member_calls=3
    ) | {name: value}
    with pytest.raises(ValueError, match=name):
        CohortDetector(**params).reset(10)


# -- Cohort detector on a synthetic carrier ----------------------------------------------------
ORDINARY, CALL_CENTRE, SNOWSHOE, NOTIFY, BUSINESS = range(5)
SNOW_AT = 2 * DAY + 14 * 3600 + 180  # the snowshoe's numbers: 14:03-14:04 on day 2
SUITABLE = dict(cohort_seconds=60, window=7200, threshold=40, min_members=30, max_member_calls=3)


def synthetic_carrier(seed=0, days=10):
    """Ten days of calls from new numbers.

    * 5,000 ordinary new numbers assigned at Poisson times over days -20..10, each with a
      rate uniform in 0-10 calls/day between 08:00 and 22:00;
    * 20 call-centre lines activated together (day 1, 09:05), 300 calls/day each, 09-17;
    * 5 notification numbers: 3 calls/day, and one day 300 calls within one hour;
    * a business activating 30 lines together (day 1, 11:00), 2-8 calls/day each, 09-17;
    * a snowshoe: 100 numbers assigned within one minute (day 2, 14:03), each calling
      3-5 times a day between 10:00 and 16:00 from day 3 on.

    Returns times, ids (time-ordered), assignment times and the kind of each number.
    """
    rng = np.random.default_rng(seed)
    ts, who, assigned, kind = [], [], [], []

    def add(k, at, per_day=0.0, hours=(8, 22)):
        i = len(kind)
        kind.append(k)
        assigned.append(at)
        if per_day > 0:
            first = max(0, int(at // DAY))
            counts = rng.poisson(per_day, days - first)
            day = np.repeat(np.arange(first, days), counts)
            tt = day * DAY + rng.uniform(hours[0] * 3600, hours[1] * 3600, len(day))
            tt = tt[tt >= at]
            ts.append(tt)
            who.append(np.full(len(tt), i))
        return i

    for at, rate in zip(
        np.sort(rng.uniform(-20 * DAY, days * DAY, 5000)), rng.uniform(0, 10, 5000)
    ):
        add(ORDINARY, at, rate)
    for j in range(20):
        add(CALL_CENTRE, DAY + 9 * 3600 + 300 + j, 300, (9, 17))
    for _ in range(5):
        i = add(NOTIFY, rng.uniform(0, 3 * DAY), 3)
        start = rng.integers(4, days) * DAY + rng.integers(9, 17) * 3600
        ts.append(start + rng.uniform(0, 3600, 300))
        who.append(np.full(300, i))
    for j in range(30):
        add(BUSINESS, DAY + 11 * 3600 + j, rng.uniform(2, 8), (9, 17))
    for _ in range(100):
        i = add(SNOWSHOE, SNOW_AT + rng.uniform(0, 60))
        count = rng.integers(3, 6, days - 3)
        day = np.repeat(np.arange(3, days), count)
        ts.append(day * DAY + rng.uniform(10 * 3600, 16 * 3600, len(day)))
        who.append(np.full(len(day), i))
    t, ids = np.concatenate(ts), np.concatenate(who).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return t[order], ids[order], np.array(assigned), np.array(kind)


@pytest.fixture(scope="module")
def carrier():
    return synthetic_carrier()


def _run_carrier(carrier, params, assigned=None, batches=1):
    """Assign each number just before the first event at or after its assignment time."""
    t, ids, at, kind = carrier
    at = at if assigned is None else assigned
    det = CohortDetector(**params).reset(len(kind))
    order = np.argsort(at, kind="stable")
    cut = np.searchsorted(t, at[order])
    # event batches end at assignment points and at ``batches`` evenly spaced points
    edges = np.unique(np.r_[0, cut, np.linspace(0, len(t), batches + 1).astype(int), len(t)])
    alarms = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        due = order[cut == lo]
        if len(due):
            det.assign(due, at[due])
        alarms.append(det.update(t[lo:hi], ids[lo:hi]))
    return det, np.concatenate(alarms)


def test_snowshoe_is_flagged_and_nobody_else(carrier):
    t, ids, at, kind = carrier
    det, _ = _run_carrier(carrier, SUITABLE)
    flagged = np.isfinite(det.flagged_at_)
    snow = kind == SNOWSHOE
    assert flagged[snow].mean() >= 0.5
    assert flagged[snow].mean() == 1.0  # measured; the spec asks for >= 50%
    assert (det.flagged_at_[snow] >= 3 * DAY).all()  # on the campaign's calls
    for k in (ORDINARY, CALL_CENTRE, NOTIFY, BUSINESS):
        assert not flagged[kind == k].any(), k
    # Why no ordinary number is flagged here: none was assigned in the snowshoe's minute.
    assert not ((np.floor(at / 60) == math.floor(SNOW_AT / 60)) & ~snow).any()


def test_carrier_batches_equal_one_batch(carrier):
    one, a1 = _run_carrier(carrier, SUITABLE, batches=1)
    many, a2 = _run_carrier(carrier, SUITABLE, batches=37)
    np.testing.assert_array_equal(a1, a2)
    assert_same_state(one, many)


def test_bystander_in_the_snowshoe_minute_is_flagged(carrier):
    """A known limitation: an ordinary number assigned in the campaign's bucket is a
    member of the campaign's cohort and is flagged with it (collateral ~ assignment rate x
    cohort_seconds)."""
    t, ids, at, kind = carrier
    calls = np.bincount(ids, minlength=len(kind))
    bystander = np.flatnonzero((kind == ORDINARY) & (at < 0) & (calls >= 40))[0]
    moved = at.copy()
    moved[bystander] = SNOW_AT + 30
    det, _ = _run_carrier(carrier, SUITABLE, assigned=moved)
    assert np.isfinite(det.flagged_at_[bystander])


def test_min_members_must_exceed_coactivated_busy_lines(carrier):
    """With min_members <= 20 the 20 call-centre lines, activated together, are flagged at
    the start of their windows (every line is still quiet then); min_members is the guard."""
    t, ids, at, kind = carrier
    det, _ = _run_carrier(carrier, SUITABLE | dict(min_members=20))
    assert np.isfinite(det.flagged_at_[kind == CALL_CENTRE]).any()
