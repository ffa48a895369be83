"""Shared fixtures: small worlds that run in well under a second."""

from __future__ import annotations

import copy

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
