"""The aging study's evidence: censoring-weighted errors, landmark predictions, the held-out
split, the model comparison at the landmark, and the report's recommendations, which must
name a winner only when the paired intervals do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sksurv.util import Surv

from models.aging.base import AgingModel
from models.aging.metrics import censoring_survival, landmark_days, landmark_survival, mae_ipcw
from models.evidence import non_inferior
from sim.config import parse_config
from sim.runs.simulate import simulate
from sim.studies.aging.data import labels
from sim.studies.aging.models import ORACLE, at_landmark, compare_models, held_out, run_frame
from sim.studies.aging.report import model_evidence, policy_evidence

QUIET = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
SMALL = {
    "name": "aging-evidence",
    "seed": 3,
    "scenario": {"days": 120},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 2},
    "subscribers": {
        "residential": {
            "initial": 1500,
            "tenure": {"kind": "lognormal", "median": 60.0, "sigma": 0.5},
            "calls_per_day": 0.5,
            "contacts_mean": 10.0,
        },
        "business": {
            "initial": 150,
            "tenure": {"kind": "lognormal", "median": 60.0, "sigma": 0.5},
            "calls_per_day": 1.0,
            "contacts_mean": 10.0,
        },
        "call_centre": QUIET,
        "notifier": QUIET,
    },
    "record": {"calls": False},
    "aging": {
        "release": {"policy": "fixed_365"},
        "models": {"gradient_boosting": {"n_estimators": 20}},
    },
    "residual": {"residential": {"stop_beta_days": 30.0}},
}


# -- censoring-weighted error ---------------------------------------------------------------
def test_censoring_survival_and_ipcw_mae_by_hand():
    """Times 1..5, censored at 2 and 4.  Censoring Kaplan-Meier: 3/4 after 2 (4 at risk),
    3/8 after 4 (2 at risk); so G(1-) = 1, G(3-) = 3/4, G(5-) = 3/8 at the crossings.
    Predicting 2 everywhere: errors 1, 1, 3 with weights 1, 4/3, 8/3."""
    y = Surv.from_arrays([True, False, True, False, True], [1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(censoring_survival(y, [1.0, 3.0, 5.0]), [1.0, 0.75, 0.375])
    want = (1 * 1 + 4 / 3 * 1 + 8 / 3 * 3) / (1 + 4 / 3 + 8 / 3)
    assert mae_ipcw(np.full(5, 2.0), y) == pytest.approx(want)
    # with the censoring distribution of other rows: none censored there, so all weights 1
    other = Surv.from_arrays([True] * 3, [1.0, 2.0, 3.0])
    assert mae_ipcw(np.full(5, 2.0), y, other) == pytest.approx(5 / 3)
    assert mae_ipcw(np.full(5, 9.0), y, max_days=2.0) == pytest.approx(want)


def test_a_censoring_tied_with_a_crossing_comes_after_it():
    """Crossing and censoring both at 2: G(2-) = 1 (the censoring at 2 is not before the
    crossing), G(3-) = 2/3."""
    y = Surv.from_arrays([True, False, True], [2.0, 2.0, 3.0])
    np.testing.assert_allclose(censoring_survival(y, [2.0, 3.0]), [1.0, 2 / 3])
    want = (1 * 1 + 1.5 * 2) / (1 + 1.5)  # predictions 1: errors 1 and 2
    assert mae_ipcw(np.ones(3), y) == pytest.approx(want)


def test_ipcw_mae_undoes_informative_thinning():
    """Crossings ~ Exp(mean 20); censoring uniform on (0, 200): long crossings are seen
    less often (and almost none lies beyond 200 days, where no weight could stand for
    it).  The event-only MAE of a constant prediction is biased (by more than 5 standard
    errors); the IPCW MAE estimates the full-data MAE within 4 (the standard error of a
    ratio of means of the weighted terms, from the sample)."""
    rng = np.random.default_rng(7)
    n = 40_000
    T = rng.exponential(20.0, n)
    C = rng.uniform(0, 200, n)
    y = Surv.from_arrays(T <= C, np.minimum(T, C))
    pred = np.full(n, 20.0)
    full = np.abs(pred - T).mean()
    event = T <= C
    w = 1 / censoring_survival(y, y["time"][event])
    terms = w * np.abs(pred[event] - T[event])
    se = np.sqrt(np.var(terms) / len(terms)) / w.mean()
    assert abs(mae_ipcw(pred, y) - full) < 4 * se, (mae_ipcw(pred, y), full, se)
    biased = np.abs(pred[event] - T[event]).mean()
    assert abs(biased - full) > 5 * se


# -- landmark predictions -------------------------------------------------------------------
class _KnownWeibull(AgingModel):
    """P(T > t) = exp(-(t / scale) ** shape), one scale per row (column ``scale``)."""

    def __init__(self, shape: float = 1.5) -> None:
        self.shape = shape

    def fit(self, X=None, y=None):
        return self

    def predict_survival(self, X, times):
        t = np.asarray(times, dtype=float)[None, :]
        return np.exp(-((t / X["scale"].to_numpy()[:, None]) ** self.shape))


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_landmark_quantiles_are_the_conditional_ones(q):
    """S(t)/S(L) = q at t = scale ((L/scale)^k - log q)^(1/k): the grid answer is that
    value rounded up to the grid (within one step above)."""
    X = pd.DataFrame({"scale": [5.0, 20.0, 60.0, 200.0]})
    model = _KnownWeibull(1.5)
    L, k = 21.0, 1.5
    exact = X["scale"] * ((L / X["scale"]) ** k - np.log(q)) ** (1 / k)
    got = landmark_days(model, X, L, q, max_days=3000.0, resolution=0.25)
    assert np.all(got >= exact - 1e-9) and np.all(got <= exact + 0.25 + 1e-9), (got, exact)
    surv = landmark_survival(model, X, L, [10.0, L, 40.0])
    np.testing.assert_allclose(surv[:, :2], 1.0)
    want = np.exp(-((40 / X["scale"]) ** k) + (L / X["scale"]) ** k)
    np.testing.assert_allclose(surv[:, 2], want)


# -- the held-out split and the comparison at the landmark ----------------------------------
def test_held_out_splits_by_number_into_halves():
    rng = np.random.default_rng(1)
    numbers = rng.integers(0, 5000, 20_000)
    frame = pd.DataFrame({"number_id": numbers})
    test = held_out(frame, seed=9)
    per_number = pd.Series(test).groupby(numbers).nunique()
    assert (per_number == 1).all()  # a number's episodes stay together
    share = pd.Series(test).groupby(numbers).first().mean()
    n = len(per_number)
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / n), share
    np.testing.assert_array_equal(test, held_out(frame, seed=9))
    assert (test != held_out(frame, seed=10)).mean() > 0.3


@pytest.fixture(scope="module")
def small_run():
    res = simulate(parse_config(SMALL), progress=False)
    return res, *compare_models(res)


def test_compare_models_scores_the_landmark_set(small_run):
    """Each label kind's scores are on the held-out episodes at risk at the landmark, the
    same rows for every model; predictions never fall before the landmark; the saved
    IPCW weights are 1/G(T-) of the training half's at-risk episodes (event rows) and
    reproduce the reported IPCW MAE; the oracle is named for what it predicts."""
    res, scores, preds = small_run
    cfg = res.config
    landmark = cfg.aging.landmark_days
    frame = run_frame(res)
    test = held_out(frame, cfg.seed)
    assert set(scores["labels"]) == {"observed", "residual"}
    assert ORACLE in set(scores["model"]) and "oracle" not in set(scores["model"])
    for m in cfg.aging.thresholds:
        risk = at_landmark(frame, m, landmark)
        want = frame.index[test & risk]
        part = scores[scores["threshold"] == m]
        assert len(part) and (part["n_test"] == len(want)).all()
        for (kind, name), rows in preds[preds["threshold"] == m].groupby(["labels", "model"]):
            assert sorted(rows["episode"]) == sorted(want), (kind, name)
            assert (rows["predicted_days"] >= landmark - 1e-9).all()
        seen = frame.loc[want, f"obs_first_{m:g}"]
        assert not (seen <= landmark).any()  # nobody the carrier already saw below
        ref = frame[~test & risk]
        ref_y = Surv.from_arrays(*labels(ref, m, truth=True))
        rows = preds[(preds["threshold"] == m) & (preds["model"] == "weibull_aft")]
        rows = rows[rows["labels"] == "observed"]
        ev = rows["event"].to_numpy()
        g = censoring_survival(ref_y, rows["true_days"].to_numpy()[ev])
        np.testing.assert_allclose(rows["ipcw_weight"].to_numpy()[ev], 1 / g)
        assert (rows["ipcw_weight"].to_numpy()[~ev] == 0).all()
        err = np.abs(np.minimum(rows["predicted_days"], cfg.scenario.days) - rows["true_days"])
        w = rows["ipcw_weight"].to_numpy()
        got = scores.set_index(["labels", "threshold", "model"]).loc[
            ("observed", m, "weibull_aft"), "mae_ipcw"
        ]
        assert got == pytest.approx(np.sum(w * err) / np.sum(w))


def test_observed_labels_differ_from_the_residual_truth(small_run):
    """The carrier's observed crossings include spam: at the lowest threshold some numbers
    quiet in truth never look quiet by the time they are reassigned, and those are the
    spam-heavy ones (their own mean spam rate above that of the numbers seen quiet, by
    more than 4 standard errors)."""
    res = small_run[0]
    frame = run_frame(res)
    m = min(res.config.aging.thresholds)
    ev_obs, _ = labels(frame, m, kind="observed")
    ev_res, _ = labels(frame, m, kind="residual")
    never = ev_res & ~ev_obs
    seen = ev_res & ev_obs
    assert never.sum() > 20, never.sum()
    spam = frame["spam_per_day"].to_numpy()
    gap = spam[never].mean() - spam[seen].mean()
    se = np.sqrt(spam[never].var() / never.sum() + spam[seen].var() / seen.sum())
    assert gap > 4 * se, (gap, se)


# -- the report's decisions ------------------------------------------------------------------
def _policies(rng, days: dict, harm: dict, sd_days: float, sd_harm: float, n: int = 5):
    common = rng.normal(0, 5, n)  # the world every policy faces (common random numbers)
    d = pd.DataFrame({k: v + common + rng.normal(0, sd_days, n) for k, v in days.items()})
    h = pd.DataFrame({k: v + common / 10 + rng.normal(0, sd_harm, n) for k, v in harm.items()})
    return d, h


def test_policy_evidence_names_no_winner_within_the_noise():
    """Two policies half a day apart with day-to-day noise of 3 days: no winner named."""
    rng = np.random.default_rng(0)
    days, harm = _policies(
        rng,
        {"fixed_90": 90.0, "a": 55.0, "b": 55.5},
        {"fixed_90": 5.0, "a": 5.0, "b": 5.0},
        sd_days=3.0,
        sd_harm=0.05,
    )
    text, eligible = policy_evidence(days, harm, reference="fixed_90", margin=0.5)
    assert set(eligible) == {"fixed_90", "a", "b"}
    assert "No significant difference" in text and "recommended one is" not in text


def test_policy_evidence_names_a_clear_winner_among_the_non_inferior():
    """'c' has the fewest days but 3 dollars more harm (not non-inferior); 'a' beats 'b'
    by 10 days with 0.3 days of noise: 'a' is recommended."""
    rng = np.random.default_rng(1)
    days, harm = _policies(
        rng,
        {"fixed_90": 90.0, "a": 50.0, "b": 60.0, "c": 45.0},
        {"fixed_90": 5.0, "a": 5.1, "b": 4.9, "c": 8.0},
        sd_days=0.3,
        sd_harm=0.05,
    )
    text, eligible = policy_evidence(days, harm, reference="fixed_90", margin=0.5)
    assert "c" not in eligible and "a" in eligible
    assert "recommended one is <b>a</b>" in text
    # a carrier cannot run 'a' (say): then 'b' against fixed_90 is the comparison
    text, _ = policy_evidence(
        days, harm, reference="fixed_90", margin=0.5, candidates=["fixed_90", "b", "c"]
    )
    assert "recommended one is <b>b</b>" in text


def test_policy_evidence_needs_five_replications():
    rng = np.random.default_rng(2)
    days, harm = _policies(
        rng, {"fixed_90": 90.0, "a": 50.0}, {"fixed_90": 5.0, "a": 5.0}, 0.3, 0.05, n=4
    )
    text, eligible = policy_evidence(days, harm, reference="fixed_90", margin=0.5)
    assert "No recommendation" in text and eligible == []


def test_non_inferiority_uses_the_upper_end_of_the_interval():
    ref = np.array([5.0, 6.0, 7.0, 8.0, 9.0])
    ok, d = non_inferior(ref + 0.2, ref, margin=0.5)  # exactly +0.2: interval of width 0
    assert ok and d.mean == pytest.approx(0.2)
    noisy = ref + np.array([0.2, -0.4, 0.9, -0.1, 0.6])  # mean +0.24, wide
    ok, d = non_inferior(noisy, ref, margin=0.5)
    assert not ok and d.high > 0.5 and d.mean < 0.5
    with pytest.raises(ValueError, match="margin"):
        non_inferior(ref, ref, margin=-1.0)


def test_model_evidence_names_a_model_only_when_paired_intervals_say_so():
    rng = np.random.default_rng(3)
    world = rng.normal(0, 2, 5)
    close = pd.DataFrame(
        {
            "cox": 10 + world + rng.normal(0, 1, 5),
            "weibull_aft": 10.2 + world + rng.normal(0, 1, 5),
            ORACLE: 1.0 + world,
        }
    )
    text = model_evidence(close, score="mae_ipcw", lower_is_better=True)
    assert "No significant difference" in text and ORACLE not in text
    clear = close.assign(weibull_aft=close["cox"] + 3 + rng.normal(0, 0.1, 5))
    text = model_evidence(clear, score="mae_ipcw", lower_is_better=True)
    assert text.startswith("<b>cox</b> has the lower") and "significantly" in text
    assert "fewer than 5" in model_evidence(close.iloc[:3], score="uno_c", lower_is_better=False)
