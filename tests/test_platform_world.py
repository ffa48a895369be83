"""The platform inside the world: the engine against one SimPy process per call on the same
sessions, tenants' numbers as ledger rows of the inventory, common random numbers across
policies and surges, and a world without ordinary subscribers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.platform import naive_platform, platform_config, sessions_of
from models.common import DAY
from models.platform import layout as L
from models.platform.engine import Engine
from sim.config import parse_config
from sim.runs.simulate import simulate
from sim.world.platform.structure import PlatformPolicies, layout_of, structure_of


def _by_attempt(session, attempt, outcome, wait) -> dict[tuple[int, int], tuple[int, float]]:
    return {
        (int(s), int(a)): (int(o), float(w))
        for s, a, o, w in zip(session, attempt, outcome, wait, strict=True)
    }


@pytest.mark.parametrize("trunks", [25, 1000])
def test_engine_matches_one_simpy_process_per_call(trunks):
    """Same sessions (drawn by the world's origination) -> same outcome and wait for every
    attempt, retrials included, as one SimPy process per call with agents and trunks as
    ``simpy.Resource``; with 25 trunks the blocked and their retrials are compared too."""
    cfg = platform_config(3, 30, 1.0, 110.0)
    f, i = sessions_of(cfg)
    lay = layout_of(cfg.platform)
    pol = PlatformPolicies.from_config(cfg.platform)
    structure = dataclasses.replace(
        structure_of(cfg.platform, lay, pol.schedule, pol.media), trunks=trunks
    )
    step = Engine(structure).step(0.0, 3 * DAY, lay.fixed, f, i)
    fast = _by_attempt(
        step.out_i[:, L.O_SESSION],
        step.out_i[:, L.O_ATTEMPT],
        step.out_i[:, L.O_OUTCOME],
        step.out_f[:, L.O_WAIT],
    )
    log = naive_platform(f, i, list(lay.fixed), trunks, cfg.platform.max_attempts)
    slow = _by_attempt(log["session"], log["attempt"], log["outcome"], log["wait"])
    assert set(fast) == set(slow)
    outcomes = np.array([o for o, _ in fast.values()])
    assert (outcomes == L.ANSWERED).sum() > 1000 and (outcomes == L.ABANDONED).sum() > 10
    if trunks < 100:
        assert (outcomes == L.BLOCKED).sum() > 100
    for key, (outcome, wait) in fast.items():
        assert slow[key][0] == outcome, key
        assert slow[key][1] == pytest.approx(wait, abs=1e-6), key


def _world(**platform) -> dict:
    none = {"initial": 0, "arrivals_per_day": 0}
    return {
        "name": "platform-world",
        "seed": 5,
        "scenario": {"days": 1},
        "record": {"calls": False},
        "spam": {"calls_per_line_per_day": 0.0},
        "subscribers": {
            "residential": none,
            "business": none,
            "call_centre": none,
            "notifier": {**none, "bursts_per_day": 0.0},
        },
        "platform": {
            "enabled": True,
            "trunks": 40,
            "media_ports": 400,
            "tenant": {"calls_per_day": 500.0, "numbers": 3},
            "tenants": [
                {"name": "a", "skills": [{"name": "support", "agents": 6}]},
                {"name": "b", "skills": [{"name": "support", "agents": 6}]},
            ],
            **platform,
        },
    }


@pytest.fixture(scope="module")
def surge_runs():
    """One world run with tenant a surging 5x, one without, and one under another policy."""
    runs = {}
    for name, extra in {
        "surge": {
            "bursts": {"s": {"tenant": "a", "day": 0.0, "hour": 10.0, "hours": 2.0, "factor": 5.0}}
        },  # fmt: skip
        "base": {},
        "partition": {"isolation": "fixed_partition"},
    }.items():
        runs[name] = simulate(parse_config(_world(**extra)), progress=False)
    return runs


def test_tenants_numbers_are_business_lines_of_the_inventory(surge_runs):
    """A world with no ordinary subscribers: every tenant's number is a business line in
    the subscribers table (a ledger row of the inventory), and every call dialled one."""
    res = surge_runs["base"]
    subs = res.subscribers
    business = subs[subs["type"] == "business"]
    assert len(business) == 6 == len(subs)
    s = res.platform_sessions
    inbound = s[s["channel"] == "voice"]
    assert len(inbound) > 500
    assert set(inbound["number_id"]) <= set(business["number_id"])
    for k in (0, 1):
        assert inbound.loc[inbound["tenant"] == k, "number_id"].nunique() == 3


def test_a_surge_and_a_policy_leave_every_customer_as_it_was(surge_runs):
    """Common random numbers: the other tenant's callers (arrival, customer, talk time) are
    the same whether tenant a surges or not, and whatever the isolation policy."""

    def callers(res, tenant):
        s = res.platform_sessions
        s = s[(s["tenant"] == tenant) & (s["attempt"] == 0)]
        return s.sort_values("session")[["t", "customer", "number_id"]].to_numpy()

    base = callers(surge_runs["base"], 1)
    assert len(base) > 200
    np.testing.assert_array_equal(callers(surge_runs["surge"], 1), base)
    np.testing.assert_array_equal(callers(surge_runs["partition"], 1), base)
    np.testing.assert_array_equal(
        callers(surge_runs["partition"], 0), callers(surge_runs["base"], 0)
    )
    surging = surge_runs["surge"].platform_sessions
    assert (surging["tenant"] == 0).sum() > 1.5 * (surge_runs["base"].platform_sessions[
        "tenant"] == 0).sum()  # fmt: skip


def test_hourly_rows_count_the_sessions(surge_runs):
    """platform_hourly adds up to the sessions table, tenant by tenant."""
    res = surge_runs["surge"]
    s, h = res.platform_sessions, res.platform_hourly
    voice = s[s["channel"] == "voice"]
    for k in (0, 1):
        mine = voice[voice["tenant"] == k]
        hk = h[h["tenant"] == k]
        assert hk["offered"].sum() == (mine["outcome"] != "closed").sum()
        assert hk["answered"].sum() == (mine["outcome"] == "answered").sum()
        assert hk["abandoned"].sum() == (mine["outcome"] == "abandoned").sum()


def test_sessions_dial_the_numbers_their_tenant_holds_and_a_tenant_without_any_is_dropped():
    """``Origination.take``: each session gets one of its own tenant's numbers (by its drawn
    uniform), and the sessions of a tenant holding no number never reach the platform."""
    from sim.core.seeding import Streams
    from sim.world.platform.origination import Origination

    cfg = platform_config(3, 30, 1.0, 110.0)
    held = {0: np.array([100, 101, 102]), 1: np.array([], dtype=np.int64), 2: np.array([7])}

    def draw(numbers):
        orig = Origination(
            cfg=cfg.platform,
            rng=Streams(cfg.seed).get("platform"),
            queue_base=layout_of(cfg.platform).queue_base,
            horizon=DAY,
        )
        return orig.take(0.0, DAY, numbers)

    every_f, every_i = draw(lambda k: np.array([1000 * k + 5]))
    f, i = draw(held.__getitem__)
    ten = every_i[:, L.I_TENANT]
    assert set(ten.tolist()) == {0, 1, 2}
    np.testing.assert_array_equal(f, every_f[ten != 1])
    np.testing.assert_array_equal(i[:, L.I_TENANT], ten[ten != 1])
    np.testing.assert_array_equal(every_i[:, L.I_NUMBER], 1000 * ten + 5)
    got = i[:, L.I_NUMBER]
    assert set(got[i[:, L.I_TENANT] == 0].tolist()) == {100, 101, 102}
    assert set(got[i[:, L.I_TENANT] == 2].tolist()) == {7}
