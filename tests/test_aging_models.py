"""Aging models (``models.aging``): truth recovery, censoring, metrics, the API contract.

The synthetic generator below shares no code with the package: crossing days come from
bisection on the rate function (the package uses the closed form), early-day expected
counts from midpoint quadrature (the package integrates exactly), and the Weibull data's
design matrix is rebuilt here from the contract.

Tolerances, and where they come from:

* closed forms against bisection / quadrature: float64 round-off (``1e-9`` relative);
* our Weibull AFT against lifelines' on the same rows: both maximise the same penalised
  likelihood, so they may differ only by the optimisers' stopping rules -- at most 1% of a
  standard error, far below the sampling noise the estimates carry;
* recovery of simulated coefficients: each within 3 standard errors and the joint Wald
  statistic below the chi-square 0.999 quantile (with the seed fixed, a failure means bias,
  not bad luck);
* Kaplan--Meier, Breslow and Cox gradients against lifelines / scikit-survival: exact up to
  round-off;
* improvements (online refit, using censored rows) must exceed 3 (resp. 5) standard errors
  of the paired difference (resp. of a binomial proportion) on the held-out rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from scipy import integrate, optimize, stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sksurv.ensemble import GradientBoostingSurvivalAnalysis
from sksurv.ensemble._coxph_loss import coxph_loss, coxph_negative_gradient
from sksurv.linear_model.coxph import BreslowEstimator
from sksurv.util import Surv

from models.aging import (
    FEATURES,
    HIDDEN,
    CoxPH,
    FastWeibullAFT,
    GradientBoostedSurvival,
    LogLogisticAFT,
    LookupTable,
    OnlineDecay,
    Oracle,
    WeibullAFT,
    crossing_days,
    design_matrix,
    early_counts,
    kaplan_meier,
    lomax_day_weights,
    trailing_crossing_days,
)
from models.aging.base import breslow, step_at
from models.aging.boosting import cox_loss, cox_negative_gradient
from models.aging.metrics import (
    compare,
    coverage,
    integrated_brier,
    km_integrated_brier,
    mae_days,
    uno_c,
)
from models.aging.online import gamma_posterior
from models.aging.regression import _frame
from models.common import SUBSCRIBER_TYPES

THR = 0.1  # calls/day
BACKGROUND = 0.3  # spam calls/day in the early counts
N_EARLY = 14


# -- synthetic episodes ---------------------------------------------------------------------
def _first_below(f, lo, hi, iters=200):
    """Smallest ``t`` in ``[lo, hi]`` with ``f(t) <= 0`` for decreasing ``f`` (bisection)."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        below = f(mid) <= 0
        hi, lo = np.where(below, mid, hi), np.where(below, lo, mid)
    return hi


def truth_days(thr, lam0, alpha, beta, p, P, horizon=1e12):
    """First ``t`` with ``lam0 (1+t/beta)**-alpha + p [t < P] <= thr``, by bisection
    (``inf`` if not before ``horizon`` days)."""
    lam0, alpha, beta, p, P = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (lam0, alpha, beta, p, P))
    )
    # r(t) <= thr on [0, P) written as decay <= thr - p, so that a decay below the
    # rounding of p is not lost
    g1 = lambda t: lam0 * (1 + t / beta) ** (-alpha) - (thr - p)  # noqa: E731, on [0, P)
    g2 = lambda t: lam0 * (1 + t / beta) ** (-alpha) - thr  # noqa: E731, on [P, inf)
    end1 = np.minimum(P, horizon)
    out = np.full(lam0.shape, np.inf)
    at0 = (P > 0) & (g1(0.0) <= 0)
    in1 = ~at0 & (P > 0) & (g1(np.nextafter(end1, 0)) <= 0)
    t1 = _first_below(g1, np.zeros_like(P), end1)
    out[at0], out[in1] = 0.0, t1[in1]
    rest = ~at0 & ~in1 & (P < horizon)
    Pr = np.where(rest, P, 0.0)
    atP = rest & (g2(Pr) <= 0)
    out[atP] = Pr[atP]
    todo = rest & ~atP
    hi = Pr + 1.0
    while (grow := todo & (g2(hi) > 0) & (hi < horizon)).any():
        hi = np.where(grow, 2 * hi, hi)
    found = todo & (g2(hi) <= 0)
    out[found] = _first_below(g2, Pr, hi)[found]
    return out


def make_episodes(n, seed, thr=THR, n_early=N_EARLY, background=BACKGROUND):
    """Contract-shaped episodes: ``(X, y, T)`` with ``T`` the uncensored crossing days.

    Types with different call volumes; the residual rate at disconnect is the owner's
    inbound rate times a Beta share of callers who never learn (so the features predict it
    only up to that share), Lomax decay with per-number shape and scale, a persistent part
    for some numbers, Poisson early counts over a background, censoring at 365 days or by an
    exponential dropout.
    """
    rng = np.random.default_rng(seed)
    typ = rng.choice(np.array(SUBSCRIBER_TYPES), n, p=(0.6, 0.25, 0.05, 0.10))
    volume = {"residential": 3.0, "business": 15.0, "call_centre": 80.0, "notifier": 20.0}
    rate = np.array([volume[t] for t in typ]) * rng.lognormal(0, 0.6, n)
    tenure = 30 + rng.lognormal(np.log(900), 0.8, n)
    inbound = rng.poisson(90 * rate).astype(float)
    lam0 = rate * rng.beta(2, 5, n) * (1 - np.exp(-tenure / 365))
    alpha = rng.lognormal(np.log(1.5), 0.2, n)
    beta = rng.lognormal(np.log(20), 0.3, n)
    persist = rng.random(n) < np.array(
        [
            {"residential": 0.1, "business": 0.25, "call_centre": 0.3, "notifier": 0.05}[t]
            for t in typ
        ]
    )
    p = np.where(persist, rng.lognormal(np.log(0.15), 0.5, n), 0.0)
    P = np.where(persist, rng.uniform(20, 200, n), 0.0)
    T = truth_days(thr, lam0, alpha, beta, p, P)
    mid = (np.arange(16) + 0.5) / 16
    early = {}
    for d in range(n_early):
        t = d + mid[None, :]
        residual = (lam0[:, None] * (1 + t / beta[:, None]) ** -alpha[:, None]).mean(axis=1)
        early[f"early_{d}"] = rng.poisson(background + residual + p * np.clip(P - d, 0, 1))
    censor = np.minimum(365.0, rng.exponential(500.0, n))
    X = pd.DataFrame(
        {
            "type": typ,
            "tenure_days": tenure,
            "inbound_90d": inbound,
            "unique_callers_90d": rng.binomial(inbound.astype(int), rng.beta(2, 3, n)).astype(
                float
            ),
            "robocall_share": rng.beta(1.5, 8, n),
            "earlier_reassignments": rng.poisson(0.4, n),
            **early,
            "lam0": lam0,
            "alpha": alpha,
            "beta_days": beta,
            "persistent_per_day": p,
            "persistent_days": P,
        }
    )
    return X, Surv.from_arrays(T <= censor, np.minimum(T, censor)), T


def my_design(X):
    """The design matrix rebuilt from the contract (to check ``design_matrix``)."""
    cols = [
        np.log1p(X["tenure_days"]),
        np.log1p(X["inbound_90d"]),
        np.log1p(X["unique_callers_90d"]),
        X["robocall_share"],
        np.log1p(X["earlier_reassignments"]),
    ]
    cols += [(X["type"] == t).astype(float) for t in ("business", "call_centre", "notifier")]
    return np.column_stack(cols)


WEIBULL_COEF = np.array([2.0, 0.15, 0.25, 0.0, -0.8, 0.2, 0.5, 0.9, 0.3])  # intercept + 8
WEIBULL_RHO = 1.4


def make_weibull(n, seed, censor_mean=60.0):
    """Episodes whose days follow a Weibull AFT with known coefficients: ``(X, y, T)``."""
    X, _, _ = make_episodes(n, seed, n_early=0)
    rng = np.random.default_rng(seed + 1000)
    T = np.exp(WEIBULL_COEF[0] + my_design(X) @ WEIBULL_COEF[1:]) * rng.weibull(WEIBULL_RHO, n)
    C = rng.exponential(censor_mean, n)
    return X, Surv.from_arrays(T <= C, np.minimum(T, C)), T


@pytest.fixture(scope="module")
def episodes():
    """Training and held-out episodes: ``(X, y, T, Xt, yt, Tt)``."""
    return (*make_episodes(3000, 1), *make_episodes(3000, 2))


@pytest.fixture(scope="module")
def weibull_data():
    """Weibull-AFT episodes, ~70% censored: ``(X, y, T, Xt, yt, Tt)``."""
    return (*make_weibull(3000, 5), *make_weibull(3000, 6))


MODELS = {
    "lookup": lambda: LookupTable(n_bins=8),
    "cox": lambda: CoxPH(),
    "weibull": lambda: WeibullAFT(),
    "fast_weibull": lambda: FastWeibullAFT(),
    "loglogistic": lambda: LogLogisticAFT(),
    "boosted": lambda: GradientBoostedSurvival(n_estimators=60),
    "online": lambda: OnlineDecay(FastWeibullAFT(), THR, background_per_day=BACKGROUND),
}
STEP_MODELS = {"lookup", "cox", "boosted", "online"}


@pytest.fixture(scope="module")
def fitted(episodes):
    """Every model (but the oracle) fitted on the training episodes."""
    X, y = episodes[:2]
    return {name: make().fit(X, y) for name, make in MODELS.items()}


# -- the data contract ----------------------------------------------------------------------
def test_design_matrix_follows_the_contract(episodes):
    X = episodes[0]
    D, names = design_matrix(X)
    np.testing.assert_array_equal(D, my_design(X))
    assert names[-3:] == ["type_business", "type_call_centre", "type_notifier"]
    np.testing.assert_array_equal(early_counts(X), X[[f"early_{d}" for d in range(N_EARLY)]])


def test_hidden_columns_are_never_read(episodes, fitted):
    X = episodes[3]
    scrambled = X.copy()
    rng = np.random.default_rng(0)
    for c in HIDDEN:
        scrambled[c] = rng.permutation(scrambled[c].to_numpy())
    for name, model in fitted.items():
        np.testing.assert_array_equal(model.predict(X), model.predict(scrambled), err_msg=name)
        np.testing.assert_array_equal(model.predict_days(X), model.predict_days(scrambled))
    assert not np.array_equal(Oracle(THR).predict(X), Oracle(THR).predict(scrambled))


# -- oracle ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "lam0, alpha, beta, p, P, thr, expected",
    [
        (4.0, 1.0, 10.0, 0.0, 0.0, 1.0, 30.0),  # 4 / (1 + t/10) = 1
        (9.0, 2.0, 10.0, 0.0, 0.0, 1.0, 20.0),  # 9 / (1 + t/10)**2 = 1
        (0.5, 1.0, 10.0, 0.0, 0.0, 1.0, 0.0),  # already below
        (4.0, 1.0, 10.0, 2.0, np.inf, 1.0, np.inf),  # persistent part above thr for ever
        (4.0, 1.0, 10.0, 2.0, 50.0, 1.0, 50.0),  # decay done at 30, persistent ends at 50
        (4.0, 1.0, 10.0, 0.5, 100.0, 1.0, 70.0),  # 4 / (1 + t/10) + 0.5 = 1 before P
        (4.0, 1.0, 10.0, 0.5, 50.0, 1.0, 50.0),  # ... would be 70 > P: drop at P, 30 < 50
        (4.0, 1.0, 10.0, 0.5, 20.0, 1.0, 30.0),  # ... drop at 20, decay alone hits 1 at 30
    ],
)
def test_crossing_days_hand_cases(lam0, alpha, beta, p, P, thr, expected):
    assert crossing_days(thr, lam0, alpha, beta, p, P) == pytest.approx(expected, rel=1e-12)


def _pos(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    lam0=st.one_of(st.just(0.0), _pos(1e-6, 200)),
    alpha=_pos(0.2, 5),
    beta=_pos(0.5, 200),
    p=_pos(0, 3),
    P=st.one_of(_pos(0, 400), st.just(np.inf)),
    thr=_pos(0.01, 5),
)
def test_crossing_days_matches_bisection(lam0, alpha, beta, p, P, thr):
    got = crossing_days(thr, lam0, alpha, beta, p, P)
    want = truth_days(thr, lam0, alpha, beta, p, P, horizon=1e12)
    if np.isinf(want):  # no crossing within 1e12 days
        assert got > 1e12
    else:
        assert got == pytest.approx(float(want), rel=1e-9, abs=1e-9)


def test_oracle_reproduces_the_generator(episodes):
    X, T = episodes[0], episodes[2]
    oracle = Oracle(THR).fit(X)
    np.testing.assert_allclose(oracle.predict_days(X, 0.3), T, rtol=1e-9, atol=1e-9)
    lo, hi = oracle.predict_interval(X)
    np.testing.assert_array_equal(lo, hi)
    times = np.array([0.0, 30.0, 200.0])
    np.testing.assert_array_equal(
        oracle.predict_survival(X, times), oracle.predict_days(X)[:, None] > times[None, :]
    )
    assert np.all(np.diff(oracle.predict(X)[np.argsort(T)]) <= 0)  # risk falls with T


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("beta", [3.0, 30.0])
def test_lomax_day_weights_match_quadrature(alpha, beta):
    w = lomax_day_weights(alpha, beta, 10)
    quad = [
        integrate.quad(lambda t: (1 + t / beta) ** -alpha, d, d + 1, epsabs=0, epsrel=1e-13)[0]
        for d in range(10)
    ]
    np.testing.assert_allclose(w, quad, rtol=1e-10)


# -- Weibull AFT ----------------------------------------------------------------------------
@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_fast_weibull_agrees_with_lifelines(weibull_data, penalizer):
    X, y = weibull_data[0][:2000], weibull_data[1][:2000]
    ours = FastWeibullAFT(penalizer=penalizer).fit(X, y)
    theirs = WeibullAFT(penalizer=penalizer).fit(X, y).fitter_
    se = theirs.standard_errors_
    for key in theirs.params_.index:
        gap = abs(ours.params_[key] - theirs.params_[key])
        assert gap < 0.01 * se[key], (key, gap / se[key])
    se_ours = pd.Series(ours.se_, index=ours.params_.index)
    np.testing.assert_allclose(se_ours[se.index], se, rtol=1e-3)
    assert ours.converged_


def test_weibull_closed_forms_equal_lifelines(weibull_data):
    """The wrapper predicts in closed form from lifelines' coefficients: the same
    quantiles as ``predict_percentile`` and survival as ``predict_survival_function``."""
    X, y = weibull_data[0][:2000], weibull_data[1][:2000]
    model = WeibullAFT().fit(X, y)
    design = _frame(X, model.columns_)
    for q in (0.02, 0.5, 0.95):
        lifelines_days = model.fitter_.predict_percentile(design, p=q).to_numpy()
        np.testing.assert_allclose(model.predict_days(X, q), lifelines_days, rtol=1e-12)
    times = np.array([0.5, 3.0, 30.0, 200.0])
    sf = model.fitter_.predict_survival_function(design, times=times).to_numpy().T
    np.testing.assert_allclose(model.predict_survival(X, times), sf, rtol=1e-12, atol=1e-300)


def test_fast_weibull_recovers_simulated_coefficients():
    X, y, _ = make_weibull(20_000, 11, censor_mean=80.0)
    model = FastWeibullAFT(penalizer=0.0).fit(X, y)
    truth = np.append(WEIBULL_COEF, np.log(WEIBULL_RHO))
    estimate = np.append(model.coef_, model.log_rho_)
    z = (estimate - truth) / model.se_
    assert np.all(np.abs(z) < 3), z
    wald = (estimate - truth) @ np.linalg.solve(model.cov_, estimate - truth)
    assert wald < stats.chi2.ppf(0.999, len(truth))


def test_fitting_uses_censored_rows():
    """With ~70% censored, the censored fit is unbiased and dropping censored rows is not.

    Compared: the mean log scale over the rows, ``(1, mean x) . coef``, whose standard
    error comes from the fit's covariance."""
    X, y, _ = make_weibull(4000, 21)
    event = y["event"]
    g = np.append(1.0, my_design(X).mean(axis=0))
    for rows, unbiased in ((slice(None), True), (event, False)):
        model = FastWeibullAFT(penalizer=0.0).fit(X[rows], y[rows])
        bias = g @ (model.coef_ - WEIBULL_COEF)
        se = np.sqrt(g @ model.cov_[:-1, :-1] @ g)
        if unbiased:
            assert abs(bias) < 3 * se, bias / se
        else:  # only the short times survive the cut
            assert bias < -10 * se, bias / se


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"online"}))
def test_every_model_uses_censored_rows(weibull_data, name):
    """Share of true days above the predicted median: ~1/2 when censored rows are used,
    far above it (predictions too short) when they are dropped."""
    X, y, _, Xt, _, Tt = weibull_data
    event = y["event"]
    share = np.mean(Tt > MODELS[name]().fit(X, y).predict_days(Xt))
    share_dropped = np.mean(Tt > MODELS[name]().fit(X[event], y[event]).predict_days(Xt))
    se = np.sqrt(0.25 / len(Tt))
    assert share_dropped - 0.5 > 5 * se
    assert abs(share - 0.5) < (share_dropped - 0.5) / 2, (share, share_dropped)


# -- lookup table ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::lifelines.exceptions.ApproximationWarning")
def test_lookup_bins_are_kaplan_meier_of_their_rows(episodes, fitted):
    X, y, _, Xt = episodes[:4]
    table = fitted["lookup"]
    bins = table.bin_of(X)
    assert table.n_bins_ == 8
    assert table.counts_.max() - table.counts_.min() <= 1  # quantile bins
    times = np.array([0.0, 10.0, 45.0, 90.0, 180.0, 364.0])
    surv_t, bins_t = table.predict_survival(Xt, times), table.bin_of(Xt)
    for b in range(table.n_bins_):
        rows = bins == b
        km = KaplanMeierFitter().fit(y["time"][rows], y["event"][rows])
        assert table.medians_[b] == km.median_survival_time_
        assert table.predict_days(X[rows], 0.25)[0] == km.percentile(0.25)
        np.testing.assert_allclose(
            surv_t[bins_t == b],
            np.broadcast_to(
                km.survival_function_at_times(times).to_numpy(), ((bins_t == b).sum(), len(times))
            ),
            rtol=1e-12,
        )


def test_kaplan_meier_matches_lifelines():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 40, 500).astype(float)  # many ties
    e = rng.random(500) < 0.6
    grid, s = kaplan_meier(t, e)
    km = KaplanMeierFitter().fit(t, e)
    np.testing.assert_allclose(s, km.survival_function_at_times(grid).to_numpy(), rtol=1e-12)


# -- lifelines models -----------------------------------------------------------------------
DESIGN_NAMES = [
    "log1p_tenure_days",
    "log1p_inbound_90d",
    "log1p_unique_callers_90d",
    "robocall_share",
    "log1p_earlier_reassignments",
    "type_business",
    "type_call_centre",
    "type_notifier",
]
AFT_LAWS = {
    # name: (wrapper, scale parameter, shape parameter, log t_q = x.b + c(q) / shape,
    #        a draw of T / exp(x.b) given uniforms u)
    "weibull": (
        WeibullAFT,
        "lambda_",
        "rho_",
        lambda q: np.log(-np.log(q)),
        lambda u, k: (-np.log(u)) ** (1 / k),
    ),
    "loglogistic": (
        LogLogisticAFT,
        "alpha_",
        "beta_",
        lambda q: np.log((1 - q) / q),
        lambda u, k: (u / (1 - u)) ** (1 / k),
    ),
}


@pytest.mark.parametrize("name", sorted(AFT_LAWS))
def test_aft_wrappers_recover_a_known_law(name):
    """Data drawn from a known AFT law (Weibull, or log-logistic, with the coefficients
    of WEIBULL_COEF and shape WEIBULL_RHO; ~40% censored): the lifelines wrapper's
    coefficients are each within the Bonferroni bound of the truth (family-wise 0.1%:
    |z| < 3.9 for 10 of them; the joint Wald statistic below the chi-square 0.999
    quantile), and its predicted quantiles -- which go through the
    wrapper's own design and prediction code -- sit on the true law's: the mean of
    ``log(predicted / true quantile)``, linear in the estimates, within 3 delta-method
    standard errors, at q = 0.1, 0.5 and 0.9."""
    wrapper, scale, shape, c, draw = AFT_LAWS[name]
    X, _, _ = make_episodes(12_000, 41, n_early=0)
    rng = np.random.default_rng(42)
    D = my_design(X)
    mu = WEIBULL_COEF[0] + D @ WEIBULL_COEF[1:]
    T = np.exp(mu) * draw(rng.random(len(X)), WEIBULL_RHO)
    C = rng.exponential(np.exp(mu).mean() * 1.5, len(X))
    y = Surv.from_arrays(T <= C, np.minimum(T, C))
    model = wrapper(penalizer=0.0, min_days=1e-9).fit(X, y)
    params, cov = model.fitter_.params_, model.fitter_.variance_matrix_
    truth = pd.Series(
        [*WEIBULL_COEF[1:], WEIBULL_COEF[0], np.log(WEIBULL_RHO)],
        index=pd.MultiIndex.from_tuples(
            [(scale, n) for n in DESIGN_NAMES] + [(scale, "Intercept"), (shape, "Intercept")]
        ),
    )[params.index]
    err = (params - truth).to_numpy()
    se = np.sqrt(np.diag(cov.to_numpy()))
    bonferroni = stats.norm.isf(0.001 / (2 * len(err)))
    assert np.all(np.abs(err / se) < bonferroni), dict(zip(params.index, err / se))
    assert err @ np.linalg.solve(cov.to_numpy(), err) < stats.chi2.ppf(0.999, len(err))
    Xt = make_episodes(3000, 43, n_early=0)[0]
    Dt = pd.DataFrame(my_design(Xt), columns=DESIGN_NAMES)
    mu_t = WEIBULL_COEF[0] + Dt.to_numpy() @ WEIBULL_COEF[1:]
    k = np.exp(params[(shape, "Intercept")])
    for q in (0.1, 0.5, 0.9):
        got = np.log(model.predict_days(Xt, q)) - (mu_t + c(q) / WEIBULL_RHO)
        grad = pd.Series(
            [Dt[n].mean() for n in DESIGN_NAMES] + [1.0, -c(q) / k], index=truth.index
        )[params.index].to_numpy()
        bound = 3 * np.sqrt(grad @ cov.to_numpy() @ grad)
        assert abs(got.mean()) < bound, (q, got.mean(), bound)


def test_cox_steps_match_lifelines(episodes, fitted):
    Xt = episodes[3].iloc[:200]
    model = fitted["cox"]
    knots = model.times_[::25]
    D, names = design_matrix(Xt)
    theirs = model.fitter_.predict_survival_function(
        pd.DataFrame(D, columns=names)[model.columns_], times=knots
    )
    np.testing.assert_allclose(model.predict_survival(Xt, knots), theirs.to_numpy().T, rtol=1e-9)


# -- gradient boosting ----------------------------------------------------------------------
@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_linear_cox_loss_matches_sksurv(seed, n):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 8, n).astype(float)  # ties on purpose
    e = rng.random(n) < 0.5
    f = rng.normal(0, 2, n)
    np.testing.assert_allclose(
        cox_negative_gradient(e, t, f),
        coxph_negative_gradient(e.astype(np.uint8), t, f),
        rtol=1e-10,
        atol=1e-12,
    )
    assert cox_loss(e, t, f) == pytest.approx(
        coxph_loss(e.astype(np.uint8), t, f), rel=1e-10, abs=1e-10
    )


def test_breslow_matches_sksurv():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 50, 400).astype(float)
    e = rng.random(400) < 0.7
    f = rng.normal(size=400)
    ref = BreslowEstimator().fit(f, e, t)
    grid, H = breslow(f, t, e)
    np.testing.assert_allclose(
        step_at(grid, H, ref.unique_times_, 0.0), ref.cum_baseline_hazard_.y, rtol=1e-12
    )


def test_boosting_is_sksurv_with_a_faster_loss(episodes):
    X, y = episodes[0].iloc[:400], episodes[1][:400]
    ours = GradientBoostedSurvival(n_estimators=20, random_state=3).fit(X, y)
    D = design_matrix(X)[0]
    ref = GradientBoostingSurvivalAnalysis(
        n_estimators=20, learning_rate=0.1, max_depth=3, min_samples_leaf=20, random_state=3
    ).fit(D, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(D), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        ours.predict_survival(X, ref.unique_times_),
        ref.predict_survival_function(D, return_array=True),
        rtol=1e-9,
        atol=1e-12,
    )


# -- online decay ---------------------------------------------------------------------------
def test_online_without_background_is_the_conjugate_posterior(episodes, fitted):
    X = episodes[3].iloc[:300]
    model = clone(fitted["online"]).set_params(
        background_per_day=0.0, alpha=1.5, beta_days=20.0, prior_shape=4.0
    )
    model.fit(*episodes[:2])
    counts = early_counts(X)
    w = np.array(
        [integrate.quad(lambda t: (1 + t / 20.0) ** -1.5, d, d + 1)[0] for d in range(N_EARLY)]
    )
    base = model.base_.predict_days(X)
    m = THR * (1 + base / 20.0) ** 1.5  # lam0 whose crossing is base
    rate = stats.gamma.ppf(0.5, 4.0) / m + w.sum()
    shape = 4.0 + counts.sum(axis=1)
    lam = stats.gamma.isf(0.5, shape, scale=1 / rate)
    want = np.maximum(20.0 * ((lam / THR) ** (1 / 1.5) - 1), 0)
    np.testing.assert_allclose(model.posterior_days(X), want, rtol=1e-8)


def test_online_mode_solves_the_posterior_equation():
    rng = np.random.default_rng(5)
    counts = rng.poisson(3.0, (50, 7)).astype(float)
    w = lomax_day_weights(1.2, 15.0, 7)
    prior = rng.lognormal(0, 1, 50)
    shape, rate = gamma_posterior(counts, w, 0.7, prior, 3.0)
    mode = (shape - 1) / rate
    r0 = stats.gamma.ppf(0.5, 3.0) / prior
    for i in range(0, 50, 7):

        def h(x, i=i):
            return -(
                np.sum(counts[i] * np.log(0.7 + x * w)) - x * w.sum() + 2.0 * np.log(x) - r0[i] * x
            )

        best = optimize.minimize_scalar(
            h, bounds=(1e-9, 1e3), method="bounded", options={"xatol": 1e-12}
        )
        assert mode[i] == pytest.approx(best.x, rel=1e-5)


def test_online_with_a_strong_prior_returns_the_base(episodes, fitted):
    X = episodes[3]
    model = clone(fitted["online"]).set_params(prior_shape=1e9, alpha=1.5, beta_days=20.0)
    model.fit(*episodes[:2])
    # the data move the log scale by about (counts + W m)/k ~ 1e-6 at most here
    np.testing.assert_allclose(
        model.posterior_days(X), model.base_.predict_days(X), rtol=1e-3, atol=1e-3
    )


def test_online_intervals_are_calibrated_on_held_out_rows(episodes, fitted):
    """80% intervals from the held-out ratio curve cover about 80% of the true (uncensored)
    crossing days of new rows: within 4 standard errors of the two binomial proportions
    (test rows, calibration rows)."""
    online = fitted["online"]
    Xt, Tt = episodes[3], episodes[5]
    lo, hi = online.predict_interval(Xt, 0.8)
    got = np.mean((lo <= Tt) & (Tt <= hi))
    n_cal = min(online.max_tuning_rows, len(episodes[1]))
    se = np.sqrt(0.16 / len(Tt) + 0.16 / n_cal)
    assert abs(got - 0.8) < 4 * se, got


def test_online_refit_beats_its_base(episodes, fitted):
    Xt, yt = episodes[3], episodes[4]
    online = fitted["online"]
    ev = yt["event"]
    err_base = np.abs(online.base_.predict_days(Xt) - yt["time"])[ev]
    err_online = np.abs(online.predict_days(Xt) - yt["time"])[ev]
    diff = err_base - err_online
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)), diff.mean()
    assert uno_c(episodes[1], yt, online.predict(Xt)) > uno_c(
        episodes[1], yt, online.base_.predict(Xt)
    )


# -- properties of every model's predictions ------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=20, deadline=None, derandomize=True)
@given(q1=_pos(0.01, 0.99), q2=_pos(0.01, 0.99))
def test_quantiles_and_survival_agree(episodes, fitted, name, q1, q2):
    """Per model (20 examples each): quantiles fall as q rises, survival curves are
    probabilities falling in t, and the survival at the q-quantile is q (at most q for
    step functions)."""
    Xt = episodes[3].iloc[:200]
    model = fitted[name]
    lo_q, hi_q = min(q1, q2), max(q1, q2)
    assert np.all(model.predict_days(Xt, hi_q) <= model.predict_days(Xt, lo_q))
    times = np.linspace(0, 400, 41)
    surv = model.predict_survival(Xt, times)
    assert np.all((surv >= 0) & (surv <= 1))
    assert np.all(np.diff(surv, axis=1) <= 1e-12)
    days = model.predict_days(Xt, q1)
    rows = np.flatnonzero(np.isfinite(days))[:20]
    at = np.diag(model.predict_survival(Xt.iloc[rows], days[rows])) if len(rows) else []
    if name in STEP_MODELS:
        assert np.all(np.asarray(at) <= q1 + 1e-12)
    else:  # continuous in t: equal to q, unless clipped at day 0
        assert np.all(np.isclose(at, q1, rtol=1e-6) | (days[rows] == 0))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_risk_ranks_like_the_predicted_days(episodes, fitted, name):
    """Higher risk = earlier crossing: predicted medians fall as risk rises (each model but
    the lookup is a one-index model, so exactly), and risk beats chance on held-out rows by
    10 null standard deviations (Kendall: sd of C about 1 / (3 sqrt(events)))."""
    y, Xt, yt = episodes[1], episodes[3], episodes[4]
    model = fitted[name]
    risk = model.predict(Xt)
    if name != "lookup":
        days = model.predict_days(Xt)[np.argsort(-risk, kind="stable")]
        assert np.all(days[1:] >= days[:-1] * (1 - 1e-9))  # inf >= inf too
    assert uno_c(y, yt, risk) > 0.5 + 10 / (3 * np.sqrt(yt["event"].sum()))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_interval_is_the_central_quantile_pair(episodes, fitted, name):
    Xt = episodes[3].iloc[:300]
    lo, hi = fitted[name].predict_interval(Xt, 0.6)
    np.testing.assert_array_equal(lo, fitted[name].predict_days(Xt, 0.8))
    np.testing.assert_array_equal(hi, fitted[name].predict_days(Xt, 0.2))


def test_weibull_intervals_cover_at_their_level(weibull_data):
    """Expected coverage of the true (uncensored) days under the true Weibull law, against
    the level, within 3 standard errors from the delta method on the fit's covariance."""
    X, y, _, Xt = weibull_data[:4]
    model = FastWeibullAFT(penalizer=0.0).fit(X, y)
    scale_true = np.exp(WEIBULL_COEF[0] + my_design(Xt) @ WEIBULL_COEF[1:])

    def expected_coverage(theta):
        m = clone(model)
        m.coef_, m.log_rho_ = theta[:-1], theta[-1]
        lo, hi = m.predict_interval(Xt, 0.8)
        cdf = lambda t: -np.expm1(-((t / scale_true) ** WEIBULL_RHO))  # noqa: E731
        return np.mean(cdf(hi) - cdf(lo))

    theta = np.append(model.coef_, model.log_rho_)
    step = 1e-5 * np.eye(len(theta))
    grad = np.array(
        [(expected_coverage(theta + h) - expected_coverage(theta - h)) / 2e-5 for h in step]
    )
    se = np.sqrt(grad @ model.cov_ @ grad)
    assert abs(expected_coverage(theta) - 0.8) < 3 * se, (expected_coverage(theta), se)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_type_absent_from_training_is_the_reference(episodes, name):
    """Trained without call centres or notifiers (their one-hot columns constant), every
    model fits and predicts those types as residential numbers with the same features."""
    X, y, _, Xt = episodes[:4]
    seen = X["type"].isin(["residential", "business"]).to_numpy()
    model = MODELS[name]().fit(X[seen], y[seen])
    other = Xt[Xt["type"].isin(["call_centre", "notifier"])].iloc[:50]
    as_residential = other.assign(type="residential")
    np.testing.assert_allclose(model.predict_days(other), model.predict_days(as_residential))
    assert np.all(np.isfinite(model.predict(other)))


def test_fast_weibull_leaves_constant_columns_out(episodes):
    X, y = episodes[0], episodes[1]
    seen = (X["type"] == "residential").to_numpy()
    model = FastWeibullAFT().fit(X[seen], y[seen])
    assert np.all(model.coef_[-3:] == 0) and np.all(np.isnan(model.se_[-4:-1]))
    reference = WeibullAFT().fit(X[seen], y[seen])
    np.testing.assert_allclose(
        model.predict_days(X[seen]), reference.predict_days(X[seen]), rtol=1e-3
    )


def test_sklearn_contract(episodes):
    for make in [*MODELS.values(), lambda: Oracle(THR)]:
        model = make()
        twin = clone(model)
        assert twin.get_params().keys() == model.get_params().keys()
        if not isinstance(model, Oracle):
            with pytest.raises(NotFittedError):
                model.predict(episodes[0])
    X, y = episodes[0].iloc[:500], episodes[1][:500]
    model = LookupTable()
    assert model.fit(X, y) is model


# -- metrics --------------------------------------------------------------------------------
def test_mae_and_coverage_by_hand():
    y = Surv.from_arrays([True, False, True], [2.0, 5.0, 1.0])
    assert mae_days([1.0, 2.0, 3.0], y) == pytest.approx(1.5)  # (|1-2| + |3-1|) / 2
    assert mae_days([1.0, 2.0, np.inf], y) == np.inf
    assert mae_days([1.0, 2.0, np.inf], y, max_days=4.0) == pytest.approx(2.0)
    assert np.isnan(mae_days([1.0], Surv.from_arrays([False], [3.0])))
    assert coverage([1.0, 0.0, 2.0], [3.0, 1.0, 2.5], y) == pytest.approx(0.5)
    assert coverage([2.0 + 1e-12], [2.0 + 1e-12], Surv.from_arrays([True], [2.0])) == 1.0


def test_uno_c_by_hand():
    y = Surv.from_arrays([True] * 4, [1.0, 2.0, 3.0, 4.0])
    # pairs (earlier, later): 6; concordant unless (3, 4): 1 < 2
    assert uno_c(y, y, [4.0, 3.0, 1.0, 2.0]) == pytest.approx(5 / 6)
    assert uno_c(y, y, -y["time"]) == pytest.approx(1.0)  # higher risk = earlier
    assert uno_c(y, y, y["time"]) == pytest.approx(0.0)
    train = Surv.from_arrays([True, False, True, True, False, True], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # censoring KM: 4/5 after t=2, so G(1) = 1, G(3) = G(4) = 0.8, weights 1/G^2
    test = Surv.from_arrays([True, True, True, False], [1.0, 3.0, 4.0, 6.0])
    w = 1 / 0.8**2
    want = (1 * 3 + w * 1 + w * 1) / (1 * 3 + w * 2 + w * 1)
    assert uno_c(train, test, [3.0, 1.0, 2.0, 0.0]) == pytest.approx(want)


def test_brier_scores_by_hand():
    y = Surv.from_arrays([True] * 4, [1.0, 2.0, 3.0, 4.0])
    times = np.array([1.5, 2.5, 3.5])
    assert integrated_brier(y, y, np.full((4, 3), 0.5), times) == pytest.approx(0.25)
    perfect = (y["time"][:, None] > times[None, :]).astype(float)
    assert integrated_brier(y, y, perfect, times) == pytest.approx(0.0)
    # KM = 0.75, 0.5, 0.25: Brier = p(1-p) = 0.1875, 0.25, 0.1875; trapezoid / 2
    assert km_integrated_brier(y, y, times) == pytest.approx(0.21875)


def test_compare_scores_models_on_the_same_rows(episodes):
    X, y, _, Xt, yt, _ = episodes
    models = {"lookup": LookupTable(n_bins=5), "oracle": Oracle(THR)}
    times = np.linspace(5, 350, 30)
    table = compare(models, X, y, Xt, yt, times)
    assert list(table.columns) == [
        "model",
        "mae_ipcw",
        "mae_days",
        "uno_c",
        "ibs",
        "ibs_km_ratio",
        "coverage",
    ]
    np.testing.assert_allclose(table["mae_ipcw"], table["mae_days"], rtol=0.5)  # ~the same
    assert list(table["model"]) == ["lookup", "oracle"]
    assert not hasattr(models["lookup"], "edges_")  # fitted clones only
    km = km_integrated_brier(y, yt, times)
    np.testing.assert_allclose(table["ibs_km_ratio"], table["ibs"] / km)
    oracle = table.set_index("model").loc["oracle"]
    assert oracle["mae_days"] < 1e-6 and oracle["coverage"] == 1.0 and oracle["uno_c"] > 0.99
    lookup = table.set_index("model").loc["lookup"]
    assert 0.5 < lookup["uno_c"] < oracle["uno_c"] and lookup["ibs_km_ratio"] < 1


# -- bad input ------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    q=st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0), st.just(np.nan)),
    name=st.sampled_from(sorted(MODELS)),
)
def test_q_outside_the_unit_interval_is_refused(episodes, fitted, q, name):
    with pytest.raises(ValueError, match=r"\bq\b"):
        fitted[name].predict_days(episodes[3].iloc[:5], q)
    with pytest.raises(ValueError, match="level"):
        fitted[name].predict_interval(episodes[3].iloc[:5], q)


@pytest.mark.parametrize("thr", [0.0, -1.0, np.nan])
def test_threshold_must_be_positive(episodes, thr):
    X, y = episodes[0].iloc[:50], episodes[1][:50]
    with pytest.raises(ValueError, match="thr"):
        Oracle(thr).fit(X, y)
    with pytest.raises(ValueError, match="thr"):
        crossing_days(thr, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="thr"):
        OnlineDecay(FastWeibullAFT(), thr).fit(X, y)


@pytest.mark.parametrize("column", FEATURES)
def test_missing_feature_column_is_named(episodes, fitted, column):
    X, y = episodes[0].iloc[:200], episodes[1][:200]
    with pytest.raises(ValueError, match=column):
        LookupTable().fit(X.drop(columns=column), y)
    with pytest.raises(ValueError, match=column):
        fitted["cox"].predict(X.drop(columns=column))


def test_bad_values_and_targets_are_named(episodes, fitted):
    X, y = episodes[0].iloc[:200].copy(), episodes[1][:200]
    bad = X.assign(type="fax")
    with pytest.raises(ValueError, match="type"):
        FastWeibullAFT().fit(bad, y)
    with pytest.raises(ValueError, match="robocall_share"):
        FastWeibullAFT().fit(X.assign(robocall_share=1.5), y)
    with pytest.raises(ValueError, match="inbound_90d"):
        FastWeibullAFT().fit(X.assign(inbound_90d=np.nan), y)
    with pytest.raises(ValueError, match=r"\by\b"):
        FastWeibullAFT().fit(X, y[:100])
    with pytest.raises(ValueError, match=r"\by\b"):
        CoxPH().fit(X, y["time"])
    with pytest.raises(ValueError, match=r"\by\b"):
        CoxPH().fit(X, Surv.from_arrays(y["event"], -y["time"] - 1))
    with pytest.raises(ValueError, match="early_0"):
        fitted["online"].predict(X.drop(columns="early_0"))
    with pytest.raises(ValueError, match="early_"):
        fitted["online"].predict(X.drop(columns=[f"early_{d}" for d in range(N_EARLY)]))
    with pytest.raises(ValueError, match="prior_shape"):
        OnlineDecay(FastWeibullAFT(), THR, prior_shape=1.0).fit(X, y)
    with pytest.raises(ValueError, match="persistent_days"):
        Oracle(THR).predict(X.drop(columns="persistent_days"))
    with pytest.raises(ValueError, match="times"):
        fitted["cox"].predict_survival(X, [-1.0, 2.0])
    with pytest.raises(ValueError, match="n_bins"):
        LookupTable(n_bins=0).fit(X, y)
    with pytest.raises(ValueError, match="pred_days"):
        mae_days([1.0, 2.0], y)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    lam0=_pos(0.05, 50.0),
    alpha=_pos(0.5, 4.0),
    beta=_pos(1.0, 60.0),
    p=st.sampled_from([0.0, 0.05, 0.3]),
    P=_pos(0.0, 200.0),
    w=st.sampled_from([1.0, 14.0]),
)
def test_trailing_oracle_is_the_first_quiet_window(lam0, alpha, beta, p, P, w):
    """The trailing-window oracle equals a brute-force reading of its definition: the
    window average of the expected rate (numerical quadrature) at the grid points."""
    thr = 0.3
    got = trailing_crossing_days(
        thr, [lam0], [alpha], [beta], [p], [P], trailing_days=w, horizon_days=400.0, step_days=0.5
    )[0]
    rate = lambda t: lam0 * (1 + t / beta) ** -alpha + p * (t < P)  # noqa: E731

    def avg(t):
        lo = t - min(t, w)
        return integrate.quad(
            rate, lo, t, points=[P] if lo < P < t else None, epsabs=1e-12, epsrel=1e-10
        )[0] / min(t, w)

    want = next((t for t in np.arange(1.0, 400.5, 0.5) if avg(t) <= thr), np.inf)
    if got != want:  # only a tie at the threshold, within quadrature error, may differ
        tie = min((t for t in (got, want) if np.isfinite(t)), default=None)
        assert tie is not None and abs(avg(tie) - thr) < 1e-7 * thr, (got, want)
