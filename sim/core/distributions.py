"""Configured probability distributions.

A distribution in a config is a small TOML table with a ``kind`` and its parameters, e.g.
``tenure = { kind = "lognormal", median = 900, sigma = 1.1 }``.  Each one is a frozen pydantic
model that knows its SciPy equivalent, its mean and variance, and how to sample with a given
``numpy.random.Generator``, so tests compare samples with theory (the Ciw habit).

SciPy already implements the densities, quantiles and samplers; this module only maps
researcher-friendly parameters (a mean, a median) onto SciPy's ``shape/loc/scale``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

__all__ = ["Distribution", "Exponential", "Gamma", "LogNormal", "Uniform", "Weibull"]


MAX_MEAN = 1e9
"""The largest mean a configured distribution may have (in its own unit: seconds, minutes
or days): beyond it samples times the day length overflow."""


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self):
        mean = self.mean
        if not (np.isfinite(mean) and mean <= MAX_MEAN and np.isfinite(self.var)):
            raise ValueError(f"its mean ({mean:.3g}) must be finite and at most {MAX_MEAN:g}")
        return self

    def frozen(self) -> stats.rv_continuous:
        """The equivalent frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """Expected value."""
        return _moments(self)[0]

    @property
    def var(self) -> float:
        """Variance."""
        return _moments(self)[1]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent values with NumPy's own samplers.

        (SciPy's frozen objects cost about half a millisecond to build, too slow for a draw
        per event; tests check these samplers against :meth:`frozen`.)

        Parameters
        ----------
        rng : numpy.random.Generator
            The caller's own random stream.
        size : int
            Number of draws.

        Returns
        -------
        numpy.ndarray
            float64 array of length ``size``.
        """
        raise NotImplementedError

    @property
    def kernel_params(self) -> tuple[int, float, float]:
        """``(code, a, b)`` for compiled samplers (:func:`sim.core.fastrng.sample`)."""
        raise NotImplementedError

    def sample_residual(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw remaining lifetimes of renewals observed at a random time (equilibrium).

        For a renewal process in steady state the time until the current lifetime ends has
        density ``S(x) / E[T]`` (the equilibrium distribution), with mean
        ``E[T^2] / (2 E[T])``.  Used to start a world already in steady state: subscribers
        already part-way through their tenure, numbers already part-way through aging.

        The CDF is ``F_e(x) = (x S(x) + E[T; T <= x]) / E[T]``.  It is tabulated at quantiles
        ``x = F^-1(u)`` on a grid of ``u`` that is geometric towards 1 (so heavy tails are
        resolved), with the partial mean ``E[T; T <= x] = integral_0^u F^-1(v) dv`` by the
        trapezoid rule, and inverted by interpolation.
        """
        u = np.r_[np.linspace(0.0, 0.99, 4001)[:-1], 1.0 - np.geomspace(1e-2, 1e-12, 8001)]
        x = self.frozen().ppf(u)
        partial = np.concatenate([[0.0], np.cumsum((x[1:] + x[:-1]) * 0.5 * np.diff(u))])
        cdf = np.maximum.accumulate((x * (1.0 - u) + partial) / self.mean)
        # below the support's lower end S = 1, so F_e rises linearly from (0, 0)
        return np.interp(rng.random(size), np.r_[0.0, cdf], np.r_[0.0, x])


@lru_cache(maxsize=4096)
def _moments(dist: _Dist) -> tuple[float, float]:
    """Mean and variance of a distribution, computed once per distinct one (keyed by its
    parameters: a frozen model hashes and compares by its fields, so a copy with other
    parameters is computed afresh); a SciPy frozen object costs about 0.5 ms to build."""
    frozen = dist.frozen()
    with np.errstate(over="ignore"):  # an overflowing variance is inf, which validation refuses
        return float(frozen.mean()), float(frozen.var())


class Exponential(_Dist):
    """Exponential distribution with the given mean."""

    kind: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)

    def frozen(self):
        return stats.expon(scale=self.mean_)

    def sample(self, rng, size):
        return rng.exponential(self.mean_, size)

    @property
    def kernel_params(self):
        return (0, self.mean_, 0.0)


class LogNormal(_Dist):
    """Log-normal distribution: ``log X ~ Normal(log(median), sigma)``."""

    kind: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0, le=5)

    def frozen(self):
        return stats.lognorm(s=self.sigma, scale=self.median)

    def sample(self, rng, size):
        return rng.lognormal(np.log(self.median), self.sigma, size)

    @property
    def kernel_params(self):
        return (1, float(np.log(self.median)), self.sigma)


class Gamma(_Dist):
    """Gamma distribution given by its shape and mean (scale = mean / shape)."""

    kind: Literal["gamma"]
    shape: float = Field(gt=0)
    mean_: float = Field(alias="mean", gt=0)

    def frozen(self):
        return stats.gamma(a=self.shape, scale=self.mean_ / self.shape)

    def sample(self, rng, size):
        return rng.gamma(self.shape, self.mean_ / self.shape, size)

    @property
    def kernel_params(self):
        return (2, self.shape, self.mean_ / self.shape)


class Weibull(_Dist):
    """Weibull distribution with the given shape and scale."""

    kind: Literal["weibull"]
    shape: float = Field(gt=0)
    scale: float = Field(gt=0)

    def frozen(self):
        return stats.weibull_min(c=self.shape, scale=self.scale)

    def sample(self, rng, size):
        return self.scale * rng.weibull(self.shape, size)

    @property
    def kernel_params(self):
        return (3, self.shape, self.scale)


class Uniform(_Dist):
    """Uniform distribution on ``[low, high]``."""

    kind: Literal["uniform"]
    low: float = Field(ge=0)
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise ValueError("high must be greater than low")
        return self

    def frozen(self):
        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    @property
    def kernel_params(self):
        return (4, self.low, self.high)


Distribution = Annotated[
    Exponential | LogNormal | Gamma | Weibull | Uniform, Field(discriminator="kind")
]
"""Any configured distribution, chosen by its ``kind`` key."""
