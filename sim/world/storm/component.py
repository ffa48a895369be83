"""The restart storm inside a world: at time 0 power returns to ``storm.phones`` phones; the
storm is run by the kernel (:mod:`.kernel`) and written to the ``storm_phones`` and
``storm_seconds`` tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.provisioning.storm import StormPlan

from ...config.storm import Storm as StormConfig
from .kernel import BIN_COLUMNS, TOTAL_NAMES, storm_kernel

__all__ = ["Storm", "StormRun", "kernel_arguments", "run_storm"]


@dataclass(frozen=True)
class StormRun:
    """What one storm produced (per phone, per second, and totals).

    Attributes
    ----------
    boot, first, registered, wait : numpy.ndarray
        Per phone (s after power returned): could first negotiate, first transmission,
        registration (NaN: not registered by the horizon), queueing delay of the request
        that registered it.
    counts : numpy.ndarray
        Per phone: transactions, messages, Timer F expiries, 503s received, number given.
    bins : numpy.ndarray
        Per second: ``kernel.BIN_COLUMNS``.
    totals : dict
        ``kernel.TOTAL_NAMES``.
    """

    boot: np.ndarray
    first: np.ndarray
    registered: np.ndarray
    wait: np.ndarray
    counts: np.ndarray
    bins: np.ndarray
    totals: dict[str, float]


def kernel_arguments(
    cfg: StormConfig, plan: StormPlan, horizon: float, key: np.uint64
) -> dict[str, object]:
    """The kernel's arguments (after ``boot``) for a storm of ``cfg`` under ``plan``."""
    return {
        "capacity": float(cfg.capacity),
        "overhead": float(cfg.overhead),
        "t1": float(cfg.t1_seconds),
        "t2": float(cfg.t2_seconds),
        "timer_f": float(cfg.timer_f),
        "queue_limit": int(cfg.queue_limit),
        "retry_seconds": float(cfg.retry_seconds),
        "jitter": float(plan.jitter_seconds),
        "ra_low": int(plan.retry_after_low),
        "ra_high": int(plan.retry_after_high),
        "threshold": float(plan.threshold_seconds),
        "rate": float(plan.rate),
        "burst": float(plan.burst),
        "persistent": bool(cfg.persistent),
        "horizon": float(horizon),
        "key": np.uint64(key),
    }


def run_storm(
    cfg: StormConfig, plan: StormPlan, rng: np.random.Generator, horizon: float
) -> StormRun:
    """One storm: boot times and the key of the per-phone draws from ``rng`` (the same for
    every policy: common random numbers), then the kernel.

    Parameters
    ----------
    cfg : sim.config.storm.Storm
    plan : models.provisioning.storm.StormPlan
        The policy's knobs.
    rng : numpy.random.Generator
        The run's ``storm`` stream.
    horizon : float
        Stop after this many seconds.
    """
    boot = cfg.boot_seconds.sample(rng, cfg.phones)
    key = np.uint64(rng.integers(0, 2**63))
    first, registered, wait, counts, bins, totals = storm_kernel(
        boot, **kernel_arguments(cfg, plan, horizon, key)
    )
    return StormRun(
        boot, first, registered, wait, counts, bins, dict(zip(TOTAL_NAMES, totals.tolist()))
    )


class Storm:
    """The restart storm of a world (``storm.enabled``).

    Parameters
    ----------
    env : simpy.Environment
    cfg : sim.config.storm.Storm
        The ``[storm]`` section.
    plan : models.provisioning.storm.StormPlan
        The knobs of the policy under study.
    horizon : float
        The world's horizon (s): the storm stops at the earlier of it and
        ``storm.horizon_seconds``.
    tables : dict of Table
        ``storm_phones`` and ``storm_seconds``.
    rng : numpy.random.Generator
        The ``storm`` stream.
    """

    def __init__(self, *, env, cfg, plan, horizon, tables, rng):
        for name, value in dict(env=env, cfg=cfg, plan=plan, tables=tables, rng=rng).items():
            if value is None:
                raise TypeError(f"Storm: collaborator {name!r} is not connected")
        self.env = env
        self.cfg = cfg
        self.plan = plan
        self.horizon = min(float(horizon), cfg.horizon_seconds)
        self.tables = tables
        self.rng = rng
        self.result: StormRun | None = None

    def run(self):
        """SimPy process: power returns at the world's time 0; the storm is followed to its
        end (or the horizon) and written."""
        result = run_storm(self.cfg, self.plan, self.rng, self.horizon)
        self.result = result
        self._write(result)
        yield self.env.timeout(0)

    def _write(self, r: StormRun) -> None:
        n = len(r.boot)
        self.tables["storm_phones"].append(
            phone=np.arange(n, dtype=np.int32),
            boot=r.boot,
            first_attempt=r.first,
            registered=r.registered,
            transactions=r.counts[:, 0],
            messages=r.counts[:, 1],
            timeouts=r.counts[:, 2],
            rejected=r.counts[:, 3],
            queue_wait=r.wait,
            number_before=np.arange(n, dtype=np.int32),
            number_after=r.counts[:, 4],
        )
        used = max(1, min(len(r.bins), int(np.ceil(r.totals["end"])) + 1))
        self.tables["storm_seconds"].append(
            second=np.arange(used, dtype=np.int32),
            **{c: r.bins[:used, i] for i, c in enumerate(BIN_COLUMNS)},
        )
