"""The market's compiled steps against the per-step Python market they replaced.

:class:`benchmarks.dni_reference.ReferenceMarket` is the market as it was (the pool kernel per
step, a dict of queued calls, routing call by call in Python, an ``OrderedDict`` store),
fed the same drawn demand.  On a common slice of a few days both must write the same
``impressions``, ``dni_calls`` and ``pool`` tables, row for row: with the store on and off,
evicting by age, by size or never, stealing leases, and with a sizer and an optimizer
consulted between steps.  The store and the steps kernel are also checked against their
plain-Python twins (hypothesis).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.world.world as world_module
from benchmarks.dni_reference import ReferenceMarket
from sim.config import parse_config
from sim.runs.simulate import simulate
from sim.world.dni_steps import PendingCalls, market_steps
from sim.world.dni_store import (
    EVICT_AGE,
    EVICT_NEVER,
    EVICT_SIZE,
    Store,
    pair_key,
    store_lookup,
    store_remember,
)
from sim.world.leases import Pool

QUIET = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
BASE = {
    "name": "dni-vectorised",
    "seed": 5,
    "scenario": {"days": 2},
    "record": {"calls": False},
    "subscribers": {k: QUIET for k in ("residential", "business", "call_centre", "notifier")},
    "spam": {"calls_per_line_per_day": 0.0},
    "dni": {
        "enabled": True,
        "pool_size": 60,
        "consumers": 800,
        "area_codes": [212, 415],
        "delay_days": {"kind": "lognormal", "median": 0.3, "sigma": 1.0},
        "repeat_days": {"kind": "lognormal", "median": 0.3, "sigma": 1.0},
        "repeat_calls": 1.5,
        "channels": {
            "search": {"sessions_per_day": 3000.0, "call_prob": 0.3},
            "social": {"sessions_per_day": 1000.0, "call_prob": 0.2},
        },
        "sponsors": [
            {"name": "a", "share": 0.6, "budget_per_day": 1500},
            {"name": "b", "share": 0.4},
        ],
    },
}

CASES = {
    "store by age": {"store_eviction": "age", "store_max_age_days": 0.2},
    "store by size": {"store_eviction": "size", "store_max_entries": 150},
    "store kept": {"store_eviction": "none", "exhausted": "steal_lru"},
    "no store": {"store": False},
    "sizer": {"sizer": "utilisation", "known_caller_share": 0.6},
    "optimizer": {"optimizer": "thompson", "rebalance_hours": 6.0, "feedback_days": 0.5},
}


def _config(dni: dict):
    return parse_config({**BASE, "dni": {**BASE["dni"], **dni}})


@pytest.mark.parametrize("case", CASES)
def test_vectorised_market_writes_the_reference_tables(case, monkeypatch):
    cfg = _config(CASES[case])
    fast = simulate(cfg, progress=False)
    monkeypatch.setattr(world_module, "Market", ReferenceMarket)
    slow = simulate(cfg, progress=False)
    assert len(fast.dni_calls) > 500 and len(fast.impressions) > 5000
    if cfg.dni.store:
        assert (fast.dni_calls["via"].astype(str) == "store").sum() > 50
        assert fast.pool["store_entries"].max() > 0
    for name in ("impressions", "dni_calls", "pool"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), obj=name)


# -- the store against an OrderedDict and its Python twins ----------------------------------
OPS = st.lists(
    st.tuples(
        st.booleans(),  # remember (else look up)
        st.integers(0, 30),  # consumer
        st.integers(0, 12),  # number
        st.floats(0.0, 5.0),  # time step
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(
    ops=OPS, mode=st.sampled_from([EVICT_NEVER, EVICT_AGE, EVICT_SIZE]), limit=st.integers(1, 40)
)
def test_store_is_an_lru_dict_and_matches_its_python_twin(ops, mode, limit):
    """Remember and look-up against an ``OrderedDict`` with ``move_to_end`` (the old store),
    compiled and plain-Python kernels side by side; entries in LRU order equal."""
    max_age = 3.0
    stores = [Store(mode, max_age, limit, capacity=4) for _ in range(2)]
    kernels = [(store_remember, store_lookup), (store_remember.py_func, store_lookup.py_func)]
    ref: OrderedDict = OrderedDict()
    ref_t: dict = {}
    t = 0.0
    for imp, (remember, c, num, dt) in enumerate(ops):
        t += dt
        key = int(pair_key(c, num))
        for store in stores:
            store.reserve(1)
        if remember:
            for store, (rem, _) in zip(stores, kernels):
                rem(key, imp, t, mode, limit, *store.state())
            ref[(c, num)] = imp
            ref.move_to_end((c, num))
            ref_t[(c, num)] = t
            while mode == EVICT_SIZE and len(ref) > limit:
                old, _ = ref.popitem(last=False)
                del ref_t[old]
        else:
            got = [
                look(key, t, mode, max_age, *store.state())
                for store, (_, look) in zip(stores, kernels)
            ]
            want = ref.get((c, num), -1)
            if want >= 0 and mode == EVICT_AGE and t - ref_t[(c, num)] > max_age:
                del ref[(c, num)], ref_t[(c, num)]
                want = -1
            elif want >= 0:
                ref.move_to_end((c, num))
                ref_t[(c, num)] = t
            assert got == [want, want]
        expect = [(c_, n_, i_, ref_t[(c_, n_)]) for (c_, n_), i_ in ref.items()]
        for store in stores:
            assert store.items() == expect
            assert len(store) == len(ref)
            live = np.sort(store.slots[store.slots >= 0])
            assert len(live) == len(ref)  # every entry in exactly one slot
    for name in ("slots", "e_key", "e_imp", "e_t", "e_prev", "e_next", "meta"):
        np.testing.assert_array_equal(getattr(stores[0], name), getattr(stores[1], name), name)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    case=st.sampled_from(sorted(CASES)),
    sessions=st.floats(200.0, 3000.0),
    pool=st.integers(5, 40),  # an optimizer keeps a number of each of 5 kinds
)
def test_steps_kernel_matches_its_python_twin(seed, case, sessions, pool, monkeypatch_module):
    """``market_steps`` and ``market_steps.py_func`` write the same tables."""
    import sim.world.market as market_module

    raw = {**BASE["dni"], **CASES[case], "pool_size": pool}
    raw["channels"] = {"search": {"sessions_per_day": sessions, "call_prob": 0.3}}
    cfg = parse_config({**BASE, "seed": seed, "scenario": {"days": 0.75}, "dni": raw})
    fast = simulate(cfg, progress=False)
    kernel = market_module.market_steps
    monkeypatch_module.setattr(market_module, "market_steps", kernel.py_func)
    try:
        slow = simulate(cfg, progress=False)
    finally:
        monkeypatch_module.setattr(market_module, "market_steps", kernel)
    for name in ("impressions", "dni_calls", "pool"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), obj=name)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _run_steps(pool, store, calls, t1, start=(), length=()):
    """One call of ``market_steps`` on bare state: sessions of group 0, no calls."""
    n = len(start)
    f, i = np.float64, np.int64
    number = np.empty(n, dtype=i)
    busy, blocked, entries = (np.zeros(len(t1), dtype=i) for _ in range(3))
    pool.reserve(n)
    calls.meta[2] = 0
    market_steps(
        np.asarray(t1, dtype=f),
        np.array([0] + [n] * len(t1), dtype=i),
        np.asarray(start, dtype=f),
        np.asarray(length, dtype=f),
        np.zeros(n, dtype=i),
        np.arange(n, dtype=i),
        np.arange(n, dtype=i),
        np.zeros(n, dtype=bool),
        number,
        np.zeros(n + 1, dtype=i),
        np.zeros(0),
        np.zeros(0, dtype=bool),
        np.zeros(0, dtype=bool),
        np.zeros(0),
        np.asarray(start, dtype=f) + np.asarray(length, dtype=f),
        np.zeros(n, dtype=i),
        np.zeros(n, dtype=i),
        np.zeros(max(n, 1), dtype=bool),
        False,
        True,
        EVICT_AGE,
        1.0,
        10,
        pool.state(),
        store.state(),
        *calls.state(),
        busy,
        blocked,
        entries,
    )
    return number, busy


def test_busy_counts_numbers_released_while_leased_until_their_lease_ends():
    """The pool row's ``busy`` (kept as a count in the kernel) equals the numbers leased
    (``Pool.busy``) through a release of leased numbers and their retirement."""
    pool, store, calls = Pool(1, steal=False), Store(EVICT_AGE, 1.0, 10), PendingCalls()
    pool.buy(0, 5)
    number, busy = _run_steps(pool, store, calls, [10.0], [0, 1, 2, 3], [100.0] * 4)
    assert (number >= 0).all() and busy.tolist() == [4] == [pool.busy()]
    assert pool.release(0, 3) == 1  # the free number now; two leased ones at their ends
    _, busy = _run_steps(pool, store, calls, [20.0, 30.0])
    assert busy.tolist() == [4, 4] and pool.busy() == 4 and pool.size() == 2
    _, busy = _run_steps(pool, store, calls, [102.0, 200.0])
    assert busy.tolist() == [1, 0] and pool.busy() == 0 and pool.size() == 2
