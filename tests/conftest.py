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


SPLIT_BY = {
    "test_reports": "shipped",
    "test_report_browser": "shipped",
    "test_notebooks": "notebook",
}
"""Files whose parametrized tests may run in different workers, by their parameter's id
(the tests of one shipped experiment, in both report files, share its run in
``small_report``)."""


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to under ``make test``'s 2 workers: its file, so that
    module fixtures are built once, except the parametrized tests of :data:`SPLIT_BY`, which
    go by parameter (``shipped[quickstart]``: both report files' tests of that experiment)."""
    path, _, name = nodeid.partition("::")
    unit = SPLIT_BY.get(Path(path).stem)
    if unit and name.endswith("]"):
        return unit + name[name.index("[") :]
    return path


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling by :func:`work_unit` (whole units to a free worker)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByUnit(config, log)
