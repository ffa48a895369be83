"""The restart-storm kernel against theory and against its twins.

* RFC 3261 (section 17.1.2.2): a request nobody answers is sent at exactly the Timer E
  schedule and abandoned at Timer F = 64 x T1 (checked to 1e-9 s by stopping the kernel
  just before and just after each transmission).
* M/D/1: with Poisson arrivals below capacity and no retransmission, the mean queueing
  delay matches Pollaczek-Khinchine, W = rho / (2 mu (1 - rho)), at rho = 0.5 and 0.8,
  within 4 standard errors of the mean of independent replications.
* The fluid bound: N phones at once drain in exactly N / C; a jitter window below N / C
  overloads the server (timeouts), one above it does not.
* ``storm_kernel.py_func`` (plain Python) agrees with the kernel (hypothesis), and the
  one-SimPy-process-per-phone twin agrees with it phone by phone under stress.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.provisioning.storm import fluid_drain_seconds, md1_mean_wait, timer_e_schedule
from sim.world.storm.kernel import storm_kernel
from sim.world.storm.processes import storm_processes

BASE = {
    "capacity": 1000.0,
    "overhead": 0.1,
    "t1": 0.5,
    "t2": 4.0,
    "timer_f": 32.0,
    "queue_limit": 1000,
    "retry_seconds": 30.0,
    "jitter": 0.0,
    "ra_low": 0,
    "ra_high": 0,
    "threshold": math.inf,
    "rate": math.inf,
    "burst": math.inf,
    "persistent": True,
    "horizon": 3600.0,
    "key": np.uint64(7),
}


def run(boot, **changes):
    return storm_kernel(np.asarray(boot, dtype=np.float64), **{**BASE, **changes})


# -- RFC 3261 timers ------------------------------------------------------------------------
@pytest.mark.parametrize("t1, t2, start", [(0.5, 4.0, 0.0), (0.3, 2.0, 1.25), (1.0, 1.0, 3.0)])
def test_unanswered_request_follows_the_timer_e_schedule(t1, t2, start):
    """One phone, a server too slow to answer within Timer F: its transmissions happen at
    start + the RFC schedule, and Timer F ends the transaction at start + 64 T1."""
    schedule = start + timer_e_schedule(t1, t2, 64 * t1)
    slow = {"capacity": 1e-6, "t1": t1, "t2": t2, "timer_f": 64 * t1, "retry_seconds": 1e6}
    assert len(schedule) == (11 if (t1, t2) == (0.5, 4.0) else len(schedule))
    for i, s in enumerate(schedule):
        before = run([start], horizon=s - 1e-9, **slow)[3][0]
        after = run([start], horizon=s + 1e-9, **slow)[3][0]
        assert before[1] == i and after[1] == i + 1, (i, s, before, after)
    f = start + 64 * t1
    assert run([start], horizon=f - 1e-9, **slow)[3][0][2] == 0
    assert run([start], horizon=f + 1e-9, **slow)[3][0][2] == 1  # Timer F fired once


def test_rfc_schedule_closed_form():
    assert timer_e_schedule(0.5, 4.0, 32.0).tolist() == [
        0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]  # fmt: skip


# -- M/D/1 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_poisson_arrivals_below_capacity_wait_as_md1(rho):
    """N phones uniform over [0, W] (a Poisson process of rate N / W given its count), no
    retransmission (T1 far beyond any wait): the mean queueing delay of the requests after
    the first 5% of the window matches W_q = rho / (2 mu (1 - rho)) within 4 standard
    errors of the mean of 20 replications."""
    n, mu = 20_000, 1000.0
    window = n / (rho * mu)
    means = []
    for key in range(20):
        first, reg, wait, *_ = run(
            np.zeros(n),
            jitter=window,
            capacity=mu,
            t1=1e4,
            t2=1e4,
            timer_f=64e4,
            queue_limit=10**6,
            key=np.uint64(1000 + key),
        )
        assert np.isfinite(reg).all()
        means.append(wait[first > 0.05 * window].mean())
    means = np.asarray(means)
    theory = md1_mean_wait(rho * mu, mu)
    se = means.std(ddof=1) / math.sqrt(len(means))
    assert abs(means.mean() - theory) <= 4 * se, (means.mean(), theory, se)
    # an M/M/1 server (twice the delay) would be told apart
    assert abs(means.mean() - 2 * theory) > 4 * se
    low, high = stats.t.interval(0.95, len(means) - 1, means.mean(), se)
    print(f"rho={rho}: simulated {means.mean() * 1e3:.4f} ms [{low * 1e3:.4f}, {high * 1e3:.4f}]")


# -- the fluid bound ------------------------------------------------------------------------
def test_all_at_once_drain_in_exactly_n_over_c():
    n = 5000
    _, reg, *_ = run(np.zeros(n), t1=1e4, t2=1e4, timer_f=64e4, queue_limit=n)
    assert reg.max() == pytest.approx(fluid_drain_seconds(n, 1000.0), rel=1e-9)


def test_jitter_below_the_fluid_bound_overloads_and_above_it_does_not():
    """Phones up at once: a window of 0.8 N/C offers more than C -- the queue fills, waits
    pass T1, phones retransmit and the full queue drops; 1.2 N/C offers less: every
    request is served on its first copy."""
    n = 20_000
    bound = fluid_drain_seconds(n, 1000.0)
    under = run(np.zeros(n), jitter=0.8 * bound)
    over = run(np.zeros(n), jitter=1.2 * bound)
    assert np.nanmax(under[2]) > BASE["t1"]
    assert under[3][:, 1].sum() > 1.5 * n and under[4][:, 2].sum() > 0
    assert (over[3][:, 1] == 1).all() and over[4][:, 2].sum() == 0
    assert np.nanmax(over[2]) < BASE["t1"]


# -- twins ----------------------------------------------------------------------------------
def _same(a, b):
    return all(
        np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a[:4], (b["first"], b["registered"], b["wait"], b["counts"]))
    )


PLANS = [
    {},
    {"jitter": 3.0, "ra_low": 2, "ra_high": 4, "threshold": 0.2},
    {"jitter": 1.0, "rate": 40.0, "burst": 20.0},
    {"jitter": 2.0, "ra_low": 3, "ra_high": 6, "threshold": 0.3, "rate": 45.0, "burst": 10.0},
]


@pytest.mark.parametrize("plan", PLANS, ids=["none", "retry_after", "rate_limit", "combined"])
def test_kernel_and_one_process_per_phone_agree(plan):
    """Under overload (timeouts, stale negotiations, drops, 503s), phone by phone."""
    boot = np.random.default_rng(3).uniform(0, 2, 1500)
    args = {
        **BASE,
        "capacity": 50.0,
        "overhead": 0.2,
        "queue_limit": 60,
        "retry_seconds": 5.0,
        "horizon": 200.0,
        "key": np.uint64(99),
        "persistent": False,
        **plan,
    }
    k = storm_kernel(boot, **args)
    assert k[3][:, 2].sum() > 0  # the case is a storm
    assert _same(k, storm_processes(boot, **args))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 25),
    capacity=st.floats(0.5, 50.0),
    overhead=st.sampled_from([0.0, 0.1, 1.0]),
    queue_limit=st.integers(1, 30),
    retry=st.floats(0.0, 5.0),
    jitter=st.floats(0.0, 5.0),
    ra=st.integers(0, 3),
    limit=st.one_of(st.just(math.inf), st.floats(0.5, 20.0)),
    persistent=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_kernel_agrees_with_its_python_twin(
    n, capacity, overhead, queue_limit, retry, jitter, ra, limit, persistent, seed
):
    boot = np.random.default_rng(seed).uniform(0, 3, n)
    args = {
        **BASE,
        "capacity": capacity,
        "overhead": overhead,
        "queue_limit": queue_limit,
        "retry_seconds": retry,
        "jitter": jitter,
        "ra_low": ra,
        "ra_high": 2 * ra,
        "threshold": 0.1 if ra else math.inf,
        "rate": limit,
        "burst": 3.0 if limit < math.inf else math.inf,
        "persistent": persistent,
        "horizon": 120.0,
        "key": np.uint64(seed),
    }
    fast = storm_kernel(boot, **args)
    with np.errstate(over="ignore"):
        slow = storm_kernel.py_func(boot, **args)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b, equal_nan=True)
