"""Residual traffic, threshold status, harm and release policies, against theory and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import parse_config
from sim.runs.simulate import simulate

DAY = 86400.0
QUIET = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
CHURN = {
    "name": "churn",
    "seed": 11,
    "scenario": {"days": 120},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 6},
    "subscribers": {
        "residential": {
            "initial": 3000,
            "tenure": {"kind": "lognormal", "median": 60.0, "sigma": 0.5},
            "calls_per_day": 0.5,
            "contacts_mean": 10.0,
        },
        "business": {
            "initial": 300,
            "tenure": {"kind": "lognormal", "median": 60.0, "sigma": 0.5},
            "calls_per_day": 1.0,
            "contacts_mean": 10.0,
        },
        "call_centre": QUIET,
        "notifier": QUIET,
    },
}


def _run(residual=None, **aging):
    raw = {**CHURN, "aging": aging} if aging else dict(CHURN)
    if residual:
        raw["residual"] = residual
    return simulate(parse_config(raw), progress=False)


@pytest.fixture(scope="module")
def churn():
    return _run()


def _episode_of_calls(calls: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Each residual call with the latest episode of its number begun before it."""
    res = calls[calls.kind == "residual"].rename(columns={"callee_id": "number_id"})
    res = res.sort_values("t")
    eps = episodes[["episode", "number_id", "t"]].rename(columns={"t": "t_ep"}).sort_values("t_ep")
    return pd.merge_asof(
        res, eps, left_on="t", right_on="t_ep", by="number_id", direction="backward"
    )


def _lomax_integral(lam0, alpha, beta, a, b):
    """Integral of lam0 * (1 + t / beta) ** -alpha over [a, b] (days)."""
    return (
        lam0 * beta / (1 - alpha) * ((1 + b / beta) ** (1 - alpha) - (1 + a / beta) ** (1 - alpha))
    )


def test_residual_calls_decay_as_the_lomax_mixture(churn):
    """Calls per episode in bins of time since the disconnect match the closed form
    lam0 * (1 + t / beta) ** -alpha plus the persistent part (z-test per bin, variance
    estimated from the independent episodes)."""
    eps, calls = churn.episodes, churn.calls
    assert len(eps) > 2000
    got = _episode_of_calls(calls, eps)
    assert got.episode.notna().all()
    age = (got.t - got.t_ep) / DAY
    horizon = (120 * DAY - eps.t.to_numpy()) / DAY
    for a, b in [(0, 1), (1, 3), (3, 7), (7, 14), (14, 30), (30, 60)]:
        hi = np.clip(horizon, a, b)
        expected = _lomax_integral(
            eps.lam0.to_numpy(), eps.alpha.to_numpy(), eps.beta_days.to_numpy(), a, hi
        )
        expected += eps.persistent_per_day.to_numpy() * np.clip(
            np.minimum(eps.persistent_days.to_numpy(), hi) - a, 0, None
        )
        counts = np.bincount(got.episode[(age >= a) & (age < b)].astype(int), minlength=len(eps))
        dev = counts - expected
        z = dev.sum() / np.sqrt((dev**2).sum())
        assert abs(z) < 4, (a, b, counts.sum(), expected.sum(), z)


def test_features_are_what_90_days_of_records_show(churn):
    """E[inbound_90d] = (lam0 + persistent + own spam rate) x window, window = min(90,
    tenure): a z-test of the summed deviations, whose variance is the sum of the means
    (the count is a sum of independent Poisson counts).  Without the spam term the same
    statistic is far outside (the test can tell the term is there)."""
    eps = churn.episodes
    window = np.minimum(90.0, eps.tenure_days)
    residual = (eps.lam0 + eps.persistent_per_day) * window
    mean = residual + eps.spam_per_day * window
    dev = eps.inbound_90d - mean
    z = dev.sum() / np.sqrt(mean.sum())
    assert abs(z) < 4, z
    z_without_spam = (eps.inbound_90d - residual).sum() / np.sqrt(mean.sum())
    assert z_without_spam > 10, z_without_spam
    # and per type, where the residual rates differ by a factor of three
    for name, part in eps.groupby(eps.type.astype(str)):
        if len(part) > 100:
            d = part.inbound_90d - mean[part.index]
            assert abs(d.sum() / np.sqrt(mean[part.index].sum())) < 4, name
    assert (eps.inbound_90d >= 0).all() and (eps.unique_callers_90d <= eps.inbound_90d).all()
    share = eps.robocall_share
    assert ((share >= 0) & (share <= 1)).all()
    np.testing.assert_allclose(
        share * eps.inbound_90d, np.round(share * eps.inbound_90d), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["residual", "observed"])
def test_first_crossings_match_a_recount_from_the_calls_table(churn, kind):
    """The tracker's first crossing of each threshold equals a direct recount: at each
    day's end, the calls to the number over the trailing 14 days (fewer right after the
    disconnect) divided by that many days, against the threshold -- residual calls for the
    truth; every inbound call less the mean background rate for what the carrier sees."""
    cfg = churn.config
    eps, calls = churn.episodes, churn.calls
    once = eps.groupby("number_id").episode.transform("size") == 1
    sample = eps[once].sample(300, random_state=1)
    res = calls[calls.kind == "residual"] if kind == "residual" else calls
    by_number = {k: g.t.to_numpy() for k, g in res.groupby("callee_id")}
    cross = churn.crossings.set_index(["episode", "threshold"])
    column = "first_days" if kind == "residual" else "obs_first_days"
    bg = cfg.spam.calls_per_line_per_day
    less = 0.0 if kind == "residual" else bg
    w = cfg.aging.trailing_days
    checked = differ = 0
    for ep in sample.itertuples():
        times = by_number.get(ep.number_id, np.empty(0))
        for m in cfg.aging.thresholds:
            first = np.nan
            for e in np.arange(np.ceil(ep.t / DAY), 121) * DAY:
                age = (e - ep.t) / DAY
                if age < 1:
                    continue
                since = max(e - w * DAY, ep.t)  # the owner's own calls before do not count
                n = np.count_nonzero((times >= since) & (times < e))
                if n / min(age, w) - less <= m * bg:
                    first = age
                    break
            got = cross.loc[(ep.episode, m), column]
            np.testing.assert_allclose(got, first, equal_nan=True)
            checked += np.isfinite(first)
            differ += not np.allclose(got, cross.loc[(ep.episode, m), "first_days"], equal_nan=True)
    assert checked > 300
    if kind == "observed":  # spam makes the carrier's view differ from the truth
        assert differ > 50, differ


def test_status_table_records_every_crossing(churn):
    """Status rows alternate below/above per episode and threshold, start with a crossing
    below, and the last row's status is the final one (stable crossing = last row below)."""
    st = churn.threshold_status
    cross = churn.crossings.set_index(["episode", "threshold"])
    assert st.state.notna().all()
    assert (st.state != "aging").any()  # tracked after release and reassignment too
    for (ep, m), g in list(st.groupby(["episode", "threshold"]))[:500]:
        below = g.below.to_numpy()
        assert below[0] and (below[1:] != below[:-1]).all()
        stable = cross.loc[(ep, m), "stable_days"]
        if below[-1]:
            t_ep = churn.episodes.set_index("episode").t[ep]
            np.testing.assert_allclose(stable, (g.t.iloc[-1] - t_ep) / DAY)
        else:
            assert np.isnan(stable)


def test_harm_is_residual_calls_delivered_to_new_owners(churn):
    """harm_calls = residual calls delivered to a number's next owner within harm_days of
    their start, recounted from the calls and subscribers tables."""
    cfg = churn.config
    got = _episode_of_calls(churn.calls, churn.episodes)
    got = got[got.outcome == "delivered"]
    subs = churn.subscribers.rename(columns={"start": "s_start", "subscriber": "owner"})
    merged = pd.merge_asof(
        got.sort_values("t"),
        subs[["number_id", "s_start", "owner"]].sort_values("s_start"),
        left_on="t",
        right_on="s_start",
        by="number_id",
        direction="backward",
    )
    new = (merged.s_start > merged.t_ep) & (merged.t - merged.s_start <= cfg.aging.harm_days * DAY)
    expected = merged[new].groupby("episode").size()
    harm = churn.episodes.set_index("episode").harm_calls
    assert expected.sum() > 0
    pd.testing.assert_series_equal(
        harm[harm > 0].sort_index(),
        expected.astype("int64").sort_index(),
        check_names=False,
        check_index_type=False,
    )


def _last_disconnect_before(calls: pd.DataFrame, ledger: pd.DataFrame) -> np.ndarray:
    """Per call, the callee number's latest disconnect before the call (NaN if none)."""
    disc = ledger.loc[ledger.reason == "disconnect", ["number_id", "t"]]
    disc = disc.rename(columns={"number_id": "callee_id", "t": "disc_t"}).sort_values("disc_t")
    merged = pd.merge_asof(
        calls.reset_index().sort_values("t"),
        disc,
        left_on="t",
        right_on="disc_t",
        by="callee_id",
        allow_exact_matches=False,
    )
    return merged.set_index("index").disc_t.reindex(calls.index).to_numpy()


def test_subscribers_stop_calling_disconnected_contacts(churn):
    """Subscribers' calls to on-net contacts whose number was disconnected after the caller
    joined (stale entries) are redirected: under 0.2% of the calls reach such a number,
    whereas the contact entries themselves went stale far more often -- estimated per call
    as the share of the lines in service when the caller joined (the pool its on-net
    contacts were drawn from) that were disconnected between then and the call.  The
    calls must reach stale entries at under a tenth of that rate."""
    calls, subs, ledger = churn.calls, churn.subscribers, churn.ledger
    sub_calls = calls[calls.kind.isin(["residential", "business"]) & (calls.callee_id >= 0)]
    sub_calls = pd.merge_asof(  # the subscriber holding the calling number at the call
        sub_calls.sort_values("t"),
        subs[["number_id", "start"]]
        .rename(columns={"number_id": "caller_id"})
        .sort_values("start"),
        left_on="t",
        right_on="start",
        by="caller_id",
    ).dropna(subset=["start"])
    disc_t = _last_disconnect_before(sub_calls, ledger)
    stale = disc_t > sub_calls.start.to_numpy()
    observed = stale.mean()
    assert observed < 0.002, observed
    # how often the would-be callees (uniform over the caller's contact entries, on-net
    # ones drawn uniformly from the lines in service when the caller joined) went stale
    sample = sub_calls.sample(1500, random_state=2)
    start, end = subs.start.to_numpy(), subs.end.to_numpy()
    by_disconnect = (subs.end_reason == "disconnect").to_numpy()
    s, t = sample.start.to_numpy()[:, None], sample.t.to_numpy()[:, None]
    in_service = (start[None, :] <= s) & ~(end[None, :] <= s)
    went_stale = in_service & by_disconnect[None, :] & (end[None, :] < t)
    share = went_stale.sum(axis=1) / in_service.sum(axis=1)
    expected = share.mean()
    se = share.std(ddof=1) / np.sqrt(len(share))
    assert expected - 3 * se > 10 * max(observed, 1e-4), (expected, se, observed)


@pytest.mark.parametrize("policy, expect", [("fixed_60", {"residential": 60.0, "business": 90.0})])
def test_fixed_release_holds_each_type_for_its_clipped_days(policy, expect):
    res = _run(release={"policy": policy})
    eps = res.episodes.dropna(subset=["release_t"])
    days = (eps.release_t - eps.t) / DAY
    for name, d in expect.items():
        sel = days[eps.type == name]
        assert len(sel) > 10
        np.testing.assert_allclose(sel, d, rtol=0, atol=1e-6)


def test_quiet_release_stays_within_bounds_and_frees_quiet_numbers_early():
    res = _run(release={"policy": "quiet"})
    cfg = res.config
    eps = res.episodes.dropna(subset=["release_t"])
    days = (eps.release_t - eps.t) / DAY
    for name in ("residential", "business"):
        lo, hi = getattr(cfg.subscribers, name).aging_days
        sel = days[eps.type == name]
        assert sel.min() >= lo - 1e-6 and sel.max() <= hi + 1e-6
    resi = days[eps.type == "residential"]
    assert (resi < 46).mean() > 0.3 and (resi > 89).any()


def test_model_release_follows_the_trained_models_prediction():
    """Each number is released exactly when the trained model gives it the configured
    probability of being quiet, clipped to its type's bounds (slow decay here, so that
    the predictions spread between the bounds)."""
    from sim.runs.simulate import study_policies
    from sim.studies.aging.models import run_frame

    res = _run(
        residual={"residential": {"tenure_scale_days": 20.0, "stop_beta_days": 60.0}},
        release={"policy": "model", "policies": {"model": {"quantile": 0.8}}, "train_days": 120.0},
    )
    cfg = res.config
    model = study_policies(cfg).release.model_  # memoised: the very model the run used
    frame = run_frame(res).dropna(subset=["release_t"])
    assert len(frame) > 100
    bounds = np.array([getattr(cfg.subscribers, t).aging_days for t in frame["type"]])
    want = np.clip(model.predict_days(frame, q=0.2), bounds[:, 0], bounds[:, 1])
    got = (frame["release_t"] - frame["t"]) / DAY
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    inside = (got > bounds[:, 0] + 1) & (got < bounds[:, 1] - 1)
    assert inside.mean() > 0.1  # the check above is not only about the clipping


def test_model_release_refuses_a_training_run_with_too_few_crossings():
    """A model-driven policy trained on a few days of history fails with one line naming
    the key, before the run starts."""
    from sim.config import ConfigError

    with pytest.raises(ConfigError, match=r"^aging\.release\.train_days: the training run saw"):
        _run(release={"policy": "model", "train_days": 2.0})


def test_a_shared_training_run_is_computed_once_and_read_back_equal(tmp_path):
    """The training run's episodes kept in an experiment's shared folder: the first
    process runs the world and writes them, the next reads them without running it,
    and what it reads equals the run's own frame (values, dtypes, episode index)."""
    from sim.runs.simulate import _in_memory
    from sim.studies.aging.models import _training_frame

    cfg = parse_config({**CHURN, "scenario": {"days": 30}})
    worlds = []

    def run_world(config, point, replication):
        worlds.append((point, replication))
        return _in_memory(config, point, replication)

    first = _training_frame(cfg, 1, run_world, tmp_path)
    again = _training_frame(cfg, 1, run_world, tmp_path)
    assert len(worlds) == 1 and len(first) > 20
    pd.testing.assert_frame_equal(again, first)
    pd.testing.assert_frame_equal(first, _training_frame(cfg, 1, _in_memory, None))
    other = _training_frame(cfg, 2, run_world, tmp_path)  # another replication: its own run
    assert len(worlds) == 2 and not other.equals(first)
