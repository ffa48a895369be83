"""The statistics behind every "best", "equal" and "recommended": intervals that cover,
exact binomial bounds, and a report that names a winner only when the evidence does."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.evidence import (
    best_option,
    clopper_pearson,
    paired_difference,
    rate_text,
    welch_difference,
)
from models.stats import mean_ci, summarize
from sim.studies.render import verdict

LEVEL = 0.95


def test_mean_ci_is_the_student_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, half = mean_ci(x)
    assert mean == pytest.approx(3.5)
    assert half == pytest.approx(stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2)
    assert np.isnan(mean_ci([5.0])[1]) and np.isnan(mean_ci([])[0])
    assert mean_ci([1.0, np.nan, 3.0]) == mean_ci([1.0, 3.0])


def test_mean_ci_covers_the_mean_at_its_level():
    """Over 4,000 samples of 5 normal draws, the 95% interval covers the true mean in a
    share within 3 binomial standard errors of 0.95."""
    rng = np.random.default_rng(11)
    n = 4000
    hits = 0
    for _ in range(n):
        m, h = mean_ci(rng.normal(2.0, 3.0, 5))
        hits += abs(m - 2.0) <= h
    se = np.sqrt(LEVEL * (1 - LEVEL) / n)
    assert abs(hits / n - LEVEL) < 3 * se


def test_summarize_groups_like_mean_ci():
    frame = pd.DataFrame(
        {"point": [0, 0, 0, 1, 1], "metric": ["a"] * 5, "value": [1.0, 2.0, 3.0, 10.0, 14.0]}
    )
    out = summarize(frame, ["point", "metric"])
    assert out["n"].tolist() == [3, 2]
    for p, grp in frame.groupby("point"):
        mean, half = mean_ci(grp["value"])
        row = out[out["point"] == p].iloc[0]
        assert row["mean"] == pytest.approx(mean) and row["ci"] == pytest.approx(half)


def test_clopper_pearson_is_exact():
    """The bounds are where the binomial tail probabilities equal alpha/2; zero events give
    1 - (alpha/2)^(1/n)."""
    lo, hi = clopper_pearson(7, 50)
    assert stats.binom.sf(6, 50, lo) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(7, 50, hi) == pytest.approx(0.025, rel=1e-6)
    lo0, hi0 = clopper_pearson(0, 1000)
    assert lo0 == 0.0 and hi0 == pytest.approx(1 - 0.025 ** (1 / 1000))
    assert rate_text(0, 1000).startswith("0 of 1,000 (95% upper bound 0.37%")
    assert rate_text(5, 1234) == "5 of 1,234 = 0.41% (95% CI 0.13%–0.94%)"
    with pytest.raises(ValueError):
        clopper_pearson(5, 3)


def test_clopper_pearson_covers_at_least_its_level():
    rng = np.random.default_rng(5)
    p, n, trials = 0.03, 200, 3000
    k = rng.binomial(n, p, trials)
    covered = [lo <= p <= hi for lo, hi in (clopper_pearson(int(x), n) for x in k)]
    se = np.sqrt(LEVEL * (1 - LEVEL) / trials)
    assert np.mean(covered) >= LEVEL - 3 * se


def test_paired_difference_uses_the_pairs():
    """A shared world effect cancels in the pairs: the difference is significant although
    each option's own interval is wide."""
    world = np.array([10.0, 50.0, 90.0, 30.0, 70.0])
    a, b = world + 1.0 + [0.1, -0.1, 0.05, 0.0, -0.05], world
    d = paired_difference(a, b)
    assert d.above() and d.mean == pytest.approx(1.0)
    assert mean_ci(a)[1] > 10  # unpaired, the levels overlap widely
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0])


def _replications(effect: float, noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    world = rng.normal(100.0, 20.0, 6)  # common random numbers: one world per replication
    return pd.DataFrame(
        {
            "A": world + rng.normal(0, noise, 6),
            "B": world + effect + rng.normal(0, noise, 6),
            "C": world + 5 * noise + rng.normal(0, noise, 6),
        }
    )


def test_report_names_no_winner_when_the_difference_is_within_the_noise():
    values = _replications(effect=0.05, noise=1.0, seed=3)
    choice = best_option(values, lower_is_better=True)
    assert choice.best is None and set(choice.tied) == {"A", "B"}
    text = verdict(choice, what="harm", lower_is_better=True)
    assert "No significant difference" in text and "C is significantly worse" in text
    assert "<b>A</b>" not in text and "<b>B</b>" not in text


def test_report_names_the_winner_when_it_clearly_wins():
    values = _replications(effect=3.0, noise=0.3, seed=3)
    choice = best_option(values, lower_is_better=True)
    assert choice.best == "A" and choice.tied == ["A"]
    text = verdict(choice, what="harm", lower_is_better=True)
    assert text.startswith("<b>A</b> has the lower harm, significantly")
    assert "No significant difference" not in text


def test_eligibility_restricts_the_choice():
    values = _replications(effect=3.0, noise=0.3, seed=3)
    choice = best_option(values, lower_is_better=True, eligible=["B", "C"])
    assert choice.best == "C" and choice.eligible == ["B", "C"]  # C sits 1.5 above A, B 3
    assert best_option(values, lower_is_better=True, eligible=[]).best is None


def test_welch_interval_of_tiny_variances_has_no_underflow():
    """Variances near the float range's bottom (~1e-321): the squares in Welch's degrees
    of freedom underflowed to 0/0 (a RuntimeWarning and a NaN interval); in shares of the
    total variance the interval is finite, positive and scales with the spread."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = welch_difference([0.0, 1e-160], [0.0, 2e-160])
        wide = welch_difference([0.0, 1.0], [0.0, 2.0])
    # subnormal variances carry ~11 bits (1.25e-320 is ~2,500 steps of 4.9e-324): rel 1e-3
    assert d.half_width == pytest.approx(1e-160 * wide.half_width, rel=1e-3)


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=12),
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=12),
)
@settings(max_examples=200, deadline=None)
def test_welch_interval_is_scipys(a, b):
    """Welch's interval of two independent samples equals SciPy's ``ttest_ind``'s."""
    d = welch_difference(a, b)
    assert d.mean == pytest.approx(np.mean(a) - np.mean(b), abs=1e-9)
    if np.var(a) > 1e-6 and np.var(b) > 1e-6:
        with np.errstate(all="ignore"):
            ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
        assert d.low == pytest.approx(ci.low, rel=1e-7, abs=1e-7)
        assert d.high == pytest.approx(ci.high, rel=1e-7, abs=1e-7)
