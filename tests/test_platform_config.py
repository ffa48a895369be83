"""Bad platform input: a tenant without numbers or agents, a skill nobody has, calls-per-
second caps or capacities that are not positive, patience or talk-time distributions with
no mean, names that point nowhere -- each refused in one line naming the dotted key, exit
status 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w

from sim.cli import main
from sim.config import ConfigError, parse_config

RAW = {
    "name": "platform-bad",
    "scenario": {"days": 1},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 3},
    "record": {"calls": False},
    "subscribers": {
        "residential": {"initial": 100, "arrivals_per_day": 0},
        "business": {"initial": 10, "arrivals_per_day": 0},
        "call_centre": {"initial": 0, "arrivals_per_day": 0},
        "notifier": {"initial": 0, "arrivals_per_day": 0},
    },
    "platform": {
        "enabled": True,
        "tenants": [
            {
                "name": "acme",
                "calls_per_day": 500.0,
                "skills": [
                    {"name": "support", "agents": 4, "share": 0.7},
                    {"name": "billing", "agents": 2, "share": 0.3},
                ],
            }
        ],
        "bursts": {
            "campaign": {"tenant": "acme", "day": 0.0, "hour": 10.0, "hours": 2.0, "factor": 3.0}
        },  # fmt: skip
    },
}

NO_MEAN = '{kind="weibull", shape=0.001, scale=60.0}'
CASES = [
    ("platform.tenants.0.numbers=0", "platform.tenants.0.numbers"),
    ("platform.tenants.0.skills.0.agents=0", "platform.tenants.0.skills.0: no agent has"),
    (
        "platform.tenants.0.skills=[{name='a', agents=0}, {name='b', agents=0}]",
        "platform.tenants.0.skills: the tenant has no agents",
    ),
    ("platform.tenants.0.skills.1.agents=0", "platform.tenants.0.skills.1: no agent has skill"),
    ("platform.tenants.0.skills.0.also=['nope']", "platform.tenants.0.skills.0.also"),
    (
        "platform.tenants.0.skills.0.blind_transfer=0.1",
        "platform.tenants.0.skills.0.transfer_to",
    ),
    ("platform.tenants.0.outbound_per_hour=10.0", "platform.tenants.0.outbound_skill"),
    ("platform.carriers.0.cps=0.0", "platform.carriers.0.cps"),
    ("platform.carriers.1.cps=-30.0", "platform.carriers.1.cps"),
    ("platform.carriers.0.channels=0", "platform.carriers.0.channels"),
    ("platform.trunks=0", "platform.trunks"),
    ("platform.media_ports=0", "platform.media_ports"),
    ("platform.media_ports=1", "platform.media_ports"),
    ("platform.tenants.0.text_capacity=0", "platform.tenants.0.text_capacity"),
    (f"platform.tenants.0.patience_seconds={NO_MEAN}", "platform.tenants.0.patience_seconds"),
    (
        f"platform.tenants.0.skills.0.handle_seconds={NO_MEAN}",
        "platform.tenants.0.skills.0.handle_seconds",
    ),  # fmt: skip
    (f"platform.tenants.0.retry_seconds={NO_MEAN}", "platform.tenants.0.retry_seconds"),
    ("platform.bursts.campaign.tenant='nobody'", "platform.bursts.campaign.tenant"),
    (
        "platform.outages={x={carrier='nope', day=0.0, hour=1.0, hours=1.0}}",
        "platform.outages.x.carrier",
    ),  # fmt: skip
    ("platform.step_seconds=700", "platform.step_seconds"),
    ("platform.tenants.0.weekly=[1.0, 1.0]", "platform.tenants.0.weekly"),
    ("platform.tenants.0.open_hours=[20, 8]", "platform.tenants.0.open_hours"),
    ("platform.isolation='nope'", "platform.isolation"),
    (
        "platform.isolation_policies.cps_bucket.factor=0.0",
        "platform.isolation_policies.cps_bucket",
        "platform.isolation='cps_bucket'",
    ),
    ("platform.staffing_policies.square_root.alpha=1.0", "platform.staffing_policies"),
    (
        "platform.carriers.0.static_share=0.0",
        "platform.carriers: static routing needs a positive share",
        "platform.routing='static'",
        "platform.carriers.1.static_share=0.0",
        "platform.carriers.2.static_share=0.0",
    ),
]


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "platform.toml"
    path.write_text(tomli_w.dumps(RAW))
    return path


def test_the_base_config_is_valid():
    parse_config(RAW)


@pytest.mark.parametrize("case", CASES, ids=[c[1] for c in CASES])
def test_bad_platform_input_is_one_line_naming_the_key(capsys, tmp_path, config_file, case):
    override, key, *more = case
    extra = [arg for m in more for arg in ("--set", m)]
    out = tmp_path / "out"
    code = main(["simulate", str(config_file), "--out", str(out), "--set", override, *extra])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"tnlab: error: {key}"), lines[0]
    assert not out.exists()


def test_a_static_split_needs_a_share():
    raw = {**RAW, "platform": {**RAW["platform"], "routing": "static"}}
    raw["platform"]["carriers"] = [
        {
            "name": "a",
            "channels": 1,
            "cps": 1.0,
            "rate_per_minute": 0.01,
            "billing_seconds": 6,
            "asr": 0.5,
            "static_share": 0.0,
        },  # fmt: skip
    ]
    with pytest.raises(ConfigError, match=r"^platform\.carriers: static routing needs"):
        parse_config(raw)
