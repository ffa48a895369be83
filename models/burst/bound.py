"""The best possible detection delay at a given false-alarm rate: Page's CUSUM for a change
of a number's Poisson call rate from ``rate0`` to ``rate1``.

For a change from one known rate to another, Page's CUSUM minimises the worst-case mean
delay (Lorden's criterion: the supremum over change times and pre-change histories of the
mean delay) among all detectors whose mean time to a false alarm (ARL0) is at least a given
level: asymptotically as ARL0 grows (Lorden 1971), and exactly in discrete time (Moustakides
1986).  Its worst case is a change at a moment when its statistic is 0, which is how a
robocaller's fresh number starts.  So the CUSUM's (ARL0, delay) pairs, over its alarm level
``h``, are the frontier no detector of that change can beat in Lorden's sense; this module
computes them.

The statistic (:class:`models.burst.rates.PoissonCUSUM`) falls at slope ``d = rate1 - rate0``
between calls, is floored at 0, and jumps by ``a = log(rate1 / rate0)`` at each call; it
alarms at a call that takes it over ``h``.  For a number calling as a Poisson process of rate
``r``, the decrease between two calls is exponential with rate ``mu = r / d`` (in units of
the statistic), so the values just after calls form the Markov chain
``X' = max(0, X - D) + a``, ``D ~ Exp(mu)``.  ``M(x)``, the mean number of calls until the
alarm from a value ``x``, solves the renewal equation

    M(x) = 1 + exp(-mu x) M~(a) + integral_0^x mu exp(-mu (x - v)) M~(v + a) dv,

with ``M~(y) = M(y)`` for ``y <= h`` and 0 above (the call that alarms ends the run).  A
fresh number starts at 0, and by Wald's identity its mean time to the alarm is ``M(0) / r``.
The equation is solved by product integration (Nystrom): ``M`` is piecewise linear between
nodes ``0, delta, 2 delta, ...`` with ``delta = a / m`` (so a jump of ``a`` maps nodes onto
nodes) and the node ``h``; the exponential weight is integrated exactly on each cell, and
the dense linear systems of one regeneration cycle are solved directly (the chain starts
afresh whenever the statistic drains to 0; solving for ``M`` itself loses every digit once
``M`` nears ``1 / eps``; a backward shooting solution of the equivalent
advanced differential equation ``M'(x) = mu (M~(x + a) - M(x) + 1)`` is unstable: its
homogeneous part grows like ``exp(h)`` as it is integrated down from ``h``).  The error is
second order in ``delta``; ``tests/test_burst_evidence.py`` checks the solution against
closed forms and against a Monte Carlo simulation of the detector itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

__all__ = ["cusum_alarm_calls", "cusum_arl", "cusum_frontier"]

MAX_NODES = 800
"""Largest linear system :func:`cusum_alarm_calls` builds (nodes of the grid)."""


def _exp_weights(mu: float, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the lower and upper node of cells of ``width`` in
    ``integral_cell mu exp(-mu (q - w)) M(w) dw`` with ``M`` linear on the cell ``[p, q]``
    (the factor ``exp(-mu (X - q))`` of a row at ``X`` is applied by the caller)."""
    x = mu * width
    e = np.exp(-x)
    total = -np.expm1(-x)  # integral of mu exp(-mu t) over [0, L]
    first = np.where(x > 1e-6, (total - x * e) / np.where(x > 0, x, 1.0), x / 2 - x * x / 3)
    return first, total - first


def _grid(jump: float, h: float, per_jump: int | None, max_nodes: int) -> tuple[np.ndarray, int]:
    """Nodes ``0, delta, ..., h`` with ``delta = jump / m`` (``m`` returned)."""
    m = per_jump or int(min(400, max(8, max_nodes * jump / h)))
    delta = jump / m
    n_grid = int(math.floor(h / delta + 1e-9))
    nodes = np.arange(n_grid + 1) * delta
    if h - nodes[-1] > 1e-9 * h:
        nodes = np.append(nodes, h)
    else:
        nodes[-1] = h
    return nodes, m


def _continuous(mu: float, jump: float, nodes: np.ndarray, m: int) -> np.ndarray:
    """The chain's transitions without its atom, on the nodes (product integration):
    ``(C f)(x) = integral over [a, min(x + a, h)] of mu exp(-mu (x + a - w)) f(w) dw``,
    ``f`` piecewise linear between nodes.  The full operator adds the atom
    ``exp(-mu x) f(a)`` (the statistic drained to 0 before the call)."""
    h = nodes[-1]
    n = len(nodes)
    kernel = np.zeros((n, n))
    lo, hi = nodes[m:-1], nodes[m + 1 :]  # cells above a, in order
    w_lo, w_hi = _exp_weights(mu, hi - lo)
    upper = np.minimum(nodes + jump, h)
    inside = hi[None, :] <= upper[:, None] + 1e-9 * h  # row i integrates cells up to its limit
    gap = np.minimum(hi[None, :] - (nodes + jump)[:, None], 0.0)
    factor = np.where(inside, np.exp(mu * gap), 0.0)
    cells = len(lo)
    kernel[:, m : m + cells] += factor * w_lo
    kernel[:, m + 1 : m + cells + 1] += factor * w_hi
    return kernel


def _check(mu: float, jump: float, h: float) -> None:
    if not (mu > 0 and jump > 0 and h > 0):
        raise ValueError(f"mu, jump and h must be positive, got {mu!r}, {jump!r}, {h!r}")


def cusum_alarm_calls(mu: float, jump: float, h: float, per_jump: int | None = None) -> float:
    """Mean number of calls until Page's CUSUM, started at 0, goes over ``h``.

    Parameters
    ----------
    mu : float
        The statistic's drain between two calls is exponential with mean ``1 / mu`` (in
        units of the statistic): ``mu = r / (rate1 - rate0)`` for a number calling at
        ``r`` (> 0).
    jump : float
        Increase at a call, ``log(rate1 / rate0)`` (> 0).
    h : float
        Alarm level (> 0): the alarm is at the call that takes the statistic over ``h``.
    per_jump : int, optional
        Grid cells per ``jump`` (default: as many as :data:`MAX_NODES` allows, at most 400).

    Returns
    -------
    float
        ``M(0)`` of the module docstring (1 when a single call alarms, ``jump > h``;
        ``inf`` when it is beyond the floating-point range).

    Examples
    --------
    >>> cusum_alarm_calls(mu=1.0, jump=2.0, h=1.5)
    1.0
    """
    _check(mu, jump, h)
    if jump > h:
        return 1.0
    nodes, m = _grid(jump, h, per_jump, MAX_NODES)
    # The chain regenerates whenever the statistic drains to 0 before a call (it is then
    # ``a`` after it): with N the calls of a cycle until regeneration or alarm and q the
    # probability that the cycle ends in the alarm, M(a) = N(a) / q(a) and M(0) = 1 + M(a).
    # Both solve systems in the cycle's operator C, well conditioned however long the run
    # (solving (I - K) M = 1 directly loses every digit once M nears 1 / eps); the one-step
    # alarm probability 1 - exp(-mu (x + a - h)) is exact, not a difference of row sums.
    system = np.eye(len(nodes)) - _continuous(mu, jump, nodes, m)
    alarm = -np.expm1(-mu * np.maximum(nodes + jump - h, 0.0))
    rhs = np.column_stack([np.ones(len(nodes)), alarm])
    # one BLAS thread: a system this small gains nothing from more, and a threaded
    # OpenBLAS on a busy machine can take twenty times longer
    with threadpool_limits(1, user_api="blas"):
        calls, ends_in_alarm = np.linalg.solve(system, rhs)[m]
    if ends_in_alarm <= 0.0:  # a cycle's alarm probability below the smallest float
        return math.inf
    return float(1.0 + calls / ends_in_alarm)


def cusum_arl(rate: float, rate0: float, rate1: float, h: float) -> float:
    """Mean time (s) from a fresh start (statistic 0) to the CUSUM's alarm, for a number
    calling as a Poisson process of ``rate`` (calls/s), the CUSUM set for ``rate0 -> rate1``
    with alarm level ``h``.

    At ``rate = rate0`` it is the ARL0 (mean time to a false alarm); at ``rate = rate1`` the
    worst-case mean detection delay measured from the change (Lorden's delay, the wait for
    the first call included).
    """
    if not 0 < rate0 < rate1:
        raise ValueError(f"need 0 < rate0 < rate1, got {rate0!r}, {rate1!r}")
    drift = rate1 - rate0
    calls = cusum_alarm_calls(rate / drift, math.log(rate1 / rate0), h)
    return calls / rate


def cusum_frontier(
    rate0: float, rate1: float, watch_seconds: float, levels: Iterable[float]
) -> pd.DataFrame:
    """The best possible delay at each false-alarm level for the change ``rate0 -> rate1``.

    Parameters
    ----------
    rate0, rate1 : float
        The legitimate and the robocaller's call rates (calls/s), ``0 < rate0 < rate1``.
    watch_seconds : float
        How long a new number is watched: converts the ARL0 into the share of numbers
        calling at ``rate0`` that are flagged while watched, ``1 - exp(-W / ARL0)`` (the run
        length of a CUSUM whose ARL0 is long against its excursions is close to exponential).
    levels : iterable of float
        Alarm levels ``h`` of the CUSUM.

    Returns
    -------
    pandas.DataFrame
        Per level: ``h``, ``arl0_seconds``, ``false_flag_share`` (per number at ``rate0``
        over the watch), ``delay_seconds`` (mean time from the robocaller's first call to
        its flag: Lorden's delay less the wait ``1 / rate1`` for that first call) and
        ``delay_calls`` (its calls before the flagged one, on average).
    """
    drift = rate1 - rate0
    jump = math.log(rate1 / rate0)
    rows = []
    for h in levels:
        calls0 = cusum_alarm_calls(rate0 / drift, jump, h)
        calls1 = cusum_alarm_calls(rate1 / drift, jump, h)
        arl0 = calls0 / rate0
        rows.append(
            {
                "h": float(h),
                "arl0_seconds": arl0,
                "false_flag_share": float(-np.expm1(-watch_seconds / arl0)),
                "delay_seconds": (calls1 - 1.0) / rate1,
                "delay_calls": calls1 - 1.0,
            }
        )
    return pd.DataFrame(rows)
