"""Queueing formulas of a contact centre: Erlang C (M/M/n), Erlang A (Palm's M/M/n+M),
their staffing inverses and square-root staffing.

Notation: ``lam`` arrivals per second, ``mu`` service completions per second per agent
(1 / mean handle time), ``theta`` abandonments per second per waiting caller (1 / mean
patience), ``n`` agents, ``a = lam / mu`` the offered load in erlangs, ``t`` the
service-level threshold (s).  Erlang B comes from :mod:`models.dni.erlang` (the same
recursion serves the DNI pool and the platform's trunks).

Erlang A is computed from the offered-wait density of the M/M/n+G queue (Baccelli and
Hebuterne 1981; Mandelbaum and Zeltyn 2007): an arrival that finds all ``n`` agents busy
would wait ``V`` with density ``n mu pi_n exp(lam H(x) - n mu x)``, ``H(x)`` the integral
of the patience survival function, ``pi_n`` the probability of exactly ``n`` callers in
the system.  For exponential patience ``H(x) = (1 - exp(-theta x)) / theta`` and every
measure reduces to the function ::

    B(s, z) = exp(z) z^-s gamma(s, z) = sum_k z^k / (s (s+1) ... (s+k))

of the lower incomplete gamma function: with ``x = n mu / theta``, ``y = lam / theta``,
``A = x B(x, y)`` and ``E`` Erlang B(n, a),

* ``pi_n = 1 / (1/E + A - 1)``, ``P(W > 0) = A pi_n`` (Garnett, Mandelbaum and Reiman
  2002, eq. 3.3);
* ``P(abandon) = pi_n (A (1 - 1/rho) + 1/rho)`` with ``rho = lam / (n mu)``;
* ``E[W] = P(abandon) / theta`` (every waiting caller abandons at rate ``theta``);
* ``P(answered, W <= t) = 1 - P(W > 0) + x pi_n (B(x+1, y) - exp(y (1 - e) - (x+1) theta t)
  B(x+1, y e))`` with ``e = exp(-theta t)``.

``B`` is summed as its series where it converges quickly and taken from
``scipy.special.gammainc`` in log space otherwise, so that neither ``exp(y)`` nor ``y^x``
overflows at thousands of erlangs.  As ``theta -> 0`` the measures tend to Erlang C's
(``tests/test_platform_queueing.py`` checks that, and checks every measure against the
birth-death chain solved numerically).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from models.dni.erlang import erlang_b

__all__ = [
    "ErlangA",
    "erlang_a",
    "erlang_a_staffing",
    "erlang_c",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_staffing",
    "square_root_staffing",
]

_SERIES_TERMS = 100_000


def _check(lam: float, mu: float, n: int) -> None:
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite rate >= 0, got {lam!r}")
    if not (math.isfinite(mu) and mu > 0):
        raise ValueError(f"mu must be a finite rate > 0, got {mu!r}")
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")


# -- Erlang C -----------------------------------------------------------------------------
def erlang_c(n: int, lam: float, mu: float) -> float:
    """Probability that an arrival waits in M/M/n (Erlang C).

    ``C = n B / (n - a (1 - B))`` with ``B`` Erlang B(n, a), ``a = lam / mu``; 1 when the
    queue is unstable (``a >= n``).

    Examples
    --------
    >>> round(erlang_c(10, 8.0, 1.0), 4)
    0.4092
    """
    _check(lam, mu, n)
    a = lam / mu
    if a == 0:
        return 0.0
    if a >= n:
        return 1.0
    b = float(erlang_b(int(n), a))
    return n * b / (n - a * (1.0 - b))


def erlang_c_service_level(n: int, lam: float, mu: float, t: float) -> float:
    """Share of arrivals answered within ``t`` seconds in M/M/n, FCFS:
    ``1 - C exp(-(n mu - lam) t)`` (0 when unstable)."""
    c = erlang_c(n, lam, mu)
    if c >= 1.0 and lam / mu >= n:
        return 0.0
    return 1.0 - c * math.exp(-(n * mu - lam) * t)


def erlang_c_mean_wait(n: int, lam: float, mu: float) -> float:
    """Mean wait in queue of all arrivals in M/M/n: ``C / (n mu - lam)`` (inf when
    unstable)."""
    c = erlang_c(n, lam, mu)
    if lam / mu >= n:
        return math.inf
    return c / (n * mu - lam)


def erlang_c_staffing(lam: float, mu: float, t: float, target: float) -> int:
    """Fewest agents with ``P(W <= t) >= target`` in M/M/n (0 for no traffic)."""
    _check(lam, mu, 0)
    if lam == 0:
        return 0
    n = int(math.floor(lam / mu)) + 1
    while erlang_c_service_level(n, lam, mu, t) < target:
        n += 1
    return n


# -- Erlang A -----------------------------------------------------------------------------
def _log_b(s: float, z: float) -> float:
    """``log B(s, z)``, ``B(s, z) = exp(z) z^-s gamma(s, z) = sum_k z^k / (s ... (s+k))``."""
    if z <= 0:
        return -math.log(s)
    if z < s + 40.0:  # the terms fall geometrically soon enough: sum them
        term = 1.0 / s
        total = term
        k = 1
        while k < _SERIES_TERMS:
            term *= z / (s + k)
            total += term
            if term < 1e-17 * total:
                break
            k += 1
        return math.log(total)
    p = float(special.gammainc(s, z))  # regularised lower incomplete gamma, ~1 here
    return z - s * math.log(z) + float(special.gammaln(s)) + math.log(p)


class ErlangA:
    """Performance of the M/M/n+M queue (Erlang A, Palm 1943).

    Attributes
    ----------
    p_wait : float
        Share of arrivals that find every agent busy.
    p_abandon : float
        Share of arrivals that abandon.
    mean_wait : float
        Mean time in queue of all arrivals (abandoning ones up to their abandonment), s.
    """

    def __init__(self, n: int, lam: float, mu: float, theta: float):
        _check(lam, mu, n)
        if not (math.isfinite(theta) and theta > 0):
            raise ValueError(f"theta must be a finite rate > 0, got {theta!r}")
        self.n, self.lam, self.mu, self.theta = int(n), lam, mu, theta
        if lam == 0:
            self.p_wait = self.p_abandon = self.mean_wait = 0.0
            self._pi_a = 0.0
            return
        if self.n == 0:
            self.p_wait = self.p_abandon = 1.0
            self.mean_wait = 1.0 / theta
            self._pi_a = 1.0
            return
        x, y = self.n * mu / theta, lam / theta
        self._x, self._y = x, y
        self._log_a = math.log(x) + _log_b(x, y)
        e = float(erlang_b(self.n, lam / mu))
        # pi_n A = A / (1/E + A - 1), computed without forming a huge A
        inv_e = math.inf if e == 0 else 1.0 / e
        self._pi_a = 1.0 / (1.0 + (inv_e - 1.0) * math.exp(-self._log_a))
        rho = lam / (self.n * mu)
        self.p_wait = self._pi_a
        # P(ab) = pi_n (A (1 - 1/rho) + 1/rho) = pi_n A ((1 - 1/rho) + 1 / (rho A))
        self.p_abandon = self._pi_a * (1.0 - 1.0 / rho + math.exp(-self._log_a) / rho)
        self.p_abandon = min(max(self.p_abandon, 0.0), self.p_wait)
        self.mean_wait = self.p_abandon / theta

    def service_level(self, t: float) -> float:
        """Share of arrivals answered within ``t`` seconds (abandoning ones count as not
        answered)."""
        if not t >= 0:
            raise ValueError(f"t must be >= 0, got {t!r}")
        if self.lam == 0:
            return 1.0
        if self.n == 0:
            return 0.0
        x, y, th = self._x, self._y, self.theta
        e = math.exp(-th * t)
        # x pi_n (B(x+1, y) - exp(y (1 - e) - (x+1) th t) B(x+1, y e)), relative to pi_n A
        lb1 = _log_b(x + 1.0, y)
        lb2 = -y * math.expm1(-th * t) - (x + 1.0) * th * t + _log_b(x + 1.0, y * e)
        rel = math.log(x) - self._log_a  # x / A
        served = math.exp(rel + lb1) * (1.0 - math.exp(min(lb2 - lb1, 0.0)))
        return min(max(1.0 - self._pi_a + self._pi_a * served, 0.0), 1.0)


def erlang_a(n: int, lam: float, mu: float, theta: float) -> ErlangA:
    """The performance measures of M/M/n+M (see :class:`ErlangA`).

    Examples
    --------
    >>> q = erlang_a(10, 8.0 / 60, 1.0 / 60, 1.0 / 120)
    >>> round(q.p_wait, 3), round(q.p_abandon, 4)
    (0.309, 0.0434)
    """
    return ErlangA(n, lam, mu, theta)


def erlang_a_staffing(
    lam: float, mu: float, theta: float, t: float, target: float, abandon_target: float
) -> int:
    """Fewest agents with ``P(answered within t) >= target`` and
    ``P(abandon) <= abandon_target`` in M/M/n+M (0 for no traffic)."""
    _check(lam, mu, 0)
    if lam == 0:
        return 0
    n = max(1, int(math.floor(lam / mu * 0.5)))
    while True:
        q = ErlangA(n, lam, mu, theta)
        if q.service_level(t) >= target and q.p_abandon <= abandon_target:
            return n
        n += 1


def square_root_staffing(lam: float, mu: float, beta: float) -> int:
    """Square-root staffing ``n = ceil(a + beta sqrt(a))`` (Halfin and Whitt 1981), at
    least one agent when there is traffic."""
    _check(lam, mu, 0)
    a = lam / mu
    if a == 0:
        return 0
    return max(1, int(math.ceil(a + beta * math.sqrt(a) - 1e-9)))


def birth_death(n: int, lam: float, mu: float, theta: float, k_max: int) -> np.ndarray:
    """Stationary distribution of callers in M/M/n+M, truncated at ``k_max`` (for tests:
    the chain solved numerically).

    Returns
    -------
    numpy.ndarray
        ``p[k]``, k = 0..k_max.
    """
    log_p = np.zeros(k_max + 1)
    for k in range(1, k_max + 1):
        down = min(k, n) * mu + max(k - n, 0) * theta
        log_p[k] = log_p[k - 1] + math.log(lam) - math.log(down)
    p = np.exp(log_p - log_p.max())
    return p / p.sum()
