"""The robocall study's evidence: the best possible delay (Page's CUSUM), the choice of a
setting on some replications and its test on others, and the report's sentences.

* The CUSUM's average run lengths (``models.burst.bound``) equal closed forms where they
  exist, behave as they must (hypothesis), and agree with a Monte Carlo simulation of the
  detector itself (:class:`models.burst.rates.PoissonCUSUM`) within 4 standard errors of
  the simulated mean.
* ``recommend`` picks the most robocalls stopped within both budgets; the selection chooses
  on the training replications only and scores on the test ones.
* The closed-loop and open-loop sentences name a winner only when the paired intervals
  exclude zero, and never recommend a setting whose test false flags break the budget.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.burst.bound import cusum_alarm_calls, cusum_arl, cusum_frontier
from models.burst.metrics import recommend
from models.burst.rates import PoissonCUSUM
from models.burst.selection import (
    Budget,
    budget_status,
    choose_settings,
    numbers_needed,
    pool_curves,
    score_settings,
    select_and_score,
    split_replications,
)
from models.evidence import clopper_pearson
from sim.studies.burst.evidence import closed_loop_evidence, selection_evidence

K_SE = 4.0  # Monte Carlo tolerance: standard errors of the simulated mean


# -- the CUSUM bound: closed forms ---------------------------------------------------------------
def one_jump_closed_form(mu, a, h):
    """``M(0)`` for ``a <= h < 2a``, solved by hand from the module's equation: on
    ``(h - a, h]`` ``M = 1 + C exp(-mu x)``; on ``[0, h - a]``
    ``M = 2 + C mu exp(-mu a) x exp(-mu x) + K exp(-mu x)``; ``M(0) = 1 + M(a)`` gives
    ``K = C exp(-mu a)`` and continuity at ``h - a`` gives ``C``."""
    x0 = h - a
    c = math.exp(mu * x0) / (1 - math.exp(-mu * a) * (1 + mu * x0))
    return 2 + c * math.exp(-mu * a)


def test_one_call_alarms_when_the_jump_exceeds_h():
    assert cusum_alarm_calls(mu=0.7, jump=2.0, h=1.9) == 1.0


def test_level_equal_to_the_jump_is_geometric():
    """At ``h = a`` the first call brings the statistic to ``h`` exactly (no alarm) and each
    later call alarms unless the statistic drained to 0 first: ``1 + 1 / (1 - exp(-mu h))``."""
    for mu, h in [(0.5, 1.0), (2.0, 0.3), (0.05, 4.0)]:
        assert cusum_alarm_calls(mu, h, h) == pytest.approx(1 + 1 / -math.expm1(-mu * h), rel=1e-9)


@pytest.mark.parametrize(
    "mu, a, h", [(1.0, 1.0, 1.5), (0.3, 2.0, 3.9), (2.0, 0.5, 0.7), (0.8, 1.2, 2.35)]
)
def test_one_jump_below_h_matches_the_closed_form(mu, a, h):
    assert cusum_alarm_calls(mu, a, h) == pytest.approx(one_jump_closed_form(mu, a, h), rel=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    mu=st.floats(0.05, 3.0),
    a=st.floats(0.3, 3.0),
    ratio=st.floats(1.0, 5.0),
    step=st.floats(0.05, 1.0),
)
def test_run_length_grows_with_h_and_with_the_drain(mu, a, ratio, step):
    """``M(0) >= 1``; a higher level, or a faster drain between calls (smaller ``mu``: the
    drain between two calls is exponential of mean ``1 / mu``), never shortens the run,
    however long it is (runs of 1e18 calls included); two grids agree (the discretisation
    has converged).  The grids are at most the default's spacing (at least 160 cells per
    jump for h <= 5 a): the error is second order, and at 60 cells it reached 0.28% for a
    run of 2e10 calls (mu 0.055, a 0.31, h 4.75 a: 60 -> 120 cells moved it 4.05e7, 120
    -> 240 1.0e7)."""
    h = a * ratio
    grid = {"per_jump": 120}
    base = cusum_alarm_calls(mu, a, h, **grid)
    assert base >= 1.0
    assert cusum_alarm_calls(mu, a, h + step, **grid) >= base * (1 - 1e-6)
    assert cusum_alarm_calls(mu / 1.2, a, h, **grid) >= base * (1 - 1e-6)
    fine = cusum_alarm_calls(mu, a, h, per_jump=240)
    assert base == pytest.approx(fine, rel=2e-3)


@pytest.mark.parametrize("per_jump", [60, 120])
def test_run_lengths_far_beyond_one_over_eps_stay_accurate(per_jump):
    """A slow number against a high level: about 2e18 calls to a false alarm, past the
    1 / eps at which solving (I - K) M = 1 directly returned -1.9e16.  The regenerative
    solution stays positive, grows with the level and agrees with a grid twice as fine."""
    mu, a = 0.0546875, 0.3125
    h = 4.75 * a + 1.0
    run = cusum_alarm_calls(mu, a, h, per_jump=per_jump)
    assert run > cusum_alarm_calls(mu, a, h - 1.0, per_jump=per_jump) > 1e10
    assert run == pytest.approx(cusum_alarm_calls(mu, a, h, per_jump=2 * per_jump), rel=1e-2)
    assert 1e18 < run < 1e19
    # beyond the floating-point range: infinite, without a division by zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cusum_alarm_calls(mu, a, 50.0) == math.inf


def test_bad_bound_arguments():
    with pytest.raises(ValueError, match="positive"):
        cusum_alarm_calls(0.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="rate0 < rate1"):
        cusum_arl(1.0, 2.0, 1.0, 3.0)


# -- the CUSUM bound against the detector ---------------------------------------------------------
def simulate_cusum(rate, rate0, rate1, h, runs, calls, seed):
    """Run lengths (s) of :class:`PoissonCUSUM` on ``runs`` fresh numbers calling as Poisson
    processes of ``rate``, each given ``calls`` calls (one after the other in time, so one
    detector processes them all); ``inf`` where a number never alarmed."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate, (runs, calls)), axis=1)
    base = np.concatenate([[0.0], np.cumsum(t[:, -1] + 1.0)[:-1]])
    det = PoissonCUSUM(rate0, rate1, h).reset(runs)
    det.update((t + base[:, None]).ravel(), np.repeat(np.arange(runs), calls))
    return det.flagged_at_ - base


@pytest.mark.parametrize(
    "rate, h, runs, calls, seed",
    [
        (1.0, 4.0, 3000, 1400, 1),  # before the change: ARL0 (about 81 calls)
        (3.0, 4.0, 4000, 150, 2),  # after it: Lorden's delay from a fresh start
        (3.0, 7.0, 4000, 200, 3),
    ],
)
def test_arl_matches_the_detector_in_monte_carlo(rate, h, runs, calls, seed):
    """The computed mean time to the alarm equals the mean over simulated runs of the
    detector itself, within 4 standard errors of that mean."""
    tau = simulate_cusum(rate, 1.0, 3.0, h, runs, calls, seed)
    assert np.isfinite(tau).all()  # no run outlasted its calls: the mean is not censored
    se = tau.std(ddof=1) / math.sqrt(runs)
    assert abs(tau.mean() - cusum_arl(rate, 1.0, 3.0, h)) < K_SE * se


def test_false_flag_share_matches_the_detector_in_monte_carlo():
    """``cusum_frontier`` turns the ARL0 into the share of numbers flagged in a watch of W
    seconds as ``1 - exp(-W / ARL0)``; where W holds many calls and the statistic drains
    fast (as for a legitimate number against a robocaller's rate), that is the simulated
    share within 4 binomial standard errors."""
    rate0, rate1, h, watch = 1.0, 10.0, 9.0, 500.0
    runs = 12000
    tau = simulate_cusum(rate0, rate0, rate1, h, runs, int(watch + 6 * math.sqrt(watch) + 20), 4)
    share = float((tau <= watch).mean())
    row = cusum_frontier(rate0, rate1, watch, [h]).iloc[0]
    se = math.sqrt(share * (1 - share) / runs)
    assert 0.05 < share < 0.5
    assert abs(share - row["false_flag_share"]) < K_SE * se


def test_frontier_trades_delay_for_false_flags():
    """Higher levels flag fewer numbers at the tolerated rate and detect later; the delay is
    counted from the robocaller's first call."""
    rate0, rate1 = 300 / 86400, 1.0
    front = cusum_frontier(rate0, rate1, 7 * 86400, [6.0, 10.0, 14.0, 18.0, 22.0])
    assert (np.diff(front["false_flag_share"]) < 0).all()
    assert (np.diff(front["delay_seconds"]) > 0).all()
    calls1 = cusum_arl(rate1, rate0, rate1, 14.0) * rate1
    assert front.loc[2, "delay_seconds"] == pytest.approx((calls1 - 1) / rate1)


# -- recommend -----------------------------------------------------------------------------------
def curve(rows):
    cols = [
        "threshold",
        "false_flags_per_new_number",
        "heavy_flagged_share",
        "robocalls_blocked_share",
        "recall",
        "delay_seconds_median",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_recommend_takes_the_most_robocalls_stopped_within_both_budgets():
    c = curve(
        [
            (0.5, 3e-4, 0.00, 0.99, 0.9, 10.0),  # too many false flags
            (1.0, 1e-4, 0.02, 0.98, 0.9, 20.0),  # too many heavy callers flagged
            (1.4, 5e-5, 0.01, 0.95, 0.8, 30.0),  # within both: the most stopped
            (2.0, 0.0, 0.00, 0.90, 0.8, 40.0),
        ]
    )
    assert recommend(c, 1e-4, 0.01)["threshold"] == 1.4
    assert recommend(c, 5e-4, 0.05)["threshold"] == 0.5
    assert recommend(c, 0.0, 0.0)["threshold"] == 2.0
    assert recommend(c.iloc[:2], 1e-5) is None


def test_recommend_breaks_ties_by_recall_then_delay():
    c = curve(
        [
            (1.0, 0.0, 0.0, 0.9, 0.5, 10.0),
            (1.4, 0.0, 0.0, 0.9, 0.7, 50.0),
            (2.0, 0.0, 0.0, 0.9, 0.7, 40.0),
        ]
    )
    assert recommend(c, 1e-4)["threshold"] == 2.0


# -- selection on training replications, test on the others ----------------------------------------
def synthetic_curves(seed=0, reps=10, flip_test=False):
    """Curves of two detectors at three scales over ``reps`` replications: 8,000
    legitimate new numbers per replication; ``a`` stops more robocalls than ``b`` at every
    scale; at scale 0.5 both flag one legitimate number per replication (1.25e-4 per number,
    over the 1e-4 budget), at 1 and 2 none.  ``flip_test`` makes scale 0.5 clean on the test
    replications only (pooled over all ten it would then be within the budget)."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(reps):
        for det, lift in (("a", 0.05), ("b", 0.0)):
            for scale, stopped in ((0.5, 0.95), (1.0, 0.9), (2.0, 0.8)):
                dirty = scale == 0.5 and not (flip_test and r >= reps // 2)
                share = stopped - 0.1 + lift + rng.normal(0, 0.002)
                rows.append(
                    {
                        "replication": r,
                        "detector": det,
                        "threshold": scale,
                        "false_flags": 1.0 if dirty else 0.0,
                        "legit_new_lines": 8000.0,
                        "heavy_flagged": 0.0,
                        "heavy_lines": 200.0,
                        "robocall_lines": 10.0,
                        "robocall_flagged": 9.0,
                        "robocall_calls": 10000.0,
                        "robocall_calls_stopped": 10000.0 * share,
                        "robocalls_blocked_share": share,
                        "delay_seconds_median": 60.0 / scale,
                    }
                )
    return pd.DataFrame(rows)


def test_split_replications_first_half_trains():
    assert split_replications([3, 1, 0, 2]) == ([0, 1], [2, 3])
    assert split_replications(range(5)) == ([0, 1], [2, 3, 4])


def test_numbers_needed_is_where_zero_events_bound_below_the_budget():
    n = numbers_needed(1e-4)
    assert clopper_pearson(0, n)[1] <= 1e-4 < clopper_pearson(0, n - 1)[1]


def test_pool_curves_sums_counts_and_recomputes_rates():
    c = synthetic_curves()
    pooled = pool_curves(c)
    row = pooled[(pooled["detector"] == "a") & (pooled["threshold"] == 0.5)].iloc[0]
    assert row["false_flags"] == 10 and row["legit_new_lines"] == 80000
    assert row["false_flags_per_new_number"] == pytest.approx(10 / 80000)
    part = c[(c["detector"] == "a") & (c["threshold"] == 0.5)]
    assert row["robocalls_blocked_share"] == pytest.approx(
        part["robocall_calls_stopped"].sum() / part["robocall_calls"].sum()
    )


def test_choice_is_made_on_the_training_replications_only():
    """Scale 0.5 is over budget on the training half: neither detector chooses it, even
    when the test half is clean (pooled over all replications it would be within the
    budget); the choice changes when the training half does."""
    budget = Budget(1e-4, 0.01)
    train, test = split_replications(range(10))
    chosen = choose_settings(synthetic_curves(), train, budget)
    assert chosen.set_index("detector")["threshold"].to_dict() == {"a": 1.0, "b": 1.0}
    flipped = choose_settings(synthetic_curves(flip_test=True), train, budget)
    pd.testing.assert_frame_equal(chosen, flipped)
    clean = synthetic_curves()
    clean["false_flags"] = 0.0
    assert choose_settings(clean, train, budget)["threshold"].tolist() == [0.5, 0.5]


def test_scores_come_from_the_test_replications_only():
    c = synthetic_curves()
    train, test = split_replications(range(10))
    chosen = choose_settings(c, train, Budget(1e-4, 0.01))
    pooled, paired = score_settings(c, chosen, test, "robocalls_blocked_share")
    assert list(paired.index) == test
    assert pooled.set_index("detector")["legit_new_lines"].to_dict() == {"a": 40000, "b": 40000}
    at = c[(c["detector"] == "a") & (c["threshold"] == 1.0) & c["replication"].isin(test)]
    assert paired["a"].tolist() == pytest.approx(at["robocalls_blocked_share"].tolist())


def test_select_and_score_names_the_clear_winner():
    sel = select_and_score(synthetic_curves(), Budget(1e-4, 0.01))
    assert sel.choice.best == "a"
    assert sel.train == [0, 1, 2, 3, 4] and sel.test == [5, 6, 7, 8, 9]


def test_budget_status():
    assert budget_status(0, 40000, 1e-4) == "met"
    assert budget_status(0, 1000, 1e-4) == "consistent"
    assert budget_status(3, 20000, 1e-4) == "not met"
    assert budget_status(30, 20000, 1e-4) == "exceeded"
    assert budget_status(0, 0, 1e-4) == "no cases"


# -- the report's sentences ------------------------------------------------------------------------
def closed_loop_metrics(delivered, false_flags, reps=10, seed=0, noise=40.0):
    """Tidy metrics of points 1..k (``delivered[p]`` robocalls delivered on average,
    ``false_flags[p](r)`` legitimate numbers flagged in replication ``r``), 8,000 legitimate
    new numbers a replication, paired noise (common random numbers) plus point noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(reps):
        shared = rng.normal(0, 100)
        for p, mean in delivered.items():
            values = {
                "detection.robocalls_delivered": mean + shared + rng.normal(0, noise),
                "detection.false_flags": false_flags[p](r),
                "detection.legit_new_lines": 8000.0,
                "detection.heavy_flagged": 0.0,
                "detection.heavy_lines": 200.0,
            }
            rows += [
                {"point": p, "replication": r, "metric": k, "value": v} for k, v in values.items()
            ]
    return pd.DataFrame(rows)


def clean(r):
    return 0.0


LABELS = {1: "A", 2: "B", 3: "C"}


def test_noise_names_no_winner():
    m = closed_loop_metrics({1: 1000.0, 2: 1000.0}, {1: clean, 2: clean})
    text = closed_loop_evidence(m, LABELS, [1, 2], Budget(1e-4, 0.01))
    assert "No significant difference" in text
    assert "No single point can be recommended" in text
    assert "Recommended:" not in text


def test_clear_difference_names_the_winner():
    m = closed_loop_metrics({1: 500.0, 2: 1000.0}, {1: clean, 2: clean})
    text = closed_loop_evidence(m, LABELS, [1, 2], Budget(1e-4, 0.01))
    assert "<b>A</b> has the lower" in text
    assert "Recommended: A" in text
    assert "0 of 40,000 (95% upper bound" in text  # test false flags, pooled, exact


def test_a_point_over_budget_on_training_is_never_recommended():
    """C delivers the fewest robocalls but flags legitimate numbers on the training half;
    clean test replications do not bring it back (no selection on the test log)."""
    m = closed_loop_metrics(
        {1: 500.0, 2: 1000.0, 3: 100.0},
        {1: clean, 2: clean, 3: lambda r: 5.0 if r < 5 else 0.0},
    )
    text = closed_loop_evidence(m, LABELS, [1, 2, 3], Budget(1e-4, 0.01))
    assert "Recommended: A" in text and "Recommended: C" not in text


def test_a_winner_whose_test_false_flags_break_the_budget_is_not_recommended():
    m = closed_loop_metrics({1: 500.0, 2: 1000.0}, {1: lambda r: 0.0 if r < 5 else 3.0, 2: clean})
    text = closed_loop_evidence(m, LABELS, [1, 2], Budget(1e-4, 0.01))
    assert "<b>A</b> has the lower" in text
    assert "No recommendation" in text and "Recommended:" not in text


def test_too_few_replications_recommend_nothing():
    m = closed_loop_metrics({1: 500.0, 2: 1000.0}, {1: clean, 2: clean}, reps=8)
    text = closed_loop_evidence(m, LABELS, [1, 2], Budget(1e-4, 0.01))
    assert "No recommendation" in text and "Recommended" not in text


def test_open_loop_sentences_follow_the_test():
    budget = Budget(1e-4, 0.01)
    clear = selection_evidence(select_and_score(synthetic_curves(), budget), budget)
    assert "Recommended (open loop): a at 1× the configured thresholds" in clear
    tied = synthetic_curves()
    tied["robocalls_blocked_share"] = np.where(
        tied["detector"] == "a",
        tied["robocalls_blocked_share"] - 0.05,
        tied["robocalls_blocked_share"],
    )
    noisy = selection_evidence(select_and_score(tied, budget), budget)
    assert "No significant difference" in noisy
    assert "No single detector can be recommended" in noisy and "Recommended" not in noisy
    assert "is not testable at this size" not in clear  # 40,000 test numbers: testable


def test_a_single_eligible_point_is_not_recommended():
    """Only A keeps the budget on training: nothing to compare it with, so no winner."""
    m = closed_loop_metrics({1: 500.0, 2: 1000.0}, {1: clean, 2: lambda r: 4.0})
    text = closed_loop_evidence(m, LABELS, [1, 2], Budget(1e-4, 0.01))
    assert "only point that kept the budget" in text and "Recommended" not in text
