"""Playing and judging the policies: a known response (:func:`reference_response`),
play against it (:func:`simulate_bernoulli`) and regret (:func:`cumulative_regret`,
:func:`regret_exponent`, :func:`regret_growth_ratio`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from ...common import CHANNELS
from .base import Policy, channel_index

__all__ = [
    "Play",
    "cumulative_regret",
    "reference_response",
    "regret_exponent",
    "regret_growth_ratio",
    "simulate_bernoulli",
]

Response: TypeAlias = "npt.ArrayLike | Callable[[np.ndarray, np.ndarray | None], npt.ArrayLike]"
"""True call probabilities: an ``(n_contexts, n_arms)`` table or
``response(contexts, features) -> (B, n_arms)``."""


def reference_response(
    base: npt.ArrayLike = (0.012, 0.009, 0.008, 0.003),
    local_vs_800: float = 2.2,
    tf800_vs_other: float = 1.4,
    non_local_vs_other: float = 1.5,
    vanity_visual: float = 1.15,
    vanity_audio: float = 11.0,
) -> np.ndarray:
    """Call probability per impression, ``(len(CHANNELS), len(NUMBER_KINDS))``.

    A plausible hidden response for tests and examples, sized on published call-tracking
    figures (the simulator may draw its own):

    * ``tollfree_other`` calls with probability ``base[channel]``;
    * ``tollfree_800`` converts ``tf800_vs_other`` times as well (800 converted 20--60%
      better than 888/877/866: Engine Ready's AdWords test);
    * ``local`` draws ``local_vs_800`` times the calls of 800 (local-number ads drew more
      than twice the calls of toll-free: CRM Associates 2009);
    * ``non_local`` is a geographic number of another area: ``non_local_vs_other`` times
      ``tollfree_other`` (no published figure; between toll-free and local);
    * ``vanity`` is a toll-free 800 number with memorable digits: ``vanity_visual`` times
      800 where the number is clicked (search, social, display: recall helps little) and
      ``vanity_audio`` times 800 on ``print`` (about 9--14 times the calls in audio ads:
      800response, a radio test).

    Parameters
    ----------
    base : sequence of float
        ``tollfree_other`` call probability per channel, in :data:`CHANNELS` order.
    local_vs_800, tf800_vs_other, non_local_vs_other, vanity_visual, vanity_audio : float
        Multiplicative effects, all > 0.

    Returns
    -------
    numpy.ndarray of float64
        Probabilities in [0, 1]; the best kind is ``local`` on search, social and display
        (3.7%, 2.8%, 2.5% with the defaults) and ``vanity`` on print (4.6%).
    """
    base = np.asarray(base, dtype=np.float64)
    if base.shape != (len(CHANNELS),) or np.any(~(base > 0)):
        raise ValueError(f"base must hold {len(CHANNELS)} probabilities > 0")
    for name, v in (
        ("local_vs_800", local_vs_800),
        ("tf800_vs_other", tf800_vs_other),
        ("non_local_vs_other", non_local_vs_other),
        ("vanity_visual", vanity_visual),
        ("vanity_audio", vanity_audio),
    ):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be finite and > 0, got {v!r}")
    other = base
    tf800 = tf800_vs_other * other
    vanity = vanity_visual * tf800
    vanity[channel_index("print")] = vanity_audio * tf800[channel_index("print")]
    p = np.column_stack([local_vs_800 * tf800, non_local_vs_other * other, tf800, other, vanity])
    if np.any(p > 1):
        raise ValueError("the effects make a call probability exceed 1")
    return p


# -- playing and judging ----------------------------------------------------------------------
class Play(NamedTuple):
    """Outcome of :func:`simulate_bernoulli`, one entry per impression in decision order."""

    arms: np.ndarray
    """Kind shown (int64)."""
    rewards: np.ndarray
    """1.0 if a call resulted."""
    expected: np.ndarray
    """True call probability of the kind shown."""
    best: np.ndarray
    """True call probability of the best kind for that impression (the oracle's)."""


def _response_matrix(
    response: Response, contexts: np.ndarray, features: np.ndarray | None
) -> np.ndarray:
    if callable(response):
        return np.asarray(response(contexts, features), dtype=np.float64)
    return np.asarray(response, dtype=np.float64)[contexts]


def simulate_bernoulli(
    policy: Policy,
    response: Response,
    contexts: npt.ArrayLike,
    rng: np.random.Generator,
    batch: int = 1000,
    delay: int = 0,
    features: np.ndarray | None = None,
    shuffle_feedback: bool = False,
) -> Play:
    """Play ``policy`` (already reset) against Bernoulli calls with known probabilities.

    Impressions are decided ``batch`` at a time; the calls of a batch are fed back
    ``delay`` batches later (``delay=0``: before the next batch is decided), shuffled
    within the batch if ``shuffle_feedback``.  Feedback still pending at the end is fed.

    Parameters
    ----------
    policy : Policy
        The policy, reset to the response's shape.
    response : array_like or callable
        ``(n_contexts, n_arms)`` probabilities or ``response(contexts, features)``.
    contexts : array_like of int
        Channel of each impression, in time order.
    rng : numpy.random.Generator
        Drives both the policy and the calls.
    batch, delay : int
        Impressions per decision batch (>= 1); batches of feedback delay (>= 0).
    features : array_like, optional
        ``(len(contexts), n_features)`` consumer features.
    shuffle_feedback : bool
        Feed each batch's outcomes back in random order.

    Returns
    -------
    Play
    """
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if int(delay) != delay or delay < 0:
        raise ValueError(f"delay must be an integer >= 0, got {delay!r}")
    contexts = np.asarray(contexts, dtype=np.int64)
    n = len(contexts)
    arms = np.zeros(n, dtype=np.int64)
    rewards = np.zeros(n)
    expected = np.zeros(n)
    best = np.zeros(n)
    pending: list[np.ndarray] = []
    for start in range(0, n, batch):
        sl = slice(start, min(start + batch, n))
        c = contexts[sl]
        f = None if features is None else features[sl]
        a = policy.select_many(c, rng, f)
        p = _response_matrix(response, c, f)
        arms[sl] = a
        expected[sl] = p[np.arange(len(c)), a]
        best[sl] = p.max(axis=1)
        rewards[sl] = rng.random(len(c)) < expected[sl]
        idx = np.arange(sl.start, sl.stop)
        pending.append(rng.permutation(idx) if shuffle_feedback else idx)
        while len(pending) > delay:
            i = pending.pop(0)
            policy.update(
                contexts[i], arms[i], rewards[i], None if features is None else features[i]
            )
    for i in pending:
        policy.update(contexts[i], arms[i], rewards[i], None if features is None else features[i])
    return Play(arms, rewards, expected, best)


def cumulative_regret(
    rewards_expected_oracle: npt.ArrayLike, rewards_expected_chosen: npt.ArrayLike
) -> np.ndarray:
    """Cumulative (pseudo-)regret over impressions.

    Parameters
    ----------
    rewards_expected_oracle : array_like of float
        Expected reward (call probability) of the oracle's choice, per impression.
    rewards_expected_chosen : array_like of float
        Expected reward of the policy's choice, per impression.

    Returns
    -------
    numpy.ndarray of float64
        ``R(t) = sum over the first t impressions of (oracle - chosen)``; ``R[t-1]`` is
        the regret after ``t`` impressions.
    """
    o = np.asarray(rewards_expected_oracle, dtype=np.float64)
    c = np.asarray(rewards_expected_chosen, dtype=np.float64)
    if o.shape != c.shape or o.ndim != 1:
        raise ValueError(
            "rewards_expected_oracle and rewards_expected_chosen must be 1-D "
            "arrays of the same length"
        )
    return np.cumsum(o - c)


def regret_exponent(regret: npt.ArrayLike, start: float = 0.5, points: int = 64) -> float:
    """Exponent ``p`` of ``R(t) ~ c t^p`` fitted on the tail ``t in [start T, T]``.

    A least-squares line through ``(log t, log R(t))`` at ``points`` log-spaced ``t``.
    Linear regret gives ``p ~ 1``; logarithmic regret gives a local exponent
    ``1 / ln t`` (about 0.1 at 10^5) -- anything well below 1 is sublinear.

    Parameters
    ----------
    regret : array_like of float
        Cumulative regret per impression (:func:`cumulative_regret`).
    start : float
        Where the tail starts, a fraction of ``T`` in (0, 1).
    points : int
        Points of the fit, >= 2.

    Returns
    -------
    float
        ``p``; ``nan`` if the regret is not positive on the tail (e.g. the oracle's 0).
    """
    r = np.asarray(regret, dtype=np.float64)
    if r.ndim != 1 or len(r) < 4:
        raise ValueError("regret must be a 1-D array of at least 4 values")
    if not 0.0 < start < 1.0:
        raise ValueError(f"start must be in (0, 1), got {start!r}")
    if int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    T = len(r)
    t = np.unique(np.round(np.geomspace(max(start * T, 1.0), T, int(points))).astype(np.int64))
    y = r[t - 1]
    if len(t) < 2 or np.any(~(y > 0)):
        return float("nan")
    return float(np.polyfit(np.log(t), np.log(y), 1)[0])


def regret_growth_ratio(regret: npt.ArrayLike) -> float:
    """``(R(T) - R(T/2)) / R(T/2)``: regret added in the second half over the first half.

    About 1 for linear regret, ``ln 2 / ln(T/2)`` (0.06 at 10^5) for logarithmic regret;
    below 1 means the policy is learning.  ``nan`` if ``R(T/2) <= 0``.
    """
    r = np.asarray(regret, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError("regret must be a 1-D array of at least 2 values")
    half = r[len(r) // 2 - 1]
    if not half > 0:
        return float("nan")
    return float((r[-1] - half) / half)
