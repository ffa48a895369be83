"""The platform's event kernel (``models.platform.kernel.advance``) against its plain-Python
twin (``advance.py_func``) on random small platforms -- tenants, skills, texts, transfers,
outbound calls through carriers with outages, isolation knobs, shifts -- and the
invariants every run keeps: resources held equal resources in use, every session ends
exactly once, an agent serves one call or up to its capacity of texts."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.platform import layout as L
from models.platform.core import heap_pop, heap_push
from models.platform.engine import Engine, Structure, session_rows
from models.platform.kernel import advance


@st.composite
def platforms(draw):
    """A random platform and a few steps of sessions on a coarse time grid (so events tie)."""
    n_t = draw(st.integers(1, 3), label="tenants")
    maxa = draw(st.integers(1, 3), label="max_attempts")
    qt, qs, qc, qp, gt, gs, gm, gsize, gcap = ([] for _ in range(9))
    skills = []
    for k in range(n_t):
        n_s = draw(st.integers(1, 3))
        skills.append(n_s)
        for j in range(n_s):
            for c in range(3):
                qt.append(k), qs.append(j), qc.append(c)
                qp.append(draw(st.integers(-2, 2)) if c < 2 else -1000)
            mask = (1 << j) | draw(st.integers(0, (1 << n_s) - 1))
            gt.append(k), gs.append(j), gm.append(mask)
            gsize.append(draw(st.integers(0, 3))), gcap.append(draw(st.integers(1, 3)))
    n_c = draw(st.integers(1, 3), label="carriers")
    structure = Structure(
        queue_tenant=np.array(qt),
        queue_skill=np.array(qs),
        queue_channel=np.array(qc),
        queue_priority=np.array(qp),
        group_tenant=np.array(gt),
        group_skill=np.array(gs),
        group_mask=np.array(gm),
        group_size=np.array(gsize),
        group_capacity=np.array(gcap),
        n_tenants=n_t,
        trunks=draw(st.integers(1, 8)),
        ports=draw(st.integers(2, 30)),
        call_ports=draw(st.integers(1, 3)),
        consult_ports=draw(st.integers(0, 2)),
        carrier_cap=np.array(draw(st.lists(st.integers(1, 3), min_size=n_c, max_size=n_c))),
        carrier_cps=np.array(
            draw(st.lists(st.sampled_from([0.05, 0.5, 5.0]), min_size=n_c, max_size=n_c))
        ),  # fmt: skip
        carrier_asr=np.array(draw(st.lists(st.floats(0.1, 0.9), min_size=n_c, max_size=n_c))),
        carrier_billing=np.array(
            draw(st.lists(st.sampled_from([1, 6, 60]), min_size=n_c, max_size=n_c))
        ),  # fmt: skip
        max_attempts=maxa,
        failover_seconds=draw(st.sampled_from([0.0, 2.0])),
        ring_timeout=30.0,
    )
    base = np.cumsum([0] + [3 * s for s in skills])
    knobs = {
        "cap": np.array(draw(st.lists(st.integers(1, 8), min_size=n_t, max_size=n_t))),
        "nominal": np.array(draw(st.lists(st.integers(0, 8), min_size=n_t, max_size=n_t))),
        "guard": draw(st.integers(0, 3)),
        "cps_rate": np.array(
            draw(st.lists(st.sampled_from([np.inf, 0.02, 0.2]), min_size=n_t, max_size=n_t))
        ),  # fmt: skip
        "cps_burst": np.full(n_t, 2.0),
        "wait_limit": np.array(
            draw(st.lists(st.sampled_from([np.inf, 0.0, 30.0]), min_size=n_t, max_size=n_t))
        ),  # fmt: skip
        "contention": draw(st.integers(-1, 4)),
    }
    if not draw(st.booleans(), label="isolated"):
        knobs = {}
    route = np.array(draw(st.permutations(list(range(n_c)))))
    weights = None if draw(st.booleans()) else np.ones(n_c)
    failover = draw(st.booleans())
    down = draw(st.sampled_from([None, (0.0, 60.0), (30.0, 1e9)]))
    steps, t0, sid = [], 0.0, 0
    for _ in range(draw(st.integers(1, 4), label="steps")):
        length = 10.0 * draw(st.integers(1, 12))
        n = draw(st.integers(0, 12))
        f, i = session_rows(n, maxa)
        f[:, L.F_T] = t0 + 5.0 * np.sort(
            np.array(draw(st.lists(st.integers(0, int(length / 5) - 1), min_size=n, max_size=n)))
        )

        def grid(lo, hi, n=n):
            return 5.0 * np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))

        f[:, L.F_HANDLE], f[:, L.F_WRAP], f[:, L.F_HANDLE2] = grid(0, 12), grid(0, 3), grid(0, 8)
        f[:, L.F_CONSULT], f[:, L.F_IVR], f[:, L.F_RING] = grid(0, 3), grid(0, 2), grid(0, 3)
        f[:, L.F_ANSWER_U] = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
        f[:, L.F_ROUTE_U] = np.array(draw(st.lists(st.floats(0, 0.999), min_size=n, max_size=n)))
        for a in range(maxa):
            f[:, L.F_PAT + a] = np.where(grid(0, 1) > 0, grid(0, 20), np.inf)
            f[:, L.F_PAT + maxa + a] = np.where(grid(0, 1) > 0, grid(0, 10), np.inf)
        for r in range(n):
            k = draw(st.integers(0, n_t - 1))
            j = draw(st.integers(0, skills[k] - 1))
            c = draw(st.integers(0, 2))
            i[r, L.I_TENANT], i[r, L.I_CHANNEL] = k, c
            i[r, L.I_QUEUE] = base[k] + 3 * j + c
            if c == L.VOICE:
                i[r, L.I_XFER] = draw(st.integers(0, 2))
                i[r, L.I_XQUEUE] = base[k] + 3 * draw(st.integers(0, skills[k] - 1))
        i[:, L.I_SESSION] = sid + np.arange(n)
        sid += n
        staff = np.array([draw(st.integers(0, s)) for s in gsize])
        opened = np.array(
            draw(st.lists(st.sampled_from([True, True, True, False]), min_size=n_t, max_size=n_t))
        )
        steps.append((t0, t0 + length, staff, f, i, opened))
        t0 += length
    return structure, knobs, (route, weights, failover), down, steps


def _engine(structure, knobs, route, down, kernel) -> Engine:
    e = Engine(structure, kernel=kernel)
    e.set_knobs(**knobs)
    e.set_route(*route)
    n_c = len(structure.carrier_cap)
    if down is not None:
        e.set_outages(np.full(n_c, down[0]), np.full(n_c, down[1]))
    return e


STATE = (
    "slot_f",
    "slot_i",
    "free",
    "ag_i",
    "ag_f",
    "q_i",
    "t_i",
    "t_f",
    "g_i",
    "g_f",
    "c_i",
    "c_f",
)


def _check_invariants(e: Engine, rows_final: set, n_sessions: int) -> None:
    live = e.slot_i[:, L.S_STATE] != L.FREE
    assert int(live.sum()) == e.g_i[L.G_ACTIVE]
    # resources held by sessions are the resources in use
    assert e.g_i[L.G_BUSY] == int(e.slot_i[live, L.S_TRUNK].sum()) == e.t_i[:, L.T_TRUNKS].sum()
    assert e.g_i[L.G_PBUSY] == int(e.slot_i[live, L.S_PORTS].sum()) == e.t_i[:, L.T_PORTS].sum()
    assert 0 <= e.g_i[L.G_BUSY] <= e.s.trunks and 0 <= e.g_i[L.G_PBUSY] <= e.s.ports
    assert (e.c_i[:, L.C_BUSY] <= e.c_i[:, L.C_CAP]).all() and (e.c_i[:, L.C_BUSY] >= 0).all()
    # queues hold exactly the waiting sessions, counted right
    for q in range(len(e.q_i)):
        walk, s = [], e.q_i[q, L.Q_HEAD]
        while s >= 0:
            walk.append(s)
            s = e.slot_i[s, L.S_NEXT]
        assert len(walk) == e.q_i[q, L.Q_LEN]
        assert all(e.slot_i[s, L.S_STATE] in (L.WAITING, L.XWAIT) for s in walk)
    # agents: one call or up to their capacity of texts, never both
    ag = e.ag_i
    assert ((ag[:, L.A_TEXTS] >= 0) & (ag[:, L.A_TEXTS] <= ag[:, L.A_CAP])).all()
    assert not ((ag[:, L.A_SLOT] >= 0) & (ag[:, L.A_TEXTS] > 0)).any()
    # every session ends once, or is still in the system
    ended = len(rows_final)
    assert ended + int(live.sum()) == n_sessions


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=platforms())
def test_kernel_agrees_with_its_python_twin_and_keeps_invariants(case):
    structure, knobs, route, down, steps = case
    fast = _engine(structure, knobs, route, down, advance)
    slow = _engine(structure, knobs, route, down, advance.py_func)
    final, n_sessions = set(), 0
    for t0, t1, staff, f, i, opened in steps:
        fast.set_open(opened)
        slow.set_open(opened)
        a = fast.step(t0, t1, staff, f, i)
        b = slow.step(t0, t1, staff, f, i)
        np.testing.assert_array_equal(a.out_i, b.out_i)
        np.testing.assert_array_equal(a.out_f, b.out_f)
        np.testing.assert_array_equal(a.carriers, b.carriers)
        for name in STATE:
            np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
        n_sessions += len(f)
        oi, of = a.out_i, a.out_f
        assert (of[:, L.O_WAIT] >= 0).all() and (of[:, L.O_END] >= of[:, L.O_T]).all()
        answered = oi[:, L.O_OUTCOME] == L.ANSWERED
        assert (oi[answered, L.O_AGENT] >= 0).all()
        keys = set(zip(oi[:, L.O_SESSION].tolist(), oi[:, L.O_ATTEMPT].tolist()))
        assert len(keys) == len(oi)  # one row per attempt
        done = oi[:, L.O_RETRIED] == 0
        new = set(oi[done, L.O_SESSION].tolist())
        assert not (new & final)
        final |= new
        _check_invariants(fast, final, n_sessions)


def test_drained_platform_returns_every_resource():
    """After the last arrival, with every agent on, every session ends and every trunk,
    port and carrier channel is free again."""
    s = Structure(
        queue_tenant=np.zeros(6, dtype=np.int64),
        queue_skill=np.array([0, 0, 0, 1, 1, 1]),
        queue_channel=np.array([0, 1, 2, 0, 1, 2]),
        queue_priority=np.array([0, -1, -1000, 1, 0, -1000]),
        group_tenant=np.zeros(2, dtype=np.int64),
        group_skill=np.array([0, 1]),
        group_mask=np.array([3, 2]),
        group_size=np.array([3, 2]),
        group_capacity=np.array([3, 3]),
        n_tenants=1,
        trunks=4,
        ports=9,
        call_ports=2,
        consult_ports=1,
        carrier_cap=np.array([2, 2]),
        carrier_cps=np.array([1.0, 1.0]),
        carrier_asr=np.array([0.5, 0.6]),
        carrier_billing=np.array([6, 6]),
        max_attempts=2,
    )
    rng = np.random.default_rng(3)
    n = 400
    f, i = session_rows(n, 2)
    f[:, L.F_T] = np.sort(rng.random(n) * 3600)
    f[:, L.F_HANDLE] = rng.exponential(60, n)
    f[:, L.F_HANDLE2] = rng.exponential(30, n)
    f[:, L.F_CONSULT] = 10.0
    f[:, L.F_WRAP] = 5.0
    f[:, L.F_ANSWER_U] = rng.random(n)
    f[:, L.F_PAT : L.F_PAT + 2] = rng.exponential(60, (n, 2))
    f[:, L.F_PAT + 2 : L.F_PAT + 4] = rng.exponential(120, (n, 2))
    ch = rng.integers(0, 3, n)
    skill = rng.integers(0, 2, n)
    i[:, L.I_CHANNEL], i[:, L.I_QUEUE] = ch, 3 * skill + ch
    i[:, L.I_XFER] = np.where(ch == L.VOICE, rng.integers(0, 3, n), 0)
    i[:, L.I_XQUEUE] = 3
    i[:, L.I_SESSION] = np.arange(n)
    e = Engine(s)
    e.step(0.0, 3600.0, np.array([3, 2]), f, i)
    e.step(3600.0, 10 * 3600.0, np.array([3, 2]), f[:0], i[:0])
    assert e.g_i[L.G_ACTIVE] == 0
    assert e.g_i[L.G_BUSY] == e.g_i[L.G_PBUSY] == 0
    assert (e.c_i[:, L.C_BUSY] == 0).all() and (e.q_i[:, L.Q_LEN] == 0).all()
    assert ((e.ag_i[:, L.A_SLOT] == -1) & (e.ag_i[:, L.A_TEXTS] == 0)).all()


@pytest.mark.parametrize("failover", [True, False])
def test_a_carrier_outage_fails_over_only_with_failover(failover):
    """Cheapest carrier down: with failover the next one connects the calls, without it
    they fail."""
    s = Structure(
        queue_tenant=np.zeros(3, dtype=np.int64),
        queue_skill=np.zeros(3, dtype=np.int64),
        queue_channel=np.arange(3),
        queue_priority=np.array([0, -1, -1000]),
        group_tenant=np.zeros(1, dtype=np.int64),
        group_skill=np.zeros(1, dtype=np.int64),
        group_mask=np.ones(1, dtype=np.int64),
        group_size=np.array([5]),
        group_capacity=np.ones(1, dtype=np.int64),
        n_tenants=1,
        trunks=10,
        ports=100,
        call_ports=2,
        consult_ports=1,
        carrier_cap=np.array([50, 50]),
        carrier_cps=np.array([30.0, 30.0]),
        carrier_asr=np.array([1.0, 1.0]),
        carrier_billing=np.array([6, 6]),
        failover_seconds=2.0,
    )
    n = 50
    f, i = session_rows(n, 1)
    f[:, L.F_T] = np.arange(n) * 60.0
    f[:, L.F_HANDLE] = 30.0
    f[:, L.F_ANSWER_U] = 0.5
    i[:, L.I_CHANNEL], i[:, L.I_QUEUE], i[:, L.I_SESSION] = L.OUTBOUND, 2, np.arange(n)
    e = Engine(s)
    e.set_route(np.array([0, 1]), None, failover)
    e.set_outages(np.array([0.0, np.inf]), np.array([1e9, np.inf]))
    out = e.step(0.0, 7200.0, np.array([5]), f, i)
    outcome = out.out_i[:, L.O_OUTCOME]
    assert len(outcome) == n
    if failover:
        assert (outcome == L.ANSWERED).all() and (out.out_i[:, L.O_CARRIER] == 1).all()
        assert (out.out_i[:, L.O_FAILOVERS] == 1).all()
    else:
        assert (outcome == L.FAILED).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), times=st.integers(1, 50))
def test_event_heap_pops_in_time_then_scheduling_order(seed, times):
    """The 4-ary heap against ``heapq`` on (time, sequence): 300 pushes and pops (three
    pushes to a pop, so the heap grows several levels deep) at ``times`` distinct times
    (few: many ties)."""
    rng = np.random.default_rng(seed)
    ops = zip(rng.integers(0, times, 300), rng.integers(0, 4, 300), rng.random(300) < 0.75)
    cap = 300
    g_i = np.zeros(L.N_G_I, dtype=np.int64)
    heap = [np.zeros(cap), *(np.zeros(cap, dtype=np.int64) for _ in range(4))]
    state = [None] * 21
    state[8], state[14:19] = g_i, heap
    st_ = tuple(state)
    ref: list = []
    seq = 0
    for t, kind, push in ops:
        if not push:
            if not ref:
                continue
            want = heapq.heappop(ref)
            assert heap_pop.py_func(st_) == (float(want[0]), want[2], want[3], want[4])
        else:
            heap_push.py_func(st_, float(t), kind, seq, 7 * seq)
            heapq.heappush(ref, (float(t), seq, kind, seq, 7 * seq))
            seq += 1
        assert g_i[L.G_HEAP_N] == len(ref)
