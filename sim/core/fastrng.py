"""A counter-based random generator for compiled kernels, and the configured distributions
sampled with it.

A stream is a ``uint64[2]`` array ``[key, counter]``: its ``k``-th draw is the SplitMix64
finaliser of ``key + k * golden`` (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
number generators"), so a draw costs a few integer operations (~2 ns) against ~15 ns for a
call into NumPy's ``Generator`` from Numba.  The key comes from the run's named stream
(drawn once from the run's named ``numpy.random.Generator``), so the seeding contract is
unchanged: a stream depends only on (seed, point, replication, name).

Normal and exponential variates come from Marsaglia & Tsang's ziggurat (2000, "The
ziggurat method for generating random variables", J. Stat. Software 5(8)) with 256 layers:
99% of draws cost one 64-bit draw, a multiply and a comparison (the layer from the low 8
bits, the sign from bit 8 and the position from the top 53, so the three never share bits
-- the flaw Doornik 2005 found in the 32-bit original); the tables are solved here at
import (:func:`_ziggurat`).

Every function here is compiled with ``njit(cache=True, inline="always")``: inlined into
the kernels that draw, the stream's counter stays in a register (a log-normal draw through
a called ``sample`` cost ~36 ns, inlined ~13 ns).  The kernels' plain-Python twins
(``kernel.py_func``) call the same compiled functions, so twin and kernel draw the same
numbers.  Numba's cache keys on each kernel's own file: after changing this one, delete
the ``__pycache__/*.nb*`` files of the kernels that draw (``sim/world``).
``tests/test_world_kernels.py`` checks the generator against a big-integer SplitMix64 and
``tests/test_statistics.py`` the samplers and the ziggurat's tables against SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.optimize import brentq

__all__ = [
    "EXPONENTIAL",
    "GAMMA",
    "LOGNORMAL",
    "NONE",
    "UNIFORM",
    "WEIBULL",
    "exponential",
    "new_stream",
    "next_u64",
    "normal",
    "sample",
    "uniform",
]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

NONE, EXPONENTIAL, LOGNORMAL, GAMMA, WEIBULL, UNIFORM = -1, 0, 1, 2, 3, 4
"""Codes of the distributions a kernel samples (``Distribution.kernel_params``)."""


def new_stream(rng: np.random.Generator) -> np.ndarray:
    """A stream ``[key, 0]`` (uint64[2]) at its first draw, its key drawn from ``rng`` (a
    run's named stream)."""
    return np.array([rng.integers(0, 2**64, dtype=np.uint64), 0], dtype=np.uint64)


@njit(cache=True, nogil=True, inline="always")
def next_u64(stream):
    """The stream's next 64 random bits (advances its counter)."""
    c = stream[1]
    stream[1] = c + _ONE
    z = stream[0] + (c + _ONE) * GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def uniform(stream):
    """Uniform on ``[0, 1)`` with 53 random bits."""
    return float(next_u64(stream) >> _S11) * _TO_UNIT


def _ziggurat(f, f_inv, tail, layers=256):
    """Layer edges ``x[0..layers]`` and heights ``f(x)`` of a ziggurat of equal-area layers
    under a decreasing density ``f`` on ``[0, inf)`` (unnormalised, ``f(0) = 1``).

    ``x[1] = r`` is the base's right edge, solved so that the layers close at the top
    (``x[layers] = 0``); the base (the rectangle ``r * f(r)`` and the tail beyond ``r``,
    ``tail(r)`` = its integral) gets the width ``x[0] = V / f(r)`` of a layer of area ``V``.
    """

    def edges(r):
        v = r * f(r) + tail(r)
        x = [v / f(r), r]
        for _ in range(layers - 2):
            y = f(x[-1]) + v / x[-1]
            if y >= 1.0:  # r too small: the layers reach the top before the last one
                return x, v, -1.0 - (y - 1.0) - (layers - len(x))
            x.append(f_inv(y))
        return x, v, x[-1] * (1.0 - f(x[-1])) - v

    r = brentq(lambda r: edges(r)[2], 1.0, 20.0, xtol=1e-14)
    x = np.array(edges(r)[0] + [0.0])
    return x, np.array([f(v) for v in x])


_NX, _NF = _ziggurat(
    lambda x: math.exp(-0.5 * x * x),
    lambda y: math.sqrt(-2.0 * math.log(y)),
    lambda r: math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0)),
)
_EX, _EF = _ziggurat(lambda x: math.exp(-x), lambda y: -math.log(y), lambda r: math.exp(-r))
_LAYER = np.uint64(255)
_S8 = np.uint64(8)


@njit(cache=True, nogil=True, inline="always")
def exponential(stream):
    """Exp(1) by the ziggurat; beyond the base's edge ``r`` the tail is ``r`` plus a fresh
    Exp(1) (memorylessness)."""
    shift = 0.0
    while True:
        u = next_u64(stream)
        i = np.int64(u & _LAYER)
        x = float(u >> _S11) * _TO_UNIT * _EX[i]
        if x < _EX[i + 1]:
            return shift + x
        if i == 0:
            shift += _EX[1]
        elif _EF[i] + uniform(stream) * (_EF[i + 1] - _EF[i]) < math.exp(-x):
            return shift + x


@njit(cache=True, nogil=True, inline="always")
def normal(stream):
    """Standard normal by the ziggurat; beyond the base's edge ``r`` Marsaglia's tail
    method (``r + a`` with ``a ~ Exp(r)``, accepted when ``2 b > a**2``, ``b ~ Exp(1)``)."""
    while True:
        u = next_u64(stream)
        i = np.int64(u & _LAYER)
        x = float(u >> _S11) * _TO_UNIT * _NX[i]
        sign = 1.0 - 2.0 * float((u >> _S8) & _ONE)
        if x < _NX[i + 1]:
            return sign * x
        if i == 0:
            r = _NX[1]
            while True:
                a = -math.log(1.0 - uniform(stream)) / r
                if 2.0 * -math.log(1.0 - uniform(stream)) > a * a:
                    return sign * (r + a)
        if _NF[i] + uniform(stream) * (_NF[i + 1] - _NF[i]) < math.exp(-0.5 * x * x):
            return sign * x


@njit(cache=True, nogil=True, inline="always")
def _gamma1(stream, shape):
    """Gamma(shape, 1) for shape >= 1 (Marsaglia & Tsang 2000)."""
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(stream)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(stream)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v


@njit(cache=True, nogil=True, inline="always")
def sample(stream, code, a, b):
    """One draw of a configured distribution given by ``(code, a, b)``.

    ``EXPONENTIAL`` (mean ``a``), ``LOGNORMAL`` (``log X ~ N(a, b)``), ``GAMMA`` (shape
    ``a``, scale ``b``), ``WEIBULL`` (shape ``a``, scale ``b``), ``UNIFORM`` (on
    ``[a, b)``); ``NONE`` returns 0 without drawing.
    """
    if code == EXPONENTIAL:
        return a * exponential(stream)
    if code == LOGNORMAL:
        return math.exp(a + b * normal(stream))
    if code == GAMMA:
        if a >= 1.0:
            return b * _gamma1(stream, a)
        g = _gamma1(stream, a + 1.0)  # Gamma(a) = Gamma(a + 1) * U^(1/a)
        return b * g * (1.0 - uniform(stream)) ** (1.0 / a)
    if code == WEIBULL:
        return b * exponential(stream) ** (1.0 / a)
    if code == UNIFORM:
        return a + (b - a) * uniform(stream)
    return 0.0
