"""Robocall campaigns in the world and the burst-detection policy, closed loop."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest

from models.burst.metrics import HEAVY, attribute_flags, busiest_windows
from sim.config import ConfigError, parse_config
from sim.runs.simulate import simulate
from sim.studies.burst.metrics import burst_metrics

ZERO_PM = re.compile(r"(?<![\d.,])0 ± 0(?![\d.])")
"""A value of exactly 0 ± 0 (not "100 ± 0.68")."""

WORLD = {
    "name": "robo",
    "seed": 11,
    "scenario": {"days": 2},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 4},
    "subscribers": {
        "residential": {"initial": 1500, "arrivals_per_day": 30},
        "business": {"initial": 300, "arrivals_per_day": 5},
        "call_centre": {"initial": 5, "arrivals_per_day": 4, "contacts_mean": 200},
        "notifier": {
            "initial": 3,
            "arrivals_per_day": 2,
            "bursts_per_day": 1.0,
            "burst_calls": 250,
            "contacts_mean": 300,
        },
    },
    "robocallers": {
        "campaigns": [
            {
                "name": "blast",
                "behaviour": "blaster",
                "start_day": 0.3,
                "days": 1.5,
                "numbers": 1,
                "calls_per_number_per_day": 103680,
                "rotate": "on_block",
                "active_hours": [0, 24],
            },
            {
                "name": "shoe",
                "behaviour": "snowshoe",
                "start_day": 0.2,
                "days": 1.7,
                "numbers": 40,
                "calls_per_number_per_day": 5,
                "active_hours": [0, 24],
            },
        ]
    },
    "detection": {
        "detector": "fixed_window",
        "threshold": 90,
        "window_seconds": 120,
        "extra_rules": [[1500, 86400]],
    },
}


def _config(**detection):
    raw = {**WORLD, "detection": {**WORLD["detection"], **detection}}
    return parse_config(raw)


@pytest.fixture(scope="module")
def blocked_run():
    return simulate(_config(), progress=False)


def test_campaign_numbers_come_from_the_inventory_as_new_assignments(blocked_run):
    """Robocall lines hold inventory numbers, assigned (ledger 'assign') when they start."""
    lines = blocked_run.subscribers
    robo = lines[lines["type"] == "robocaller"]
    assert len(robo) >= 41
    assign = blocked_run.ledger[blocked_run.ledger["reason"] == "assign"]
    assert set(robo["number_id"]) <= set(assign["number_id"])
    assert (robo["campaign"] >= 0).all() and (
        lines.loc[lines["type"] != "robocaller", "campaign"] == -1
    ).all()


def test_blaster_is_stopped_within_the_threshold_and_rotates(blocked_run):
    """The blaster is flagged at call threshold+1 of each number, and rotates to fresh numbers."""
    calls, lines = blocked_run.calls, blocked_run.subscribers
    blaster_lines = lines[(lines["type"] == "robocaller") & (lines["campaign"] == 0)]
    assert len(blaster_lines) > 1  # rotated on block
    for _, line in blaster_lines.iterrows():
        own = calls[
            (calls["caller_id"] == line["number_id"])
            & (calls["kind"] == "robocaller")
            & (calls["t"] >= line["start"])
        ]
        let_through = int((own["outcome"] != "blocked").sum())
        assert let_through <= 91, let_through
    m = burst_metrics(blocked_run)
    assert m["robocall.delay_calls_median.blaster"] <= 91
    assert m["robocall.blocked_share.blaster"] > 0.9


# -- legitimate bursts that reach and cross the rules -----------------------------------------
FAST, DAILY = (90, 120.0), (700, 86400.0)


def _legit_bursts_config():
    """No robocaller: new call-centre lines with opening backlogs (at 8-9 am) and campaign
    days, and notifiers with blasts, all drawn from lognormal distributions wide enough that
    some bursts stay under each rule and some cross it."""
    raw = copy.deepcopy(WORLD)
    raw["seed"] = 5
    raw["robocallers"] = {"campaigns": []}
    subs = raw["subscribers"]
    subs["call_centre"].update(
        arrivals_per_day=15,
        bursts_per_day=2.0,
        burst_calls=80,
        burst_minutes=4.0,
        burst_calls_sigma=0.5,
        burst_pace_sigma=0.8,
        burst_hours=[8, 9],
        surge_day_prob=0.5,
        surge_factor=2.4,
        surge_factor_sigma=0.4,
    )
    subs["notifier"].update(
        arrivals_per_day=8,
        bursts_per_day=3.0,
        burst_calls=150,
        burst_minutes=7.5,
        burst_calls_sigma=0.5,
        burst_pace_sigma=0.8,
    )
    raw["detection"] = {
        "detector": "fixed_window",
        "threshold": FAST[0],
        "window_seconds": FAST[1],
        "extra_rules": [list(DAILY)],
    }
    return parse_config(raw)


@pytest.fixture(scope="module")
def legit_lines():
    """Every legitimate new line with its busiest fixed-grid windows, its flag, and the
    calls of it that were blocked."""
    cfg = _legit_bursts_config()
    run = simulate(cfg, progress=False)
    busiest = busiest_windows(
        run.calls, run.subscribers, [FAST[1], DAILY[1]], cfg.detection.watch_days
    )
    lines = attribute_flags(run.flags, run.subscribers)
    out = busiest.merge(lines[["subscriber", "flagged_at", "start"]], on="subscriber")
    fast, daily = f"aligned_{FAST[1]:g}", f"aligned_{DAILY[1]:g}"
    out["over"] = (out[fast] > FAST[0]) | (out[daily] > DAILY[0])
    out["flagged"] = np.isfinite(out["flagged_at"])
    calls = run.calls[run.calls["caller_id"] >= 0]
    own = calls.merge(
        out[["number_id", "flagged_at", "start"]], left_on="caller_id", right_on="number_id"
    )
    own = own[own["t"] >= own["start"]]
    out["blocked"] = out["number_id"].map(
        own[own["outcome"] == "blocked"].groupby("number_id").size()
    )
    out["after_flag"] = out["number_id"].map(
        own[own["t"] >= own["flagged_at"]].groupby("number_id").size()
    )
    return out.fillna({"blocked": 0, "after_flag": 0})


def test_legitimate_bursts_over_a_rule_are_flagged_and_blocked(legit_lines):
    """Legitimate new lines whose calls went over a rule in one window of its grid (more
    than 90 calls in a 2-minute window, or 700 in a day) exist in this scenario, are all
    flagged, and lose exactly their calls from the flag on: the detector cannot tell a
    notification blast or a campaign day from a robocaller, and the scenario shows it."""
    over = legit_lines[legit_lines["over"]]
    assert len(over) >= 5
    assert over["type"].isin(HEAVY).all()
    assert over["flagged"].all(), over[~over["flagged"]]
    assert (over["blocked"] == over["after_flag"]).all()
    assert (over["blocked"] > 0).all()


def test_legitimate_bursts_under_the_rules_are_not_flagged(legit_lines):
    """Legitimate new lines whose busiest windows stayed at or under both rules are never
    flagged -- among them real bursts (at least 30 calls in 2 minutes, or 400 in a day)
    that came close."""
    under = legit_lines[~legit_lines["over"]]
    fast, daily = f"aligned_{FAST[1]:g}", f"aligned_{DAILY[1]:g}"
    close = under[(under[fast] >= 30) | (under[daily] >= 400)]
    assert len(close) >= 5
    assert not under["flagged"].any(), under[under["flagged"]]
    assert (under["blocked"] == 0).all()


def test_notification_bursts_happen(blocked_run):
    """Notifiers place bursts of burst_calls calls in under an hour."""
    calls = blocked_run.calls
    notif = calls[calls["kind"] == "notifier"]
    per_hour = notif.groupby([notif["caller_id"], (notif["t"] // 3600)]).size()
    assert per_hour.max() >= 150


def test_per_number_rules_miss_the_snowshoe_and_the_cohort_detector_finds_it(blocked_run):
    """Snowshoe numbers stay under per-number thresholds; the cohort detector flags them."""
    plain = burst_metrics(blocked_run)
    assert plain["robocall.flagged_share.snowshoe"] == 0
    cohort = {**parse_config({}).detection.detectors["cohort"], "threshold": 20, "min_members": 8}
    with_cohort = burst_metrics(
        simulate(_config(beside=["cohort"], detectors={"cohort": cohort}), progress=False)
    )
    assert with_cohort["robocall.flagged_share.snowshoe"] >= 0.5
    assert with_cohort["detection.false_flags_per_new_number"] == 0


def test_without_detection_nothing_is_blocked_and_more_robocalls_get_through(blocked_run):
    """The baseline run blocks nothing; the policy cuts delivered robocalls."""
    free = simulate(_config(detector="none"), progress=False)
    m0, m1 = burst_metrics(free), burst_metrics(blocked_run)
    assert m0["detection.robocall_blocked_share"] == 0
    assert m1["detection.robocalls_delivered"] < 0.2 * m0["detection.robocalls_delivered"]


def test_limit_action_lets_a_trickle_through():
    """With action 'limit', a flagged blaster gets about limit_per_hour calls an hour."""
    run = simulate(_config(action="limit", limit_per_hour=30), progress=False)
    calls, lines = run.calls, run.subscribers
    robo = calls[(calls["kind"] == "robocaller") & (calls["campaign"] == 0)]
    flags = run.flags
    assert len(flags) > 0
    after = robo[robo["t"] > flags["t"].min() + 600]
    hours = (after["t"].max() - after["t"].min()) / 3600
    delivered = int((after["outcome"] != "blocked").sum())
    assert 0 < delivered <= 30 * (hours + 1) * len(lines[lines["campaign"] == 0]) + 10


def test_watchlist_size_is_reported(blocked_run):
    """The list's size is recorded at each purge and stays within the new numbers."""
    wl = blocked_run.watchlist
    assert len(wl) == 1  # purges every 24 h strictly inside the 2-day run: at day 1
    assert (wl["listed"] > 0).all()
    new = (~blocked_run.subscribers["initial"]).sum()
    assert (wl["listed"] <= new).all()


def test_detection_runs_are_reproducible():
    """Same config and seed: identical flags and calls with a closed-loop policy."""
    a = simulate(_config(detector="ewma"), progress=False)
    b = simulate(_config(detector="ewma"), progress=False)
    assert a.flags.equals(b.flags) and a.calls.equals(b.calls)


@pytest.mark.parametrize(
    "override, key",
    [
        ("detection.threshold=0", "detection.threshold"),
        ("detection.window_seconds=-5", "detection.window_seconds"),
        ("detection.detector='magic'", "detection.detector"),
        ("detection.extra_rules=[[0, 60]]", "detection.extra_rules"),
        ("detection.sketch_width=1000", "detection.sketch_width"),
        ("robocallers.campaigns.0.behaviour='spammer'", "robocallers.campaigns.0.behaviour"),
        ("robocallers.campaigns.0.active_hours=[20, 9]", "robocallers.campaigns.0.active_hours"),
    ],
)
def test_bad_detection_config_names_the_key(override, key):
    """Non-positive thresholds or windows and unknown names are config errors."""
    with pytest.raises(ConfigError) as info:
        parse_config(WORLD, [override])
    assert str(info.value).startswith(key)


def test_experiment_report_has_the_robocall_section(tmp_path):
    """tnlab run on a detector sweep writes detection metrics, curves and a recommendation."""
    from sim import run_experiment

    raw = {
        **WORLD,
        "replications": 2,
        "scenario": {"days": 1},
        "sweep": {"detection.detector": ["none", "fixed_window"]},
    }
    result = run_experiment(parse_config(raw), tmp_path, progress=False)
    metrics = result.metrics
    assert {"detection.false_flags_per_new_number", "robocall.blocked_share.blaster"} <= set(
        metrics["metric"]
    )
    blocked = (
        metrics[metrics["metric"] == "detection.robocall_blocked_share"]
        .groupby("detection.detector")["value"]
        .mean()
    )
    assert blocked["none"] == 0 and blocked["fixed_window"] > 0.5
    page = (tmp_path / "index.html").read_text()
    page = page[page.index("<h2>Robocall detection") :]  # the study's own section
    for heading in ("Robocall detection", "Can the detector be wrong here?", "Closed loop"):
        assert heading in page
    assert "Open loop: choosing a detector" in page
    assert "Page&#x27;s CUSUM" in page or "Page's CUSUM" in page  # the bound beside the curves
    assert "not an upper bound" in page and "upper bound of Kleinberg" not in page
    assert not ZERO_PM.search(page)  # zero counts get exact bounds, constant values say so
    assert "No recommendation" in page  # two replications: too few to recommend


def test_policies_share_the_legitimate_world(blocked_run):
    """Common random numbers: with or without the detector (and whatever the operators do
    in reaction), every call that is not a robocall happens at the same time from the same
    kind of caller.  Outcomes differ only where the network differs: rotating operators take
    numbers from the same pool, so a few callees are assigned in one run and not the other."""
    free = simulate(_config(detector="none"), progress=False).calls
    limited = blocked_run.calls
    cols = ["t", "kind", "answered"]
    a = free.loc[free["kind"] != "robocaller", cols].reset_index(drop=True)
    b = limited.loc[limited["kind"] != "robocaller", cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["t", "kind"]], b[["t", "kind"]])
    assert (a["answered"] != b["answered"]).mean() < 1e-3
