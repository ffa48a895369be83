"""The fleet-replacement study: the fleet's rates against their Poisson and binomial laws,
the server's headset mapping by hand, common random numbers across policies, the failures
the study measures (headset-only copying another user's record; the PIN failing when a
colleague knows it), decisions scored against the truth, per-run figures by hand, the
report's conclusions, and bad fleet config as one line naming the key.

Tolerances are 4 standard errors of the quantity checked.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from models.common import DAY
from models.provisioning.fleet import non_default_fields, score
from models.provisioning.records import PhoneConfig
from models.provisioning.replacement import BASIC_EXCLUDED, ReplacementDecision
from sim.config import ConfigError, parse_config
from sim.results.run import SimResult
from sim.results.store import ExperimentResult, point_table
from sim.runs.simulate import simulate
from sim.studies.fleet.metrics import fleet_metrics
from sim.studies.fleet.report import fleet_evidence
from sim.studies.fleet.values import fleet_points
from sim.world.fleet import YEAR, Fleet
from sim.world.recorder import Recorder

ZERO_PM = re.compile(r"(?<![\d.,])0 ± 0(?![\d.])")
"""A value of exactly 0 ± 0 (not "100 ± 0.68")."""

QUIET = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
BASE = {
    "name": "fleet-test",
    "seed": 11,
    "scenario": {"days": 100},
    "record": {"calls": False},
    "subscribers": {k: QUIET for k in ("residential", "business", "call_centre", "notifier")},
    "spam": {"calls_per_line_per_day": 0.0},
    "fleet": {"enabled": True, "phones": 3000, "failures_per_year": 1.0},
}


def _config(fleet=None, **top):
    return parse_config({**BASE, **top, "fleet": {**BASE["fleet"], **(fleet or {})}})


def _run(fleet=None, **kw):
    return simulate(_config(fleet), progress=False, **kw)


# -- the fleet against its laws -------------------------------------------------------------
def test_failures_and_their_draws_follow_their_laws():
    cfg = _config({"phones": 5000, "failures_per_year": 4.0})
    r = simulate(cfg, progress=False).fleet_replacements
    # Poisson count, 5,480 expected (4 standard errors: 5.4%); a failure of a phone already
    # being replaced (~0.3%) is not a second replacement
    expected = 5000 * 4.0 * 100 / 365.25  # per Julian year, written out (not fleet.YEAR)
    assert abs(len(r) - expected) <= 4 * math.sqrt(expected)
    p = cfg.fleet.still_registered_share
    assert abs(r["still_registered"].mean() - p) <= 4 * math.sqrt(p * (1 - p) / len(r))
    inst = cfg.fleet.install_hours
    se = math.sqrt(inst.var / len(r))
    assert abs(r["install_hours"].mean() - inst.mean) <= 4 * se


def test_headset_events_follow_their_rates():
    cfg = _config({"phones": 5000, "borrows_per_year": 2.0, "moves_per_year": 0.0})
    res = simulate(cfg, progress=False)
    h = res.fleet_headsets
    headsets = 5000 * cfg.fleet.headset_share
    # a loan is attempted at 2 a headset-year; it goes ahead when the headset is its
    # owner's alone and the borrower is free -- nearly always at these rates
    borrows = (h["kind"] == "borrow").sum()
    expected = 2.0 * headsets * 100 * DAY / YEAR
    assert expected * 0.85 <= borrows <= expected + 4 * math.sqrt(expected)
    assert (h["kind"] == "move").sum() == 0
    returns = h[h["kind"] == "return"]
    assert len(returns) <= borrows


# -- the server's mapping, by hand ----------------------------------------------------------
class _Env:
    now = 0.0

    def process(self, gen):
        return None


def _fleet(**changes):
    cfg = _config({"phones": 10, "headset_share": 1.0, "mapping_days": 90.0, **changes}).fleet
    rec = Recorder(None, ["fleet_headsets", "fleet_replacements"])
    env = _Env()
    fleet = Fleet(
        env=env,
        cfg=cfg,
        policy=cfg.build_policy(),
        horizon=1e9,
        tables=rec.tables,
        rng=np.random.default_rng(0),
    )
    return fleet, env


def test_mapping_after_share_move_and_loan():
    fleet, env = _fleet()
    assert fleet.mapping(3, 0.0, 0.5) == (1, 3)
    fleet.users[3] = [3, 4]  # shared with user 4 (who put their own away)
    fleet.users[4] = []
    fleet.uses[4] = 3
    assert fleet.mapping(3, 0.0, 0.2) == (2, 3) and fleet.mapping(3, 0.0, 0.7) == (2, 4)
    # moved for good from user 5 to user 6: both mapped until user 5's mapping expires
    fleet.users[5], fleet.stopped[5][5] = [6], 0.0
    assert fleet.mapping(5, 89 * DAY, 0.5) == (2, 6)
    assert fleet.mapping(5, 91 * DAY, 0.5) == (1, 6)
    # lent by user 7 to user 8: the borrower is the one reporting it
    fleet.lent_to[7], fleet.stopped[7][7] = 8, 0.0
    assert fleet.mapping(7, DAY, 0.5) == (2, 8)


def test_a_shared_headset_copies_the_partner_record_with_the_naive_mapping():
    """The truth: user 4's new phone. The headset at the desk was last reported with user 3:
    the naive headset policy copies user 3's record; refusing conflicts does not."""
    for refuse, wrong in ((False, True), (True, False)):
        fleet, env = _fleet(policies={"headset": {"refuse_conflicts": refuse}}, policy="headset")
        fleet.users[3], fleet.users[4], fleet.uses[4] = [3, 4], [], 3
        draws = {"location": 0.1, "latest": 0.1, "forget": 0.9, "knows": 0.9}
        request, h, found, count = fleet._request(4, draws)
        assert (h, found, count) == (3, 3, 2)
        decision = fleet.policy.decide(request)
        s = score(decision, desk_user=4, found_user=found, configured=fleet.configured(4))
        assert s.wrong_user is wrong and s.protective is (not wrong)


# -- common random numbers and the failures the study measures ----------------------------
def test_policies_face_the_same_fleet():
    runs = {p: _run({"policy": p}) for p in ("headset", "extension_pin", "manual")}
    base = runs["headset"]
    keep = ["t", "user", "headset", "still_registered", "install_hours"]
    for res in runs.values():
        pd.testing.assert_frame_equal(res.fleet_headsets, base.fleet_headsets)
        pd.testing.assert_frame_equal(res.fleet_replacements[keep], base.fleet_replacements[keep])
    assert not runs["manual"].fleet_replacements["outcome"].eq("accept").any()


SHARING = {"phones": 3000, "shares_per_year": 1.0, "failures_per_year": 2.0}


def test_headset_only_assigns_wrong_users_where_the_pin_does_not():
    naive = fleet_metrics(
        _run({**SHARING, "policy": "headset", "policies": {"headset": {"refuse_conflicts": False}}})
    )
    pin = fleet_metrics(_run({**SHARING, "policy": "headset_pin"}))
    assert naive["fleet.wrong_users"] > 0
    assert pin["fleet.wrong_users"] == 0 and pin["fleet.refused_protective"] > 0


def test_the_pin_fails_when_colleagues_know_it():
    known = fleet_metrics(
        _run(
            {
                **SHARING,
                "policy": "headset_pin",
                "pin_known_by_other": 1.0,
                "policies": {"headset_pin": {"refuse_conflicts": False}},
            }
        )
    )
    assert known["fleet.wrong_users"] > 0


# -- scoring and per-run figures by hand ----------------------------------------------------
def test_score_against_the_truth():
    configured = frozenset({"numbers", "speed_dials", "blf"})
    basic = ReplacementDecision("accept", key="headset", excluded=BASIC_EXCLUDED)
    assert score(basic, desk_user=1, found_user=1, configured=configured).fields_lost == 2
    full = ReplacementDecision("accept", key="headset")
    s = score(full, desk_user=1, found_user=2, configured=configured)
    assert s.wrong_user and s.fields_lost == 3 and s.admin_touches == 1
    refused = ReplacementDecision("refuse", "headset_conflict")
    s = score(refused, desk_user=1, found_user=2, configured=configured)
    assert s.refused and s.protective and s.fields_lost == 0
    s = score(refused, desk_user=1, found_user=1, configured=configured)
    assert not s.protective
    assert non_default_fields(PhoneConfig()) == frozenset()


def test_fleet_metrics_by_hand():
    cfg = _config()
    cat = pd.Categorical
    r = pd.DataFrame(
        {
            "t": [0.0, 1.0, 2.0, 3.0],
            "user": np.arange(4, dtype=np.int32),
            "headset": np.array([0, 1, -1, 3], dtype=np.int32),
            "headset_users": np.array([1, 2, 0, 1], dtype=np.int16),
            "found_user": np.array([0, 9, -1, 3], dtype=np.int32),
            "still_registered": [False, False, True, False],
            "pin_offered": [False] * 4,
            "pin_ok": [False] * 4,
            "outcome": cat(["accept", "accept", "refuse", "refuse"]),
            "reason": cat(["accepted", "accepted", "no_headset", "headset_conflict"]),
            "wrong_user": [False, True, False, False],
            "protective": [False, False, False, True],
            "fields_lost": np.array([2, 5, 0, 0], dtype=np.int16),
            "admin_touches": np.array([0, 1, 1, 1], dtype=np.int8),
            "install_hours": [4.0, 4.0, 4.0, 4.0],
            "service_hours": [4.0, 12.0, 12.0, 20.0],
        }
    )
    h = pd.DataFrame(
        {
            "t": [0.0, 1.0],
            "headset": np.array([1, 1], dtype=np.int32),
            "kind": cat(["borrow", "return"]),
            "from_user": np.array([1, 2], dtype=np.int32),
            "to_user": np.array([2, 1], dtype=np.int32),
        }
    )
    m = fleet_metrics(SimResult(cfg, frames={"fleet_replacements": r, "fleet_headsets": h}))
    assert m["fleet.replacements"] == 4 and m["fleet.accepted"] == 2
    assert m["fleet.wrong_users"] == 1 and m["fleet.wrong_users_share"] == 0.25
    assert m["fleet.refused"] == 2 and m["fleet.refused_protective"] == 1
    assert m["fleet.refused_needless"] == 1
    assert m["fleet.service_hours_mean"] == 12.0 and m["fleet.fields_lost_mean"] == 1.75
    assert m["fleet.admin_touches_share"] == 0.75 and m["fleet.borrows"] == 1


# -- the report's conclusions ---------------------------------------------------------------
SWEEP = {"fleet.policy": ["headset_pin", "extension_pin", "manual"]}


def _experiment(tmp_path, service, wrong, *, replications=5):
    cfg = _config(sweep=SWEEP, replications=replications)
    points = point_table(cfg)
    rows = []
    for p in range(3):
        per = {
            "fleet.replacements": [1000.0] * replications,
            "fleet.wrong_users": [wrong[p]] * replications,
            "fleet.wrong_users_share": [wrong[p] / 1000] * replications,
            "fleet.refused_needless": [300.0] * replications,
            "fleet.refused_protective": [10.0] * replications,
            "fleet.service_hours_mean": service[p][:replications],
            "fleet.admin_touches_share": [0.3] * replications,
            "fleet.fields_lost_mean": [0.0] * replications,
        }
        for metric, vals in per.items():
            for r, v in enumerate(vals):
                rows.append({"point": p, "replication": r, "metric": metric, "value": float(v)})
    result = ExperimentResult(cfg, tmp_path, pd.DataFrame(rows), points)
    return result, fleet_points(result, {int(p): f"p{p}" for p in points["point"]})


FAST = [[10.1, 10.3, 9.9, 10.0, 10.2], [7.0, 7.1, 6.9, 7.2, 7.0], [19.0, 19.5, 18.8, 19.1, 19.2]]


def test_a_clear_winner_among_the_safe_is_recommended(tmp_path):
    result, pts = _experiment(tmp_path, FAST, [0, 0, 0])
    text = fleet_evidence(result, pts)
    assert "Recommended: extension_pin" in text
    assert "Target of 0 wrong-user assignments with the PIN — met</b> for headset_pin" in text
    assert "0 of 5,000 (95% upper bound" in text and not ZERO_PM.search(text)


def test_a_policy_with_wrong_users_is_not_recommended(tmp_path):
    result, pts = _experiment(tmp_path, FAST, [0, 3, 0])
    text = fleet_evidence(result, pts)
    assert "Recommended: extension_pin" not in text and "— not met</b> for extension_pin" in text


def test_zero_wrong_users_in_the_table_are_exact_bounds(tmp_path):
    from sim.studies.fleet.report import _headline

    result, pts = _experiment(tmp_path, FAST, [0, 3, 0])
    html_table = _headline(result, pts)
    assert html_table.count("0 of 5,000 (95% upper bound") == 2 and not ZERO_PM.search(html_table)


def test_nothing_is_recommended_below_five_replications(tmp_path):
    result, pts = _experiment(tmp_path, FAST, [0, 0, 0], replications=4)
    text = fleet_evidence(result, pts)
    assert "Recommended" not in text and "at least 5 are needed" in text


def test_noise_names_no_winner(tmp_path):
    rng = np.random.default_rng(1)
    noisy = [list(10 + rng.normal(0, 2, 5)) for _ in range(3)]
    result, pts = _experiment(tmp_path, noisy, [0, 0, 0])
    text = fleet_evidence(result, pts)
    assert "Recommended" not in text and "No significant difference" in text


def test_report_renders_from_a_real_run(tmp_path):
    from sim.experiment import run_experiment

    cfg = _config(
        {"phones": 500},
        sweep={"fleet.policy": ["headset", "manual"]},
        replications=2,
        scenario={"days": 30},
    )
    res = run_experiment(cfg, tmp_path / "out", workers=1, progress=False)
    page = res.report.read_text()
    assert "Fleet replacement" in page and "<img" in page and "at least 5 are needed" in page


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fleet, key",
    [
        ({"policy": "nope"}, "fleet.policy"),
        ({"policies": {"warp": {}}}, "fleet.policies.warp"),
        ({"policies": {"headset": {"refuse_conflicts": "yes"}}}, "fleet.policies.headset"),
        ({"policies": {"headset": {"pin": True}}}, "fleet.policies.headset.pin"),
        ({"borrow_days": {"kind": "uniform", "low": 2.0, "high": 1.0}}, "fleet.borrow_days"),
    ],
)
def test_bad_fleet_config_is_one_line_naming_the_key(fleet, key):
    with pytest.raises(ConfigError) as err:
        _config(fleet)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(key), msg
