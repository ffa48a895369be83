"""Shared fixtures: small worlds that run in well under a second."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sim.config import parse_config

TINY = {
    "name": "tiny",
    "seed": 7,
    "scenario": {"days": 2},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 3},
    "subscribers": {
        "residential": {"initial": 1500, "arrivals_per_day": 20},
        "business": {"initial": 300, "arrivals_per_day": 5},
        "call_centre": {"initial": 5, "contacts_mean": 100},
    },
}


@pytest.fixture(scope="session")
def tiny_template():
    """A factory of fresh copies of the tiny experiment's raw dict (for wider-scoped fixtures)."""
    return lambda: copy.deepcopy(TINY)


@pytest.fixture
def tiny_raw() -> dict:
    """The tiny experiment as a raw dict, a fresh copy for each test."""
    return copy.deepcopy(TINY)


@pytest.fixture
def tiny_config():
    """A validated tiny experiment: 2 days, ~1,800 subscribers, 3,000 numbers."""
    return parse_config(TINY)


EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
SHIPPED = sorted(p.stem for p in EXPERIMENTS.glob("*.toml"))
"""The names of every shipped experiment."""

SMALL_DAYS = 2.0
"""Days a shipped experiment runs in the test suite (fewer if it is shorter), at one
replication."""


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """A factory: the result of a shipped experiment (by name) run at 2 days (or its own
    horizon if shorter) x 1 replication on 2 workers, run once per session and shared by
    the report tests."""
    from sim import load_config, run_experiment

    out, done = tmp_path_factory.mktemp("shipped"), {}

    def get(name: str):
        if name not in done:
            path = EXPERIMENTS / f"{name}.toml"
            days = min(SMALL_DAYS, load_config(path).scenario.days)
            small = (f"scenario.days={days:g}", "replications=1")
            if load_config(path).voice.enabled:  # its runs are utterances, not days
                small += ("voice.commands=4",)
            done[name] = run_experiment(
                load_config(path, small), out / name, progress=False, workers=2, overrides=small
            )
        return done[name]

    return get


SPLIT_BY = {"test_reports": "name", "test_report_browser": "name", "test_notebooks": "path"}
"""Files whose parametrized tests may run in different workers, by that parameter (the
tests of one shipped experiment, in both report files, share its run in ``small_report``)."""


def pytest_collection_modifyitems(items):
    """Under ``make test`` (``pytest -n 2 --dist loadgroup``) the tests of a file run in one
    worker, so that its module-scoped fixtures are built once; the slow parametrized files
    of :data:`SPLIT_BY` are spread by their parameter instead."""
    for item in items:
        stem = item.path.stem
        params = getattr(getattr(item, "callspec", None), "params", {})
        key = SPLIT_BY.get(stem)
        if key in params:
            value = params[key]
            group = f"{key}:{getattr(value, 'stem', value)}"
        else:
            group = stem
        item.add_marker(pytest.mark.xdist_group(group))
