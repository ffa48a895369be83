"""Throughput of the DNI pool optimizers of ``models.dni.bandits``: batched against naive.

One timed run plays a policy against the Bernoulli world of
:func:`~models.dni.bandits.reference_response` (channels drawn 45/25/20/10%): for every
batch of 1,000 impressions, ``select_many`` + the calls drawn + ``update``, so a rate is
decisions *and* updates per second (items = impressions).  The baselines are the
textbook per-impression loops in plain Python written here -- Thompson sampling drawing
one Beta per arm with ``Generator.beta`` and updating two counters, LinUCB solving its
arms' scores with small NumPy arrays and a Sherman--Morrison update -- on a 20,000
impression prefix (the features are random and do not change the response: those rows
time the arithmetic).  :func:`~models.dni.composition.take_available` (the fallback when a
kind is sold out) runs next to its plain-Python twin.  Nothing is asserted;
``bench_bandits`` prints, then the share of the oracle's calls each policy earned.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.timing import best_seconds
from models.common import CHANNELS, NUMBER_KINDS
from models.dni.bandits import (
    UCB1,
    EpsilonGreedy,
    Fixed,
    LinUCB,
    Oracle,
    ThompsonSampling,
    Uniform,
    cumulative_regret,
    reference_response,
    regret_exponent,
    simulate_bernoulli,
)
from models.dni.composition import take_available

__all__ = ["bench_bandits"]

BATCH = 1000
NAIVE = 20_000
MIX = np.array([0.45, 0.25, 0.20, 0.10])
N_FEATURES = 3


def _batched(make, ctx, z, p, u) -> None:
    """Decide, draw and feed back ``len(ctx)`` impressions in batches of ``BATCH``."""
    pol = make().reset(len(CHANNELS), len(NUMBER_KINDS))
    rng = np.random.default_rng(1)
    for s in range(0, len(ctx), BATCH):
        c = ctx[s : s + BATCH]
        f = None if pol.n_features == 0 else z[s : s + BATCH]
        a = pol.select_many(c, rng, f)
        pol.update(c, a, u[s : s + BATCH] < p[c, a], f)


def _naive_thompson(ctx, p, u) -> None:
    rng = np.random.default_rng(1)
    k = p.shape[1]
    wins = [[1.0] * k for _ in range(p.shape[0])]
    losses = [[1.0] * k for _ in range(p.shape[0])]
    for i in range(len(ctx)):
        c = int(ctx[i])
        best, arm = -1.0, 0
        for a in range(k):
            v = rng.beta(wins[c][a], losses[c][a])
            if v > best:
                best, arm = v, a
        if u[i] < p[c, arm]:
            wins[c][arm] += 1.0
        else:
            losses[c][arm] += 1.0


def _naive_linucb(ctx, z, p, u, alpha=0.3) -> None:
    n_ctx, k = p.shape
    d = n_ctx + (0 if z is None else z.shape[1])
    ainv = [np.eye(d) for _ in range(k)]
    b = [np.zeros(d) for _ in range(k)]
    for i in range(len(ctx)):
        x = np.zeros(d)
        x[ctx[i]] = 1.0
        if z is not None:
            x[n_ctx:] = z[i]
        scores = [x @ (ainv[a] @ b[a]) + alpha * math.sqrt(x @ ainv[a] @ x) for a in range(k)]
        arm = int(np.argmax(scores))
        r = float(u[i] < p[ctx[i], arm])
        v = ainv[arm] @ x
        ainv[arm] -= np.outer(v, v) / (1.0 + x @ v)
        b[arm] += r * x


def bench_bandits(quick: bool, row) -> None:
    """Print decisions+updates/s of the batched policies next to naive loops, and quality.

    Parameters
    ----------
    quick : bool
        200,000 impressions instead of 1,000,000.
    row : callable
        ``row(name, fast, base, base_name, unit)`` prints one comparison line.
    """
    n = 200_000 if quick else 1_000_000
    rng = np.random.default_rng(0)
    p = reference_response()
    ctx = rng.choice(len(CHANNELS), n, p=MIX)
    z = rng.random((n, N_FEATURES))
    u = rng.random(n)
    print(
        f"DNI pool optimizers ({n:,} impressions, batches of {BATCH:,}; decisions + "
        f"updates; naive loops on {NAIVE:,}):"
    )
    _batched(ThompsonSampling, ctx[: BATCH * 2], z, p, u)  # compile / load kernels
    _batched(LinUCB, ctx[: BATCH * 2], z, p, u)
    _batched(lambda: LinUCB(n_features=N_FEATURES), ctx[: BATCH * 2], z, p, u)
    _batched(UCB1, ctx[: BATCH * 2], z, p, u)

    ts = n / best_seconds(lambda: _batched(ThompsonSampling, ctx, z, p, u))
    ts_naive = NAIVE / best_seconds(lambda: _naive_thompson(ctx[:NAIVE], p, u), repeat=1)
    row("Thompson sampling (batched)", ts, ts_naive, "per-impression loop", "impr/s")
    lin = n / best_seconds(lambda: _batched(LinUCB, ctx, z, p, u))
    lin_naive = NAIVE / best_seconds(lambda: _naive_linucb(ctx[:NAIVE], None, p, u), repeat=1)
    row("LinUCB, channel only (batched)", lin, lin_naive, "per-impression loop", "impr/s")
    linz = n / best_seconds(lambda: _batched(lambda: LinUCB(n_features=N_FEATURES), ctx, z, p, u))
    linz_naive = NAIVE / best_seconds(lambda: _naive_linucb(ctx[:NAIVE], z, p, u), repeat=1)
    row(
        f"LinUCB, + {N_FEATURES} features (batched)",
        linz,
        linz_naive,
        "per-impression loop",
        "impr/s",
    )
    ucb = n / best_seconds(lambda: _batched(UCB1, ctx, z, p, u))
    row("UCB1 (batched)", ucb, ts_naive, "naive Thompson loop", "impr/s")

    free0 = np.full((len(CHANNELS), len(NUMBER_KINDS)), n // 40, dtype=np.int64)
    choices = rng.integers(0, len(NUMBER_KINDS), n)
    scores = rng.random((n, len(NUMBER_KINDS)))
    fast = n / best_seconds(lambda: take_available(ctx, choices, scores, free0.copy()), repeat=5)
    slow = NAIVE / best_seconds(
        lambda: take_available.py_func(ctx[:NAIVE], choices[:NAIVE], scores[:NAIVE], free0.copy()),
        repeat=1,
    )
    row("fallback take_available (kernel)", fast, slow, "Python twin", "impr/s")

    m = 100_000
    print(
        f"  share of the oracle's expected calls after {m:,} impressions (regret exponent "
        "on the second half):"
    )
    cells = []
    for name, make in [
        ("uniform", Uniform),
        ("all-local", lambda: Fixed("local")),
        ("eps-greedy 0.1", lambda: EpsilonGreedy(0.1)),
        ("UCB1", UCB1),
        ("UCB1-Tuned", lambda: UCB1(tuned=True)),
        ("Thompson", ThompsonSampling),
        ("LinUCB", LinUCB),
        ("oracle", lambda: Oracle(p)),
    ]:
        play = simulate_bernoulli(make().reset(), p, ctx[:m], np.random.default_rng(1), BATCH)
        regret = cumulative_regret(play.best, play.expected)
        expo = regret_exponent(regret)
        cells.append(
            f"{name} {play.expected.sum() / play.best.sum():.3f}"
            + ("" if math.isnan(expo) else f" (p={expo:.2f})")
        )
    for i in range(0, len(cells), 4):
        print("    " + ", ".join(cells[i : i + 4]))
