"""The platform's policies for a run: isolation, routing and media design from the config,
and a staffing schedule -- the configured agents, or a policy planned from a forecast the
operator learns from a separate history run of the same world.

The history run (``platform.history_days`` long, on its own random streams) is the
operator's records of normal weeks: its configured (fixed) agents, complete sharing, no
surges or outages.  It is memoised per process by world and replication, so every point of
a sweep over staffing policies plans from the same history.
"""

from __future__ import annotations

import numpy as np

from models.platform import STAFFING_POLICIES, StaffingContext, forecast

from ...config.base import build_checked
from ...config.experiment import ExperimentConfig
from ...world.platform import PlatformPolicies, layout_of
from ..study import RunWorld

__all__ = ["HISTORY_POINT", "history_config", "platform_policies"]

HISTORY_POINT = 2**31 - 2
"""The point index of history runs: streams no experiment point uses."""
_FORECASTS: dict[tuple[str, int], object] = {}


def history_config(config: ExperimentConfig) -> ExperimentConfig:
    """The world of the operator's history: the same tenants and customers for
    ``history_days``, fixed staffing, complete sharing, no surges or outages, no other
    study's machinery."""
    raw = config.to_dict()
    raw["scenario"]["days"] = config.platform.history_days
    raw["record"]["calls"] = False
    raw["sweep"] = {}
    p = raw["platform"]
    p.update(
        staffing="fixed",
        isolation="complete_sharing",
        routing="least_cost",
        media="bridge",
        bursts={},
        outages={},
        record_sessions=True,
        warmup_hours=0.0,
    )
    raw["dni"]["enabled"] = False
    raw["aging"]["release"]["policy"] = "drawn"
    raw["aging"]["compare_models"] = False
    raw["detection"]["detector"] = "none"
    return ExperimentConfig.model_validate(raw)


def _forecast(config: ExperimentConfig, replication: int, run_world: RunWorld):
    history = history_config(config)
    key = (history.digest(), replication)
    if key not in _FORECASTS:
        res = run_world(history, HISTORY_POINT, replication)
        lay = layout_of(config.platform)
        _FORECASTS[key] = forecast(
            res.platform_sessions,
            lay.group_tenant,
            lay.group_skill,
            lay.group_wrap,
            lay.group_capacity,
            lay.transfer_target,
            history.scenario.days,
            np.random.default_rng([config.seed, replication, 7]),
        )
    return _FORECASTS[key]


def platform_policies(
    config: ExperimentConfig, replication: int, run_world: RunWorld
) -> PlatformPolicies:
    """The platform's policies for a run of ``config``."""
    cfg = config.platform
    policies = PlatformPolicies.from_config(cfg)
    if cfg.staffing == "fixed":
        return policies
    lay = layout_of(cfg)
    ctx = StaffingContext(
        forecast=_forecast(config, replication, run_world),
        fixed=lay.fixed,
        open=lay.open,
        sl_seconds=cfg.sl_seconds,
        sl_target=cfg.sl_target,
        abandon_target=cfg.abandon_target,
        seed=config.seed + 7919 * replication,
    )
    policy = build_checked(
        STAFFING_POLICIES,
        cfg.staffing,
        f"platform.staffing_policies.{cfg.staffing}",
        ctx,
        **cfg.staffing_policies.get(cfg.staffing, {}),
    )
    policies.schedule = policy.schedule()
    return policies
