"""The world's fused slice kernels (``sim.world.kernels``) and their counter-based generator
(``sim.core.fastrng``): each kernel against its plain-Python twin (``kernel.py_func``,
hypothesis), the generator against a big-integer SplitMix64, and the calls they make against
theory (Poisson counts, uniform contact picks, answer probability, talk times).

Tolerances as in ``tests/test_statistics.py``: means within 4 standard errors, goodness of
fit p > 1e-3, fixed seeds.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.core.fastrng import LOGNORMAL, NONE, new_stream, next_u64, uniform
from sim.world.kernels import (
    N_KINDS,
    TALLY,
    complete_calls,
    count_inbound,
    draw_outcomes,
    line_calls,
    route_tally,
    source_calls,
)
from sim.world.schemas import (
    ASSIGNED,
    BLOCKED,
    DELIVERED,
    OFF_NET,
    PORTED_OUT,
    RESIDUAL,
    VACANT,
)

SEED = 20261201
M64 = (1 << 64) - 1
COLUMNS = (np.float64, np.int64, np.int64, np.int32, np.int32, np.int8, np.int32, bool, np.float32)


def _splitmix(key: int, k: int) -> int:
    """The ``k``-th draw (from 1) of a stream, written with Python integers."""
    z = (key + k * 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def test_generator_known_value():
    """SplitMix64 from state 0 gives 0xE220A8397B1DCDAF first (Vigna's reference code)."""
    stream = np.zeros(2, dtype=np.uint64)
    assert int(next_u64(stream)) == 0xE220A8397B1DCDAF
    assert int(stream[1]) == 1


@settings(max_examples=100, deadline=None)
@given(key=st.integers(0, M64), start=st.integers(0, 2**40), n=st.integers(1, 5))
def test_generator_matches_big_integers(key, start, n):
    stream = np.array([key, start], dtype=np.uint64)
    got = [int(next_u64(stream)) for _ in range(n)]
    assert got == [_splitmix(key, start + k) for k in range(1, n + 1)]
    assert int(stream[1]) == start + n


def test_generator_uniform_bits():
    """Uniforms on [0, 1): KS p > 1e-3; each of the 64 bits set with probability 1/2
    (4 SE)."""
    stream = new_stream(np.random.default_rng(SEED))
    u = np.array([uniform(stream) for _ in range(20_000)])
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    bits = np.array([int(next_u64(stream)) for _ in range(4000)], dtype=np.uint64)
    ones = np.array([int(((bits >> np.uint64(b)) & np.uint64(1)).sum()) for b in range(64)])
    assert (np.abs(ones - 2000) < 4 * math.sqrt(4000 / 4)).all()


# -- a small world of lines, contacts and numbers ------------------------------------------------
def _layout(rng, n_lines, n_numbers, deg_max=6, stale_share=0.3):
    numbers = np.sort(rng.choice(np.arange(2_125_550_000, 2_125_560_000), n_numbers, False))
    npa_slot = np.full(1000, -1, dtype=np.int32)
    npa_slot[212] = 0
    block_of = np.full(10_000, -1, dtype=np.int32)
    blocks = np.unique(numbers // 1000)
    block_of[blocks % 10_000] = np.arange(len(blocks))
    numbers = (blocks[:, None] * 1000 + np.arange(1000)).ravel()  # whole blocks
    deg = rng.integers(1, deg_max + 1, n_lines).astype(np.int32)
    off = np.concatenate([[0], np.cumsum(deg)[:-1]]).astype(np.int64)
    on = rng.random(int(deg.sum())) < 0.6
    contacts = np.where(
        on,
        numbers[rng.integers(0, len(numbers), int(deg.sum()))],
        rng.integers(3_000_000_000, 9_999_999_999, int(deg.sum())),
    )
    kind = rng.integers(0, 5, n_lines).astype(np.int8)  # 4 = robocaller
    campaign = np.where(kind == 4, rng.integers(0, 2, n_lines), -1).astype(np.int32)
    subs = (
        rng.integers(0, len(numbers), n_lines).astype(np.int32),
        kind,
        campaign,
        rng.choice([0.0, 5.0, 10.0], n_lines),
        off,
        deg,
        contacts,
    )
    disconnected = np.where(
        rng.random(len(numbers)) < stale_share, rng.choice([3.0, 8.0, 20.0], len(numbers)), -np.inf
    )
    inv = (numbers, npa_slot, block_of, disconnected)
    return subs, inv


def _profiles(rng):
    p = N_KINDS + 2
    code = rng.choice([NONE, 0, 1, 2, 3, 4], p).astype(np.int64)
    a = np.where(code == 4, 1.0, rng.uniform(0.5, 3.0, p))
    b = np.where(code == 4, 5.0, rng.uniform(0.3, 2.0, p))
    return (rng.random(p), code, a, b)


def _out(cap):
    return tuple(np.zeros(cap, dtype=d) for d in COLUMNS)


def _copy(x):
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return x.copy() if isinstance(x, np.ndarray) else x


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 25), cap=st.integers(1, 40))
def test_source_and_complete_calls_match_python_twins(seed, n, cap):
    """A slice made by the compiled kernels equals the one made by their twins: every
    column, the sources' clocks and both streams' counters, whether or not the output fills
    up (then the slice is resumed into a larger buffer)."""
    rng = np.random.default_rng(seed)
    subs, inv = _layout(rng, max(n, 1), 2000)
    g = rng.integers(0, 2, n).astype(np.int8)
    src = (
        rng.uniform(0, 3, n),
        np.where(rng.random(n) < 0.1, np.inf, 1 / rng.uniform(0.2, 3, n)),
        np.where(rng.random(n) < 0.2, rng.uniform(10, 13, n), np.inf),
        g,
    )
    clock, clock_end, rate = np.zeros(2), np.array([1.5, 3.0]), np.array([0.5, 1.0])
    line_of = rng.permutation(n).astype(np.int64) if rng.random() < 0.5 else np.empty(0, np.int64)
    prof = _profiles(rng)
    keys = (np.uint64(rng.integers(2**63)), 4)
    results = []
    for fs, fc in ((source_calls, complete_calls), (source_calls.py_func, complete_calls.py_func)):
        s, rc, ra = _copy(src), new_stream(np.random.default_rng(seed)), new_stream(rng)
        ra[0] = 12345
        out, start, j = _out(cap), 0, 0
        while True:
            j, start = fs(s, clock, clock_end, rate, 10.0, start, line_of, subs, rc, out, j)
            if start >= n:
                break
            out = tuple(np.concatenate([c, np.zeros_like(c)]) for c in out)
        fc(0, j, subs, inv, prof, ra, keys, out)
        results.append((j, s, rc, ra, tuple(c[:j] for c in out)))
    (j1, s1, rc1, ra1, o1), (j2, s2, rc2, ra2, o2) = results
    assert j1 == j2
    for a, b in zip((*s1, rc1, ra1, *o1), (*s2, rc2, ra2, *o2)):
        np.testing.assert_array_equal(a, b)
    t, caller, callee, caller_id, callee_id, kind, campaign, *_ = o1
    assert ((t >= 10.0) & (t < 13.0)).all()
    numbers = inv[0]
    np.testing.assert_array_equal(caller, numbers[caller_id])
    ours = callee_id >= 0
    np.testing.assert_array_equal(numbers[callee_id[ours]], callee[ours])
    assert not np.isin(callee[~ours], numbers).any()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(0, 30))
def test_line_calls_and_draw_outcomes_match_python_twins(seed, k):
    rng = np.random.default_rng(seed)
    subs, inv = _layout(rng, 10, 1000)
    times, lines = np.sort(rng.uniform(0, 60, k)), rng.integers(0, 10, k)
    prof, keys = _profiles(rng), (np.uint64(7), 4)
    got = []
    for fl, fc, fd in (
        (line_calls, complete_calls, draw_outcomes),
        (line_calls.py_func, complete_calls.py_func, draw_outcomes.py_func),
    ):
        rc, ra, out = new_stream(np.random.default_rng(seed)), new_stream(rng), _out(k + 1)
        ra[0] = 99
        n = fl(times, lines, subs, rc, out, 0)
        fc(0, n, subs, inv, prof, ra, keys, out)
        kinds = np.array([5, 6] * 3, dtype=np.int8)
        answer, talk = np.zeros(6, bool), np.zeros(6, np.float32)
        fd(kinds, prof, ra, answer, talk)
        got.append((n, rc, ra, answer, talk, *out))
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)
    assert got[0][0] == k
    np.testing.assert_array_equal(got[0][5][:k], times)


def test_redirect_walks_to_a_fresh_contact():
    """A subscriber's call to a contact disconnected after it joined goes to the first
    fresh contact of its walk; a robocaller's does not move; all stale: the last tried."""
    numbers = np.arange(2_125_550_000, 2_125_551_000)
    npa_slot = np.full(1000, -1, dtype=np.int32)
    npa_slot[212] = 0
    block_of = np.full(10_000, -1, dtype=np.int32)
    block_of[5550] = 0
    disconnected = np.full(1000, -np.inf)
    disconnected[[0, 1, 2, 5, 6]] = 9.0
    contacts = numbers[[0, 1, 2, 3, 5, 6]]  # line 0: contacts 0-3; line 1 and 2: 4-5
    subs = (
        np.array([100, 101, 102], dtype=np.int32),
        np.array([0, 4, 0], dtype=np.int8),
        np.array([-1, 0, -1], dtype=np.int32),
        np.zeros(3),
        np.array([0, 4, 4], dtype=np.int64),
        np.array([4, 2, 2], dtype=np.int32),
        contacts,
    )
    inv = (numbers, npa_slot, block_of, disconnected)
    prof = (
        np.ones(N_KINDS + 1),
        np.full(N_KINDS + 1, NONE),
        np.ones(N_KINDS + 1),
        np.ones(N_KINDS + 1),
    )
    for fc in (complete_calls, complete_calls.py_func):
        out = _out(3)
        out[3][:] = [0, 1, 2]  # lines
        out[2][:] = [0, 4, 5]  # picked contacts
        fc(0, 3, subs, inv, prof, new_stream(np.random.default_rng(1)), (np.uint64(3), 4), out)
        callee_id = out[4]
        assert callee_id[0] == 3  # the only fresh contact of line 0
        assert callee_id[1] == 5  # robocallers dial their list as it is
        assert callee_id[2] == 5  # every contact stale: the last one tried


# -- the calls against theory ------------------------------------------------------------------
def _slices(n_src, rate, slice_s, slices, mult, deg, prof, seed):
    """Run ``slices`` slices of ``n_src`` sources through the compiled kernels."""
    rng = np.random.default_rng(seed)
    subs, inv = _layout(rng, n_src, 1000, stale_share=0.0)
    subs = (subs[0], np.zeros(n_src, np.int8), np.full(n_src, -1, np.int32), *subs[3:4])
    off = np.arange(n_src, dtype=np.int64) * deg
    contacts = np.arange(n_src * deg, dtype=np.int64) + 3_000_000_000
    subs = (*subs, off, np.full(n_src, deg, np.int32), contacts)
    rc, ra = new_stream(rng), new_stream(rng)
    src = (
        rng.standard_exponential(n_src) / mult,
        1 / mult,
        np.full(n_src, np.inf),
        np.zeros(n_src, np.int8),
    )
    out, parts = _out(1 << 16), []
    for s in range(slices):
        clock, clock_end = np.array([s * slice_s * rate]), np.array([(s + 1) * slice_s * rate])
        j, start = source_calls(
            src,
            clock,
            clock_end,
            np.array([rate]),
            s * slice_s,
            0,
            np.empty(0, np.int64),
            subs,
            rc,
            out,
            0,
        )
        assert start == n_src
        complete_calls(0, j, subs, inv, prof, ra, (np.uint64(1), 4), out)
        parts.append(tuple(c[:j].copy() for c in out))
    return tuple(np.concatenate(c) for c in zip(*parts))


def test_kernel_calls_against_theory():
    """Counts per source and slice are Poisson(rate x slice) (chi-square), the first call of
    each source Exp(rate) (KS); each contact is picked with probability 1/deg
    (chi-square); a call would be answered with the configured probability (4 SE); talk
    times follow the configured log-normal (KS)."""
    n_src, rate, slice_s, slices, deg = 2000, 2.0 / 3600, 1800.0, 12, 5
    prof = (
        np.full(N_KINDS, 0.3),
        np.full(N_KINDS, LOGNORMAL),
        np.full(N_KINDS, math.log(60.0)),
        np.full(N_KINDS, 0.8),
    )
    t, _, callee, caller_id, _, _, _, answer, talk = _slices(
        n_src, rate, slice_s, slices, np.ones(n_src), deg, prof, SEED
    )
    src = callee - 3_000_000_000
    line = src // deg
    mu = rate * slice_s
    counts = np.bincount(line * slices + (t // slice_s).astype(np.int64), minlength=n_src * slices)
    assert abs(counts.mean() - mu) < 4 * math.sqrt(mu / len(counts))
    obs = np.bincount(counts, minlength=6)[:6].astype(float)
    obs[5] = (counts >= 5).sum()
    p = stats.poisson(mu).pmf(np.arange(6))
    p[5] = stats.poisson(mu).sf(4)
    keep = p * len(counts) >= 5
    exp = p[keep] * len(counts)
    assert stats.chisquare(obs[keep], exp * obs[keep].sum() / exp.sum()).pvalue > 1e-3
    first = np.full(n_src, np.inf)
    order = np.argsort(t)[::-1]
    first[line[order]] = t[order]
    # (P(a source makes no call in the horizon) = e^-12: every source has a first call)
    assert np.isfinite(first).all()
    assert stats.kstest(first, stats.expon(scale=1 / rate).cdf).pvalue > 1e-3
    picks = np.bincount(src % deg, minlength=deg)
    assert stats.chisquare(picks).pvalue > 1e-3
    n = len(answer)
    assert abs(answer.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)
    ks = stats.kstest(talk.astype(np.float64), stats.lognorm(s=0.8, scale=60.0).cdf)
    assert ks.pvalue > 1e-3


# -- routing, termination and tallies in one pass ----------------------------------------------
@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), m=st.integers(1, 20))
def test_route_tally_matches_python_twin_and_numpy(seed, n, m):
    rng = np.random.default_rng(seed)
    t = rng.choice([0.0, 10.0, 20.0, 30.0], n)
    callee_id = rng.integers(-1, m, n).astype(np.int32)
    blocked = rng.random(n) < 0.2
    kind = rng.integers(0, N_KINDS, n).astype(np.int8)
    would = rng.random(n) < 0.5
    talk = rng.uniform(0, 300, n).astype(np.float32)
    state = rng.integers(0, 4, m).astype(np.int8)
    prev = rng.integers(0, 4, m).astype(np.int8)
    changed = rng.choice([-np.inf, 0.0, 10.0, 20.0, 40.0], m)
    got = []
    for f in (route_tally, route_tally.py_func):
        outcome, answered = np.zeros(n, np.int8), np.zeros(n, bool)
        duration, tally = np.zeros(n, np.float32), np.zeros((N_KINDS, len(TALLY)))
        f(
            (callee_id, t, blocked),
            (kind, would, talk),
            (state, prev, changed),
            outcome,
            answered,
            duration,
            tally,
        )
        got.append((outcome, answered, duration, tally))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b)
    outcome, answered, duration, tally = got[0]
    i = np.maximum(callee_id, 0)
    s = np.where(changed[i] > t, prev[i], state[i])
    line = np.select([s == PORTED_OUT, s == ASSIGNED], [OFF_NET, DELIVERED], VACANT)
    expected = np.where(blocked, BLOCKED, np.where(callee_id < 0, OFF_NET, line))
    np.testing.assert_array_equal(outcome, expected)
    reached = (expected == DELIVERED) | (expected == OFF_NET)
    np.testing.assert_array_equal(answered, reached & would)
    np.testing.assert_array_equal(duration, np.where(answered, talk, 0))
    k = N_KINDS
    np.testing.assert_array_equal(tally[:, 0], np.bincount(kind, minlength=k))
    for col, code in ((1, BLOCKED), (2, VACANT), (3, OFF_NET)):
        np.testing.assert_array_equal(
            tally[:, col], np.bincount(kind[expected == code], minlength=k)
        )
    np.testing.assert_array_equal(tally[:, 4], np.bincount(kind[answered], minlength=k))
    np.testing.assert_allclose(
        tally[:, 5], np.bincount(kind, weights=duration, minlength=k) / 60, rtol=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), m=st.integers(1, 20))
def test_count_inbound_matches_python_twin_and_numpy(seed, n, m):
    rng = np.random.default_rng(seed)
    callee_id = rng.integers(-1, m, n).astype(np.int32)
    kind = rng.integers(0, N_KINDS, n).astype(np.int8)
    episode_of = np.where(rng.random(m) < 0.5, rng.integers(0, 50, m), -1).astype(np.int32)
    got = []
    for f in (count_inbound, count_inbound.py_func):
        seen, residual = np.ones(m, np.int32), np.zeros(m, np.int32)  # counts add up
        f(callee_id, kind, episode_of, seen, residual)
        got.append((seen, residual))
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)
    on = callee_id >= 0
    with_episode = on & (episode_of[np.maximum(callee_id, 0)] >= 0)
    np.testing.assert_array_equal(got[0][0], 1 + np.bincount(callee_id[with_episode], minlength=m))
    res = on & (kind == RESIDUAL)
    np.testing.assert_array_equal(got[0][1], np.bincount(callee_id[res], minlength=m))
