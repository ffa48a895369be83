"""Numba kernels that decide a batch with hallucinated pulls: :func:`ucb_fill` (UCB1 and
UCB1-Tuned) and :func:`linucb_fill` (LinUCB); ``kernel.py_func`` is the plain-Python twin."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["linucb_fill", "ucb_fill"]


# -- batch kernels ----------------------------------------------------------------------------
def _ucb_fill(
    contexts: np.ndarray, wins: np.ndarray, pulls: np.ndarray, c_explore: float, tuned: bool
) -> np.ndarray:
    """Decide a batch with UCB1, one impression after the other, counting the impressions
    already given to each arm in this batch as pulls whose outcome is not known yet
    ("hallucinated" pulls: the means stay, the counts ``n`` and ``N`` grow, so the
    bonuses shrink; Desautels, Krause and Burdick 2014).

    With ``n`` observed plus hallucinated pulls of the arm, ``N`` of the context and
    ``m = wins / observed pulls`` (0 if none), the index is ``m + c_explore
    sqrt(ln N / n)`` (UCB1) or ``m + sqrt(ln N / n min(1/4, m (1 - m) + sqrt(2 ln N / n)))``
    (UCB1-Tuned), ``inf`` while ``n = 0``, and ``ln N`` is taken as 0 while ``N < 1``.  The
    highest index wins, the lowest arm of exact ties.  The first impression of a context
    in a batch therefore sees exactly the indices of :meth:`UCB1._scores`.

    Parameters
    ----------
    contexts : numpy.ndarray of int64, shape (B,)
    wins, pulls : numpy.ndarray of float64, shape (n_contexts, n_arms)
        Observed sums of rewards and observations.
    c_explore : float
    tuned : bool

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
    """
    n_contexts, n_arms = pulls.shape
    extra = np.zeros(pulls.shape)
    total = np.zeros(n_contexts)
    for c in range(n_contexts):
        for a in range(n_arms):
            total[c] += pulls[c, a]
    out = np.empty(len(contexts), dtype=np.int64)
    for i in range(len(contexts)):
        c = contexts[i]
        log_n = math.log(total[c]) if total[c] > 1.0 else 0.0
        best = -np.inf
        arg = 0
        for a in range(n_arms):
            n = pulls[c, a] + extra[c, a]
            if n <= 0.0:
                v = np.inf
            else:
                m = wins[c, a] / pulls[c, a] if pulls[c, a] > 0.0 else 0.0
                if tuned:
                    var = m * (1.0 - m) + math.sqrt(2.0 * log_n / n)
                    v = m + math.sqrt(log_n / n * min(0.25, var))
                else:
                    v = m + c_explore * math.sqrt(log_n / n)
            if v > best:
                best = v
                arg = a
        out[i] = arg
        extra[c, arg] += 1.0
        total[c] += 1.0
    return out


ucb_fill = njit(cache=True, nogil=True)(_ucb_fill)


def _linucb_fill(x: np.ndarray, theta: np.ndarray, ainv: np.ndarray, alpha: float) -> np.ndarray:
    """LinUCB's decisions for a batch with hallucinated pulls (GP-BUCB's rule for a
    linear model): after impression ``i`` goes to arm ``a``, ``A_a^-1`` is updated for
    ``x_i`` by Sherman--Morrison (the mean ``theta`` is not), so the next impressions
    see a narrower bonus on ``a``.

    Parameters
    ----------
    x : numpy.ndarray of float64, shape (B, d)
        Design vectors.
    theta : numpy.ndarray of float64, shape (n_arms, d)
        Ridge coefficients.
    ainv : numpy.ndarray of float64, shape (n_arms, d, d)
        Inverses of ``A_a``; **overwritten** with the hallucinated ones.
    alpha : float
        Bonus width.

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
        The arm with the highest ``x' theta_a + alpha sqrt(x' A_a^-1 x)`` (lowest of ties).
    """
    n, d = x.shape
    n_arms = theta.shape[0]
    out = np.empty(n, dtype=np.int64)
    u = np.empty(d)
    for i in range(n):
        best = -np.inf
        arg = 0
        for a in range(n_arms):
            m = 0.0
            q = 0.0
            for j in range(d):
                m += x[i, j] * theta[a, j]
                s = 0.0
                for k in range(d):
                    s += ainv[a, j, k] * x[i, k]
                q += x[i, j] * s
            v = m + alpha * math.sqrt(max(q, 0.0))
            if v > best:
                best = v
                arg = a
        out[i] = arg
        q = 0.0
        for j in range(d):
            s = 0.0
            for k in range(d):
                s += ainv[arg, j, k] * x[i, k]
            u[j] = s
            q += x[i, j] * s
        q = 1.0 + q
        for j in range(d):
            for k in range(d):
                ainv[arg, j, k] -= u[j] * u[k] / q
    return out


linucb_fill = njit(cache=True, nogil=True)(_linucb_fill)
