"""Robocall campaigns in the world and the burst-detection policy, closed loop."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.config import ConfigError, parse_config
from sim.runs.simulate import simulate
from sim.studies.burst.metrics import burst_metrics

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


def test_legitimate_traffic_is_not_hurt(blocked_run):
    """No legitimate call is blocked and no legitimate new number is flagged."""
    m = burst_metrics(blocked_run)
    assert m["detection.legit_blocked_share"] == 0
    assert m["detection.false_flags_per_new_number"] == 0
    assert m["detection.heavy_flagged_share"] == 0
    assert m["detection.precision"] == 1


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
        "replications": 1,
        "scenario": {"days": 1},
        "sweep": {"detection.detector": ["none", "fixed_window"]},
    }
    result = run_experiment(parse_config(raw), tmp_path, progress=False)
    metrics = result.metrics
    assert {"detection.false_flags_per_new_number", "robocall.blocked_share.blaster"} <= set(
        metrics["metric"]
    )
    blocked = metrics[metrics["metric"] == "detection.robocall_blocked_share"].set_index(
        "detection.detector"
    )["value"]
    assert blocked["none"] == 0 and blocked["fixed_window"] > 0.5
    page = (tmp_path / "index.html").read_text()
    assert "Robocall detection" in page and "What the evidence says" in page
    assert "kleinberg (offline)" in page or "Kleinberg" in page


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
