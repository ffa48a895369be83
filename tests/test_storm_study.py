"""The restart-storm study: the storm in a world (common random numbers across policies,
the persistence failure it can show), per-run figures by hand, the report's conclusions
(recommendation only from the stated target over five replications, exact bounds for zero
counts), and bad storm config as one line naming the key."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim.config import ConfigError, parse_config
from sim.results.run import SimResult
from sim.results.store import ExperimentResult, point_table
from sim.runs.simulate import simulate
from sim.studies.storm.evidence import evidence
from sim.studies.storm.metrics import storm_metrics
from sim.studies.storm.values import storm_points

ZERO_PM = re.compile(r"(?<![\d.,])0 ± 0(?![\d.])")
"""A value of exactly 0 ± 0 (not "100 ± 0.68")."""

QUIET = {"initial": 0, "arrivals_per_day": 0, "bursts_per_day": 0.0}
BASE = {
    "name": "storm-test",
    "seed": 5,
    "scenario": {"days": 1},
    "record": {"calls": False},
    "subscribers": {k: QUIET for k in ("residential", "business", "call_centre", "notifier")},
    "spam": {"calls_per_line_per_day": 0.0},
    "storm": {
        "enabled": True,
        "phones": 3000,
        "capacity": 100.0,
        "queue_limit": 100,
        "horizon_seconds": 900.0,
    },
}


def _config(storm=None, **top):
    return parse_config({**BASE, **top, "storm": {**BASE["storm"], **(storm or {})}})


# -- the storm in a world -------------------------------------------------------------------
def test_policies_face_the_same_phones():
    """Boot times are the world's; each phone's jitter is one uniform scaled by the window,
    the same under every window (common random numbers)."""
    runs = {
        w: simulate(
            _config({"policy": "jitter", "policies": {"jitter": {"window_seconds": w}}}),
            progress=False,
        ).storm_phones
        for w in (10.0, 40.0)
    }
    none = simulate(_config(), progress=False).storm_phones
    assert np.array_equal(none["boot"], runs[10.0]["boot"])
    assert np.array_equal(runs[10.0]["boot"], runs[40.0]["boot"])
    u10 = (runs[10.0]["first_attempt"] - runs[10.0]["boot"]) / 10.0
    u40 = (runs[40.0]["first_attempt"] - runs[40.0]["boot"]) / 40.0
    assert np.allclose(u10, u40, atol=1e-9) and u10.between(0, 1).all()
    # ... and a different replication is another world
    other = simulate(_config(), replication=1, progress=False).storm_phones
    assert not np.array_equal(none["boot"], other["boot"])


def test_persistence_keeps_numbers_and_its_absence_reassigns_them():
    """The failure the metric measures can be shown: a server that lost its table gives
    phones numbers in the order they come back."""
    kept = storm_metrics(simulate(_config(), progress=False))
    lost = storm_metrics(simulate(_config({"persistent": False}), progress=False))
    assert kept["storm.registered"] == 3000 and kept["storm.reassigned"] == 0
    assert lost["storm.reassigned"] > 0.9 * lost["storm.registered"]


def test_the_storm_shows_its_failure_and_jitter_beyond_n_over_c_removes_it():
    """5,000 phones booting within 2 s on a 100/s server (N/C = 50 s, beyond Timer F): with
    no policy the queue overflows, phones retransmit and time out; a 60-s window sees none
    of it."""
    storm = {"phones": 5000, "boot_seconds": {"kind": "uniform", "low": 0.0, "high": 2.0}}
    none = storm_metrics(simulate(_config(storm), progress=False))
    wide = storm_metrics(
        simulate(
            _config(
                {**storm, "policy": "jitter", "policies": {"jitter": {"window_seconds": 60.0}}}
            ),
            progress=False,
        )
    )
    assert none["storm.timeouts"] > 0 and none["storm.dropped_full"] > 0
    assert none["storm.wasted_messages"] > none["storm.phones"]
    assert wide["storm.timeouts"] == 0 and wide["storm.wasted_messages"] == 0


# -- per-run figures by hand ----------------------------------------------------------------
def test_storm_metrics_by_hand():
    cfg = _config({"phones": 3, "overhead": 0.5})
    phones = pd.DataFrame(
        {
            "phone": np.arange(3, dtype=np.int32),
            "boot": [1.0, 2.0, 3.0],
            "first_attempt": [1.0, 2.0, 3.0],
            "registered": [1.5, 40.0, np.nan],
            "transactions": np.array([1, 2, 2], dtype=np.int32),
            "messages": np.array([1, 12, 14], dtype=np.int32),
            "timeouts": np.array([0, 1, 1], dtype=np.int32),
            "rejected": np.array([0, 0, 1], dtype=np.int32),
            "queue_wait": [0.49, 0.2, np.nan],
            "number_before": np.arange(3, dtype=np.int32),
            "number_after": np.array([0, 2, 1], dtype=np.int32),
        }
    )
    seconds = pd.DataFrame(
        {
            "second": np.arange(2, dtype=np.int32),
            "sent": [10, 17],
            "dropped_limit": [0, 0],
            "dropped_full": [5, 15],
            "negotiated": [1, 1],
            "stale": [1, 0],
            "duplicates": [2, 0],
            "rejected": [0, 1],
            "queue_max": [3, 1],
        }
    )
    res = SimResult(cfg, frames={"storm_phones": phones, "storm_seconds": seconds})
    m = storm_metrics(res)
    assert m["storm.registered"] == 2 and m["storm.all_registered"] == 0
    assert m["storm.time_to_all"] == 900.0  # one phone never registered: the horizon
    assert m["storm.unregistered_share"] == pytest.approx(1 / 3)
    assert m["storm.registered_mean"] == pytest.approx((1.5 + 40.0) / 2)
    assert m["storm.service_mean"] == pytest.approx((0.5 + 38.0) / 2)
    assert m["storm.timeouts"] == 2 and m["storm.timed_out_share"] == pytest.approx(2 / 3)
    assert m["storm.messages"] == 27 and m["storm.wasted_messages"] == 25
    assert m["storm.dropped_full"] == 20 and m["storm.stale"] == 1 and m["storm.rejected"] == 1
    # work: 2 negotiations useful, 1 stale, (2 duplicates + 1 503) x 0.5
    assert m["storm.wasted_work_share"] == pytest.approx(1 - 2 / (2 + 1 + 1.5))
    assert m["storm.reassigned"] == 1 and m["storm.reassigned_share"] == 0.5
    assert m["storm.queue_wait_mean"] == pytest.approx((0.49 + 0.2) / 2)


# -- the report's conclusions ---------------------------------------------------------------
SWEEP = {
    "zip": {
        "storm.policy": ["none", "jitter", "jitter", "jitter"],
        "storm.policies.jitter.window_seconds": [50.0, 10.0, 50.0, 90.0],
    }
}


def _experiment(tmp_path, times, *, replications=5, zeros=True, target=90.0):
    cfg = _config({"target_seconds": target}, sweep=SWEEP, replications=replications)
    points = point_table(cfg)
    rows = []
    for p, t in enumerate(times):
        per = {
            "storm.time_to_all": t[:replications],
            "storm.all_registered": [1.0] * replications,
            "storm.phones": [3000.0] * replications,
            "storm.registered": [3000.0] * replications,
            "storm.timed_out_share": [0.0 if zeros and p else 0.1] * replications,
            "storm.reassigned_share": [0.0] * replications,
            "storm.timeouts": [0.0 if zeros and p else 300.0] * replications,
            "storm.wasted_messages": [0.0 if zeros and p else 5000.0] * replications,
        }
        for metric, vals in per.items():
            for r, v in enumerate(vals):
                rows.append({"point": p, "replication": r, "metric": metric, "value": float(v)})
    result = ExperimentResult(cfg, tmp_path, pd.DataFrame(rows), points)
    labels = {int(p): f"p{p}" for p in points["point"]}
    return result, storm_points(result, labels)


CLEAR = [
    [100.0, 101.0, 99.5, 100.4, 100.2],  # none
    [110.0, 111.0, 110.5, 110.2, 109.8],  # 10 s
    [85.0, 85.2, 84.9, 85.1, 85.0],  # 50 s
    [125.0, 124.8, 125.1, 125.3, 124.9],  # 90 s
]


def test_smallest_setting_meeting_the_target_is_recommended(tmp_path):
    result, pts = _experiment(tmp_path, CLEAR)
    text = evidence(result, pts)
    assert "Recommended for jitter: window (s) = 50</b>" in text
    assert "the next smaller, window (s) = 10, misses it" in text
    assert not ZERO_PM.search(text)
    assert "0 of 15,000 (95% upper bound" in text  # zero timeouts: an exact bound


def test_zero_counts_in_the_table_are_exact_bounds(tmp_path):
    from sim.studies.storm.report import _headline

    result, pts = _experiment(tmp_path, CLEAR)
    extra = [
        {"point": p, "replication": r, "metric": m, "value": v}
        for p in range(4)
        for r in range(5)
        for m, v in (("storm.transactions", 3000.0), ("storm.messages", 3000.0))
    ]
    result.metrics = pd.concat([result.metrics, pd.DataFrame(extra)], ignore_index=True)
    html_table = _headline(result, pts)
    assert "0 of 15,000 (95% upper bound" in html_table  # phones with a timeout
    assert "0 of 15,000 negotiations (95% upper bound" in html_table  # timeouts
    assert "0 of 15,000 messages (95% upper bound" in html_table  # wasted messages
    assert not ZERO_PM.search(html_table)


def test_nothing_is_recommended_below_five_replications(tmp_path):
    result, pts = _experiment(tmp_path, CLEAR, replications=4)
    text = evidence(result, pts)
    assert "Recommended" not in text and "at least 5 are needed" in text


def test_a_target_nothing_meets_recommends_nothing(tmp_path):
    result, pts = _experiment(tmp_path, CLEAR, target=60.0)
    text = evidence(result, pts)
    assert "Recommended" not in text and "No setting run meets the target" in text


def test_no_policy_meeting_the_target_says_none_is_needed(tmp_path):
    result, pts = _experiment(tmp_path, CLEAR, target=115.0)
    assert "No jitter is needed" in evidence(result, pts)


def test_noise_names_no_winner(tmp_path):
    """50 s and 90 s both meet a loose target and differ only by noise: no winner."""
    rng = np.random.default_rng(0)
    noisy = [list(100 + rng.normal(0, 5, 5)) for _ in range(4)]
    result, pts = _experiment(tmp_path, noisy, target=200.0)
    text = evidence(result, pts)
    assert "No significant difference" in text and "significantly:" not in text


def test_report_renders_from_a_real_run(tmp_path):
    from sim.experiment import run_experiment

    cfg = _config(
        {"phones": 1500},
        sweep={"zip": {k: v[:2] for k, v in SWEEP["zip"].items()}},
        replications=2,
    )
    res = run_experiment(cfg, tmp_path / "out", workers=1, progress=False)
    page = res.report.read_text()
    assert "Restart storm" in page and page.count("<img") >= 2
    assert "at least 5 are needed" in page


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "storm, key",
    [
        ({"t2_seconds": 0.2}, "storm.t2_seconds"),
        ({"policy": "nope"}, "storm.policy"),
        ({"policies": {"jitter": {"window_seconds": -1.0}}}, "storm.policies.jitter"),
        ({"policies": {"jitter": {"window": 1.0}}}, "storm.policies.jitter.window"),
        ({"policies": {"retry_after": {"seconds": 2.5}}}, "storm.policies.retry_after"),
        ({"policies": {"rate_limit": {"share": 1.5}}}, "storm.policies.rate_limit"),
        ({"policies": {"warp": {}}}, "storm.policies.warp"),
    ],
)
def test_bad_storm_config_is_one_line_naming_the_key(storm, key):
    with pytest.raises(ConfigError) as err:
        _config(storm)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(key), msg
