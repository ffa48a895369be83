"""Experiment configuration: TOML files validated by frozen pydantic models.

An experiment file states only what differs from ``sim/defaults.toml``; the two are
deep-merged (tables merge, values and lists replace), ``--set dotted.key=value`` overrides
are applied, and the result is validated.  Unknown keys are rejected, ranges are checked,
and every problem is reported as one :class:`ConfigError` line naming the dotted key path.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Iterable, Iterator

import tomli_w
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .distributions import Distribution, LogNormal
from .numbering import BLOCK, area_exchange_codes, is_us_area_code

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "SUBSCRIBER_TYPES",
    "load_config",
    "parse_config",
    "sweep_points",
]

SUBSCRIBER_TYPES = ("residential", "business", "call_centre", "notifier")
"""Subscriber types, in the order of their integer codes."""
DETECTORS = ("none", "fixed_window", "sliding_window", "token_bucket", "ewma", "cusum",
             "count_min", "cohort")
"""Burst detectors a run can plug into its call-control pipeline."""

AGING_FLOOR_DAYS = 45.0
"""FCC 18-177: a disconnected number ages at least 45 days."""
AGING_CAP_DAYS = {"residential": 90.0, "business": 365.0, "call_centre": 365.0,
                  "notifier": 365.0}
"""47 CFR 52.15(f)(1)(ii): at most 90 days residential, 365 days business."""


class ConfigError(ValueError):
    """A configuration problem, as one line that names the key path."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _diurnal(values: list[float]) -> list[float]:
    if len(values) != 24:
        raise ValueError(f"needs 24 hourly weights, got {len(values)}")
    if any(v < 0 for v in values) or sum(values) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return values


Diurnal = Annotated[list[float], AfterValidator(_diurnal)]


def _one_of(*options: str):
    """A string field restricted to ``options``, failing with "must be 'a', 'b' or 'c'"."""
    listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"

    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be {listed}")
        return value

    return Annotated[str, AfterValidator(check)]
"""24 hour-of-day weights of a rate (any scale; the world normalises them to mean 1)."""


def _unique_names(items, key: str) -> None:
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"{key}: names repeat")


class Scenario(_Model):
    """Horizon and time slicing of one run."""

    days: float = Field(gt=0, le=3650)
    slice_seconds: int = Field(ge=60, le=3600)
    warm_start: bool

    @field_validator("slice_seconds")
    @classmethod
    def _divides_hour(cls, v: int) -> int:
        if 3600 % v:
            raise ValueError("must divide 3600 (diurnal profiles are hourly)")
        return v


class Inventory(_Model):
    """The carrier's numbers: thousands-blocks in real area codes."""

    area_codes: list[int] = Field(min_length=1)
    blocks_per_area_code: int = Field(ge=1, le=1000)
    assignment: _one_of("random", "fifo")

    @field_validator("area_codes")
    @classmethod
    def _real(cls, v: list[int]) -> list[int]:
        for npa in v:
            if not is_us_area_code(npa):
                raise ValueError(f"{npa} is not a US area code")
        if len(set(v)) != len(v):
            raise ValueError("area codes repeat")
        return v

    @model_validator(mode="after")
    def _fits(self):
        for npa in self.area_codes:
            blocks = len(area_exchange_codes(npa)) * 10
            if self.blocks_per_area_code > blocks:
                raise ValueError(
                    f"blocks_per_area_code: area code {npa} has only {blocks} thousands-blocks"
                )
        return self

    @property
    def size(self) -> int:
        """Number of telephone numbers in the inventory."""
        return len(self.area_codes) * self.blocks_per_area_code * BLOCK


class Record(_Model):
    """What a run writes beyond the always-kept tables."""

    calls: bool


class SubscriberType(_Model):
    """Population, lifecycle and calling behaviour of one subscriber type."""

    initial: int = Field(ge=0, le=50_000_000)
    arrivals_per_day: float | None = Field(default=None, ge=0)
    tenure: Distribution
    calls_per_day: float = Field(ge=0)
    rate_cv: float = Field(ge=0, le=10)
    contacts_mean: float = Field(ge=1)
    on_net_share: float = Field(ge=0, le=1)
    answer_prob: float = Field(ge=0, le=1)
    duration: Distribution
    aging_days: tuple[float, float]
    port_out_share: float = Field(ge=0, le=1)
    diurnal: Diurnal
    bursts_per_day: float = Field(ge=0)
    burst_calls: int = Field(ge=0, le=100_000)
    burst_minutes: float = Field(gt=0, le=1440)

    @field_validator("aging_days")
    @classmethod
    def _aging_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] <= 0:
            raise ValueError("minimum must be positive")
        if v[1] < v[0]:
            raise ValueError("maximum is below minimum")
        return v

    @property
    def steady_arrivals_per_day(self) -> float:
        """Arrival rate: as configured, or the steady-state rate ``initial / E[tenure]``."""
        if self.arrivals_per_day is not None:
            return self.arrivals_per_day
        return self.initial / self.tenure.mean


class _PerType(_Model):
    """A section with one table per subscriber type."""

    def by_code(self) -> list:
        """The per-type tables in code order (see :data:`SUBSCRIBER_TYPES`)."""
        return [getattr(self, name) for name in SUBSCRIBER_TYPES]


class Subscribers(_PerType):
    """The four subscriber types."""

    residential: SubscriberType
    business: SubscriberType
    call_centre: SubscriberType
    notifier: SubscriberType


class Spam(_Model):
    """History-independent background spam received by every number."""

    calls_per_line_per_day: float = Field(ge=0)
    heterogeneity_shape: float = Field(gt=0)
    answer_prob: float = Field(ge=0, le=1)
    duration: Distribution
    diurnal: Diurnal


class ResidualType(_Model):
    """Calls a disconnected number of one subscriber type keeps receiving.

    The owner's circle of outside callers grows with tenure; after the disconnect each of
    them stops at a Lomax time (an exponential stop rate, gamma-distributed across callers),
    so their total decays as ``inbound_per_day * (1 + t / stop_beta_days) ** -stop_alpha``.
    A share of owners also leave persistent callers (collectors, login codes).
    """

    inbound_per_day: float = Field(ge=0)
    circle: float = Field(ge=1)
    tenure_scale_days: float = Field(gt=0)
    stop_alpha: float = Field(gt=0)
    stop_beta_days: float = Field(gt=0)
    persistent_share: float = Field(ge=0, le=1)
    persistent_per_day: float = Field(ge=0)
    persistent_days: float = Field(gt=0)


class Residual(_PerType):
    """Residual traffic meant for numbers' previous owners, per subscriber type."""

    answer_prob: float = Field(ge=0, le=1)
    duration: Distribution
    residential: ResidualType
    business: ResidualType
    call_centre: ResidualType
    notifier: ResidualType


RELEASE_POLICIES = ("drawn", "quiet", "model", "online")
"""Release policies besides ``fixed_<days>``: see :class:`Release`."""
AGING_MODELS = ("lookup", "cox", "weibull_aft", "loglogistic_aft", "gradient_boosting")
"""Profile models a model-driven release can use."""


def _policy(value: str) -> str:
    fixed = re.fullmatch(r"fixed_(\d+(?:\.\d+)?)", value)
    if value not in RELEASE_POLICIES and not fixed:
        raise ValueError("must be 'fixed_<days>' (e.g. fixed_90), "
                         + ", ".join(repr(p) for p in RELEASE_POLICIES[:-1])
                         + f" or {RELEASE_POLICIES[-1]!r}")
    return value


class Release(_Model):
    """When a disconnected number returns to the available pool.

    ``drawn``: a uniform time within the type's ``aging_days`` (the default world);
    ``fixed_<days>``: after that many days; ``quiet``: the first day from the floor on when
    the number's trailing inbound rate, less the background, is within the threshold;
    ``model``: once the profile model gives probability ``quantile`` that the number is
    below the release threshold; ``online``: the model's prediction, revised at ``online_days`` from the
    number's first days of aging traffic.  Every policy keeps within the type's bounds.
    The model of ``model``/``online`` learns from a ``train_days`` run of the same world.
    """

    policy: Annotated[str, AfterValidator(_policy)]
    threshold: float = Field(gt=0)
    model: _one_of(*AGING_MODELS)
    quantile: float = Field(gt=0, lt=1)
    online_days: int = Field(ge=1)
    train_days: float = Field(gt=0, le=3650)

    @field_validator("policy")
    @classmethod
    def _floor(cls, v: str) -> str:
        if v.startswith("fixed_") and float(v[6:]) < AGING_FLOOR_DAYS:
            raise ValueError(f"would release before the {AGING_FLOOR_DAYS:g}-day floor")
        return v

    @property
    def fixed_days(self) -> float | None:
        """Days of a ``fixed_<days>`` policy, else None."""
        return float(self.policy[6:]) if self.policy.startswith("fixed_") else None


class Aging(_Model):
    """How residual traffic is judged, and how disconnected numbers are released."""

    thresholds: list[float] = Field(min_length=1, max_length=10)
    trailing_days: int = Field(ge=1, le=90)
    harm_days: float = Field(gt=0)
    harm_price: float = Field(ge=0)
    false_clean_days: float = Field(gt=0)
    harm_budget: float | None = Field(default=None, ge=0)
    counterfactual: bool
    compare_models: bool
    release: Release

    @field_validator("thresholds")
    @classmethod
    def _descending(cls, v: list[float]) -> list[float]:
        if any(x <= 0 for x in v):
            raise ValueError("must be positive multiples of the background rate")
        if any(a <= b for a, b in zip(v, v[1:])):
            raise ValueError("must be strictly descending (e.g. [5, 2, 1])")
        return v

    @model_validator(mode="after")
    def _threshold_listed(self):
        if self.release.threshold not in self.thresholds:
            raise ValueError("release.threshold: must be one of aging.thresholds")
        return self


CHANNELS = ("search", "social", "display", "print")
"""Ad channels of the DNI market (``print`` stands for print and broadcast)."""
NUMBER_KINDS = ("local", "non_local", "tollfree_800", "tollfree_other", "vanity")
"""Kinds of tracking number a DNI pool can hold."""
SIZERS = ("fixed", "one_per_twenty", "peak_session", "utilisation", "static_erlang",
          "time_varying_erlang", "autoscaler")
"""Pool-sizing policies (``models.dni.sizing``)."""
OPTIMIZERS = ("none", "uniform", "all_local", "epsilon_greedy", "ucb1", "thompson", "linucb",
              "oracle")
"""Pool-composition optimizers (``models.dni.bandits``)."""


class Channel(_Model):
    """One ad channel: how many sessions it brings and how likely an impression is to
    lead to a call, before the number's kind is taken into account."""

    sessions_per_day: float = Field(ge=0)
    call_prob: float = Field(ge=0, le=1)
    diurnal: Diurnal
    response: dict[str, float]

    @field_validator("response")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(NUMBER_KINDS))
        if unknown:
            raise ValueError(f"unknown number kind {unknown[0]!r} (kinds: "
                             + ", ".join(NUMBER_KINDS) + ")")
        if set(v) != set(NUMBER_KINDS):
            raise ValueError("needs a multiplier for every number kind: "
                             + ", ".join(NUMBER_KINDS))
        if any(x < 0 for x in v.values()):
            raise ValueError("multipliers must be >= 0")
        return v


class Channels(_Model):
    """The four ad channels (set a channel's ``sessions_per_day`` to 0 to leave it out)."""

    search: Channel
    social: Channel
    display: Channel
    print: Channel

    def by_code(self) -> list[Channel]:
        """Channels in code order (see :data:`CHANNELS`)."""
        return [getattr(self, name) for name in CHANNELS]


class Sponsor(_Model):
    """An advertiser: its share of the sessions and its daily impression budget."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0)
    budget_per_day: float | None = Field(default=None, gt=0)


class Dni(_Model):
    """The call-tracking (DNI) market: sessions, leases from a shared pool, calls, the
    association store, pool sizing and composition."""

    enabled: bool
    step_seconds: int = Field(ge=10, le=3600)
    consumers: int = Field(ge=1)
    area_codes: list[int] = Field(min_length=1)
    session_minutes: Distribution
    hold_minutes: float = Field(ge=0)
    pool_size: int = Field(ge=1, le=1_000_000)
    pool_kind: _one_of(*NUMBER_KINDS)
    exhausted: _one_of("overflow", "steal_lru")
    in_session_share: float = Field(ge=0, le=1)
    delay_days: Distribution
    repeat_calls: float = Field(ge=0)
    repeat_days: Distribution
    withheld_share: float = Field(ge=0, le=1)
    known_caller_share: float = Field(ge=0, le=1)
    store: bool
    store_eviction: _one_of("none", "age", "size")
    store_max_age_days: float = Field(gt=0)
    store_max_entries: int = Field(ge=1)
    talk_minutes: Distribution
    sizer: _one_of(*SIZERS)
    target_blocking: float = Field(gt=0, lt=1)
    autoscale_growth: float = Field(gt=0, le=10)
    optimizer: _one_of(*OPTIMIZERS)
    epsilon: float = Field(ge=0, le=1)
    ucb_alpha: float = Field(ge=0)
    rebalance_hours: float = Field(gt=0)
    max_changes: int = Field(ge=1)
    feedback_days: float = Field(gt=0)
    price_month: dict[str, float]
    price_minute: dict[str, float]
    channels: Channels
    sponsors: list[Sponsor] = Field(min_length=1, max_length=1000)

    @field_validator("area_codes")
    @classmethod
    def _real(cls, v: list[int]) -> list[int]:
        for npa in v:
            if not is_us_area_code(npa):
                raise ValueError(f"{npa} is not a US area code")
        return v

    @field_validator("price_month", "price_minute")
    @classmethod
    def _prices(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(NUMBER_KINDS) or any(x < 0 for x in v.values()):
            raise ValueError("needs a price >= 0 for every number kind: "
                             + ", ".join(NUMBER_KINDS))
        return v

    @model_validator(mode="after")
    def _sponsors(self):
        _unique_names(self.sponsors, "sponsors")
        return self


class Campaign(_Model):
    """One robocall operation: how many fresh numbers it dials from, how hard, and when it
    moves to new ones."""

    name: str = Field(min_length=1)
    behaviour: _one_of("blaster", "slow_dialer", "snowshoe")
    start_day: float = Field(ge=0)
    days: float = Field(gt=0)
    numbers: int = Field(ge=1, le=100_000)
    calls_per_number_per_day: float = Field(gt=0)
    active_hours: tuple[int, int] = (9, 20)
    rotate: _one_of("never", "on_block", "schedule") = "never"
    rotate_every_hours: float = Field(default=24.0, gt=0)
    rotate_after_blocked: int = Field(default=3, ge=1)
    targets: int = Field(default=5000, ge=1)
    on_net_share: float = Field(default=0.3, ge=0, le=1)
    answer_prob: float = Field(default=0.12, ge=0, le=1)
    duration: Distribution = Field(
        default_factory=lambda: LogNormal(kind="lognormal", median=20.0, sigma=0.8))

    @field_validator("active_hours")
    @classmethod
    def _hours(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= v[0] < v[1] <= 24:
            raise ValueError("must be [first hour, end hour] with 0 <= first < end <= 24")
        return v


class Robocallers(_Model):
    """Robocall campaigns; their numbers come from the inventory like anyone else's."""

    campaigns: list[Campaign] = Field(max_length=100)
    aging_days: tuple[float, float]

    @field_validator("aging_days")
    @classmethod
    def _aging(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not AGING_FLOOR_DAYS <= v[0] <= v[1] <= AGING_CAP_DAYS["business"]:
            raise ValueError(f"must satisfy {AGING_FLOOR_DAYS:g} <= min <= max <= 365")
        return v

    @model_validator(mode="after")
    def _unique(self):
        _unique_names(self.campaigns, "campaigns")
        return self


class Detection(_Model):
    """The burst detector plugged into the call-control pipeline and what its flags do."""

    detector: _one_of(*DETECTORS)
    threshold: float = Field(gt=0)
    window_seconds: float = Field(gt=0)
    baseline_per_day: float = Field(gt=0)
    cusum_h: float = Field(gt=0)
    watch_days: float = Field(gt=0)
    quiet_days: float = Field(gt=0)
    purge_every_hours: float = Field(gt=0)
    action: _one_of("block", "limit")
    limit_per_hour: float = Field(gt=0)
    sketch_width: int = Field(ge=1024)
    sketch_depth: int = Field(ge=1, le=16)
    cohort_seconds: float = Field(gt=0)
    cohort_window_seconds: float = Field(gt=0)
    cohort_min_members: int = Field(ge=2)
    cohort_threshold: float = Field(gt=0)
    cohort_max_member_calls: int = Field(ge=1)
    extra_rules: list[tuple[float, float]]
    with_cohort: bool
    false_flag_budget: float = Field(gt=0, lt=1)

    @field_validator("extra_rules")
    @classmethod
    def _rules(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for threshold, window in v:
            if not (threshold > 0 and window > 0):
                raise ValueError("each rule is [threshold > 0, window_seconds > 0]")
        return v

    def rules(self) -> list["Detection"]:
        """This section once per (threshold, window) rule: the main one, then the extras."""
        return [self] + [self.model_copy(update={"threshold": th, "window_seconds": w,
                                                 "extra_rules": []})
                         for th, w in self.extra_rules]

    @field_validator("sketch_width")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError("must be a power of two")
        return v

    @model_validator(mode="after")
    def _rates(self):
        if self.detector == "cusum" and self.threshold / self.window_seconds * 86400 <= self.baseline_per_day:
            raise ValueError("threshold: the alarm rate (threshold per window) must exceed "
                             "baseline_per_day for the CUSUM")
        return self


class ExperimentConfig(_Model):
    """A whole experiment: the world, how it is recorded, and the sweep over it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str
    seed: int = Field(ge=0, lt=2**63)
    replications: int = Field(ge=1, le=10_000)
    common_random_numbers: bool
    scenario: Scenario
    inventory: Inventory
    record: Record
    subscribers: Subscribers
    spam: Spam
    robocallers: Robocallers
    detection: Detection
    residual: Residual
    aging: Aging
    dni: Dni
    sweep: dict[str, list[Any]]

    @model_validator(mode="after")
    def _regulatory(self):
        """US aging bounds (47 CFR 52.15(f)(1)(ii)), unless the study is a counterfactual."""
        if self.aging.counterfactual:
            return self
        for name in SUBSCRIBER_TYPES:
            lo, hi = getattr(self.subscribers, name).aging_days
            if lo < AGING_FLOOR_DAYS:
                raise ValueError(f"subscribers.{name}.aging_days: minimum {lo:g} is below the "
                                 f"{AGING_FLOOR_DAYS:g}-day FCC floor (set "
                                 "aging.counterfactual = true for a counterfactual study)")
            if hi > AGING_CAP_DAYS[name]:
                raise ValueError(f"subscribers.{name}.aging_days: maximum exceeds the "
                                 f"{AGING_CAP_DAYS[name]:g}-day regulatory cap (set "
                                 "aging.counterfactual = true for a counterfactual study)")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, as it would be written in TOML."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_toml(self) -> str:
        """The fully resolved configuration as TOML text."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """SHA-256 of the resolved configuration (canonical JSON)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


_DIST_KINDS = {"exponential", "lognormal", "gamma", "weibull", "uniform"}
ZIP = "zip."
"""Prefix of the flattened ``[sweep.zip]`` keys: parameters swept together."""


def _defaults() -> dict[str, Any]:
    return tomllib.loads((Path(__file__).parent / "defaults.toml").read_text())


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "kind" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _set_path(raw: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    keys = dotted.split(".")
    if not all(keys):
        raise ConfigError(f"{origin}: {dotted!r} is not a dotted key path")
    node: Any = raw
    for i, key in enumerate(keys):
        here = ".".join(keys[: i + 1])
        if isinstance(node, list):  # campaigns.0.numbers: an element of an array of tables
            if not key.isdigit() or int(key) >= len(node):
                raise ConfigError(f"{here}: no such element ({origin})")
            key = int(key)
        elif not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(keys[:i])}: is a value, not a table ({origin})")
        if i == len(keys) - 1:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}
            node = node[key]


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b=3"`` into the key path and its value (TOML syntax, else a string)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. scenario.days=2")
    return key, _parse_value(value.strip())


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"] if str(p) not in _DIST_KINDS]
    path = ".".join(loc) or "config"
    msg = first["msg"].removeprefix("Value error, ")
    relative = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg)
    if relative:  # a model-level check naming the key below it, e.g. "business.aging_days: ..."
        path, msg = f"{path}.{relative[1]}" if loc else relative[1], relative[2]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "required key is missing"
    elif "input" in first and not isinstance(first["input"], (dict, list)):
        msg = f"{msg} (got {first['input']!r})"
    return f"{path}: {msg}"


def parse_config(raw: dict[str, Any], overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Validate an experiment given as a nested dict.

    Parameters
    ----------
    raw : dict
        The experiment's own keys (merged over the defaults).
    overrides : iterable of str
        ``"dotted.key=value"`` strings applied after merging.

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ConfigError
        One line naming the key path and what is wrong.
    """
    merged = _merge(_defaults(), raw)
    if isinstance(merged.get("sweep"), dict):
        merged["sweep"] = _flatten(merged["sweep"])
    for text in overrides:
        key, value = parse_override(text)
        _set_path(merged, key, value, f"--set {text}")
    try:
        config = ExperimentConfig.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(_format_error(err)) from None
    zipped = {k: v for k, v in config.sweep.items() if k.startswith(ZIP)}
    if len({len(v) for v in zipped.values()}) > 1:
        lengths = ", ".join(f"{k[len(ZIP):]}: {len(v)}" for k, v in zipped.items())
        raise ConfigError(f"sweep.zip: zipped lists differ in length ({lengths})")
    for key, values in config.sweep.items():  # each swept value must validate on its own
        path = key[len(ZIP):] if key.startswith(ZIP) else key
        if not values:
            raise ConfigError(f"sweep.{key}: needs at least one value")
        if path.split(".")[0] in ("sweep", "seed", "replications", "name",
                                  "common_random_numbers"):
            raise ConfigError(f"sweep.{key}: cannot be swept")
        for value in values:
            point = copy.deepcopy(merged)
            _set_path(point, path, value, f"sweep.{key}")
            point["sweep"] = {}
            try:
                ExperimentConfig.model_validate(point)
            except ValidationError as err:
                raise ConfigError(f"sweep.{key} = {value!r}: {_format_error(err)}") from None
    return config


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Read, merge over the defaults, override and validate an experiment TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The experiment file, e.g. ``"experiments/quickstart.toml"``.
    overrides : iterable of str
        ``"dotted.key=value"`` strings, as given to ``--set``.

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    ConfigError
        Missing or unreadable file, malformed TOML, unknown key, wrong type, value out of
        range, or bad override -- as one line naming the key path.

    Examples
    --------
    >>> cfg = load_config("experiments/quickstart.toml", ["scenario.days=2"])  # doctest: +SKIP
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read ({err.__class__.__name__})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    return parse_config(raw, overrides)


def sweep_points(config: ExperimentConfig) -> Iterator[tuple[dict[str, Any], ExperimentConfig]]:
    """Every point of the config's sweep, in a fixed order.

    Keys of ``[sweep]`` form a grid; keys under ``[sweep.zip]`` vary together (their lists
    have one length) as one more dimension of the grid -- for paired parameters.

    Yields
    ------
    params : dict
        The swept keys (dotted paths) and their values at this point (empty when there is
        no sweep).
    point : ExperimentConfig
        The configuration of this point, with an empty sweep.
    """
    grid = {k: v for k, v in config.sweep.items() if not k.startswith(ZIP)}
    zipped = {k[len(ZIP):]: v for k, v in config.sweep.items() if k.startswith(ZIP)}
    pairs = [dict(zip(zipped, values)) for values in zip(*zipped.values())] or [{}]
    base = config.to_dict()
    base["sweep"] = {}
    for values in itertools.product(*grid.values(), pairs):
        params = {**dict(zip(grid, values[:-1])), **values[-1]}
        raw = copy.deepcopy(base)
        for key, value in params.items():
            _set_path(raw, key, value, f"sweep.{key}")
        yield params, ExperimentConfig.model_validate(raw)
