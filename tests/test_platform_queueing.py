"""Queueing formulas of the platform (``models.platform.queueing``): Erlang A against the
M/M/n+M birth-death chain solved numerically, its limit Erlang C as patience grows, the
staffing inverses are the fewest agents that qualify, and nothing overflows at thousands of
erlangs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from models.platform.queueing import (
    ErlangA,
    birth_death,
    erlang_a_staffing,
    erlang_c,
    erlang_c_mean_wait,
    erlang_c_service_level,
    erlang_c_staffing,
    square_root_staffing,
)


def _chain(n: int, lam: float, mu: float, theta: float, t: float) -> dict[str, float]:
    """Every measure from the truncated chain: P(wait) and E[Q] by summation, the service
    level from the tagged caller's absorbing chain (matrix exponential)."""
    k_max = n + 600
    p = birth_death(n, lam, mu, theta, k_max)
    q = np.maximum(np.arange(k_max + 1) - n, 0)
    eq = float((q * p).sum())
    j_max = 300
    gen = np.zeros((j_max + 2, j_max + 2))  # states: callers ahead 0..j_max, then served
    for m in range(j_max + 1):
        rate = n * mu + m * theta
        gen[m, m] = -(rate + theta)
        gen[m, m - 1 if m else j_max + 1] = rate
    served = expm(gen * t)[:, j_max + 1]
    sl = p[:n].sum() + sum(p[n + j] * served[j] for j in range(j_max + 1))
    return {
        "p_wait": float(p[n:].sum()),
        "p_abandon": theta * eq / lam,
        "mean_wait": eq / lam,
        "sl": float(sl),
    }


@pytest.mark.parametrize(
    "n, lam, mu, theta",
    [
        (10, 8 / 300, 1 / 300, 1 / 200),  # rho 0.8
        (10, 10 / 300, 1 / 300, 1 / 180),  # rho 1.0
        (10, 12 / 300, 1 / 300, 1 / 180),  # rho 1.2
        (3, 0.001, 1 / 300, 1 / 600),  # very light
        (1, 0.01, 1 / 60, 1 / 30),
        (40, 45 / 240, 1 / 240, 1 / 90),
    ],
)
def test_erlang_a_matches_the_birth_death_chain(n, lam, mu, theta):
    q = ErlangA(n, lam, mu, theta)
    want = _chain(n, lam, mu, theta, 20.0)
    assert q.p_wait == pytest.approx(want["p_wait"], rel=1e-9)
    assert q.p_abandon == pytest.approx(want["p_abandon"], rel=1e-9)
    assert q.mean_wait == pytest.approx(want["mean_wait"], rel=1e-9)
    assert q.service_level(20.0) == pytest.approx(want["sl"], rel=1e-8)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 30),
    rho=st.floats(0.05, 2.0),
    patience_over_talk=st.floats(0.1, 20.0),
)
def test_erlang_a_against_the_chain_anywhere(n, rho, patience_over_talk):
    mu = 1 / 300
    lam, theta = rho * n * mu, mu / patience_over_talk
    q = ErlangA(n, lam, mu, theta)
    p = birth_death(n, lam, mu, theta, n + 3000)
    eq = float((np.maximum(np.arange(len(p)) - n, 0) * p).sum())
    assert q.p_wait == pytest.approx(float(p[n:].sum()), rel=1e-7, abs=1e-12)
    assert q.p_abandon == pytest.approx(theta * eq / lam, rel=1e-7, abs=1e-12)
    assert 0 <= q.service_level(20) <= 1 - q.p_abandon + 1e-12


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(rho):
    n, mu = 10, 1 / 300
    lam = rho * n * mu
    q = ErlangA(n, lam, mu, 1e-10)
    assert q.p_wait == pytest.approx(erlang_c(n, lam, mu), rel=1e-5)
    assert q.mean_wait == pytest.approx(erlang_c_mean_wait(n, lam, mu), rel=1e-5)
    assert q.service_level(20) == pytest.approx(erlang_c_service_level(n, lam, mu, 20), rel=1e-6)


def test_erlang_c_known_value_and_limits():
    # Erlang C(10, 8) = 0.4092 (tables); unstable queues always wait
    assert erlang_c(10, 8.0, 1.0) == pytest.approx(0.40918, abs=1e-5)
    assert erlang_c(10, 10.0, 1.0) == 1.0
    assert erlang_c(5, 0.0, 1.0) == 0.0
    assert erlang_c_mean_wait(10, 11.0, 1.0) == math.inf


def test_overloaded_thousands_of_erlangs_do_not_overflow():
    q = ErlangA(1000, 1100 / 300, 1 / 300, 1 / 200)
    assert 0.9 < q.p_wait <= 1 and 0.05 < q.p_abandon < 0.2
    assert 0 < q.service_level(20) < 1
    light = ErlangA(2000, 1000 / 300, 1 / 300, 1 / 200)
    assert light.p_wait < 1e-100 and light.service_level(20) == pytest.approx(1.0)


@pytest.mark.parametrize("load", [2.0, 20.0, 200.0])
def test_staffing_inverses_are_the_fewest_that_qualify(load):
    mu, theta, t = 1 / 300, 1 / 180, 20.0
    lam = load * mu
    n = erlang_c_staffing(lam, mu, t, 0.8)
    assert erlang_c_service_level(n, lam, mu, t) >= 0.8
    assert n - 1 <= load or erlang_c_service_level(n - 1, lam, mu, t) < 0.8
    n = erlang_a_staffing(lam, mu, theta, t, 0.8, 0.05)
    ok = lambda k: (  # noqa: E731
        ErlangA(k, lam, mu, theta).service_level(t) >= 0.8
        and ErlangA(k, lam, mu, theta).p_abandon <= 0.05
    )
    assert ok(n) and not ok(n - 1)
    # abandonment relieves the queue: Erlang A never asks for more than Erlang C
    assert n <= erlang_c_staffing(lam, mu, t, 0.8)
    assert square_root_staffing(lam, mu, 1.0) == math.ceil(load + math.sqrt(load))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mu"):
        erlang_c(3, 1.0, 0.0)
    with pytest.raises(ValueError, match="theta"):
        ErlangA(3, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="n must"):
        erlang_c(-1, 1.0, 1.0)
