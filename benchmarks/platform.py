"""The softphone platform's throughput (``make bench``), and its one-SimPy-process-per-call
baseline.

Rows:

* the event kernel against its plain-Python twin on the same sessions;
* the platform in the world (SimPy process stepping the Numba engine, origination drawn a
  day at a time, tables recorded) against :func:`naive_platform` -- one SimPy process per
  call attempt, agents and trunks as ``simpy.Resource`` -- on the same tenants and the same
  sessions (drawn by the world's own origination), in sessions per second: 20 tenants
  of 20 agents for a day and a week, 100 tenants of 50 agents for a day (the least CPU
  time of repeated runs: a run of half a second varies by a third on a shared machine);
* a month of a 100-tenant, 5,000-agent platform end to end, its wall time.

:func:`naive_platform` is also the twin of ``tests/test_platform_world.py``'s cross-check:
on a platform with one skill per tenant and no texts, transfers or outbound calls, the same
sessions give the same outcomes and waits.  Nothing is asserted here.
"""

from __future__ import annotations

import time

import numpy as np
import simpy

from models.common import DAY
from models.platform import layout as L
from models.platform.engine import Engine
from models.platform.kernel import advance
from sim.config import parse_config
from sim.core.seeding import Streams
from sim.runs.simulate import simulate
from sim.world.platform.origination import Origination
from sim.world.platform.structure import PlatformPolicies, layout_of, structure_of

__all__ = ["bench_platform", "naive_platform", "platform_config", "sessions_of"]


def naive_platform(
    new_f: np.ndarray, new_i: np.ndarray, agents: list[int], trunks: int, max_attempts: int
) -> dict[str, np.ndarray]:
    """One SimPy process per call attempt: take a trunk (or be blocked), spend the IVR,
    queue for one of the tenant's agents (FIFO) until answered or out of patience, talk,
    free the trunk, wrap up, free the agent; a blocked or abandoned caller retries after its
    drawn delay.

    Parameters
    ----------
    new_f, new_i : numpy.ndarray
        Session rows (:mod:`models.platform.layout`), in arrival order: voice calls, one
        queue per tenant.
    agents : list of int
        Agents of each tenant (at least one).
    trunks : int
        Trunks shared by every tenant.
    max_attempts : int

    Returns
    -------
    dict
        Per attempt: ``session``, ``attempt``, ``outcome`` (codes of
        :data:`models.platform.layout.OUTCOMES`), ``t`` and ``wait``.
    """
    env = simpy.Environment()
    trunk = simpy.Resource(env, capacity=trunks)
    desks = [simpy.Resource(env, capacity=n) for n in agents]
    log: dict[str, list] = {k: [] for k in ("session", "attempt", "outcome", "t", "wait")}

    def record(idx, k, outcome, t, wait):
        log["session"].append(int(new_i[idx, L.I_SESSION]))
        log["attempt"].append(k)
        log["outcome"].append(outcome)
        log["t"].append(t)
        log["wait"].append(wait)

    def attempt(idx: int, k: int):
        t = env.now
        row = new_f[idx]
        if trunk.count >= trunks:
            record(idx, k, L.BLOCKED, t, 0.0)
        else:
            line = trunk.request()
            yield line
            if row[L.F_IVR] > 0:
                yield env.timeout(row[L.F_IVR])
            queued = env.now
            desk = desks[int(new_i[idx, L.I_TENANT])]
            agent = desk.request()
            patience = row[L.F_PAT + k]
            if np.isfinite(patience):
                got = yield agent | env.timeout(patience)
                answered = agent in got
            else:
                yield agent
                answered = True
            if answered:
                wait = env.now - queued
                yield env.timeout(row[L.F_HANDLE])
                trunk.release(line)
                record(idx, k, L.ANSWERED, t, wait)
                yield env.timeout(row[L.F_WRAP])
                desk.release(agent)
                return
            agent.cancel()
            trunk.release(line)
            record(idx, k, L.ABANDONED, t, env.now - queued)
        delay = row[L.F_PAT + max_attempts + k]
        if k + 1 < max_attempts and np.isfinite(delay):
            yield env.timeout(delay)
            env.process(attempt(idx, k + 1))

    def source():
        for idx in range(len(new_f)):
            yield env.timeout(new_f[idx, L.F_T] - env.now)
            env.process(attempt(idx, 0))

    env.process(source())
    env.run()
    return {k: np.asarray(v) for k, v in log.items()}


def platform_config(tenants: int, agents: int, days: float, calls_per_agent_day: float,
                    record: bool = True):  # fmt: skip
    """A platform of ``tenants`` alike tenants (one skill, voice only, open around the
    clock) with ``agents`` agents in all, and no ordinary subscribers."""
    per = max(agents // tenants, 1)
    none = {"initial": 0, "arrivals_per_day": 0}
    return parse_config(
        {
            "name": f"bench-platform-{tenants}",
            "seed": 3,
            "scenario": {"days": days},
            "record": {"calls": False},
            "inventory": {"area_codes": [212], "blocks_per_area_code": max(tenants // 100, 1)},
            "spam": {"calls_per_line_per_day": 0.0},
            "subscribers": {
                "residential": none,
                "business": none,
                "call_centre": none,
                "notifier": {**none, "bursts_per_day": 0.0},
            },
            "platform": {
                "enabled": True,
                "trunks": int(1.2 * agents) + 10,
                "media_ports": 10 * agents + 100,
                "record_sessions": record,
                "tenant": {
                    "numbers": 2,
                    "calls_per_day": calls_per_agent_day * per,
                    "open_hours": [0, 24],
                    "weekly": [1.0] * 7,
                },
                "tenants": [
                    {"name": f"t{k:03d}", "skills": [{"name": "support", "agents": per}]}
                    for k in range(tenants)
                ],
            },
        }
    )


def sessions_of(cfg) -> tuple[np.ndarray, np.ndarray]:
    """Every session of the run, drawn by the world's own origination."""
    p = cfg.platform
    horizon = cfg.scenario.days * DAY
    orig = Origination(
        cfg=p, rng=Streams(cfg.seed).get("platform"), queue_base=layout_of(p).queue_base,
        horizon=horizon,
    )  # fmt: skip
    parts = [orig.take(d * DAY, (d + 1) * DAY, lambda k: np.array([0])) for d in
             range(int(np.ceil(cfg.scenario.days)))]  # fmt: skip
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


def _cpu_best(fn, repeat: int = 3) -> float:
    """Least CPU time of ``fn()`` over ``repeat`` runs (the machine may be shared: CPU time
    of this process, not wall time)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _world_row(row, label: str, cfg, naive_repeat: int) -> float:
    """The platform in the world against one SimPy process per call on the same sessions:
    the least CPU time of 3 runs of the world and of ``naive_repeat`` of the baseline
    (returned)."""
    f, i = sessions_of(cfg)
    p = cfg.platform
    fixed = list(layout_of(p).fixed)
    world_cpu = _cpu_best(lambda: simulate(cfg, progress=False), repeat=3)
    naive_cpu = _cpu_best(
        lambda: naive_platform(f, i, fixed, p.trunks, p.max_attempts), repeat=naive_repeat
    )
    row(f"platform in the world, {label}", len(f) / world_cpu, len(f) / naive_cpu,
        "SimPy process/call", "sessions/s")  # fmt: skip
    print(f"  ({len(f):,} sessions; CPU: world {world_cpu:.2f} s, one SimPy process per call "
          f"{naive_cpu:.2f} s; target x20)")  # fmt: skip
    return naive_cpu


def bench_platform(quick: bool, row) -> None:
    """Print the platform's rows next to their baselines."""
    print("Softphone platform (sessions per second, one core):")
    cfg = platform_config(20, 400, 1.0, 90.0)
    f, i = sessions_of(cfg)
    lay = layout_of(cfg.platform)
    pol = PlatformPolicies.from_config(cfg.platform)

    def engine_run(kernel, n):
        e = Engine(structure_of(cfg.platform, lay, pol.schedule, pol.media), kernel=kernel)
        e.step(0.0, DAY, lay.fixed, f[:n], i[:n])

    engine_run(advance, 100)  # load the compiled kernel
    engine_run(advance.py_func, 100)  # and the compiled helpers the twin calls
    fast = len(f) / _cpu_best(lambda: engine_run(advance, len(f)))
    small = min(len(f), 3000)
    slow = small / _cpu_best(lambda: engine_run(advance.py_func, small), repeat=1)
    row(f"event kernel ({len(f):,} sessions)", fast, slow, "Python twin", "sessions/s")
    simulate(cfg, progress=False)  # warm caches
    naive_cpu = _world_row(row, "20 x 20 agents, a day", cfg, naive_repeat=3)
    row("engine, same sessions", fast, len(f) / naive_cpu, "SimPy process/call", "sessions/s")
    if quick:
        return
    # longer and larger: the fixed costs of a run (world, tables, a step's bookkeeping)
    # spread thinner
    _world_row(row, "20 x 20 agents, a week", platform_config(20, 400, 7.0, 90.0), 3)
    _world_row(row, "100 x 50 agents, a day", platform_config(100, 5000, 1.0, 90.0), 1)
    days = 30.0
    for record in (False, True):
        big = platform_config(100, 5000, days, 90.0, record=record)
        start, cpu = time.perf_counter(), time.process_time()
        res = simulate(big, progress=False)
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        n = int(res.platform_hourly[["offered", "texts", "dials"]].to_numpy().sum())
        print(
            f"  a month of 100 tenants x 50 agents ({n:,} attempts, sessions recorded: "
            f"{record}): {used:.1f} s CPU ({wall:.1f} s wall) = {n / used / 1e6:.2f} M "
            "attempts/s of CPU (target < 60 s)"
        )
