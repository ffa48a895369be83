"""Statistical tests: the simulator against closed-form theory.

Every test uses a fixed seed, and every tolerance is derived from the sample size:

* a mean is compared with theory within ``Z = 4`` standard errors computed from theory
  (two-sided normal tail probability 6e-5 per check);
* a distribution is compared with a goodness-of-fit test (Kolmogorov-Smirnov for continuous
  laws, Pearson chi-square with bins pooled until every expected count is >= 5 for discrete
  ones, exact binomial test for a proportion) that must give ``p > ALPHA = 1e-3``.

Worlds are small (a few thousand subscribers or numbers) and each is simulated once per
module through a module-scoped fixture.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from pydantic import TypeAdapter
from scipy import integrate, special, stats

from models.common import DAY, HOUR, SUBSCRIBER_TYPES
from sim.config import parse_config
from sim.core import fastrng
from sim.core.distributions import Distribution
from sim.core.fastrng import exponential, new_stream, normal, sample
from sim.runs.simulate import simulate
from sim.world.clock import PoissonSources, advance

Z = 4.0  # standard errors allowed for a mean (two-sided p ~ 6e-5)
ALPHA = 1e-3  # goodness-of-fit tests must give p > ALPHA

SEED = 20251125


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def assert_mean(sample, mu, sd, label=""):
    """Sample mean within Z standard errors ``sd / sqrt(n)`` of the theoretical ``mu``."""
    sample = np.asarray(sample, dtype=np.float64)
    se = sd / math.sqrt(len(sample))
    got = float(sample.mean())
    assert abs(got - mu) < Z * se, (
        f"{label}: mean {got:.6g} vs theory {mu:.6g} (|diff| = {abs(got - mu) / se:.2f} SE, "
        f"SE = {se:.3g}, n = {len(sample)})"
    )


def assert_variance(sample, var, kurt_excess, label=""):
    """Sample variance within Z standard errors of the theoretical ``var``.

    ``Var(s^2) ~= (mu_4 - sigma^4) / n = sigma^4 (excess kurtosis + 2) / n``.
    """
    sample = np.asarray(sample, dtype=np.float64)
    n = len(sample)
    se = var * math.sqrt((kurt_excess + 2.0) / n)
    got = float(sample.var(ddof=1))
    assert abs(got - var) < Z * se, (
        f"{label}: variance {got:.6g} vs theory {var:.6g} "
        f"(|diff| = {abs(got - var) / se:.2f} SE, n = {n})"
    )


def pooled_chisquare(x, dist, ddof=0):
    """Pearson chi-square of integer data ``x`` against a frozen discrete SciPy law.

    Bins 0, 1, ..., max(x) with the last one holding the whole upper tail; adjacent bins are
    pooled from the left until each expected count is at least 5 (a short remainder is
    merged into the last pooled bin).
    """
    x = np.asarray(x, dtype=np.int64)
    n = len(x)
    kmax = int(x.max())
    ks = np.arange(kmax + 1)
    p = dist.pmf(ks)
    p[-1] = dist.sf(kmax - 1)  # P(X >= kmax): the tail belongs to the last bin
    obs = np.bincount(x, minlength=kmax + 1).astype(float)
    exp = n * p
    bo, be, o, e = [], [], 0.0, 0.0
    for oi, ei in zip(obs, exp):
        o += oi
        e += ei
        if e >= 5:
            bo.append(o)
            be.append(e)
            o = e = 0.0
    if e > 0 or o > 0:
        bo[-1] += o
        be[-1] += e
    bo, be = np.array(bo), np.array(be)
    be *= bo.sum() / be.sum()  # remove float round-off in sum(p) = 1
    return stats.chisquare(bo, be, ddof=ddof)


def categorical_chisquare(counts, weights):
    """Chi-square of category counts against probabilities proportional to ``weights``."""
    counts = np.asarray(counts, dtype=float)
    w = np.asarray(weights, dtype=float)
    exp = counts.sum() * w / w.sum()
    return stats.chisquare(counts, exp)


def world(raw):
    """Simulate one small world (tables kept in memory)."""
    cfg = parse_config({"name": "stat", "seed": SEED, **raw})
    return cfg, simulate(cfg, progress=False)


NO_TRAFFIC_TYPE = {"initial": 0, "arrivals_per_day": 0.0}
NO_SPAM = {"calls_per_line_per_day": 0.0}


# ---------------------------------------------------------------------------------------
# 1. distributions
# ---------------------------------------------------------------------------------------
DISTS = [
    {"kind": "exponential", "mean": 3.0},
    {"kind": "lognormal", "median": 2.0, "sigma": 0.6},
    {"kind": "lognormal", "median": 2400.0, "sigma": 1.0},  # the default residential tenure
    {"kind": "gamma", "shape": 0.5, "mean": 2.0},
    {"kind": "gamma", "shape": 3.0, "mean": 5.0},
    {"kind": "weibull", "shape": 1.5, "scale": 1.0},
    {"kind": "weibull", "shape": 0.8, "scale": 2.0},
    {"kind": "uniform", "low": 45.0, "high": 90.0},
]
N_DIST = 20_000


def _closed_form_mean(spec):
    """E[T] from the parameters as a researcher states them (not via SciPy)."""
    k = spec["kind"]
    if k == "exponential":
        return spec["mean"]
    if k == "lognormal":
        return spec["median"] * math.exp(spec["sigma"] ** 2 / 2)
    if k == "gamma":
        return spec["mean"]
    if k == "weibull":
        return spec["scale"] * math.gamma(1 + 1 / spec["shape"])
    return (spec["low"] + spec["high"]) / 2


def _closed_form_var(spec):
    k = spec["kind"]
    if k == "exponential":
        return spec["mean"] ** 2
    if k == "lognormal":
        s2 = spec["sigma"] ** 2
        return (math.exp(s2) - 1) * spec["median"] ** 2 * math.exp(s2)
    if k == "gamma":
        return spec["mean"] ** 2 / spec["shape"]
    if k == "weibull":
        c, lam = spec["shape"], spec["scale"]
        return lam**2 * (math.gamma(1 + 2 / c) - math.gamma(1 + 1 / c) ** 2)
    return (spec["high"] - spec["low"]) ** 2 / 12


def _ids(spec):
    return "-".join(str(v) for v in spec.values())


@pytest.mark.parametrize("spec", DISTS, ids=_ids)
def test_distribution_sample_matches_scipy(spec):
    dist = TypeAdapter(Distribution).validate_python(spec)
    frozen = dist.frozen()
    # mean/var properties equal the closed forms of the configured parameters (exact, 1e-9)
    assert dist.mean == pytest.approx(_closed_form_mean(spec), rel=1e-9)
    assert dist.var == pytest.approx(_closed_form_var(spec), rel=1e-9)
    x = dist.sample(np.random.default_rng([SEED, DISTS.index(spec)]), N_DIST)
    assert x.shape == (N_DIST,) and x.dtype == np.float64
    # KS against the SciPy equivalent: p > 1e-3
    ks = stats.kstest(x, frozen.cdf)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"
    # mean within 4 SE (SE = sqrt(var / n)); variance within 4 SE from the kurtosis
    assert_mean(x, dist.mean, math.sqrt(dist.var), "sample mean")
    kurt = float(frozen.stats(moments="k"))
    assert_variance(x, dist.var, kurt, "sample variance")


def _partial_mean(dist, x):
    """E[T; T <= x] in closed form for each kind (vectorized)."""
    x = np.asarray(x, dtype=np.float64)
    if dist.kind == "exponential":
        m = dist.mean_
        return m * (1 - np.exp(-x / m) * (1 + x / m))
    if dist.kind == "lognormal":
        mu, s = math.log(dist.median), dist.sigma
        with np.errstate(divide="ignore"):
            z = (np.log(x) - mu - s**2) / s
        return math.exp(mu + s**2 / 2) * special.ndtr(z)
    if dist.kind == "gamma":
        return dist.mean_ * special.gammainc(dist.shape + 1, x * dist.shape / dist.mean_)
    if dist.kind == "weibull":
        k, lam = dist.shape, dist.scale
        return lam * math.gamma(1 + 1 / k) * special.gammainc(1 + 1 / k, (x / lam) ** k)
    lo, hi = dist.low, dist.high
    xc = np.clip(x, lo, hi)
    return (xc**2 - lo**2) / (2 * (hi - lo))


def residual_cdf(dist):
    """Equilibrium CDF F_e(x) = (1/E[T]) int_0^x S(u) du = (x S(x) + E[T; T <= x]) / E[T]."""
    frozen, mean = dist.frozen(), dist.mean

    def cdf(x):
        x = np.asarray(x, dtype=np.float64)
        return (x * frozen.sf(x) + _partial_mean(dist, x)) / mean

    # the closed form agrees with direct quadrature of the survival function (pure maths)
    for q in (0.05, 0.3, 0.5, 0.8, 0.99):
        x = float(frozen.ppf(q))
        quad = integrate.quad(frozen.sf, 0.0, x, limit=200)[0] / mean
        assert cdf(x) == pytest.approx(quad, rel=1e-6, abs=1e-9), (dist, q)
    return cdf


def test_distribution_moments_follow_its_parameters_after_a_copy():
    """Mean and variance are computed once per distinct distribution: a copy with another
    parameter gets its own (pydantic's ``model_copy(update=...)`` copies the instance's
    state without validating it)."""
    dist = TypeAdapter(Distribution).validate_python({"kind": "gamma", "shape": 2.0, "mean": 3.0})
    assert (dist.mean, dist.var) == (pytest.approx(3.0), pytest.approx(4.5))
    other = dist.model_copy(update={"mean_": 10.0})
    assert (other.mean, other.var) == (pytest.approx(10.0), pytest.approx(50.0))
    assert dist.mean == pytest.approx(3.0)


@pytest.mark.parametrize("spec", DISTS, ids=_ids)
def test_distribution_residual(spec):
    dist = TypeAdapter(Distribution).validate_python(spec)
    frozen = dist.frozen()
    m1, m2, m3 = (float(frozen.moment(k)) for k in (1, 2, 3))
    # equilibrium residual R: E[R] = E[T^2] / (2 E[T]), E[R^2] = E[T^3] / (3 E[T])
    r_mean = m2 / (2 * m1)
    r_var = m3 / (3 * m1) - r_mean**2
    r = dist.sample_residual(np.random.default_rng([SEED, 100 + DISTS.index(spec)]), N_DIST)
    assert r.shape == (N_DIST,)
    assert (r >= 0).all()
    # mean within 4 SE, SE = sqrt(Var[R] / n) from theory
    assert_mean(r, r_mean, math.sqrt(r_var), "residual mean")
    # KS against the exact equilibrium CDF F_e (p > 1e-3)
    ks = stats.kstest(r, residual_cdf(dist))
    assert ks.pvalue > ALPHA, f"residual KS vs F_e: p = {ks.pvalue:.2e}"


HEAVY = [
    # allowed by the config validators (lognormal sigma <= 5, any Weibull shape > 0)
    {"kind": "lognormal", "median": 1.0, "sigma": 2.0},
    {"kind": "weibull", "shape": 0.3, "scale": 1.0},
]


@pytest.mark.parametrize("spec", HEAVY, ids=_ids)
def test_distribution_residual_heavy_tail(spec):
    """Equilibrium residual of heavy-tailed laws (no mean check: the CLT is too slow here)."""
    dist = TypeAdapter(Distribution).validate_python(spec)
    r = dist.sample_residual(np.random.default_rng([SEED, 200 + HEAVY.index(spec)]), N_DIST)
    fe = residual_cdf(dist)
    # share of residuals below the median of T ~ Binomial(n, F_e(median)): exact test
    x = float(dist.frozen().median())
    p = float(fe(x))
    bt = stats.binomtest(int((r < x).sum()), len(r), p)
    assert bt.pvalue > ALPHA, (
        f"P(R < {x:.3g}) = {(r < x).mean():.4f}, theory F_e = {p:.4f}: p = {bt.pvalue:.2e}"
    )
    # KS against the exact F_e (p > 1e-3)
    ks = stats.kstest(r, fe)
    assert ks.pvalue > ALPHA, f"residual KS vs F_e: D = {ks.statistic:.4f}, p = {ks.pvalue:.2e}"


def test_exponential_residual_is_memoryless():
    dist = TypeAdapter(Distribution).validate_python({"kind": "exponential", "mean": 3.0})
    r = dist.sample_residual(np.random.default_rng(SEED + 2), N_DIST)
    # KS against the same exponential (memorylessness): p > 1e-3
    ks = stats.kstest(r, dist.frozen().cdf)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"


# ---------------------------------------------------------------------------------------
# 2. PoissonSources
# ---------------------------------------------------------------------------------------
def _run_sources(profiles, slice_s, n_src, t_end, mult=None, seed=SEED, kernel=advance):
    src = PoissonSources(np.asarray(profiles, dtype=float))
    rng = np.random.default_rng(seed)
    if mult is None:
        mult = np.ones(n_src)
    src.add(0.0, np.zeros(n_src, dtype=np.int64), mult, rng)
    ts, ws = [], []
    t1 = 0.0
    while t1 < t_end:
        t0, t1 = t1, t1 + slice_s
        t, who = src.emit(t1, rng, kernel=kernel)
        assert ((t >= t0) & (t < t1)).all()
        ts.append(t)
        ws.append(who)
    return np.concatenate(ts), np.concatenate(ws)


def test_sources_flat_counts_are_poisson():
    rate, n_src, slices, slice_s = 3.0 / HOUR, 1000, 20, 1800.0
    t, who = _run_sources(np.full((1, 24), rate), slice_s, n_src, slices * slice_s)
    # count per (source, slice): iid Poisson(rate * slice) for a Poisson process
    counts = np.bincount(who * slices + (t // slice_s).astype(np.int64), minlength=n_src * slices)
    mu = rate * slice_s
    # mean within 4 SE (SE = sqrt(mu / n)); chi-square vs Poisson(mu), p > 1e-3
    assert_mean(counts, mu, math.sqrt(mu), "counts per slice")
    chi = pooled_chisquare(counts, stats.poisson(mu))
    assert chi.pvalue > ALPHA, f"chi-square p = {chi.pvalue:.2e}"
    # the first event of each source (all started at 0) is at Exp(rate): KS p > 1e-3
    horizon = slices * slice_s
    order = np.lexsort((t, who))
    t, who = t[order], who[order]
    first = np.full(n_src, np.inf)  # (P(no event in the horizon) = e^-60: never)
    first[who[::-1]] = t[::-1]
    expon = stats.expon(scale=1 / rate)
    ks = stats.kstest(first, expon.cdf)
    assert ks.pvalue > ALPHA, f"first-event KS p = {ks.pvalue:.2e}"
    # the gap after each event that falls in the first half of the horizon is Exp(rate)
    # (whether a gap is selected depends only on earlier gaps, so no length bias); it is
    # censored at half the horizon (P = e^-30, counted as +inf): KS p > 1e-3
    half = horizon / 2
    sel = t < half
    nxt_same = np.append(who[1:] == who[:-1], False)
    gap = np.where(nxt_same, np.append(np.diff(t), 0.0), np.inf)[sel]
    gap = np.where(gap > half, np.inf, gap)
    ks = stats.kstest(gap, expon.cdf)
    assert ks.pvalue > ALPHA, f"gap KS p = {ks.pvalue:.2e}"


@pytest.mark.parametrize("k", [0.5, 2.0])
def test_sources_gamma_multipliers_give_negative_binomial(k):
    rate, n_src, slice_s, horizon = 1.0 / HOUR, 20_000, 900.0, 4 * HOUR
    rng = np.random.default_rng(SEED + 3)
    mult = rng.gamma(k, 1 / k, n_src)  # mean 1, shape k
    # (~5,000 events per slice: more than the 4,096-event output buffer, so the kernel's
    # resume-after-full path is exercised too)
    _, who = _run_sources(np.full((1, 24), rate), slice_s, n_src, horizon, mult=mult)
    counts = np.bincount(who, minlength=n_src)
    mu = rate * horizon
    nb = stats.nbinom(n=k, p=k / (k + mu))
    # closed-form Poisson-gamma mixture: chi-square p > 1e-3, mean within 4 SE
    chi = pooled_chisquare(counts, nb)
    assert chi.pvalue > ALPHA, f"chi-square vs NB: p = {chi.pvalue:.2e}"
    assert_mean(counts, mu, math.sqrt(mu + mu**2 / k), "counts")


def test_sources_follow_hourly_profile():
    weights = np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 4, 2, 1, 0.5])
    rate = 1.0 / HOUR * weights / weights.mean()
    t, _ = _run_sources(rate[None], 1200.0, 500, 2 * DAY)
    hours = (t // HOUR).astype(np.int64) % 24
    counts = np.bincount(hours, minlength=24)
    assert counts[weights == 0].sum() == 0  # nothing in zero-rate hours
    # hour-of-day counts multinomial with p proportional to weights: chi-square p > 1e-3
    live = weights > 0
    chi = categorical_chisquare(counts[live], weights[live])
    assert chi.pvalue > ALPHA, f"chi-square p = {chi.pvalue:.2e}"
    # total within 4 SE of Poisson(500 sources * 48 h * 1/h)
    mu = 500 * 48.0
    assert abs(len(t) - mu) < Z * math.sqrt(mu)


@pytest.mark.parametrize("kernel", [advance, advance.py_func], ids=["numba", "python"])
def test_sources_end_and_mid_slice_add(kernel):
    rate, n = 2.0 / HOUR, 2000
    src = PoissonSources(np.full((1, 24), rate))
    rng = np.random.default_rng(SEED + 4)
    first = src.add(0.0, np.zeros(n, dtype=np.int64), np.ones(n), rng)
    t, who = src.emit(HOUR, rng, kernel=kernel)
    # mid-slice: end half of the first sources at t_end, add new ones at t_add
    t_end, t_add = HOUR + 1000.0, HOUR + 1500.0
    ended = first[: n // 2]
    src.end(ended, t_end)
    added = src.add(t_add, np.zeros(n, dtype=np.int64), np.ones(n), rng)
    out_t, out_w = [t], [who]
    for t1 in (2 * HOUR, 3 * HOUR, 4 * HOUR):
        t, who = src.emit(t1, rng, kernel=kernel)
        out_t.append(t)
        out_w.append(who)
    t, who = np.concatenate(out_t), np.concatenate(out_w)
    is_ended = np.isin(who, ended)
    is_added = np.isin(who, added)
    # hard guarantees: nothing from an ended source at or after t_end, nothing from an added
    # source before t_add
    assert not (is_ended & (t >= t_end)).any()
    assert not (is_added & (t < t_add)).any()
    # counts in the partial windows are Poisson: within 4 SE of theory
    mu_e = len(ended) * rate * (t_end - HOUR)
    got_e = int((is_ended & (t >= HOUR)).sum())
    assert abs(got_e - mu_e) < Z * math.sqrt(mu_e), (got_e, mu_e)
    mu_a = n * rate * (2 * HOUR - t_add)
    got_a = int((is_added & (t < 2 * HOUR)).sum())
    assert abs(got_a - mu_a) < Z * math.sqrt(mu_a), (got_a, mu_a)
    # surviving and added sources carry on at the full rate over [2h, 4h)
    keep = ~is_ended & (t >= 2 * HOUR)
    mu_k = (n - len(ended) + n) * rate * 2 * HOUR
    assert abs(keep.sum() - mu_k) < Z * math.sqrt(mu_k), (keep.sum(), mu_k)


# ---------------------------------------------------------------------------------------
# 3 + 4. outbound calls in the world
# ---------------------------------------------------------------------------------------
CALL_DAYS = 3
CALLS_PER_DAY = 3.0


def _calls_world(cv):
    return world(
        {
            "scenario": {"days": CALL_DAYS},
            "record": {"calls": True},
            "spam": NO_SPAM,
            "subscribers": {
                "residential": {
                    "initial": 4000,
                    "arrivals_per_day": 0.0,
                    "rate_cv": cv,
                    "calls_per_day": CALLS_PER_DAY,
                },
                "business": NO_TRAFFIC_TYPE,
                "call_centre": NO_TRAFFIC_TYPE,
                "notifier": NO_TRAFFIC_TYPE,
            },
        }
    )


@pytest.fixture(scope="module")
def calls_cv0():
    return _calls_world(0.0)


@pytest.fixture(scope="module")
def calls_cv1():
    return _calls_world(1.0)


def _counts_per_full_subscriber(res):
    subs = res.subscribers
    full = subs[(subs["type"] == "residential") & subs["initial"] & subs["end"].isna()]
    calls = res.calls[res.calls["kind"] == "residential"]
    counts = calls["caller_id"].value_counts()
    return counts.reindex(full["number_id"].to_numpy(), fill_value=0).to_numpy(), len(subs)


def test_world_outbound_calls_poisson_when_cv0(calls_cv0):
    _, res = calls_cv0
    x, n_subs = _counts_per_full_subscriber(res)
    assert len(x) > 0.99 * n_subs
    mu = CALLS_PER_DAY * CALL_DAYS
    # mean within 4 SE (SE = sqrt(mu / N))
    assert_mean(x, mu, math.sqrt(mu), "calls per subscriber")
    # dispersion test: sum (x - xbar)^2 / xbar ~ chi2(N - 1); two-sided p > 1e-3
    d = ((x - x.mean()) ** 2).sum() / x.mean()
    p = 2 * min(stats.chi2.cdf(d, len(x) - 1), stats.chi2.sf(d, len(x) - 1))
    assert p > ALPHA, f"dispersion {d / (len(x) - 1):.3f}, p = {p:.2e}"
    chi = pooled_chisquare(x, stats.poisson(mu))
    assert chi.pvalue > ALPHA, f"chi-square vs Poisson: p = {chi.pvalue:.2e}"


def test_world_outbound_calls_negative_binomial_when_cv1(calls_cv1):
    cfg, res = calls_cv1
    cv = cfg.subscribers.residential.rate_cv
    x, _ = _counts_per_full_subscriber(res)
    mu = CALLS_PER_DAY * CALL_DAYS
    k = 1 / cv**2
    nb = stats.nbinom(n=k, p=k / (k + mu))
    var = mu + mu**2 * cv**2
    assert nb.var() == pytest.approx(var)
    # mean within 4 SE; variance within 4 SE (from the NB kurtosis); chi-square p > 1e-3
    assert_mean(x, mu, math.sqrt(var), "calls per subscriber")
    assert_variance(x, var, float(nb.stats(moments="k")), "calls per subscriber")
    chi = pooled_chisquare(x, nb)
    assert chi.pvalue > ALPHA, f"chi-square vs NB: p = {chi.pvalue:.2e}"


@pytest.mark.parametrize("which", ["calls_cv0", "calls_cv1"])
def test_world_calls_follow_diurnal_profile(which, request):
    cfg, res = request.getfixturevalue(which)
    calls = res.calls[res.calls["kind"] == "residential"]
    hours = (calls["t"].to_numpy() // HOUR).astype(np.int64) % 24
    counts = np.bincount(hours, minlength=24)
    # whole days: given the total, hours are multinomial with p ~ diurnal; chi2 p > 1e-3
    chi = categorical_chisquare(counts, cfg.subscribers.residential.diurnal)
    assert chi.pvalue > ALPHA, f"chi-square p = {chi.pvalue:.2e}"


# ---------------------------------------------------------------------------------------
# 5 + 6. arrivals and tenures
# ---------------------------------------------------------------------------------------
LIFE_DAYS = 10
ARRIVALS_PER_DAY = 200.0


@pytest.fixture(scope="module")
def life():
    return world(
        {
            "scenario": {"days": LIFE_DAYS, "warm_start": False},
            "record": {"calls": False},
            "spam": NO_SPAM,
            "subscribers": {
                # arrivals with a short tenure
                "residential": {
                    "initial": 0,
                    "arrivals_per_day": ARRIVALS_PER_DAY,
                    "calls_per_day": 0.0,
                    "tenure": {"kind": "weibull", "shape": 1.5, "scale": 1.0},
                },
                # an initial population in steady state, with a tenure comparable to the horizon
                "business": {
                    "initial": 3000,
                    "arrivals_per_day": 0.0,
                    "calls_per_day": 0.0,
                    "tenure": {"kind": "lognormal", "median": 15.0, "sigma": 1.0},
                },
                "call_centre": NO_TRAFFIC_TYPE,
                "notifier": NO_TRAFFIC_TYPE,
            },
        }
    )


@pytest.fixture(scope="module")
def life_heavy():
    """Only an initial population, with a heavy-tailed (but valid) lognormal tenure."""
    return world(
        {
            "scenario": {"days": LIFE_DAYS, "warm_start": False},
            "record": {"calls": False},
            "spam": NO_SPAM,
            "subscribers": {
                "residential": NO_TRAFFIC_TYPE,
                "business": {
                    "initial": 4000,
                    "arrivals_per_day": 0.0,
                    "calls_per_day": 0.0,
                    "tenure": {"kind": "lognormal", "median": 10.0, "sigma": 2.0},
                },
                "call_centre": NO_TRAFFIC_TYPE,
                "notifier": NO_TRAFFIC_TYPE,
            },
        }
    )


def _arrival_times(res):
    subs = res.subscribers
    t = subs.loc[~subs["initial"] & (subs["type"] == "residential"), "start"].to_numpy()
    ex = res.exhaustion
    t = np.concatenate([t, ex.loc[ex["type"] == "residential", "t"].to_numpy()])
    return np.sort(t)


def test_arrivals_are_poisson(life):
    _, res = life
    t = _arrival_times(res)
    assert len(res.exhaustion) == 0
    lam = ARRIVALS_PER_DAY * LIFE_DAYS
    # total ~ Poisson(rate * days): within 4 SE = 4 sqrt(rate * days)
    assert abs(len(t) - lam) < Z * math.sqrt(lam), (len(t), lam)
    # per-day counts iid Poisson(200): sum (x - 200)^2 / 200 ~ chi2(days) (known mean);
    # two-sided p > 1e-3
    per_day = np.bincount((t // DAY).astype(np.int64), minlength=LIFE_DAYS)
    stat = ((per_day - ARRIVALS_PER_DAY) ** 2 / ARRIVALS_PER_DAY).sum()
    p = 2 * min(stats.chi2.cdf(stat, LIFE_DAYS), stats.chi2.sf(stat, LIFE_DAYS))
    assert p > ALPHA, f"per-day counts {per_day}, p = {p:.2e}"
    # the daily table counts the same arrivals
    assert res.daily["arrivals"].sum() == len(t)
    # inter-arrival times ~ Exp(mean DAY / rate): KS p > 1e-3
    gaps = np.diff(np.concatenate([[0.0], t]))
    ks = stats.kstest(gaps, stats.expon(scale=DAY / ARRIVALS_PER_DAY).cdf)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"


def test_arrival_tenures_follow_configured_distribution(life):
    cfg, res = life
    subs = res.subscribers
    early = subs[~subs["initial"] & (subs["type"] == "residential") & (subs["start"] < 5 * DAY)]
    dist = cfg.subscribers.residential.tenure.frozen()
    # arrivals before day 5 have >= 5 days left: censored only if T > 5 days, probability
    # exp(-5^1.5) = 1.4e-5 per subscriber (~0.01 expected among ~1000); censored tenures
    # count as +inf in the KS test, so nothing is silently dropped.
    tenure = ((early["end"] - early["start"]) / DAY).to_numpy()
    tenure = np.where(np.isnan(tenure), np.inf, tenure)
    assert len(tenure) > 800
    ks = stats.kstest(tenure, dist.cdf)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"
    # end_reason agrees with end
    ended = ~np.isnan(early["end"].to_numpy())
    assert ((early["end_reason"] != "active").to_numpy() == ended).all()


@pytest.mark.parametrize("which", ["life", "life_heavy"])
def test_initial_departures_follow_equilibrium_residual(which, request):
    cfg, res = request.getfixturevalue(which)
    subs = res.subscribers
    init = subs[subs["initial"] & (subs["type"] == "business")]
    tenure = cfg.subscribers.business.tenure
    dist, mean = tenure.frozen(), tenure.mean
    h = float(LIFE_DAYS)

    def fe(x):  # F_e(x) = (1/E[T]) * integral_0^x S(u) du, by quadrature
        return integrate.quad(dist.sf, 0.0, x, limit=200)[0] / mean

    end = (init["end"] / DAY).to_numpy()
    left = end[~np.isnan(end)]
    assert (left < h).all()
    # number departing before h ~ Binomial(N, F_e(h)): exact binomial test p > 1e-3
    n_left, n = len(left), len(init)
    bt = stats.binomtest(n_left, n, fe(h))
    assert bt.pvalue > ALPHA, f"{n_left}/{n} left vs F_e(h) = {fe(h):.4f}: p = {bt.pvalue:.2e}"
    # also at a few earlier horizons (each a binomial test, p > 1e-3)
    for x in (0.5, 2.0, 5.0):
        bt = stats.binomtest(int((left < x).sum()), n, fe(x))
        assert bt.pvalue > ALPHA, f"h = {x}: p = {bt.pvalue:.2e}"
    # given departure before h, departure times have CDF F_e(x) / F_e(h): KS p > 1e-3
    # (F_e in closed form, checked against the quadrature inside residual_cdf)
    fe_exact, fe_h = residual_cdf(tenure), fe(h)
    ks = stats.kstest(left, lambda x: fe_exact(x) / fe_h)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"


# ---------------------------------------------------------------------------------------
# 7. background spam
# ---------------------------------------------------------------------------------------
SPAM_DAYS = 330


@pytest.fixture(scope="module")
def spam_world():
    return world(
        {
            "scenario": {"days": SPAM_DAYS},
            "inventory": {"blocks_per_area_code": 2},  # 6,000 numbers
            "record": {"calls": True},
            "subscribers": {name: NO_TRAFFIC_TYPE for name in SUBSCRIBER_TYPES},
        }
    )


@pytest.mark.parametrize("days", [30, SPAM_DAYS])
def test_spam_counts_negative_binomial(spam_world, days):
    cfg, res = spam_world
    n_lines = len(cfg.inventory.area_codes) * cfg.inventory.blocks_per_area_code * 1000
    calls = res.calls
    assert (calls["kind"] == "spam").all()
    assert (calls["caller_id"] == -1).all()
    spam = calls[calls["t"] < days * DAY]
    x = np.bincount(spam["callee_id"].to_numpy(), minlength=n_lines)
    assert len(x) == n_lines
    k = cfg.spam.heterogeneity_shape
    mu = cfg.spam.calls_per_line_per_day * days
    nb = stats.nbinom(n=k, p=k / (k + mu))
    # mean within 4 SE (SE from the NB variance mu + mu^2/k); chi-square vs NB p > 1e-3
    assert_mean(x, mu, math.sqrt(mu + mu**2 / k), "spam per line")
    chi = pooled_chisquare(x, nb)
    assert chi.pvalue > ALPHA, f"chi-square vs NB: p = {chi.pvalue:.2e}"
    # share with no spam: Binomial(N, (1 + mu/k)^-k), exact test p > 1e-3
    p0 = (1 + mu / k) ** -k
    bt = stats.binomtest(int((x == 0).sum()), n_lines, p0)
    assert bt.pvalue > ALPHA, f"zero share {(x == 0).mean():.4f} vs {p0:.4f}: p = {bt.pvalue:.2e}"


def test_spam_follows_diurnal_profile(spam_world):
    cfg, res = spam_world
    hours = (res.calls["t"].to_numpy() // HOUR).astype(np.int64) % 24
    counts = np.bincount(hours, minlength=24)
    w = np.asarray(cfg.spam.diurnal)
    assert counts[w == 0].sum() == 0
    chi = categorical_chisquare(counts[w > 0], w[w > 0])  # p > 1e-3
    assert chi.pvalue > ALPHA, f"chi-square p = {chi.pvalue:.2e}"


# ---------------------------------------------------------------------------------------
# 8. aging
# ---------------------------------------------------------------------------------------
CHURN_DAYS = 200


@pytest.fixture(scope="module")
def churn():
    fast = {"tenure": {"kind": "exponential", "mean": 5.0}, "calls_per_day": 0.0}
    return world(
        {
            "scenario": {"days": CHURN_DAYS},
            "record": {"calls": False},
            "spam": NO_SPAM,
            "subscribers": {
                "residential": {"initial": 300, **fast},  # steady arrivals: 60 / day
                "business": {"initial": 150, "aging_days": [90.0, 150.0], **fast},
                "call_centre": {"initial": 30, "aging_days": [60.0, 70.0], **fast},
                "notifier": {"initial": 20, "aging_days": [100.0, 120.0], **fast},
            },
        }
    )


def _ledger(res):
    led = res.ledger.copy()
    for c in ("from_state", "to_state", "reason"):
        led[c] = led[c].astype(str)
    led["row"] = np.arange(len(led))
    return led.sort_values(["number_id", "t", "row"], kind="stable").reset_index(drop=True)


def test_ledger_is_a_valid_state_sequence(churn):
    _, res = churn
    led = _ledger(res)
    same = led["number_id"].to_numpy()[1:] == led["number_id"].to_numpy()[:-1]
    # each transition starts from the state the previous one ended in
    prev_to = led["to_state"].to_numpy()[:-1][same]
    cur_from = led["from_state"].to_numpy()[1:][same]
    assert (prev_to == cur_from).all()
    # the first transition of every number starts from "available"
    first = led.drop_duplicates("number_id", keep="first")
    assert (first["from_state"] == "available").all()
    # no number is assigned while aging: the row before any assignment is a release
    assign = led["reason"].to_numpy()[1:][same] == "assign"
    before = led["reason"].to_numpy()[:-1][same][assign]
    assert np.isin(before, ["release"]).all()
    assert assign.sum() > 1000  # numbers really were reused


def test_aging_gaps_within_bounds_and_uniform(churn):
    cfg, res = churn
    led = _ledger(res)
    types = res.subscribers.set_index("subscriber")["type"].astype(str)
    horizon = CHURN_DAYS * DAY
    nxt_reason = led["reason"].shift(-1)
    nxt_t = led["t"].shift(-1)
    nxt_num = led["number_id"].shift(-1)
    disc = led[led["reason"] == "disconnect"].copy()
    has_next = (nxt_num[disc.index] == disc["number_id"]).to_numpy()
    # the next transition after a disconnect is always its release
    assert (nxt_reason[disc.index][has_next] == "release").all()
    disc["release_t"] = np.where(has_next, nxt_t[disc.index], np.nan)
    disc["type"] = types.reindex(disc["owner"].to_numpy()).to_numpy()
    disc["gap"] = (disc["release_t"] - disc["t"]) / DAY
    checked = 0
    for name in SUBSCRIBER_TYPES:
        lo, hi = getattr(cfg.subscribers, name).aging_days
        d = disc[disc["type"] == name]
        # every observed gap lies in [lo, hi] (1e-6 s of float slack)
        g = d["gap"].dropna().to_numpy()
        assert (g >= lo - 1e-6 / DAY).all() and (g <= hi + 1e-6 / DAY).all(), (
            name,
            g.min(),
            g.max(),
        )
        # unreleased numbers are exactly those whose aging cannot have ended by the horizon
        unreleased = d[d["gap"].isna()]
        assert (unreleased["t"] > horizon - hi * DAY).all()
        # disconnects before horizon - hi: release always observed, no truncation bias;
        # gaps ~ Uniform(lo, hi): KS p > 1e-3
        full = d[d["t"] < horizon - hi * DAY]
        assert full["gap"].notna().all()
        assert len(full) > 100, (name, len(full))
        ks = stats.kstest(full["gap"].to_numpy(), stats.uniform(lo, hi - lo).cdf)
        assert ks.pvalue > ALPHA, f"{name}: KS p = {ks.pvalue:.2e}"
        checked += len(full)
    assert checked > 2000


def test_warm_start_aging_stock_and_residuals(churn):
    cfg, res = churn
    led = _ledger(res)
    types = cfg.subscribers.by_code()
    # Little's law: stock of type j = initial * (1 - port_out_share) * E[aging] / E[tenure];
    # the simulator draws Poisson(stock_j) numbers per type, so the total is
    # Poisson(sum of stocks): within 4 SE = 4 sqrt(total)
    stocks = np.array(
        [t.initial * (1 - t.port_out_share) * sum(t.aging_days) / 2 / t.tenure.mean for t in types]
    )
    warm = led[led["reason"] == "warm_aging"]
    assert (warm["t"] == 0).all()
    total = stocks.sum()
    assert abs(len(warm) - total) < Z * math.sqrt(total), (len(warm), total)
    # remaining aging of each warm number: by Poisson splitting, iid from the mixture of the
    # types' equilibrium residuals of Uniform(lo, hi) weighted by stock; every one is
    # released within the horizon (max aging 150 < 200 days). KS p > 1e-3.
    nxt = led.shift(-1)
    rel = nxt.loc[warm.index]
    assert (rel["number_id"].to_numpy() == warm["number_id"].to_numpy()).all()
    assert (rel["reason"] == "release").all()
    remaining = rel["t"].to_numpy() / DAY

    def fe_uniform(x, lo, hi):  # (1/E[T]) * integral_0^x S(u) du for Uniform(lo, hi)
        x = np.clip(x, 0.0, hi)
        tail = np.clip(x - lo, 0.0, None)
        return (x - tail**2 / (2 * (hi - lo))) / ((lo + hi) / 2)

    w = stocks / total

    def mixture(x):
        return sum(wj * fe_uniform(x, *t.aging_days) for wj, t in zip(w, types))

    ks = stats.kstest(remaining, mixture)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"


@pytest.mark.parametrize("spec", DISTS, ids=_ids)
def test_kernel_sampler_matches_scipy(spec):
    """The compiled sampler the world's kernels draw talk times with
    (``sim.core.fastrng.sample`` on a counter-based stream) against the same theory as
    NumPy's: KS p > 1e-3, mean and variance within 4 SE."""
    dist = TypeAdapter(Distribution).validate_python(spec)
    frozen = dist.frozen()
    stream = new_stream(np.random.default_rng([SEED, 200 + DISTS.index(spec)]))
    x = _kernel_draws(stream, *dist.kernel_params, N_DIST)
    assert stream[1] >= N_DIST  # every draw advanced the counter
    ks = stats.kstest(x, frozen.cdf)
    assert ks.pvalue > ALPHA, f"KS p = {ks.pvalue:.2e}"
    assert_mean(x, dist.mean, math.sqrt(dist.var), "sample mean")
    assert_variance(x, dist.var, float(frozen.stats(moments="k")), "sample variance")


@njit(cache=True)
def _kernel_draws(stream, code, a, b, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = sample(stream, code, a, b)
    return out


@njit(cache=True)
def _ziggurat_draws(stream, which, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = normal(stream) if which == 0 else exponential(stream)
    return out


N_ZIG = 2_000_000


@pytest.mark.parametrize(
    "which, tables, law, tail",
    [
        (0, (fastrng._NX, fastrng._NF), stats.norm, lambda r: 2 * stats.norm.sf(r)),
        (1, (fastrng._EX, fastrng._EF), stats.expon, stats.expon.sf),
    ],
    ids=["normal", "exponential"],
)
def test_ziggurat_layers_and_draws(which, tables, law, tail):
    """The ziggurat's tables and draws: every layer has the base's area (rectangle plus
    tail) to 1e-9, the top closes at 0; the draws follow the law (KS), the share beyond
    the base's edge ``r`` -- drawn by the separate tail method -- is binomial with the
    exact tail probability, and those tail draws follow the truncated law (KS)."""
    x, f = tables
    r = x[1]
    area = r * f[1] + law.sf(r) / law.pdf(0.0)  # the base, in f's units (f(0) = 1)
    assert x[-1] == 0.0 and f[-1] == 1.0 and np.all(np.diff(x) < 0)
    assert x[0] * f[1] == pytest.approx(area, rel=1e-9)
    layers = x[1:-1] * (f[2:] - f[1:-1])
    np.testing.assert_allclose(layers, area, rtol=1e-9)
    d = _ziggurat_draws(new_stream(np.random.default_rng([SEED, 300 + which])), which, N_ZIG)
    assert stats.kstest(d, law.cdf).pvalue > ALPHA
    beyond = np.abs(d) > r
    p_tail = float(tail(r))
    assert stats.binomtest(int(beyond.sum()), N_ZIG, p_tail).pvalue > ALPHA
    tail_law = stats.truncnorm(r, np.inf) if which == 0 else stats.expon(loc=r)
    assert stats.kstest(np.abs(d[beyond]), tail_law.cdf).pvalue > ALPHA
    if which == 0:  # both signs, evenly
        assert stats.binomtest(int((d > 0).sum()), N_ZIG, 0.5).pvalue > ALPHA
