"""Per-number call-rate detectors with constant-size state: token bucket, EWMA, CUSUM.

Each keeps one float32 statistic and the float64 time of the number's last event in one
packed 12-byte record per number (so an event touches one cache line, rarely two) and
does O(1) work per event:

* :class:`TokenBucket` -- a bucket of ``b`` tokens refilled at ``rho`` tokens/s; a call
  that finds less than one token exceeds the bucket.  It is also the rate limiter.
* :class:`EWMA` -- an exponentially decayed call rate with time constant ``tau``.
* :class:`PoissonCUSUM` -- Page's CUSUM of the log-likelihood ratio of a Poisson rate
  change ``lambda_0 -> lambda_1``, in continuous time.

Each statistic is computed in float64 from the stored float32 value and the alarm is
decided on that float64 value before it is stored back in float32.  Before a number's
first event its last time is ``-inf``, so the first event sees an infinite gap: a full
bucket, a zero rate, a zero CUSUM -- without a branch.

The kernels :func:`token_bucket`, :func:`ewma` and :func:`poisson_cusum` are compiled by
Numba; ``kernel.py_func`` is the same code run by the interpreter, the oracle of the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit

from ..jit import PREFETCH_AHEAD, prefetch
from .base import DETECTORS, AlarmRule, Detector
from .window import _check_events, _positive_float

__all__ = [
    "TokenBucket",
    "EWMA",
    "PoissonCUSUM",
    "token_bucket",
    "ewma",
    "poisson_cusum",
    "BUCKET_STATE",
    "EWMA_STATE",
    "CUSUM_STATE",
]

BUCKET_STATE = np.dtype([("last", np.float64), ("tokens", np.float32)])
"""A number's token bucket: time of its last call and tokens left after it (12 bytes)."""
EWMA_STATE = np.dtype([("last", np.float64), ("rate", np.float32)])
"""A number's EWMA: time of its last call and the rate just after it (12 bytes)."""
CUSUM_STATE = np.dtype([("last", np.float64), ("stat", np.float32)])
"""A number's CUSUM: time of its last call and ``S`` just after it (12 bytes)."""


class _PackedRateDetector(Detector):
    """Shared plumbing of the three detectors: one packed record per number holding the
    ``last`` call time and one float32 statistic, named by ``_STAT``, that a fresh number
    starts at ``_fresh()``; the kernel is called as
    ``_kernel(t, ids, *self._params(), self.state_, alarm)``."""

    _STATE: np.dtype
    _STAT: str
    _kernel: Callable[..., int]

    def _params(self) -> tuple[float, ...]:
        raise NotImplementedError

    def _fresh(self) -> float:
        raise NotImplementedError

    @property
    def state_bytes_per_id(self) -> int:
        """Bytes of per-number state: float32 statistic + float64 last time = 12."""
        return self._STATE.itemsize

    @property
    def last_(self) -> np.ndarray:
        """Time of each number's last call (a view of ``state_``)."""
        return self.state_["last"]

    def _allocate(self, n_ids: int) -> None:
        self.state_ = np.empty(n_ids, dtype=self._STATE)
        self._clear(slice(None))

    def _run(self, t: np.ndarray, ids: np.ndarray, alarm: np.ndarray) -> int:
        _check_events(t, ids, len(self.state_))
        return self._kernel(t, ids, *self._params(), self.state_, alarm)

    def _clear(self, ids: np.ndarray | slice) -> None:
        self.state_[self._STAT][ids] = self._fresh()
        self.state_["last"][ids] = -np.inf


# -- token bucket --------------------------------------------------------------------------
def _token_bucket(
    t: np.ndarray, ids: np.ndarray, rate: float, burst: float, state: np.ndarray, alarm: np.ndarray
) -> int:
    """Refill each number's bucket to the event time, then take a token or alarm.

    .. math:: x = \\min(b, x + \\rho (t_i - t_{\\text{last}})), \\quad
              \\text{alarm}_i \\iff x < 1, \\quad x \\leftarrow x - 1 \\text{ otherwise.}

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event.
    rate : float
        Refill rate ``rho`` (tokens/s).
    burst : float
        Bucket size ``b`` (tokens).
    state : BUCKET_STATE[n_ids]
        Each number's ``last`` event time (``-inf`` before the first) and the ``tokens``
        left after it (updated in place).
    alarm : bool[n]
        Output: set where the call finds less than one token.

    Returns
    -------
    int
        -1, or the index of the first event earlier than its predecessor (NaN counts as
        out of order); events before it have been processed.
    """
    prev = -np.inf
    n = t.shape[0]
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = ids[i + PREFETCH_AHEAD]
            prefetch(state, ahead)
        ti = t[i]
        if not ti >= prev:
            return i
        prev = ti
        rec = state[ids[i]]
        x = float(rec["tokens"]) + rate * (ti - rec["last"])
        if x > burst:
            x = burst
        rec["last"] = ti
        if x >= 1.0:
            rec["tokens"] = x - 1.0
            alarm[i] = False
        else:
            rec["tokens"] = x
            alarm[i] = True
    return -1


token_bucket = njit(cache=True, nogil=True)(_token_bucket)


@DETECTORS.register("token_bucket")
class TokenBucket(_PackedRateDetector):
    """Token bucket per number: alarm at the calls that exceed a sustained rate + burst.

    Each number has a bucket of at most ``b`` tokens, full at its first call, refilled at
    ``rho`` tokens per second.  At a call at time ``t``

    .. math:: x \\leftarrow \\min\\bigl(b,\\ x + \\rho\\,(t - t_{\\text{last}})\\bigr);
              \\quad x \\ge 1:\\ \\text{pass},\\ x \\leftarrow x - 1;
              \\quad x < 1:\\ \\text{alarm (consumes nothing)}.

    So a number may place ``b`` calls at once and ``rho`` calls/s sustained; the alarm
    mask is exactly the set of calls a token-bucket limiter would refuse.  State: float32
    tokens + float64 last time = 12 bytes per number, in one packed record.

    Parameters
    ----------
    rate : float
        Refill rate ``rho`` in calls per second (> 0).
    burst : float
        Bucket size ``b`` in calls (> 0; below 1 every call alarms).

    Attributes
    ----------
    state_ : numpy.ndarray of :data:`BUCKET_STATE`
        Each number's ``last`` call time (``-inf`` before the first) and ``tokens`` left
        after it; ``last_`` and ``tokens_`` are views of the two fields.

    Examples
    --------
    >>> import numpy as np
    >>> det = TokenBucket(rate=0.1, burst=2).reset(1)
    >>> det.update(np.array([0.0, 1.0, 2.0, 12.0]), np.zeros(4, dtype=np.int64))
    array([False, False,  True, False])
    """

    _kernel = staticmethod(token_bucket)
    _STATE, _STAT = BUCKET_STATE, "tokens"

    def _params(self) -> tuple[float, ...]:
        return self.rate, self.burst

    def _fresh(self) -> float:
        return self.burst

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = _positive_float("rate", rate)
        self.burst = _positive_float("burst", burst)

    @classmethod
    def from_rule(cls, rule: AlarmRule) -> TokenBucket:
        """Refill at ``threshold / window``; hold up to ``threshold`` calls."""
        return cls(rule.rate, rule.threshold)

    @property
    def tokens_(self) -> np.ndarray:
        """Tokens of each number after its last call (a view of ``state_``)."""
        return self.state_["tokens"]


# -- exponentially weighted rate -----------------------------------------------------------
def _ewma(
    t: np.ndarray,
    ids: np.ndarray,
    tau: float,
    threshold: float,
    state: np.ndarray,
    alarm: np.ndarray,
) -> int:
    """Decay each number's rate to the event time, add the event, compare.

    .. math:: r \\leftarrow r\\, e^{-(t_i - t_{\\text{last}})/\\tau} + 1/\\tau,
              \\quad \\text{alarm}_i \\iff r > \\theta.

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event.
    tau : float
        Time constant ``tau`` (s).
    threshold : float
        Alarm rate ``theta`` (calls/s).
    state : EWMA_STATE[n_ids]
        Each number's ``last`` event time (``-inf`` before the first) and its ``rate``
        just after it (updated in place).
    alarm : bool[n]
        Output: set where the rate including the event exceeds ``theta``.

    Returns
    -------
    int
        -1, or the index of the first event earlier than its predecessor (NaN counts as
        out of order); events before it have been processed.
    """
    prev = -np.inf
    inv_tau = 1.0 / tau
    n = t.shape[0]
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = ids[i + PREFETCH_AHEAD]
            prefetch(state, ahead)
        ti = t[i]
        if not ti >= prev:
            return i
        prev = ti
        rec = state[ids[i]]
        r = float(rec["rate"]) * math.exp((rec["last"] - ti) * inv_tau) + inv_tau
        rec["last"] = ti
        rec["rate"] = r
        alarm[i] = r > threshold
    return -1


ewma = njit(cache=True, nogil=True)(_ewma)


@DETECTORS.register("ewma")
class EWMA(_PackedRateDetector):
    """Exponentially decayed call rate per number.

    At each call of a number at time ``t``

    .. math:: r \\leftarrow r\\, e^{-(t - t_{\\text{last}})/\\tau} + \\frac{1}{\\tau},
              \\qquad \\text{alarm} \\iff r > \\theta,

    so just after call ``i``, :math:`r = \\tau^{-1} \\sum_{m \\le i} e^{-(t_i - t_m)/\\tau}`:
    a kernel estimate of the call rate (calls/s): for a Poisson stream of rate ``lambda``
    its mean is ``lambda`` at a fixed time and ``lambda + 1/tau`` just after a call (the
    call itself counts).  This backward (decay-then-add) update equals, in exact
    arithmetic, the forward-decayed sum of Cormode, Shkapenyuk, Srivastava and Xu (ICDE 2009),
    :math:`e^{-(t_i - L)/\\tau} \\sum_m e^{(t_m - L)/\\tau} / \\tau` for any landmark
    ``L``, with one ``exp`` per event and no landmark to renormalise (the forward sum
    overflows once ``(t - L)/tau`` passes ~709).  State: float32 ``r`` + float64 last
    time = 12 bytes per number, in one packed record.

    Parameters
    ----------
    tau : float
        Time constant in seconds (> 0).
    threshold : float
        Alarm rate ``theta`` in calls per second (> 0).  Note that a single call gives
        ``r = 1/tau``.

    Attributes
    ----------
    state_ : numpy.ndarray of :data:`EWMA_STATE`
        Each number's ``last`` call time (``-inf`` before the first) and ``rate`` just
        after it (calls/s); ``last_`` and ``rate_`` are views of the two fields.

    Examples
    --------
    >>> import numpy as np
    >>> det = EWMA(tau=10.0, threshold=0.25).reset(1)
    >>> det.update(np.array([0.0, 1.0, 2.0, 100.0]), np.zeros(4, dtype=np.int64))
    array([False, False,  True, False])
    """

    _kernel = staticmethod(ewma)
    _STATE, _STAT = EWMA_STATE, "rate"

    def _params(self) -> tuple[float, ...]:
        return self.tau, self.threshold

    def _fresh(self) -> float:
        return 0.0

    def __init__(self, tau: float, threshold: float) -> None:
        self.tau = _positive_float("tau", tau)
        self.threshold = _positive_float("threshold", threshold)

    @classmethod
    def from_rule(cls, rule: AlarmRule) -> EWMA:
        """Rate over ``tau = window`` against ``threshold / window``."""
        return cls(rule.window_seconds, rule.rate)

    @property
    def rate_(self) -> np.ndarray:
        """Rate of each number just after its last call (a view of ``state_``)."""
        return self.state_["rate"]


# -- CUSUM for a Poisson rate change -------------------------------------------------------
def _poisson_cusum(
    t: np.ndarray,
    ids: np.ndarray,
    drift: float,
    jump: float,
    h: float,
    state: np.ndarray,
    alarm: np.ndarray,
) -> int:
    """Drain each number's CUSUM to the event time, add the event's jump, compare.

    .. math:: S \\leftarrow \\max\\bigl(0,\\ S - (\\lambda_1 - \\lambda_0)
              (t_i - t_{\\text{last}})\\bigr) + \\log(\\lambda_1 / \\lambda_0),
              \\quad \\text{alarm}_i \\iff S > h.

    Parameters
    ----------
    t : float64[n]
        Event times (s), non-decreasing.
    ids : int64[n]
        Number id of each event.
    drift : float
        ``lambda_1 - lambda_0`` (1/s), the decrease of ``S`` per second between events.
    jump : float
        ``log(lambda_1 / lambda_0)``, the increase of ``S`` at an event.
    h : float
        Alarm level.
    state : CUSUM_STATE[n_ids]
        Each number's ``last`` event time (``-inf`` before the first) and its ``stat``
        ``S`` just after it (updated in place).
    alarm : bool[n]
        Output: set where ``S`` including the event exceeds ``h``.

    Returns
    -------
    int
        -1, or the index of the first event earlier than its predecessor (NaN counts as
        out of order); events before it have been processed.
    """
    prev = -np.inf
    n = t.shape[0]
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = ids[i + PREFETCH_AHEAD]
            prefetch(state, ahead)
        ti = t[i]
        if not ti >= prev:
            return i
        prev = ti
        rec = state[ids[i]]
        s = float(rec["stat"]) - drift * (ti - rec["last"])
        if s < 0.0:
            s = 0.0
        s += jump
        rec["last"] = ti
        rec["stat"] = s
        alarm[i] = s > h
    return -1


poisson_cusum = njit(cache=True, nogil=True)(_poisson_cusum)


@DETECTORS.register("cusum")
class PoissonCUSUM(_PackedRateDetector):
    """Continuous-time CUSUM per number for a Poisson rate change ``lambda_0 -> lambda_1``.

    The log-likelihood ratio of a Poisson stream of rate ``lambda_1`` against
    ``lambda_0`` over ``[0, t]`` with ``N(t)`` events is
    :math:`N(t) \\log(\\lambda_1/\\lambda_0) - (\\lambda_1 - \\lambda_0) t`.  Page's CUSUM
    is that ratio less its running minimum; it falls at slope ``lambda_1 - lambda_0``
    between events, is floored at 0, and jumps at each event:

    .. math:: S \\leftarrow \\max\\bigl(0,\\ S - (\\lambda_1 - \\lambda_0)\\,
              (t - t_{\\text{last}})\\bigr) + \\log\\frac{\\lambda_1}{\\lambda_0},
              \\qquad \\text{alarm} \\iff S > h .

    A number's first event starts from ``S = 0``.  ``S`` is not reset after an alarm (the
    number stays over the level while its rate stays high; ``flagged_at_`` keeps the
    first alarm).  State: float32 ``S`` + float64 last time = 12 bytes per number, in one
    packed record.

    Parameters
    ----------
    rate0 : float
        In-control rate ``lambda_0`` in calls per second (> 0).
    rate1 : float
        Rate to detect ``lambda_1`` in calls per second (> ``rate0``).
    h : float
        Alarm level (> 0), in nats.

    Attributes
    ----------
    state_ : numpy.ndarray of :data:`CUSUM_STATE`
        Each number's ``last`` call time (``-inf`` before the first) and ``stat`` ``S``
        just after it; ``last_`` and ``stat_`` are views of the two fields.

    Examples
    --------
    >>> import numpy as np
    >>> det = PoissonCUSUM(rate0=1 / 3600, rate1=1.0, h=15.0).reset(1)
    >>> det.update(np.array([0.0, 1.0, 2.0, 3600.0]), np.zeros(4, dtype=np.int64))
    array([False,  True,  True, False])
    """

    _kernel = staticmethod(poisson_cusum)
    _STATE, _STAT = CUSUM_STATE, "stat"

    def _params(self) -> tuple[float, ...]:
        return self.rate1 - self.rate0, math.log(self.rate1 / self.rate0), self.h

    def _fresh(self) -> float:
        return 0.0

    def __init__(self, rate0: float, rate1: float, h: float) -> None:
        self.rate0 = _positive_float("rate0", rate0)
        self.rate1 = _positive_float("rate1", rate1)
        if not self.rate1 > self.rate0:
            raise ValueError(f"rate1 must exceed rate0, got rate1={rate1!r} <= rate0={rate0!r}")
        self.h = _positive_float("h", h)

    @classmethod
    def from_rule(cls, rule: AlarmRule, *, h: float) -> PoissonCUSUM:
        """From the baseline rate to ``threshold / window``, alarm level ``h``.

        Parameters
        ----------
        rule : AlarmRule
        h : float
            CUSUM alarm level (log-likelihood ratio, > 0): larger means later alarms and
            fewer false ones.
        """
        if not rule.rate > rule.baseline_rate:
            raise ValueError(
                "the alarm rate (threshold per window) must exceed the baseline rate for the CUSUM"
            )
        return cls(rule.baseline_rate, rule.rate, h)

    @property
    def stat_(self) -> np.ndarray:
        """``S`` of each number just after its last call (a view of ``state_``)."""
        return self.state_["stat"]
