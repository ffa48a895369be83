"""``tnlab validate``'s time estimate counts the calls the world makes (sim.world.footprint)."""

from __future__ import annotations

import math

from scipy.integrate import quad

from sim.config import parse_config
from sim.runs.simulate import simulate
from sim.world.footprint import _calls_per_day

N0, ARRIVALS, TENURE, DAYS, RATE = 2000, 50.0, 20.0, 30, 3.0

SHRINKING = {
    "name": "shrinking",
    "seed": 11,
    "scenario": {"days": DAYS},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 10},
    "record": {"calls": False},
    "spam": {"calls_per_line_per_day": 0.0},
    "subscribers": {
        "residential": {
            "initial": N0,
            "arrivals_per_day": ARRIVALS,
            "tenure": {"kind": "exponential", "mean": TENURE},
            "calls_per_day": RATE,
            "rate_cv": 0.0,
        },
        "business": {"initial": 0, "arrivals_per_day": 0},
        "call_centre": {"initial": 0, "arrivals_per_day": 0},
        "notifier": {"initial": 0, "arrivals_per_day": 0},
    },
}
"""2,000 lines with exponential tenures of mean 20 days whose arrivals sustain only 1,000:
the line count falls by a third over the month, so the horizon's count is far off."""


def _line_days_variance() -> float:
    """Variance of the line-days of :data:`SHRINKING`: each initial line lives
    ``min(tau, T)`` (exponential residual life), the arrivals are Poisson and each lives
    ``min(tau, T - s)``: ``N0 Var[min(tau, T)] + A int_0^T E[min(tau, x)^2] dx``."""

    def moment(k: int, x: float) -> float:  # E[min(tau, x)^k] = int_0^x k u^(k-1) P(tau > u) du
        return quad(lambda u: k * u ** (k - 1) * math.exp(-u / TENURE), 0.0, x)[0]

    initial = moment(2, DAYS) - moment(1, DAYS) ** 2
    arrivals = quad(lambda x: moment(2, x), 0.0, DAYS)[0]
    return N0 * initial + ARRIVALS * arrivals


def test_calls_estimate_follows_the_line_count_over_the_run():
    """The time estimate's calls (the average line count over the run, joins less
    departures) against the calls the world made: within 4 standard deviations of the
    count (Poisson calls given the line-days, plus the line-days' own variance)."""
    config = parse_config(SHRINKING)
    expected = _calls_per_day(config, mean=True) * DAYS
    daily = simulate(config, progress=False).daily_calls
    made = float(daily.loc[daily["kind"] == "residential", "attempts"].sum())
    sd = math.sqrt(expected + RATE**2 * _line_days_variance())
    assert abs(made - expected) < 4 * sd
    # the horizon's count (every line that ever joined) is what memory needs, not time
    horizon = _calls_per_day(config) * DAYS
    assert abs(horizon - expected) > 10 * sd
