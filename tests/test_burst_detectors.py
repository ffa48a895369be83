"""Online burst detectors: kernel twins, semantics against brute force, the API contract.

* Every kernel agrees exactly with its plain-Python twin (``kernel.py_func``): same alarms,
  same final state, the SlidingWindow pool growing from a single slot included.
* Semantics are checked against references written here from the docstring equations:
  pandas ``groupby.cumcount`` for fixed windows, an O(n^2) count for sliding windows,
  float64 loops for the token bucket, EWMA and CUSUM.  Those three keep float32 state, so
  an alarm is compared only where the reference statistic is farther from the threshold
  than the float32 rounding the detector may have accumulated by then:

  - a float32 store of ``x`` is off by at most ``|x| 2**-24`` (half an ulp) and each
    float64 operation by ``|x| 2**-53``;
  - the token bucket and the CUSUM add, subtract and clip (``min``/``max`` are
    1-Lipschitz), so their absolute errors add up: after ``m`` stores of values up to
    ``X``, at most ``m X (2**-24 + 4 * 2**-53)``;
  - the EWMA multiplies by a decay ``<= 1`` and adds a positive ``1/tau``, which cannot
    raise a relative error, so its relative error is at most ``m (2**-24 + 4 * 2**-53)``.

  The token bucket's alarm changes its state (an alarmed call takes no token), so after a
  borderline event a number's later events are not compared.  Exact boundary cases
  (``>`` against ``>=``) are pinned by hand-made streams on dyadic grids, where float32
  is exact and no tolerance is used.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.burst.base import OutOfOrderError
from models.burst.rates import EWMA, PoissonCUSUM, TokenBucket
from models.burst.sketch import CountMinWindow
from models.burst.window import FixedWindow, SlidingWindow

U32 = 2.0**-24  # unit roundoff of float32 (half an ulp, relative)
U64 = 2.0**-53  # unit roundoff of float64
STEP = U32 + 4 * U64  # worst-case relative error added per event (see module docstring)


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# -- strategies ------------------------------------------------------------------------------
@st.composite
def streams(draw, max_ids=5, max_events=80, grid=None):
    """A time-ordered stream on a few ids, times clustered so that alarms happen.

    With ``grid``, gaps are multiples of ``grid`` (exact binary fractions).
    """
    n_ids = draw(st.integers(1, max_ids), label="n_ids")
    n = draw(st.integers(0, max_events), label="n")
    if grid is None:
        gap = st.one_of(st.just(0.0), floats(0, 1), floats(0, 5), floats(0, 60))
        t0 = draw(st.one_of(st.just(0.0), floats(-1e3, 1e5)), label="t0")
    else:
        gap = st.one_of(st.just(0), st.integers(0, 8), st.integers(0, 400)).map(lambda k: k * grid)
        t0 = draw(st.integers(-1000, 10_000), label="t0") * grid
    gaps = np.array(draw(st.lists(gap, min_size=n, max_size=n), label="gaps"), dtype=float)
    t = t0 + np.cumsum(gaps)
    ids = np.array(
        draw(st.lists(st.integers(0, n_ids - 1), min_size=n, max_size=n), label="ids"),
        dtype=np.int64,
    )
    return t, ids, n_ids


def _window(draw):
    return draw(
        st.one_of(st.sampled_from([0.5, 1.0, 3.0, 10.0, 60.0]), floats(0.1, 100)), label="window"
    )


DETECTORS = {
    "fixed": lambda d: FixedWindow(d(st.integers(1, 5), label="threshold"), _window(d)),
    "sliding": lambda d: SlidingWindow(
        d(st.integers(1, 5), label="threshold"),
        _window(d),
        max_tracked=d(st.integers(1, 3), label="max_tracked"),
    ),
    "token_bucket": lambda d: TokenBucket(
        d(floats(0.01, 3), label="rate"), d(floats(0.5, 6), label="burst")
    ),
    "ewma": lambda d: (lambda tau: EWMA(tau, d(floats(0.5, 5), label="m") / tau))(
        d(floats(0.2, 60), label="tau")
    ),
    "cusum": lambda d: (
        lambda r0: PoissonCUSUM(
            r0, r0 * d(floats(1.1, 1e3), label="ratio"), d(floats(0.1, 30), label="h")
        )
    )(d(floats(1e-4, 1.0), label="rate0")),
    "count_min": lambda d: CountMinWindow(
        d(st.integers(1, 5), label="threshold"),
        _window(d),
        width=2 ** d(st.integers(1, 6), label="log2w"),
        depth=d(st.integers(1, 4), label="depth"),
        seed=d(st.integers(0, 2**32), label="seed"),
    ),
}


def _clone(det):
    """A detector with the same parameters (the detectors' __init__ stores them as is)."""
    params = {k: v for k, v in vars(det).items() if not k.endswith("_") and not k.startswith("_")}
    return type(det)(**params)


def _twin(det):
    """The same detector running its kernel's plain-Python twin."""
    twin = _clone(det)
    twin._kernel = type(det)._kernel.py_func
    return twin


def _state(det):
    return {k: v for k, v in vars(det).items() if k.endswith("_") and isinstance(v, np.ndarray)}


def _feed(det, t, ids, cuts):
    """Feed ``(t, ids)`` in the pieces between sorted cut points; return all alarms."""
    bounds = [0, *sorted(cuts), len(t)]
    return np.concatenate(
        [det.update(t[a:b], ids[a:b]) for a, b in zip(bounds, bounds[1:])]
        + [np.zeros(0, dtype=bool)]
    )


# -- kernels against their Python twins -------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(DETECTORS))
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_kernel_matches_python_twin(kind, data):
    """Jitted kernel and ``py_func`` give identical alarms and identical final state."""
    det = DETECTORS[kind](data.draw)
    t, ids, n_ids = data.draw(streams())
    cuts = data.draw(st.lists(st.integers(0, len(t)), max_size=3), label="cuts")
    twin = _twin(det)
    det.reset(n_ids)
    twin.reset(n_ids)
    np.testing.assert_array_equal(_feed(det, t, ids, cuts), _feed(twin, t, ids, cuts))
    fast, slow = _state(det), _state(twin)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key].dtype == slow[key].dtype, key
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=key)


@settings(max_examples=100, deadline=None)
@given(s=streams(max_ids=12, max_events=120), threshold=st.integers(1, 4), window=floats(0.5, 100))
def test_sliding_window_pool_growth_twin(s, threshold, window):
    """From one slot, the pool grows by doubling in both; results equal a pre-sized pool."""
    t, ids, n_ids = s
    det = SlidingWindow(threshold, window, max_tracked=1).reset(n_ids)
    twin = _twin(det).reset(n_ids)
    big = SlidingWindow(threshold, window, max_tracked=10_000).reset(n_ids)
    got = det.update(t, ids)
    np.testing.assert_array_equal(got, twin.update(t, ids))
    np.testing.assert_array_equal(got, big.update(t, ids))
    for key, value in _state(det).items():
        np.testing.assert_array_equal(value, _state(twin)[key], err_msg=key)
    tracked = len(np.unique(ids))
    assert det.n_tracked == tracked
    assert tracked <= det.ring_.shape[0] <= max(1, 2 * tracked)


# -- semantics against brute force --------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(s=streams(max_events=150), threshold=st.integers(1, 5), window=floats(0.1, 100))
def test_fixed_window_matches_pandas(s, threshold, window):
    t, ids, n_ids = s
    got = FixedWindow(threshold, window).reset(n_ids).update(t, ids)
    df = pd.DataFrame({"id": ids, "k": np.floor(t / window)})
    ref = df.groupby(["id", "k"]).cumcount().to_numpy() + 1 > threshold
    np.testing.assert_array_equal(got, ref)


def _sliding_reference(t, ids, threshold, window):
    n = len(t)
    return np.array(
        [
            np.sum((ids[: i + 1] == ids[i]) & (t[: i + 1] > t[i] - window)) > threshold
            for i in range(n)
        ],
        dtype=bool,
    )


@settings(max_examples=150, deadline=None)
@given(
    s=streams(max_events=150),
    threshold=st.integers(1, 5),
    window=floats(0.1, 100),
    max_tracked=st.integers(1, 5),
)
def test_sliding_window_matches_brute_force(s, threshold, window, max_tracked):
    t, ids, n_ids = s
    got = SlidingWindow(threshold, window, max_tracked).reset(n_ids).update(t, ids)
    np.testing.assert_array_equal(got, _sliding_reference(t, ids, threshold, window))


def _token_bucket_reference(t, ids, rate, burst):
    """Alarms, and which events are far enough from the x = 1 boundary to compare."""
    tokens, last, err, off = {}, {}, {}, set()
    alarm = np.zeros(len(t), dtype=bool)
    checked = np.zeros(len(t), dtype=bool)
    for i, (ti, j) in enumerate(zip(t.tolist(), ids.tolist())):
        if j in tokens:
            raw = tokens[j] + rate * (ti - last[j])
            x = min(burst, raw)
            if raw - err[j] >= burst:
                err[j] = 0.0  # the detector is capped at burst exactly as well
        else:
            x = burst
            err[j] = 0.0
        checked[i] = j not in off and abs(x - 1.0) > err[j]
        if not checked[i]:
            off.add(j)  # the two may take different branches: this number's path splits
        alarm[i] = x < 1.0
        tokens[j] = x if alarm[i] else x - 1.0
        last[j] = ti
        err[j] += (x + err[j]) * STEP  # the stored value is at most x
    return alarm, checked


def _ewma_reference(t, ids, tau, threshold):
    r, last, rel = {}, {}, {}
    alarm = np.zeros(len(t), dtype=bool)
    checked = np.zeros(len(t), dtype=bool)
    for i, (ti, j) in enumerate(zip(t.tolist(), ids.tolist())):
        if j in r:
            decayed = r[j] * math.exp(-(ti - last[j]) / tau)
            r[j] = decayed + 1.0 / tau
            rel[j] = rel[j] * decayed / r[j] + STEP  # adding 1/tau dilutes the old error
        else:
            r[j] = 1.0 / tau
            rel[j] = STEP
        last[j] = ti
        alarm[i] = r[j] > threshold
        checked[i] = abs(r[j] - threshold) > rel[j] * r[j]
    return alarm, checked


def _cusum_reference(t, ids, rate0, rate1, h):
    s, last, err = {}, {}, {}
    jump = math.log(rate1 / rate0)
    alarm = np.zeros(len(t), dtype=bool)
    checked = np.zeros(len(t), dtype=bool)
    for i, (ti, j) in enumerate(zip(t.tolist(), ids.tolist())):
        if j in s:
            drained = s[j] - (rate1 - rate0) * (ti - last[j])
            if drained + err[j] <= 0.0:
                err[j] = 0.0  # the detector is floored at 0 exactly as well
            s[j] = max(0.0, drained) + jump
        else:
            s[j] = jump
            err[j] = 0.0
        last[j] = ti
        err[j] += (s[j] + err[j] + jump) * STEP
        alarm[i] = s[j] > h
        checked[i] = abs(s[j] - h) > err[j]
    return alarm, checked


REFERENCES = {
    "token_bucket": lambda d, t, ids: _token_bucket_reference(t, ids, d.rate, d.burst),
    "ewma": lambda d, t, ids: _ewma_reference(t, ids, d.tau, d.threshold),
    "cusum": lambda d, t, ids: _cusum_reference(t, ids, d.rate0, d.rate1, d.h),
}


@pytest.mark.parametrize("kind", sorted(REFERENCES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_rate_detectors_match_reference_loops(kind, data):
    """Alarms equal the float64 reference wherever float32 rounding cannot flip them."""
    det = DETECTORS[kind](data.draw)
    t, ids, n_ids = data.draw(streams(max_events=150))
    got = det.reset(n_ids).update(t, ids)
    ref, checked = REFERENCES[kind](det, t, ids)
    np.testing.assert_array_equal(got[checked], ref[checked])


@pytest.mark.parametrize("kind", sorted(REFERENCES))
def test_rate_references_check_almost_everything(kind):
    """The tolerance excludes a negligible share: the comparison has teeth."""
    rng = np.random.default_rng(5)
    n = 20_000
    t = np.cumsum(rng.exponential(0.2, n) * (rng.random(n) < 0.7))
    ids = rng.integers(0, 20, n)
    det = {
        "token_bucket": TokenBucket(0.15, 4.3),
        "ewma": EWMA(10.0, 0.3),
        "cusum": PoissonCUSUM(0.3, 0.6, 3.0),
    }[kind]
    got = det.reset(20).update(t, ids)
    ref, checked = REFERENCES[kind](det, t, ids)
    assert checked.mean() > 0.99
    assert 0.05 < ref[checked].mean() < 0.95  # both outcomes are exercised
    np.testing.assert_array_equal(got[checked], ref[checked])


@settings(max_examples=150, deadline=None)
@given(
    s=streams(max_events=150, grid=1 / 8),
    rate=st.integers(1, 16).map(lambda k: k / 8),
    burst=st.integers(1, 32).map(lambda k: k / 4),
)
def test_token_bucket_exact_on_dyadic_grid(s, rate, burst):
    """On a grid of binary fractions float32 is exact: alarms equal the reference everywhere."""
    t, ids, n_ids = s
    got = TokenBucket(rate, burst).reset(n_ids).update(t, ids)
    ref, _ = _token_bucket_reference(t, ids, rate, burst)
    np.testing.assert_array_equal(got, ref)


def test_boundaries_exactly():
    """Strict and non-strict inequalities where the statistic hits the threshold exactly."""
    zero = np.zeros(3, dtype=np.int64)
    # Fixed: t = W starts the next window; the (c+1)-th call in a window alarms.
    fw = FixedWindow(2, 10.0).reset(1)
    assert fw.update(np.array([0.0, 9.5, 10.0, 11.0, 12.0]), np.zeros(5, np.int64)).tolist() == [
        False,
        False,
        False,
        False,
        True,
    ]
    # Sliding: an event exactly W earlier is out of (t - W, t].
    sw = SlidingWindow(1, 10.0).reset(1)
    assert sw.update(np.array([0.0, 10.0, 19.5]), zero).tolist() == [False, False, True]
    # Token bucket: exactly one token passes (x >= 1); the refused call takes nothing.
    tb = TokenBucket(0.5, 2.0).reset(1)
    assert tb.update(np.array([0.0, 0.0, 0.0, 1.0, 2.0, 4.0]), np.zeros(6, np.int64)).tolist() == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    # EWMA: one call gives r = 1/tau exactly, not above a threshold of 1/tau.
    ew = EWMA(4.0, 0.25).reset(1)  # exp(-1e4 / 4) is 0: the old rate is gone entirely
    assert ew.update(np.array([0.0, 1e4, 1e4]), zero).tolist() == [False, False, True]
    # CUSUM: the first call gives S = log(rate1/rate0), not above h = that.
    cu = PoissonCUSUM(0.5, 1.0, math.log(2.0)).reset(1)
    assert cu.update(np.array([0.0, 10.0, 10.0]), zero).tolist() == [False, False, True]
    # Count-Min: as FixedWindow.
    cm = CountMinWindow(2, 10.0, width=64).reset(1)
    assert cm.update(np.array([0.0, 9.5, 10.0, 11.0, 12.0]), np.zeros(5, np.int64)).tolist() == [
        False,
        False,
        False,
        False,
        True,
    ]


def _multiply_shift(a: int, x: int, width: int) -> int:
    return ((a * x) % 2**64) >> (64 - width.bit_length() + 1)


def test_count_min_hash_is_multiply_shift():
    det = CountMinWindow(1, 60.0, width=256, depth=3, seed=11).reset(10**6)
    rng = np.random.default_rng(11)
    a = rng.integers(0, 2**64, size=3, dtype=np.uint64) | np.uint64(1)
    np.testing.assert_array_equal(det.multipliers_, a)
    assert all(int(m) % 2 == 1 for m in det.multipliers_)
    x = 987_654
    det.update(np.array([5.0]), np.array([x]))
    for r in range(3):
        col = _multiply_shift(int(a[r]), x, 256)
        assert det.counters_[r, col] == 1 and det.counters_[r].sum() == 1


@settings(max_examples=150, deadline=None)
@given(
    s=streams(max_ids=40, max_events=150),
    threshold=st.integers(1, 5),
    window=floats(0.5, 100),
    log2w=st.integers(1, 5),
    depth=st.integers(1, 4),
    seed=st.integers(0, 2**32),
)
def test_count_min_matches_reference_sketch(s, threshold, window, log2w, depth, seed):
    """A Count-Min sketch in Python ints: per-window cell counts, minimum over rows; the
    table holds exactly the last window's counts (so clearing, sparse or whole, is right)."""
    t, ids, n_ids = s
    det = CountMinWindow(threshold, window, 2**log2w, depth, seed).reset(n_ids)
    a = [int(m) for m in det.multipliers_]
    cells: dict = {}
    ref = np.zeros(len(t), dtype=bool)
    k = None
    for i, (ti, x) in enumerate(zip(t.tolist(), ids.tolist())):
        k = math.floor(ti / window)
        est = []
        for r in range(depth):
            key = (k, r, _multiply_shift(a[r], x, 2**log2w))
            cells[key] = cells.get(key, 0) + 1
            est.append(cells[key])
        ref[i] = min(est) > threshold
    np.testing.assert_array_equal(det.update(t, ids), ref)
    table = np.zeros((depth, 2**log2w), dtype=np.int32)
    for (kk, r, col), c in cells.items():
        if kk == k:
            table[r, col] = c
    np.testing.assert_array_equal(det.counters_, table)


@settings(max_examples=150, deadline=None)
@given(
    s=streams(max_ids=40, max_events=150),
    window=floats(0.5, 100),
    log2w=st.integers(1, 5),
    depth=st.integers(1, 3),
    seed=st.integers(0, 2**32),
)
def test_count_min_never_undercounts(s, window, log2w, depth, seed):
    """Estimate >= exact count: every FixedWindow alarm, at every threshold, is raised too."""
    t, ids, n_ids = s
    for threshold in range(1, 7):
        exact = FixedWindow(threshold, window).reset(n_ids).update(t, ids)
        sketch = CountMinWindow(threshold, window, 2**log2w, depth, seed).reset(n_ids)
        assert not (exact & ~sketch.update(t, ids)).any()


@settings(max_examples=150, deadline=None)
@given(s=streams(max_ids=6, max_events=150), window=floats(0.5, 100))
def test_count_min_exact_when_wide(s, window):
    """With 2**12 columns and 6 ids, each id has a private counter: counts are exact."""
    t, ids, n_ids = s
    width, depth = 2**12, 4
    a = CountMinWindow(1, window, width, depth).reset(n_ids).multipliers_
    cols = np.array(
        [[_multiply_shift(int(a[r]), x, width) for x in range(n_ids)] for r in range(depth)]
    )
    assert all(
        any((cols[r] == cols[r, x]).sum() == 1 for r in range(depth)) for x in range(n_ids)
    )  # precondition, true for seed 0
    for threshold in range(1, 7):
        exact = FixedWindow(threshold, window).reset(n_ids).update(t, ids)
        sketch = CountMinWindow(threshold, window, width, depth).reset(n_ids).update(t, ids)
        np.testing.assert_array_equal(sketch, exact)


def test_count_min_memory():
    det = CountMinWindow(10, 3600.0)
    assert det.memory_bytes == 4 * 4 * 2**21 * 17 // 16 <= 64 * 2**20
    assert det.state_bytes_per_id == 0
    det.reset(10)
    assert det.counters_.nbytes + det.touched_.nbytes == det.memory_bytes


def test_count_min_clears_sparse_then_whole():
    """A window touching few counters is cleared from the list, a busy one by memset."""
    det = CountMinWindow(1, 10.0, width=64, depth=2).reset(1000)  # list of 8 positions
    det.update(np.array([0.0, 1.0]), np.array([3, 3]))
    assert det.n_touched_[0] <= 2 and det.counters_.sum() == 4
    det.update(np.array([10.0]), np.array([5]))
    assert det.counters_.sum() == 2 and det.n_touched_[0] <= 2
    det.update(np.full(100, 11.0), np.arange(100))
    assert det.n_touched_[0] == len(det.touched_) + 1  # overflowed
    det.update(np.array([20.0]), np.array([7]))
    assert det.counters_.sum() == 2 and det.n_touched_[0] <= 2


def test_state_bytes_per_id():
    assert FixedWindow(3, 60).state_bytes_per_id == 8
    assert SlidingWindow(3, 60).state_bytes_per_id == 3 * 8 + 4 + 4 + 4
    assert TokenBucket(1, 2).state_bytes_per_id == 12
    assert EWMA(1, 2).state_bytes_per_id == 12
    assert PoissonCUSUM(1, 2, 3).state_bytes_per_id == 12
    for det in [FixedWindow(3, 60), TokenBucket(1, 2), EWMA(1, 2), PoissonCUSUM(1, 2, 3)]:
        assert det.reset(7).state_.nbytes == 7 * det.state_bytes_per_id


# -- the Detector contract -------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(DETECTORS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_pieces_equal_one_batch_and_flagged_at(kind, data):
    """Batches cut anywhere give the alarms of one batch; flagged_at_ is the first alarm."""
    det = DETECTORS[kind](data.draw)
    t, ids, n_ids = data.draw(streams())
    cuts = data.draw(st.lists(st.integers(0, len(t)), max_size=5), label="cuts")
    whole = _clone(det).reset(n_ids).update(t, ids)
    det.reset(n_ids)
    np.testing.assert_array_equal(_feed(det, t, ids, cuts), whole)
    first = np.full(n_ids, np.inf)
    for ti, j in zip(t[whole], ids[whole]):
        first[j] = min(first[j], ti)
    np.testing.assert_array_equal(det.flagged_at_, first)
    if len(t):
        assert det.last_t_ == t[-1]


@pytest.mark.parametrize("kind", sorted(set(DETECTORS) - {"count_min"}))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_forget_starts_afresh(kind, data):
    """After forget, a number behaves as in a fresh detector; the others are untouched."""
    det = DETECTORS[kind](data.draw)
    t, ids, n_ids = data.draw(streams())
    cut = data.draw(st.integers(0, len(t)), label="cut")
    gone = np.array(
        data.draw(st.lists(st.integers(0, n_ids - 1), max_size=n_ids, unique=True), label="gone"),
        dtype=np.int64,
    )
    det.reset(n_ids)
    kept = _clone(det).reset(n_ids)
    det.update(t[:cut], ids[:cut])
    kept.update(t[:cut], ids[:cut])
    det.forget(gone)
    assert np.isinf(det.flagged_at_[gone]).all()
    after = det.update(t[cut:], ids[cut:])
    fresh = _clone(det).reset(n_ids).update(t[cut:], ids[cut:])
    cont = kept.update(t[cut:], ids[cut:])
    is_gone = np.isin(ids[cut:], gone)
    np.testing.assert_array_equal(after[is_gone], fresh[is_gone])
    np.testing.assert_array_equal(after[~is_gone], cont[~is_gone])


def test_count_min_forget_only_resets_flag():
    det = CountMinWindow(1, 60.0, width=64).reset(3)
    det.update(np.array([0.0, 1.0]), np.array([2, 2]))
    assert det.flagged_at_[2] == 1.0
    before = det.counters_.copy()
    det.forget(np.array([2]))
    assert det.flagged_at_[2] == np.inf
    np.testing.assert_array_equal(det.counters_, before)
    assert det.update(np.array([2.0]), np.array([2])).tolist() == [True]  # count carries on


def test_sliding_forget_untracked_and_tracked():
    det = SlidingWindow(1, 100.0, max_tracked=1).reset(3)
    det.forget(np.array([0, 1]))  # untracked: nothing to clear
    assert det.update(np.array([0.0, 1.0]), np.array([1, 1])).tolist() == [False, True]
    det.forget(np.array([1]))
    assert det.update(np.array([2.0, 3.0]), np.array([1, 1])).tolist() == [False, True]


ALL = [
    FixedWindow(2, 10),
    SlidingWindow(2, 10),
    TokenBucket(0.1, 2),
    EWMA(10, 0.2),
    PoissonCUSUM(0.1, 1, 5),
    CountMinWindow(2, 10, width=64),
]


@pytest.mark.parametrize("det", ALL, ids=lambda d: type(d).__name__)
def test_out_of_order_raises(det):
    ids = np.array([0, 1, 0], dtype=np.int64)
    with pytest.raises(OutOfOrderError, match="index 2"):
        _clone(det).reset(2).update(np.array([1.0, 2.0, 1.5]), ids)
    with pytest.raises(OutOfOrderError):
        _clone(det).reset(2).update(np.array([1.0, np.nan, 3.0]), ids)
    d = _clone(det).reset(2)
    d.update(np.array([1.0, 2.0]), ids[:2])
    d.update(np.array([2.0]), ids[:1])  # equal to the last time is in order
    with pytest.raises(OutOfOrderError, match="previous batch"):
        d.update(np.array([1.9]), ids[:1])


@pytest.mark.parametrize("det", ALL, ids=lambda d: type(d).__name__)
def test_bad_ids_and_times_are_refused(det):
    d = _clone(det).reset(2)
    with pytest.raises(IndexError):
        d.update(np.array([1.0]), np.array([2]))
    with pytest.raises(IndexError):
        d.update(np.array([1.0]), np.array([-1]))
    with pytest.raises(ValueError, match="finite"):
        d.update(np.array([1.0, np.inf]), np.array([0, 0]))
    assert d.update(np.zeros(0), np.zeros(0, dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: FixedWindow(0, 10), "threshold"),
        (lambda: FixedWindow(2.5, 10), "threshold"),
        (lambda: FixedWindow(2, 0), "window"),
        (lambda: FixedWindow(2, -1.0), "window"),
        (lambda: FixedWindow(2, float("nan")), "window"),
        (lambda: SlidingWindow(-1, 10), "threshold"),
        (lambda: SlidingWindow(2, 0.0), "window"),
        (lambda: SlidingWindow(2, 10, max_tracked=0), "max_tracked"),
        (lambda: TokenBucket(0, 2), "rate"),
        (lambda: TokenBucket(1, -2), "burst"),
        (lambda: EWMA(0, 1), "tau"),
        (lambda: EWMA(1, -1), "threshold"),
        (lambda: PoissonCUSUM(0, 1, 1), "rate0"),
        (lambda: PoissonCUSUM(1, 1, 1), "rate1"),
        (lambda: PoissonCUSUM(1, 0.5, 1), "rate1"),
        (lambda: PoissonCUSUM(1, 2, 0), "h"),
        (lambda: CountMinWindow(0, 10), "threshold"),
        (lambda: CountMinWindow(1, 0), "window"),
        (lambda: CountMinWindow(1, 10, width=1000), "width"),
        (lambda: CountMinWindow(1, 10, width=0), "width"),
        (lambda: CountMinWindow(1, 10, width=1), "width"),
        (lambda: CountMinWindow(1, 10, depth=0), "depth"),
        (lambda: CountMinWindow(1, 10, width=2**30, depth=2), "width \\* depth"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_fixed_window_index_must_fit_int32():
    det = FixedWindow(1, 1e-3).reset(1)
    with pytest.raises(ValueError, match="2\\*\\*31"):
        det.update(np.array([3e6]), np.array([0]))


# -- behaviour -------------------------------------------------------------------------------
def test_blaster_is_caught_quickly_and_background_is_not():
    """A 1 call/s blaster among 2,000 numbers at 3 calls/day: each detector flags it within
    its first 100 calls and flags none of the background numbers."""
    rng = np.random.default_rng(3)
    day, n_bg = 86400.0, 2000
    n_calls = rng.poisson(3.0, n_bg)
    bg_t = rng.random(n_calls.sum()) * day
    bg_id = np.repeat(np.arange(n_bg), n_calls)
    start = 40_000.0 + rng.random()
    blast_t = start + np.arange(300.0)
    t = np.concatenate([bg_t, blast_t])
    ids = np.concatenate([bg_id, np.full(300, n_bg)])
    order = np.argsort(t, kind="stable")
    t, ids = t[order], ids[order]
    hour = 3600.0
    detectors = [
        FixedWindow(threshold=30, window=60.0),
        SlidingWindow(threshold=30, window=60.0),
        TokenBucket(rate=10 / hour, burst=20.0),
        EWMA(tau=60.0, threshold=0.5),
        PoissonCUSUM(rate0=10 / day, rate1=0.5, h=20.0),
        CountMinWindow(threshold=30, window=60.0, width=2**12),
    ]
    for det in detectors:
        det.reset(n_bg + 1).update(t, ids)
        name = type(det).__name__
        assert det.flagged_at_[n_bg] < start + 100, name
        assert np.isinf(det.flagged_at_[:n_bg]).all(), name
