"""Throughput and accuracy of Erlang B (``models.dni.erlang``).

Rows (Numba kernel or vectorised code first, its baseline second):

* ``B(n, a)`` for random pairs with ``n`` up to 2,000 and ``a = n x U(0.5, 1.5)``, no two
  sharing a load, so each is its own recursion -- kernel against its Python twin.
* a table ``B(0..9999, a)`` for one load: the batched call runs one recursion, the
  baseline the same kernel visiting the pairs from the largest ``n`` down, so that each
  restarts (what calling ``erlang_b`` once per pair costs, without the call overhead).
* the continuous form (log space, scipy + continued fraction) against mpmath's
  ``gammainc`` at 50 digits on the same pairs.
* :func:`servers_for_blocking` for loads up to 2,000 at 1% against its Python twin and
  against the naive scan ``n = 0, 1, 2, ...`` testing ``pmf(n) / cdf(n) <= target``
  (Erlang B's closed form) with ``scipy.stats.poisson``'s ``logpmf`` and ``logcdf``,
  one pair of scalar calls per ``n``.

Then the worst relative error seen against mpmath on a random sample of ``(n, a)``
with ``n`` up to ``10**5`` and ``a`` from 0.1 to ``10**5``.  Nothing is asserted.
"""

from __future__ import annotations

import math
import time

import mpmath as mp
import numpy as np
from scipy import stats

from benchmarks.timing import rate
from models.dni.erlang import (
    erlang_b,
    erlang_b_continuous,
    erlang_b_kernel,
    load_for_blocking,
    servers_for_blocking,
    servers_kernel,
)

__all__ = ["ref_b", "bench_erlang"]

TARGET = 0.01
TINY = float(np.finfo(np.float64).tiny)


def ref_b(s, a) -> mp.mpf:
    """``B(s, a) = a^s e^-a / Γ(s+1, a)`` at 50 digits (``s`` real).

    mpmath's ``gammainc`` gives up (``NoConvergence`` or ``ValueError``) on a few large
    ``s ≈ a``; then
    ``B(frac(s), a)`` from ``gammainc`` with a small shape is carried up by the exact
    recursion ``B(k + f) = a B / (k + f + a B)`` in 50-digit arithmetic.
    """
    with mp.workdps(50):
        s, a = mp.mpf(s), mp.mpf(a)
        try:
            return mp.exp(s * mp.log(a) - a) / mp.gammainc(s + 1, a)
        except (mp.libmp.NoConvergence, ValueError):
            m = int(mp.floor(s))
            f = s - m
            b = mp.exp(f * mp.log(a) - a) / mp.gammainc(f + 1, a)
            for k in range(1, m + 1):
                b = a * b / (k + f + a * b)
            return b


def _naive_servers(a: float, target: float) -> int:
    """Scan ``n = 0, 1, ...`` until ``pmf(n) / cdf(n) <= target``, in logs (the ratio of
    the plain pmf and cdf is 0/0 at ``n << a`` once ``a`` passes ~700)."""
    log_t = math.log(target)
    n = 0
    while stats.poisson.logpmf(n, a) - stats.poisson.logcdf(n, a) > log_t:
        n += 1
    return n


def bench_erlang(quick: bool, row) -> None:
    """Print Erlang B throughput next to its baselines, then its worst error vs mpmath.

    Parameters
    ----------
    quick : bool
        Fewer pairs and a smaller accuracy sample.
    row : callable
        ``row(name, fast, base, base_name, unit)`` prints one comparison line.
    """
    rng = np.random.default_rng(0)
    m = 5_000 if quick else 20_000
    n = rng.integers(1, 2001, m)
    a = n * rng.uniform(0.5, 1.5, m)
    order = np.lexsort((n, a)).astype(np.int64)
    out = np.empty(m)
    twin_m = 200
    erlang_b(n[:2], a[:2])  # compile / load
    servers_for_blocking(a[:2], TARGET)
    print(
        f"Erlang B (DNI pool blocking; pairs n <= 2,000, mean n {n.mean():.0f}, "
        f"Python twins on {twin_m} pairs):"
    )
    fast = rate(m, lambda: erlang_b_kernel(n, a, order, out))
    slow = rate(
        twin_m, lambda: erlang_b_kernel.py_func(n[:twin_m], a[:twin_m], np.arange(twin_m), out), 1
    )
    row("B(n, a) kernel, random pairs", fast, slow, "Python twin", "pairs/s")
    print(f"  ({fast * n.mean() / 1e6:.0f} M recursion steps/s)")

    table_n = np.arange(10_000)
    table_a = np.full(len(table_n), 5_000.0)
    down = np.argsort(-table_n).astype(np.int64)
    table_out = np.empty(len(table_n))
    fast = rate(len(table_n), lambda: erlang_b(table_n, table_a))
    slow = rate(len(table_n), lambda: erlang_b_kernel(table_n, table_a, down, table_out), 1)
    row("B(0..9999, 5000) one pass", fast, slow, "restart per pair", "values/s")

    mp_m = 200 if quick else 500
    fast = rate(m, lambda: erlang_b_continuous(n.astype(float) + 0.5, a))
    slow = rate(
        mp_m, lambda: [ref_b(float(x) + 0.5, float(y)) for x, y in zip(n[:mp_m], a[:mp_m])], 1
    )
    row("continuous B(s, a), log space", fast, slow, "mpmath gammainc", "pairs/s")

    loads = rng.uniform(1.0, 2000.0, m)
    naive_m = 10 if quick else 30
    targets = np.full(m, TARGET)
    sizes = np.empty(m, dtype=np.int64)
    fast = rate(m, lambda: servers_for_blocking(loads, TARGET))
    twin = rate(
        twin_m, lambda: servers_kernel.py_func(loads[:twin_m], targets[:twin_m], sizes[:twin_m]), 1
    )
    naive = rate(naive_m, lambda: [_naive_servers(x, TARGET) for x in loads[:naive_m]], 1)
    row("servers_for_blocking, a <= 2000", fast, twin, "Python twin", "loads/s")
    row("", fast, naive, "scipy poisson scan", "loads/s")
    got = servers_for_blocking(loads[:naive_m], TARGET)
    same = sum(int(g) == _naive_servers(x, TARGET) for g, x in zip(got, loads[:naive_m]))
    inv_m = 50 if quick else 200
    inv = rate(inv_m, lambda: load_for_blocking(n[:inv_m], TARGET), 1)
    print(
        f"  (scan agrees on {same}/{naive_m} loads; load_for_blocking, n <= 2000: "
        f"{inv:,.0f} pools/s)"
    )

    sample = 150 if quick else 600
    sn = (10 ** rng.uniform(0, 5, sample)).astype(np.int64)
    sa = 10 ** rng.uniform(-1, 5, sample)
    ss = sn + rng.random(sample)
    bi, bc = erlang_b(sn, sa), erlang_b_continuous(ss, sa)
    worst_i = worst_c = 0.0
    start = time.perf_counter()
    with mp.workdps(50):
        for k in range(sample):
            ri, rc = ref_b(int(sn[k]), float(sa[k])), ref_b(float(ss[k]), float(sa[k]))
            if ri >= TINY:
                worst_i = max(worst_i, float(abs(bi[k] - ri) / ri))
            if rc >= TINY:
                worst_c = max(worst_c, float(abs(bc[k] - rc) / rc))
    print(
        f"  worst relative error vs mpmath (50 digits), {sample} random pairs, n <= 1e5, "
        f"0.1 <= a <= 1e5, where B is normal: recursion {worst_i:.1e}, continuous "
        f"{worst_c:.1e} ({time.perf_counter() - start:.1f} s of mpmath)"
    )
