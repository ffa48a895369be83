"""From the shares an optimizer wants to the numbers a channel's pool buys and releases.

A DNI pool is not reshaped at will: numbers are bought and released (a local number costs
$1.00 a month, a toll-free one $2.00, at Twilio's prices), a number leased to a session cannot
be released, and a platform buys and releases only so many numbers per rebalancing
period.  :class:`PoolComposition` turns an optimizer's
:meth:`~models.dni.bandits.Policy.target_shares` into the counts to buy and to release
per kind of number for one channel, within those limits, and moves the pool to the
target in ``ceil(distance / limit)`` periods when numbers are free.

Between rebalancings the chosen kind may have no free number: :func:`fallback_arms`
gives each impression of a batch the chosen kind if one is free, else the free kind the
optimizer rates best (:meth:`~models.dni.bandits.Policy.estimates`), else ``-1`` (the
pool is exhausted: the platform shows its overflow number, as Invoca's RingPool does), taking the
numbers as it goes.  Its loop is the Numba kernel :func:`take_available`
(``take_available.py_func`` is the plain-Python twin).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["PoolComposition", "fallback_arms", "take_available", "target_counts"]

SHARES_ATOL = 1e-6
"""How far from 1 the sum of target shares may be."""


def _check_int(value: object, name: str, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _check_counts(x: npt.ArrayLike, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or (n is not None and len(a) != n):
        raise ValueError(f"{name} must be a 1-D array" + ("" if n is None else f" of length {n}"))
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a))):
            raise ValueError(f"{name} must hold integers")
    a = a.astype(np.int64)
    if np.any(a < 0):
        raise ValueError(f"{name} must be >= 0")
    return a


def check_shares(shares: npt.ArrayLike) -> np.ndarray:
    """``shares`` as a float64 vector of non-negative values summing to 1 (within
    :data:`SHARES_ATOL`), renormalised; else ``ValueError`` naming ``shares``."""
    s = np.asarray(shares, dtype=np.float64)
    if s.ndim != 1 or len(s) == 0:
        raise ValueError("shares must be a non-empty 1-D array")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("shares must be finite and >= 0")
    if abs(s.sum() - 1.0) > SHARES_ATOL:
        raise ValueError(f"shares must sum to 1, got {s.sum()!r}")
    return s / s.sum()


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` (float, sum 1) summing to ``total``."""
    q = weights * total
    f = np.floor(q).astype(np.int64)
    frac = q - f
    short = total - int(f.sum())
    order = np.argsort(-frac, kind="stable")
    if short > 0:
        f[order[:short]] += 1
    elif short < 0:  # rounding pushed a floor up: take back from the smallest remainders
        for k in order[::-1]:
            if short == 0:
                break
            if f[k] > 0:
                f[k] -= 1
                short += 1
    return f


def target_counts(shares: npt.ArrayLike, pool_size: int, min_count: int = 0) -> np.ndarray:
    """Numbers of each kind for a pool of ``pool_size`` with composition ``shares``.

    ``min_count`` numbers of every kind are kept (so that an optimizer can still try
    every kind), the rest is shared by largest remainders: each count is within one of
    ``shares * (pool_size - n_kinds * min_count) + min_count``.

    Parameters
    ----------
    shares : array_like of float
        Wanted share per kind, >= 0, summing to 1.
    pool_size : int
        Numbers in the pool, >= ``n_kinds * min_count``.
    min_count : int
        Floor per kind, >= 0.

    Returns
    -------
    numpy.ndarray of int64
        Counts summing to ``pool_size``.
    """
    s = check_shares(shares)
    pool_size = _check_int(pool_size, "pool_size")
    min_count = _check_int(min_count, "min_count")
    rest = pool_size - min_count * len(s)
    if rest < 0:
        raise ValueError(
            f"min_count={min_count} for {len(s)} kinds needs a pool of at least "
            f"{min_count * len(s)}, got pool_size={pool_size}"
        )
    return min_count + _largest_remainder(s, rest)


def _cap(want: np.ndarray, cap: int) -> np.ndarray:
    """``want`` if it sums to at most ``cap``, else ``cap`` shared in proportion to
    ``want`` by largest remainders (exact integer arithmetic; never above ``want``)."""
    total = int(want.sum())
    if total <= cap:
        return want.copy()
    scaled = want * cap
    f = scaled // total
    rem = scaled - f * total
    order = np.lexsort((np.arange(len(want)), -want, -rem))  # largest remainder, then want
    f[order[: cap - int(f.sum())]] += 1
    return f


class PoolComposition:
    """Plans each rebalancing of one channel's pool towards an optimizer's shares.

    Parameters
    ----------
    max_buy : int
        Numbers that may be bought per period (>= 0).
    max_release : int, optional
        Numbers that may be released per period (>= 0; default ``max_buy``).
    min_count : int
        Numbers of every kind always kept (see :func:`target_counts`).

    Notes
    -----
    One period's plan, with ``target = target_counts(shares, pool_size, min_count)``:

    * buy the missing numbers of each kind, ``max(target - counts, 0)``, at most
      ``max_buy`` in all (shared in proportion to what is missing);
    * release surplus numbers that are free, ``min(max(counts - target, 0), free)``, at
      most ``max_release`` in all, and no more than the numbers bought plus the excess of
      the pool over ``pool_size`` -- so rebalancing never shrinks a pool below
      ``min(current size, pool_size)``.  Leased numbers are never released.

    With every number free, the pool reaches the target after
    ``ceil(sum |target - counts| / 2 / min(max_buy, max_release))`` periods at most when
    its size does not change.
    """

    def __init__(self, max_buy: int, max_release: int | None = None, min_count: int = 0) -> None:
        self.max_buy = _check_int(max_buy, "max_buy")
        self.max_release = (
            self.max_buy if max_release is None else _check_int(max_release, "max_release")
        )
        self.min_count = _check_int(min_count, "min_count")

    def plan(
        self, counts: npt.ArrayLike, free: npt.ArrayLike, shares: npt.ArrayLike, pool_size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Numbers of each kind to buy and to release this period.

        Parameters
        ----------
        counts : array_like of int
            Numbers of each kind in the pool now.
        free : array_like of int
            Of those, the ones not leased to a session (``0 <= free <= counts``).
        shares : array_like of float
            The optimizer's wanted composition (same length, sums to 1).
        pool_size : int
            The wanted size of the pool (from the sizing model).

        Returns
        -------
        buy, release : numpy.ndarray of int64
            Per kind; ``buy.sum() <= max_buy``, ``release.sum() <= max_release``,
            ``release <= free``, and never both for the same kind.
        """
        counts = _check_counts(counts, "counts")
        free = _check_counts(free, "free", len(counts))
        if np.any(free > counts):
            raise ValueError("free must be <= counts (free numbers are part of the pool)")
        s = check_shares(shares)
        if len(s) != len(counts):
            raise ValueError(f"shares has {len(s)} kinds, counts has {len(counts)}")
        target = target_counts(s, pool_size, self.min_count)
        buy = _cap(np.maximum(target - counts, 0), self.max_buy)
        releasable = np.minimum(np.maximum(counts - target, 0), free)
        excess = max(int(counts.sum()) - int(pool_size), 0)
        allowed = min(self.max_release, int(buy.sum()) + excess)
        return buy, _cap(releasable, allowed)

    def __repr__(self) -> str:
        return (
            f"PoolComposition(max_buy={self.max_buy}, max_release={self.max_release}, "
            f"min_count={self.min_count})"
        )


def _take_available(
    contexts: np.ndarray, choices: np.ndarray, scores: np.ndarray, free: np.ndarray
) -> np.ndarray:
    """Give each impression, in order, a free number of its chosen kind, else of the free
    kind with the highest score (the lowest index of ties), else ``-1``; take it.

    Parameters
    ----------
    contexts : numpy.ndarray of int64, shape (B,)
        Channel (pool) of each impression.
    choices : numpy.ndarray of int64, shape (B,)
        Kind chosen by the optimizer (``-1``: none, take the best free one).
    scores : numpy.ndarray of float64, shape (B, n_kinds)
        The optimizer's estimates; NaN ranks below every number.
    free : numpy.ndarray of int64, shape (n_contexts, n_kinds)
        Free numbers per channel and kind; **decremented** for every number taken.

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
        Kind given, ``-1`` where the channel's pool had no free number.
    """
    n_kinds = free.shape[1]
    out = np.empty(len(contexts), dtype=np.int64)
    for i in range(len(contexts)):
        c = contexts[i]
        a = choices[i]
        if a < 0 or free[c, a] <= 0:
            a = -1
            best = -np.inf
            for k in range(n_kinds):
                if free[c, k] > 0 and (a < 0 or scores[i, k] > best):
                    a = k
                    best = scores[i, k]
        if a >= 0:
            free[c, a] -= 1
        out[i] = a
    return out


take_available = njit(cache=True, nogil=True)(_take_available)


def fallback_arms(
    contexts: npt.ArrayLike, choices: npt.ArrayLike, scores: npt.ArrayLike, free: np.ndarray
) -> np.ndarray:
    """The kind each impression gets given the free numbers, taking them (in place).

    Checks its inputs and runs :func:`take_available`: the chosen kind if a number of it
    is free, else the free kind the optimizer rates best, else ``-1`` (no free number in
    the channel's pool: the overflow number).

    Parameters
    ----------
    contexts : array_like of int, shape (B,)
        Channel (pool) of each impression.
    choices : array_like of int, shape (B,)
        The optimizer's choices (``select_many``); ``-1`` for "best free".
    scores : array_like of float, shape (B, n_kinds)
        The optimizer's estimates for these impressions (``estimates(contexts)``).
    free : numpy.ndarray of int, shape (n_contexts, n_kinds)
        Free numbers per channel and kind, decremented in place for each number taken.

    Returns
    -------
    numpy.ndarray of int64, shape (B,)
    """
    if not isinstance(free, np.ndarray) or free.ndim != 2:
        raise ValueError("free must be a 2-D NumPy array (n_contexts, n_kinds)")
    if free.size and (not np.issubdtype(free.dtype, np.integer) or free.min() < 0):
        raise ValueError("free must hold non-negative integers")
    n_contexts, n_kinds = free.shape
    contexts = np.asarray(contexts)
    choices = np.asarray(choices)
    if contexts.ndim != 1 or choices.shape != contexts.shape:
        raise ValueError("contexts and choices must be 1-D arrays of the same length")
    contexts = contexts.astype(np.int64)
    choices = choices.astype(np.int64)
    if len(contexts) and (contexts.min() < 0 or contexts.max() >= n_contexts):
        raise ValueError(f"contexts must be in [0, {n_contexts})")
    if len(choices) and (choices.min() < -1 or choices.max() >= n_kinds):
        raise ValueError(f"choices must be in [-1, {n_kinds})")
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    if scores.shape != (len(contexts), n_kinds):
        raise ValueError(f"scores must have shape ({len(contexts)}, {n_kinds}), got {scores.shape}")
    work = (
        free
        if (free.dtype == np.int64 and free.flags.c_contiguous)
        else np.ascontiguousarray(free, dtype=np.int64)
    )
    out = take_available(contexts, choices, scores, work)
    if work is not free:
        free[...] = work
    return out
