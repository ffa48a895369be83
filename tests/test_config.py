"""Config loading, merging, overrides and one-line errors naming the key path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.config import ConfigError, load_config, parse_config, sweep_points

ROOT = Path(__file__).resolve().parents[1]


def test_every_experiment_file_validates():
    """Each TOML file in experiments/ is a valid config."""
    files = sorted((ROOT / "experiments").glob("*.toml"))
    assert files
    for path in files:
        assert load_config(path).name


def test_experiment_overrides_defaults_and_keeps_the_rest(tiny_config):
    """A partial [subscribers.business] table keeps the business defaults it does not state."""
    defaults = parse_config({})
    assert tiny_config.subscribers.business.initial == 300
    assert (
        tiny_config.subscribers.business.calls_per_day
        == defaults.subscribers.business.calls_per_day
    )
    assert tiny_config.subscribers.business.aging_days == defaults.subscribers.business.aging_days


def test_distribution_table_replaces_rather_than_merges():
    """Switching a distribution's kind does not inherit the old kind's parameters."""
    cfg = parse_config(
        {"subscribers": {"residential": {"tenure": {"kind": "exponential", "mean": 100}}}}
    )
    assert cfg.subscribers.residential.tenure.mean == pytest.approx(100)


def test_resolved_toml_round_trips(tiny_config):
    """config.resolved.toml parses back to the same configuration (same digest)."""
    again = parse_config(tomllib.loads(tiny_config.to_toml()))
    assert again.digest() == tiny_config.digest()
    assert again == tiny_config


def test_steady_state_arrivals_by_default():
    """arrivals_per_day = "steady" (the default) is initial / mean tenure."""
    cfg = parse_config({})
    spec = cfg.subscribers.residential
    assert spec.arrivals_per_day == "steady"
    assert spec.steady_arrivals_per_day == pytest.approx(spec.initial / spec.tenure.mean)


def test_overrides_parse_toml_values(tiny_raw):
    """--set values are TOML: numbers, lists and bare strings."""
    cfg = parse_config(
        tiny_raw,
        ["scenario.days=1.5", "inventory.area_codes=[415, 628]", "inventory.assignment=fifo"],
    )
    assert cfg.scenario.days == 1.5
    assert cfg.inventory.area_codes == [415, 628]
    assert cfg.inventory.assignment == "fifo"


@pytest.mark.parametrize(
    "raw, overrides, expected",
    [
        ({"scenario": {"dayz": 2}}, [], "scenario.dayz: unknown key"),
        ({"scenario": {"days": "two"}}, [], "scenario.days: "),
        ({"scenario": {"days": -1}}, [], "scenario.days: Input should be greater than 0"),
        ({"scenario": {"slice_seconds": 7}}, [], "scenario.slice_seconds: "),
        ({"scenario": {"slice_seconds": 700}}, [], "scenario.slice_seconds: must divide 3600"),
        (
            {"inventory": {"area_codes": [212, 999]}},
            [],
            "inventory.area_codes: 999 is not a US area code",
        ),
        (
            {"inventory": {"assignment": "lifo"}},
            [],
            "inventory.assignment: must be 'random' or 'fifo'",
        ),
        (
            {"subscribers": {"residential": {"aging_days": [30, 90]}}},
            [],
            "subscribers.residential.aging_days: minimum 30 is below the 45-day FCC floor",
        ),
        (
            {"subscribers": {"residential": {"aging_days": [45, 120]}}},
            [],
            "subscribers.residential.aging_days: maximum exceeds the 90-day regulatory cap",
        ),
        (
            {"aging": {"thresholds": [1.0, 2.0, 5.0]}},
            [],
            "aging.thresholds: must be strictly descending",
        ),
        ({"aging": {"thresholds": [2.0, 0.0]}}, [], "aging.thresholds: must be positive"),
        (
            {},
            ["aging.release.policy=fixed_30"],
            "aging.release.policy: would release before the 45-day floor",
        ),
        (
            {},
            ["aging.release.policy=soon"],
            "aging.release.policy: unknown release policy (known: 'drawn', 'fixed_<days>'",
        ),
        (
            {},
            ["aging.release.threshold=3.0"],
            "aging.release.threshold: must be one of aging.thresholds",
        ),
        ({}, ["aging.release.model=svm"], "aging.release.model: unknown aging model (known: "),
        (
            {},
            ["residual.business.stop_alpha=0"],
            "residual.business.stop_alpha: Input should be greater than 0",
        ),
        (
            {"subscribers": {"business": {"diurnal": [1, 2]}}},
            [],
            "subscribers.business.diurnal: needs 24 hourly weights",
        ),
        (
            {
                "subscribers": {
                    "residential": {"tenure": {"kind": "lognormal", "median": 5, "sigma": -1}}
                }
            },
            [],
            "subscribers.residential.tenure.sigma: ",
        ),
        (
            {"subscribers": {"residential": {"tenure": {"kind": "pareto", "alpha": 1}}}},
            [],
            "subscribers.residential.tenure: ",
        ),
        ({}, ["scenario.days"], "--set 'scenario.days': expected KEY=VALUE"),
        ({}, ["scenario.days.x=1"], "scenario.days: is a value, not a table"),
        ({}, ["scenario.nope=1"], "scenario.nope: unknown key"),
        ({}, ["seed=-3"], "seed: Input should be greater than or equal to 0"),
        (
            {"sweep": {"scenario.dayz": [1, 2]}},
            [],
            "sweep.scenario.dayz = 1: scenario.dayz: unknown key",
        ),
        ({"sweep": {"scenario.days": []}}, [], "sweep.scenario.days: needs at least one value"),
        ({"sweep": {"scenario.days": [1, -2]}}, [], "sweep.scenario.days = -2: scenario.days: "),
    ],
)
def test_bad_input_is_one_line_naming_the_key(raw, overrides, expected):
    """Every kind of bad value gives a single-line ConfigError that starts with the key path."""
    with pytest.raises(ConfigError) as info:
        parse_config(raw, overrides)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(expected), message


def test_missing_and_malformed_files(tmp_path):
    """A missing file and broken TOML are reported with the file name."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[scenario\n")
    with pytest.raises(ConfigError, match="bad.toml: invalid TOML"):
        load_config(bad)


def test_sweep_grid_in_fixed_order(tiny_raw):
    """The sweep is the Cartesian product of its lists, first key slowest, dotted keys
    nested or quoted."""
    tiny_raw["sweep"] = {"scenario": {"days": [1, 2]}, "inventory.assignment": ["random", "fifo"]}
    cfg = parse_config(tiny_raw)
    points = list(sweep_points(cfg))
    assert [p for p, _ in points] == [
        {"scenario.days": 1, "inventory.assignment": "random"},
        {"scenario.days": 1, "inventory.assignment": "fifo"},
        {"scenario.days": 2, "inventory.assignment": "random"},
        {"scenario.days": 2, "inventory.assignment": "fifo"},
    ]
    assert [c.scenario.days for _, c in points] == [1, 1, 2, 2]
    assert all(c.sweep == {} for _, c in points)


def test_config_is_frozen(tiny_config):
    """Configs cannot be changed after validation."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        tiny_config.scenario.days = 3


def test_counterfactual_studies_may_leave_the_regulatory_bounds():
    """Aging bounds outside the US rules are accepted only when the study says so."""
    raw = {"subscribers": {"residential": {"aging_days": [30.0, 365.0]}}}
    with pytest.raises(ConfigError, match="counterfactual"):
        parse_config(raw)
    cfg = parse_config({**raw, "aging": {"counterfactual": True}})
    assert cfg.subscribers.residential.aging_days == (30.0, 365.0)


def test_zipped_sweeps_vary_together_and_must_match_in_length():
    """Keys under [sweep.zip] move together (one dimension of the grid); lists of
    different lengths are one line naming sweep.zip."""
    raw = {
        "sweep": {
            "scenario.days": [1.0, 2.0],
            "zip": {"aging.release.policy": ["model", "fixed_90"], "aging.harm_price": [0.8, 0.9]},
        }
    }
    points = [params for params, _ in sweep_points(parse_config(raw))]
    assert len(points) == 4
    assert {(p["aging.release.policy"], p["aging.harm_price"]) for p in points} == {
        ("model", 0.8),
        ("fixed_90", 0.9),
    }
    raw["sweep"]["zip"]["aging.harm_price"] = [0.8]
    with pytest.raises(ConfigError, match=r"^sweep\.zip: zipped lists differ in length"):
        parse_config(raw)
    with pytest.raises(ConfigError, match=r"^sweep\.zip\.aging\.release\.policy = 'x'"):
        parse_config({"sweep": {"zip": {"aging.release.policy": ["x"]}}})
    with pytest.raises(
        ConfigError, match=r"^sweep\.scenario\.dayz = 1: scenario\.dayz: unknown key"
    ):
        parse_config({"sweep": {"scenario.dayz": [1]}})
