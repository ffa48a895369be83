"""Bad input, case by case: exit status 2, exactly one line on stderr naming the key path (or
the file), no traceback, nothing written or overwritten."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.cli import main
from sim.config import ConfigError, ExperimentConfig, parse_config
from sim.config.loader import defaults
from sim.runs.simulate import simulate
from sim.world.footprint import estimate_bytes

TINY = {
    "name": "tiny",
    "seed": 7,
    "scenario": {"days": 1},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 3},
    "record": {"calls": False},
    "subscribers": {
        "residential": {"initial": 1500, "arrivals_per_day": 20},
        "business": {"initial": 300, "arrivals_per_day": 5},
        "call_centre": {"initial": 5, "contacts_mean": 100},
    },
}


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(tomli_w.dumps(TINY))
    return path


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _refused(capsys, args: list[str], key: str, root: Path) -> str:
    """Run the CLI in process; assert the one-line refusal naming ``key`` and that nothing
    under ``root`` changed."""
    before = _files(root)
    try:
        code = main(args)
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (args, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"tnlab: error: {key}"), lines[0]
    assert _files(root) == before
    return lines[0]


SET_CASES = [
    # lax coercion
    ("scenario.days=true", "scenario.days"),
    ('scenario.days="2"', "scenario.days"),
    ("replications=true", "replications"),
    ("replications=2.5", "replications"),
    ("record.calls=1", "record.calls"),
    # non-finite values
    ("subscribers.residential.calls_per_day=inf", "subscribers.residential.calls_per_day"),
    ("subscribers.residential.arrivals_per_day=inf", "subscribers.residential.arrivals_per_day"),
    ("spam.heterogeneity_shape=inf", "spam.heterogeneity_shape"),
    ("spam.calls_per_line_per_day=nan", "spam.calls_per_line_per_day"),
    ("aging.thresholds=[inf, 2.0, 1.0]", "aging.thresholds.0"),
    (
        'subscribers.residential.duration={kind="uniform", low=0.0, high=inf}',
        "subscribers.residential.duration.high",
    ),
    ("subscribers.residential.aging_days=[nan, 90.0]", "subscribers.residential.aging_days.0"),
    # sizes a machine cannot hold
    ("dni.consumers=1000000000000000", "dni.consumers"),
    (
        'subscribers.residential.tenure={kind="lognormal", median=1e308, sigma=1.0}',
        "subscribers.residential.tenure",
    ),
    # facts of the world
    ("inventory.blocks_per_area_code=1001", "inventory.blocks_per_area_code"),
    ("inventory.area_codes=[800]", "inventory.area_codes"),
    ("inventory.area_codes=[212, 212]", "inventory.area_codes"),
    ("subscribers.residential.initial=100000", "subscribers"),
    # names
    ('name=".."', "name"),
    ('name="a/b"', "name"),
    ("detection.detector='nope'", "detection.detector"),
    ("aging.release.policy='fixed_30'", "aging.release.policy"),
    # sweeps: invalid values, invalid together, too large
    ("sweep={'scenario.days'=[1.0, -1.0]}", "sweep.scenario.days"),
    (
        "sweep={'detection.detector'=['none','cusum'], 'detection.threshold'=[1.0, 500.0], "
        "'detection.window_seconds'=[86400.0]}",
        "sweep: point 2",
    ),
    (
        "sweep={'scenario.days'="
        + str(list(range(1, 501)))
        + ", 'spam.answer_prob'="
        + str([0.1] * 500)
        + "}",
        "sweep: 250,000 points",
    ),
    # overrides
    ("scenario", "--set 'scenario'"),
    ("scenario.days.x=1", "scenario.days"),
    ("nothing.here=1", "nothing"),
]


@pytest.mark.parametrize("override, key", SET_CASES, ids=[c[0][:40] for c in SET_CASES])
def test_bad_override_is_one_line_naming_the_key(capsys, tmp_path, tiny_file, override, key):
    out = tmp_path / "out"
    args = ["simulate", str(tiny_file), "--out", str(out), "--set", override]
    _refused(capsys, args, key, tmp_path)
    assert not out.exists()


def test_a_pool_too_small_for_an_optimizer_is_refused_before_running(capsys, tmp_path, tiny_file):
    """An optimizer keeps a number of every kind: a smaller pool is a config error (it used
    to fail inside every run)."""
    out = tmp_path / "out"
    sets = ["dni.enabled=true", "dni.optimizer=ucb1", "dni.pool_size=4"]
    args = ["simulate", str(tiny_file), "--out", str(out)] + [a for s in sets for a in ("--set", s)]
    line = _refused(capsys, args, "dni.pool_size", tmp_path)
    assert "5 or more, got 4" in line
    assert not out.exists()


def test_count_min_width_is_refused_when_it_runs(capsys, tmp_path, tiny_file):
    args = [
        "validate",
        str(tiny_file),
        "--set",
        "detection.detector='count_min'",
        "--set",
        "detection.detectors.count_min.width=1099511627776",
    ]
    line = _refused(capsys, args, "detection.detectors.count_min", tmp_path)
    assert "2**31" in line


FILE_CASES = [
    ("replications = true\n", "replications"),
    ("[scenario]\ndays = 'two'\n", "scenario.days"),
    ("[scenario\n", "{path}: invalid TOML"),
    ("[unknown]\nx = 1\n", "unknown"),
    ("plugins = ['no_such_module_here']\n", "plugins"),
]


@pytest.mark.parametrize("text, key", FILE_CASES, ids=[c[1] for c in FILE_CASES])
def test_bad_file_is_one_line(capsys, tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    _refused(capsys, ["validate", str(path)], key.format(path=path), tmp_path)


def test_missing_file_is_one_line(capsys, tmp_path):
    _refused(
        capsys, ["validate", str(tmp_path / "none.toml")], f"{tmp_path / 'none.toml'}", tmp_path
    )


def test_bad_output_folders_are_one_line(capsys, tmp_path, tiny_file):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, key in [
        ("", "--out: is empty"),
        (str(afile), f"--out {afile}"),
        (str(afile / "sub"), f"--out {afile / 'sub'}"),
    ]:
        for command in ("simulate", "run"):
            _refused(capsys, [command, str(tiny_file), "--out", out], key, tmp_path)


def test_folders_of_others_are_refused(capsys, tmp_path, tiny_file):
    """A folder of other files, another configuration's run or an experiment's folder."""
    others = tmp_path / "mine"
    others.mkdir()
    (others / "notes.txt").write_text("keep me")
    _refused(
        capsys, ["simulate", str(tiny_file), "--out", str(others)], f"--out {others}", tmp_path
    )
    _refused(capsys, ["run", str(tiny_file), "--out", str(others)], f"--out {others}", tmp_path)
    exp = tmp_path / "exp"
    assert main(["run", str(tiny_file), "--out", str(exp), "--workers", "1"]) == 0
    capsys.readouterr()
    _refused(capsys, ["simulate", str(tiny_file), "--out", str(exp)], f"--out {exp}", tmp_path)
    _refused(
        capsys,
        ["run", str(tiny_file), "--out", str(exp), "--set", "seed=8"],
        f"--out {exp}",
        tmp_path,
    )


def test_bad_flags_are_one_line(capsys, tmp_path, tiny_file):
    _refused(capsys, ["run", str(tiny_file), "--workers", "0"], "--workers", tmp_path)
    _refused(
        capsys,
        ["run", str(tiny_file), "--scheduler-timeout", "-1"],
        "--scheduler-timeout",
        tmp_path,
    )
    _refused(capsys, ["run", str(tiny_file), "--workers", "x"], "argument --workers", tmp_path)


# -- every field of the schema: a wrong type and values outside its range ------------------
SAMPLE_ITEMS = {
    "robocallers.campaigns": {
        "name": "c",
        "behaviour": "blaster",
        "start_day": 0.0,
        "days": 1.0,
        "numbers": 1,
        "calls_per_number_per_day": 10.0,
    },
}
"""A valid element for arrays of tables that are empty by default."""


def _leaves(model: type[BaseModel], prefix: str = ""):
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        sub = next(
            (
                a
                for a in (annotation, *args)
                if isinstance(a, type) and issubclass(a, BaseModel) and "kind" not in a.model_fields
            ),
            None,
        )
        if sub is not None:
            # an array of tables: its first element
            index = "0." if typing.get_origin(annotation) is list else ""
            yield from _leaves(sub, f"{prefix}{name}.{index}")
        elif annotation in (int, float, bool) or (
            typing.get_origin(annotation) is typing.Annotated
            and typing.get_args(annotation)[0] is str
        ):
            yield f"{prefix}{name}", field


def _bounds(field: FieldInfo) -> dict[str, float]:
    found = {}
    for meta in field.metadata:
        for attr in ("gt", "ge", "lt", "le"):
            if getattr(meta, attr, None) is not None:
                found[attr] = getattr(meta, attr)
    return found


FIELDS = [(key, f) for key, f in _leaves(ExperimentConfig) if not key.startswith("sweep")]


def _cases():
    for key, field in FIELDS:
        kind = field.annotation
        if kind is bool:
            yield key, 1, "int for a bool"
        elif kind in (int, float):
            yield key, "3", "a string for a number"
            yield key, True, "a bool for a number"
            if kind is int:
                yield key, 1.5, "a float for an int"
            else:
                yield key, math.nan, "NaN"
            for attr, bound in _bounds(field).items():
                outside = {"gt": bound, "ge": bound - 1, "lt": bound, "le": bound + 1}[attr]
                if kind is int and attr == "ge":
                    outside = int(bound) - 1
                yield key, outside, f"{attr} {bound}"
        else:
            yield key, 5, "a number for a string"


CASES = list(_cases())


def test_every_field_is_covered():
    assert len(FIELDS) > 100 and len(CASES) > 3 * len(FIELDS) // 2


@pytest.mark.parametrize("key, value, what", CASES, ids=[f"{k}:{w}" for k, _, w in CASES])
def test_every_field_refuses_a_wrong_type_and_out_of_range(key, value, what):
    raw = defaults()
    for array, item in SAMPLE_ITEMS.items():
        if key.startswith(array + "."):
            section, _, name = array.rpartition(".")
            raw[section][name] = [dict(item)]
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(key) or message.startswith(key.rpartition(".")[0]), message


# -- random configs drawn from the schema's own types --------------------------------------
def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


EDGES = st.sampled_from(
    [
        0,
        -1,
        1,
        2,
        2**62,
        1e308,
        -1e308,
        math.inf,
        -math.inf,
        math.nan,
        0.5,
        "",
        "x",
        True,
        False,
        [],
        [1.0],
        {},
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    picks=st.lists(
        st.tuples(st.sampled_from([k for k, _ in FIELDS]), EDGES), min_size=1, max_size=3
    )
)
def test_random_configs_run_for_a_day_or_are_refused_in_one_line(picks):
    """Any mix of edge values on any fields: refused in one line, or valid and it runs for
    a day (small worlds only: a valid world too large for the test machine is validated)."""
    overrides = [f"{key}={_toml(value)}" for key, value in picks]
    try:
        config = parse_config(TINY, overrides)
    except ConfigError as err:
        assert "\n" not in str(err) and str(err)
        return
    if estimate_bytes(config)["total"] > 600e6 or config.scenario.days > 2:
        return
    try:
        simulate(config, progress=False)
    except ConfigError as err:  # found once running (e.g. a training run too short)
        assert "\n" not in str(err)
