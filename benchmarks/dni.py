"""The DNI pool (``sim.leases``): throughput against one SimPy process per session, and an
Erlang B validation of its blocking.

``Pool.allocate`` leases numbers to a whole step of ad sessions in one Numba kernel call.
The baseline, :func:`naive_market`, is the way such a pool is usually first written in
SimPy: one process per session, a ``simpy.Store`` of free numbers per group (first in, first
out, so least recently freed first, as in the pool); a session takes a number if one is
free (else the overflow number, -1), holds it for the lease and puts it back.  On the same
sessions (no start exactly at a lease end) both give the same number to every session.

With one group, Poisson arrivals, any lease-length distribution and overflow on exhaustion
the pool is an M/G/N/N loss system, whose blocking is Erlang B(N, A), A = lambda E[lease]
(insensitive to the length distribution beyond its mean); :func:`erlang_validation`
measures it by independent replications.  Nothing is asserted here (``tests/test_dni_leases.py``
does); ``bench_dni`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import simpy
from scipy import stats

from benchmarks.timing import best_seconds
from models.dni.erlang import erlang_b, servers_for_blocking
from sim.world.leases import Pool

__all__ = [
    "pool_for",
    "lease_lengths",
    "session_batches",
    "warmup",
    "blocking_run",
    "erlang_validation",
    "naive_market",
    "market_config",
    "bench_dni",
]

HOUR = 3600.0
MEAN_LEASE = 1800.0
"""Mean lease length (s) of the synthetic streams: close to the market's 30-min hold."""
LOGNORMAL_SIGMA = 1.0
"""Shape of the lognormal lease lengths (that of the market's default session length)."""


# -- synthetic sessions --------------------------------------------------------------------------
def pool_for(load: float, target: float = 0.04) -> int:
    """The smallest pool whose Erlang B blocking at ``load`` is at most ``target``
    (15 numbers at 10 Erlangs, 107 at 100, 979 at 1000 for the default 4 %)."""
    return int(servers_for_blocking(load, target))


def lease_lengths(kind: str, mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lease lengths of mean ``mean``: ``"exponential"`` or ``"lognormal"`` (shape
    :data:`LOGNORMAL_SIGMA`, median chosen so that the mean is ``mean``)."""
    if kind == "exponential":
        return rng.exponential(mean, n)
    if kind == "lognormal":
        return rng.lognormal(np.log(mean) - LOGNORMAL_SIGMA**2 / 2, LOGNORMAL_SIGMA, n)
    raise ValueError(f"unknown lease-length distribution {kind!r}")


def session_batches(
    rate: float,
    duration: float,
    rng: np.random.Generator,
    kind: str = "exponential",
    mean: float = MEAN_LEASE,
    n_groups: int = 1,
    step: float = HOUR,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """A stationary stream of sessions, one batch per ``step`` seconds.

    Parameters
    ----------
    rate : float
        Poisson arrival rate of sessions per group (per second).
    duration : float
        Length of the stream (s), a whole number of steps.
    rng : numpy.random.Generator
    kind, mean :
        Lease-length distribution and mean (s), see :func:`lease_lengths`.
    n_groups : int
        Groups, each with its own Poisson stream of ``rate`` (merged: one stream of
        ``n_groups * rate`` whose sessions pick a group uniformly).
    step : float
        Seconds per batch (one ``Pool.allocate`` call each).

    Yields
    ------
    start, length, group, until
        The step's session starts (sorted), lease lengths, groups and the step's end.
    """
    for k in range(int(round(duration / step))):
        n = int(rng.poisson(rate * n_groups * step))
        start = k * step + np.sort(rng.random(n)) * step
        yield (
            start,
            lease_lengths(kind, mean, n, rng),
            rng.integers(0, n_groups, n),
            (k + 1) * step,
        )


def warmup(kind: str, mean: float = MEAN_LEASE, tol: float = 1e-4) -> float:
    """Seconds to discard from a run started with every number free.

    Started empty, the M/G/inf system fed the same sessions has, at time t, an expected
    deficit of lambda E[(L - t)+] numbers busy below its stationary mean A = lambda E[L];
    the warm-up is the first multiple of ``mean`` at which E[(L - t)+] <= ``tol`` E[L]
    (10 means for exponential leases, 45 for lognormal ones of shape 1, whose long leases
    take that long to build up: at A = 1000, lognormal runs blocked 18 % less than
    stationary between 10 and 20 means after an empty start).  The loss system's blocking
    is a steep function of the load near its pool size (elasticity 5, 11 and 18 at A = 10,
    100, 1000 with the pools of :func:`pool_for`), so a relative deficit of 1e-4 moves it
    by at most 0.2 % of itself, far inside the intervals of :func:`erlang_validation`.
    """
    if kind == "exponential":
        return float(np.ceil(-np.log(tol))) * mean
    if kind != "lognormal":
        raise ValueError(f"unknown lease-length distribution {kind!r}")
    s = LOGNORMAL_SIGMA
    mu = np.log(mean) - s**2 / 2
    k = 1
    while True:
        t = k * mean  # E[(L - t)+] of a lognormal, over E[L]
        excess = stats.norm.cdf((mu + s * s - np.log(t)) / s) - t / mean * stats.norm.cdf(
            (mu - np.log(t)) / s
        )
        if excess <= tol:
            return float(t)
        k += 1


def blocking_run(
    servers: int,
    load: float,
    kind: str,
    sessions: int,
    rng: np.random.Generator,
    mean: float = MEAN_LEASE,
) -> tuple[int, int, float, float]:
    """One replication of the Erlang loss system on :class:`sim.leases.Pool`.

    One group of ``servers`` numbers, all free at time 0, overflow on exhaustion, Poisson
    sessions offering ``load`` Erlangs.  The first :func:`warmup` seconds are discarded, then
    about ``sessions`` sessions are counted; one ``Pool.allocate`` call per hour (per
    several hours at low loads, so that each call gets about 2,000 sessions).

    Returns
    -------
    sessions, blocked, work, seconds : int, int, float, float
        Sessions arriving after the warm-up, those given the overflow number, the sum of
        their lease lengths (s) and the time they arrived in (s).
    """
    rate = load / mean
    step = HOUR * max(1, round(2000 / (rate * HOUR)))
    warm = np.ceil(warmup(kind, mean) / step) * step
    duration = warm + np.ceil(sessions / (rate * step)) * step
    pool = Pool(1, steal=False)
    pool.buy(0, servers)
    counted = blocked = 0
    work = 0.0
    first = 0
    for start, length, group, until in session_batches(rate, duration, rng, kind, mean, step=step):
        ids = np.arange(first, first + len(start))
        first += len(start)
        number = pool.allocate(start, length, group, ids, until)
        if until > warm:
            counted += len(number)
            blocked += int((number < 0).sum())
            work += float(length.sum())
    return counted, blocked, work, duration - warm


def erlang_validation(
    loads=(10, 100, 1000),
    kinds=("exponential", "lognormal"),
    seed: int = 2024,
    replications: int = 20,
    sessions: int = 100_000,
    level: float = 0.95,
    mean: float = MEAN_LEASE,
) -> pd.DataFrame:
    """Measured blocking of the pool against Erlang B, by independent replications.

    For each load A and lease-length distribution: one group of N = :func:`pool_for` (A)
    numbers, sessions arriving at rate A / ``mean`` (leases of mean ``mean`` seconds),
    overflow on exhaustion.  Each of ``replications`` runs (:func:`blocking_run`) starts with
    every number free and its own random stream, discards the :func:`warmup` and counts
    about ``sessions`` sessions.  Within a run consecutive sessions are strongly correlated
    (blocking comes in spells as long as a lease), but the runs are independent and
    identically distributed by construction, so the ratio estimator (total blocked / total
    sessions) has a valid t interval on R - 1 degrees of freedom from the per-run residuals
    b_r - B^ s_r (delta method), whatever the correlation within a run.

    Parameters
    ----------
    loads : sequence of float
        Offered loads A (Erlangs).
    kinds : sequence of str
        Lease-length distributions (see :func:`lease_lengths`), all of mean ``mean``.
    seed : int
        Root seed; every (load, distribution, replication) gets its own child stream.
    replications, sessions : int
        Runs per row and sessions counted per run.
    level : float
        Confidence level of ``ci`` (a test checking several rows at once may ask for a
        Bonferroni-corrected level).
    mean : float
        Mean lease length (s).

    Returns
    -------
    pandas.DataFrame
        One row per (load, distribution): ``load`` (A), ``distribution``, ``pool`` (N),
        ``offered`` (measured offered traffic in Erlangs: lease seconds offered per second
        after the warm-up), ``measured`` (share of sessions given the overflow number),
        ``ci`` (half-width of its ``level`` confidence interval) and ``erlang_b`` (B(N, A)).
    """
    children = iter(np.random.SeedSequence(seed).spawn(len(loads) * len(kinds)))
    rows = []
    for load in loads:
        n = pool_for(load)
        for kind in kinds:
            runs = np.array(
                [
                    blocking_run(n, load, kind, sessions, np.random.default_rng(s), mean)
                    for s in next(children).spawn(replications)
                ]
            )
            s, b, w, secs = runs.T
            ratio = b.sum() / s.sum()
            resid = b - ratio * s
            se = np.sqrt(resid.var(ddof=1) / replications) / s.mean()
            half = stats.t.ppf(0.5 + level / 2, replications - 1) * se
            rows.append(
                {
                    "load": float(load),
                    "distribution": kind,
                    "pool": n,
                    "offered": w.sum() / secs.sum(),
                    "measured": ratio,
                    "ci": half,
                    "erlang_b": erlang_b(n, load),
                }
            )
    return pd.DataFrame(rows)


# -- the baseline --------------------------------------------------------------------------------
def naive_market(start, length, group, pool_sizes) -> np.ndarray:
    """Lease numbers with one SimPy process per session (the baseline of :class:`Pool`).

    Parameters
    ----------
    start, length, group : array_like
        Session starts (s, sorted), lease lengths (s) and groups.
    pool_sizes : sequence of int
        Numbers per group; their ids are given as :meth:`sim.leases.Pool.buy` gives them
        when the groups are bought in order (group 0's first).

    Returns
    -------
    numpy.ndarray of int64
        The number each session got, -1 for the overflow number.

    Notes
    -----
    A session starting exactly when a lease ends finds that number still leased (its start
    event was scheduled first), where :class:`Pool` frees it first; with continuous times
    such ties have probability 0.
    """
    env = simpy.Environment()
    offsets = np.concatenate([[0], np.cumsum(pool_sizes)])
    stores = []
    for g, k in enumerate(pool_sizes):
        store = simpy.Store(env)
        store.items.extend(range(int(offsets[g]), int(offsets[g]) + int(k)))
        stores.append(store)
    out = np.full(len(start), -1, dtype=np.int64)

    def session(j: int, at: float, hold: float, store: simpy.Store):
        yield env.timeout(at)
        if not store.items:
            return  # the overflow number
        number = yield store.get()
        out[j] = number
        yield env.timeout(hold)
        yield store.put(number)

    for j, (at, hold, g) in enumerate(
        zip(np.asarray(start).tolist(), np.asarray(length).tolist(), np.asarray(group).tolist())
    ):
        env.process(session(j, at, hold, stores[g]))
    env.run()
    return out


# -- the full market ------------------------------------------------------------------------------
def market_config(days: float = 2, pool_size: int = 2000, scale: float = 1.0):
    """A world with only the DNI market on (default channels: ~40,000 sessions a day, times
    ``scale``)."""
    from models.common import CHANNELS
    from sim.config import parse_config

    quiet = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
    raw = {
        "name": "bench-dni",
        "scenario": {"days": days},
        "record": {"calls": False},
        "subscribers": {k: quiet for k in ("residential", "business", "call_centre", "notifier")},
        "spam": {"calls_per_line_per_day": 0.0},
        "dni": {"enabled": True, "pool_size": pool_size},
    }
    if scale != 1.0:
        channels = parse_config(raw).dni.channels.by_code()
        raw["dni"]["channels"] = {
            name: {"sessions_per_day": c.sessions_per_day * scale}
            for name, c in zip(CHANNELS, channels)
        }
    return parse_config(raw)


def _allocate_all(batches, n_groups: int, per_group: int) -> np.ndarray:
    pool = Pool(n_groups, steal=False)
    for g in range(n_groups):
        pool.buy(g, per_group)
    out, first = [], 0
    for start, length, group, until in batches:
        out.append(pool.allocate(start, length, group, np.arange(first, first + len(start)), until))
        first += len(start)
    return np.concatenate(out)


def bench_dni(quick: bool, row) -> None:
    """Print impressions/s of the DNI pool and market next to one SimPy process per session.

    Parameters
    ----------
    quick : bool
        1 M sessions (else 4 M) for ``Pool.allocate``, 2 market days (else 7), a 20,000
        session slice for the baseline (else 100,000).
    row : callable
        ``row(name, fast, base, base_name, unit)`` prints one comparison line.
    """
    n_groups, load = 5, 200.0
    per_group = pool_for(load)
    target = 1_000_000 if quick else 4_000_000
    rate = load / MEAN_LEASE
    hours = int(np.ceil(target / (rate * n_groups * HOUR)))
    batches = list(
        session_batches(
            rate, hours * HOUR, np.random.default_rng(7), "lognormal", n_groups=n_groups
        )
    )
    n = sum(len(b[0]) for b in batches)
    start, length, group = (np.concatenate([b[i] for b in batches]) for i in range(3))
    n_naive = 20_000 if quick else 100_000
    _allocate_all(batches[:1], n_groups, per_group)  # compile / load the cached kernel
    fast = n / best_seconds(lambda: _allocate_all(batches, n_groups, per_group))
    sl = slice(0, n_naive)
    box = {}
    naive_s = best_seconds(
        lambda: box.update(
            out=naive_market(start[sl], length[sl], group[sl], [per_group] * n_groups)
        ),
        repeat=1,
    )
    print(
        f"DNI pool ({n_groups} groups x {per_group} numbers, {load:.0f} Erlangs each, "
        f"lognormal leases of mean {MEAN_LEASE / 60:.0f} min; {n:,} sessions, one "
        f"allocate call per hour; baseline on the first {n_naive:,}):"
    )
    row("Pool.allocate", fast, n_naive / naive_s, "SimPy process/session", "impr/s")

    # blocking on the common stationary input: the slice from the empty start, both paths;
    # the whole stream after the warm-up, batch means over 20 batches of >= 20 mean leases
    got = _allocate_all(batches, n_groups, per_group)
    # the pool is online (a session's number depends only on the sessions before it), so
    # its first n_naive numbers are what it gives the baseline's slice
    same = bool(np.array_equal(box["out"], got[sl]))
    warm = warmup("lognormal")
    after = start >= warm
    batch = np.array_split(np.flatnonzero(after), 20)
    means = np.array([(got[i] < 0).mean() for i in batch])
    half = stats.t.ppf(0.975, len(means) - 1) * means.std(ddof=1) / np.sqrt(len(means))
    print(
        f"  blocking: Pool.allocate {(got[after] < 0).mean():.2%} +- {half:.2%} (95 %, batch "
        f"means) after a {warm / HOUR:.1f} h warm-up, Erlang B {erlang_b(per_group, load):.2%};"
        f"\n  on the baseline's slice (from an empty pool) Pool.allocate "
        f"{(got[sl] < 0).mean():.2%}, SimPy {(box['out'] < 0).mean():.2%}: "
        f"{'identical' if same else 'DIFFERENT'} numbers for all {n_naive:,} sessions"
    )

    # the full market: sessions, leases, calls, routing, recording -- end to end (world
    # built, tables as DataFrames), against the per-step Python market it replaced
    # (benchmarks.dni_reference, the same draws) and one SimPy process per session
    import sim.world.world as world_module
    from sim.runs.simulate import simulate

    from .dni_reference import ReferenceMarket

    days = 2 if quick else 7
    scale, pool = 10.0, 20_000
    cfg = market_config(days, pool, scale)
    simulate(market_config(0.1, pool, scale), progress=False)  # compile / warm caches
    res = {}
    secs = best_seconds(
        lambda: res.update(r=simulate(cfg, progress=False)), repeat=2 if quick else 3
    )
    imp = res["r"].impressions
    n_imp = len(imp)
    ref_cfg = market_config(1, pool, scale)
    market = world_module.Market
    world_module.Market = ReferenceMarket
    try:
        t0 = time.perf_counter()
        ref_imp = len(simulate(ref_cfg, progress=False).impressions)
        ref_s = time.perf_counter() - t0
    finally:
        world_module.Market = market
    sizes = np.bincount(np.arange(cfg.dni.pool_size) % len(cfg.dni.area_codes))
    k = min(n_naive, n_imp)
    t0 = time.perf_counter()
    naive_out = naive_market(
        imp["t"].to_numpy()[:k],
        (imp["lease_end"] - imp["t"]).to_numpy()[:k],
        imp["area"].to_numpy().astype(np.int64)[:k],
        sizes,
    )
    naive_s = time.perf_counter() - t0
    print(
        f"DNI market (sim.runs.simulate end to end, {days} days, {n_imp:,} impressions, pool "
        f"{cfg.dni.pool_size:,}; per-step Python market on 1 day; SimPy baseline: leasing "
        f"only, on its first {k:,} sessions):"
    )
    row("simulate (market only)", n_imp / secs, ref_imp / ref_s, "per-step Python market", "impr/s")
    row("", n_imp / secs, k / naive_s, "SimPy process/session", "impr/s")
    same = bool(np.array_equal(naive_out, imp["number_id"].to_numpy()[:k]))
    print(
        f"  market blocking {(imp['number_id'] < 0).mean():.2%}; the baseline gives "
        f"{'the same' if same else 'DIFFERENT'} numbers to those sessions (target >= 5 M "
        "impr/s end to end)"
    )
