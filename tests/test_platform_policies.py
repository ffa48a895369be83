"""Each registered platform policy does what its docstring says: isolation knobs, media
ports, termination routing orders; staffing policies against their queueing formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.dni.erlang import erlang_b
from models.platform import (
    ISOLATION_POLICIES,
    MEDIA_DESIGNS,
    ROUTING_POLICIES,
    STAFFING_POLICIES,
    ErlangA,
    erlang_a_staffing,
    erlang_c_service_level,
    erlang_c_staffing,
    square_root_staffing,
)
from sim.config import parse_config

TENANTS = [
    {"name": "big", "calls_per_day": 3000.0, "skills": [{"name": "s", "agents": 20}]},
    {"name": "mid", "calls_per_day": 1000.0, "skills": [{"name": "s", "agents": 8}]},
    {"name": "small", "calls_per_day": 500.0, "skills": [{"name": "s", "agents": 5}]},
]


def _platform(**extra):
    raw = {"platform": {"trunks": 60, "media_ports": 400, "tenants": TENANTS, **extra}}
    return parse_config(raw).platform


def test_every_registered_policy_has_a_table_or_needs_none():
    """Each registry name builds from the defaults (its table in defaults.toml)."""
    for name in ISOLATION_POLICIES.names():
        assert _platform(isolation=name).build_isolation().knobs() is not None
    for name in ROUTING_POLICIES.names():
        assert _platform(routing=name).build_routing().plan()[0].shape == (3,)
    for name in MEDIA_DESIGNS.names():
        assert _platform(media=name).build_media().call_ports >= 2
    assert {"fixed", "square_root", "erlang_c", "erlang_a", "sim_optimised"} <= set(
        STAFFING_POLICIES.names()
    )


def test_isolation_knobs():
    """Sharing sets nothing; partitions split every trunk and port by contracted load;
    guard channels are guard_share of the trunks; buckets run at factor x the peak rate;
    SL debt refuses waits beyond wait_factor x the threshold under contention."""
    sharing = _platform(isolation="complete_sharing").build_isolation().knobs()
    assert sharing.cap is None and sharing.cps_rate is None and sharing.guard == 0
    part = _platform(isolation="fixed_partition").build_isolation().knobs()
    assert part.cap.sum() == 60 and list(part.cap) == sorted(part.cap, reverse=True)
    assert part.cap[0] == pytest.approx(60 * 3000 / 4500, abs=1)
    assert part.port_cap.sum() <= 400 and (part.port_cap % 2 == 0).all()
    guard = _platform(isolation="trunk_reservation").build_isolation().knobs()
    assert guard.guard == math.ceil(0.1 * 60) and guard.nominal.sum() == 60
    cfg = _platform(isolation="cps_bucket")
    bucket = cfg.build_isolation().knobs()
    _, peaks = cfg.contracted_loads()
    np.testing.assert_allclose(bucket.cps_rate, 1.5 * peaks)
    np.testing.assert_allclose(bucket.cps_burst, np.maximum(1.5 * peaks * 300.0, 1.0))
    debt = _platform(isolation="sl_debt").build_isolation().knobs()
    np.testing.assert_allclose(debt.wait_limit, 3.0 * 20.0)
    assert debt.contention == math.floor(0.1 * 60)


def test_media_ports_per_design():
    """Bridging: two ports a call; a conference: each leg also joins the bridge (four);
    ports Erlang B asks for are call_ports x the call slots Erlang B asks for."""
    bridge = _platform(media="bridge").build_media()
    conf = _platform(media="conference").build_media()
    assert (bridge.call_ports, conf.call_ports) == (2, 4)
    assert conf.consult_ports > bridge.consult_ports >= 1
    slots = next(n for n in range(1, 200) if erlang_b(n, 30.0) <= 0.01)
    assert bridge.ports_for(30.0, 0.01) == 2 * slots
    assert conf.ports_for(30.0, 0.01) == 4 * slots


def test_routing_orders():
    """Least cost: cheapest first; static: the configured split; quality-weighted: a
    carrier that stops connecting (an outage) sinks to the end of the order."""
    least = _platform(routing="least_cost").build_routing()
    assert least.plan()[0].tolist() == [2, 1, 0]  # wholesale, standard, premium
    static = _platform(routing="static").build_routing()
    order, split = static.plan()
    assert split is not None
    np.testing.assert_allclose(split / split.sum(), [0.2, 0.3, 0.5])
    quality = _platform(routing="quality_weighted").build_routing()
    first = quality.plan()[0][0]
    for _ in range(10):
        attempts = np.full(3, 100.0)
        connected = np.array([58.0, 50.0, 40.0])
        connected[first] = 0.0
        quality.observe(attempts, connected)
    assert quality.plan()[0][-1] == first


@pytest.mark.parametrize("load", [5.0, 40.0])
def test_staffing_policies_meet_their_formulas(load):
    """On one stationary hour: Erlang C's agents are the fewest meeting the service level in
    M/M/n; Erlang A's the fewest meeting both targets in M/M/n+M; square-root's a + sqrt(a)
    rounded up."""
    mu, theta, t = 1 / 300.0, 1 / 180.0, 20.0
    lam = load * mu
    n_c = erlang_c_staffing(lam, mu, t, 0.8)
    assert erlang_c_service_level(n_c, lam, mu, t) >= 0.8
    assert n_c - 1 <= load or erlang_c_service_level(n_c - 1, lam, mu, t) < 0.8
    assert n_c > load  # a stable queue
    n_a = erlang_a_staffing(lam, mu, theta, t, 0.8, 0.05)
    q = ErlangA(n_a, lam, mu, theta)
    assert q.service_level(t) >= 0.8 and q.p_abandon <= 0.05
    q1 = ErlangA(n_a - 1, lam, mu, theta)
    assert q1.service_level(t) < 0.8 or q1.p_abandon > 0.05
    assert square_root_staffing(lam, mu, 1.0) == math.ceil(load + math.sqrt(load))
