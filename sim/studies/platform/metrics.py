"""Per-run figures of the softphone platform, judged against its ground truth (every
attempt's row in ``platform_sessions``, the hourly counts in ``platform_hourly``).

Figures leave out attempts arriving in the first ``platform.warmup_hours``.  The service
level is the share of inbound call attempts (closed hours left out) answered within
``platform.sl_seconds``: blocked, refused and abandoned attempts count as not answered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.common import DAY, HOUR

from ...config.platform import Platform
from ...results.run import SimResult
from .theory import theory_metrics

__all__ = ["DENOMINATORS", "platform_metrics", "noisy_window"]

DENOMINATORS = {
    "platform.sl": "platform.offered",
    "platform.abandoned_share": "platform.offered",
    "platform.blocked_share": "platform.offered",
    "platform.refused_share": "platform.offered",
    "platform.no_ports_share": "platform.offered",
    "platform.connected_share": "platform.dials",
    "platform.failed_share": "platform.dials",
    "platform.refused_idle_share": "platform.offered",
    "platform.outage_connected_share": "platform.outage_dials",
    "platform.outage_failed_share": "platform.outage_dials",
}
"""Each share and the count it is a share of (exact bounds when a share is 0 or 1)."""


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else np.nan


def noisy_window(cfg: Platform) -> tuple[str, float, float] | None:
    """The first surge's tenant and the window it is judged in: from its start to an hour
    after its end (the backlog it leaves)."""
    if not cfg.bursts:
        return None
    b = next(iter(cfg.bursts.values()))
    start = b.day * DAY + b.hour * HOUR
    return b.tenant, start, start + (b.hours + 1.0) * HOUR


def _counts(h: pd.DataFrame) -> dict[str, float]:
    s = h[["offered", "within_sl", "abandoned", "blocked", "refused", "no_ports"]].sum()
    return {k: float(v) for k, v in s.items()}


def _hourly_metrics(cfg: Platform, hourly: pd.DataFrame, out: dict[str, float]) -> None:
    c = _counts(hourly)
    out["platform.offered"] = c["offered"]
    out["platform.sl"] = _ratio(c["within_sl"], c["offered"])
    out["platform.abandoned_share"] = _ratio(c["abandoned"], c["offered"])
    out["platform.blocked_share"] = _ratio(c["blocked"], c["offered"])
    out["platform.refused_share"] = _ratio(c["refused"], c["offered"])
    out["platform.no_ports_share"] = _ratio(c["no_ports"], c["offered"])
    out["platform.mean_wait"] = _ratio(float(hourly["wait_seconds"].sum()), c["offered"])
    texts = float(hourly["texts"].sum())
    out["platform.texts"] = texts
    out["platform.text_sl"] = _ratio(float(hourly["texts_within_sl"].sum()), texts)
    agents = float(hourly["agent_hours"].sum())
    out["platform.agent_hours"] = agents
    out["platform.occupancy"] = _ratio(float(hourly["busy_hours"].sum()), agents)
    for k, t in enumerate(cfg.tenants):
        mine = _counts(hourly[hourly["tenant"] == k])
        out[f"platform.sl.{t.name}"] = _ratio(mine["within_sl"], mine["offered"])
        out[f"platform.abandoned.{t.name}"] = _ratio(mine["abandoned"], mine["offered"])
        out[f"platform.offered.{t.name}"] = mine["offered"]
    # staffing: each tenant-day against both targets
    day = (hourly["t"] // DAY).astype(int)
    daily = (
        hourly.assign(day=day)
        .groupby(["tenant", "day"])[["offered", "within_sl", "abandoned"]]
        .sum()
    )
    daily = daily[daily["offered"] > 0]
    met = (daily["within_sl"] / daily["offered"] >= cfg.sl_target) & (
        daily["abandoned"] / daily["offered"] <= cfg.abandon_target
    )
    out["platform.tenant_days"] = float(len(daily))
    out["platform.days_meeting_share"] = float(met.mean()) if len(daily) else np.nan
    window = noisy_window(cfg)
    if window is not None:
        name, lo, hi = window
        k = [t.name for t in cfg.tenants].index(name)
        inside = hourly[(hourly["t"] >= lo) & (hourly["t"] < hi)]
        others, noisy = (
            _counts(inside[inside["tenant"] != k]),
            _counts(inside[inside["tenant"] == k]),
        )
        out["platform.window_offered_others"] = others["offered"]
        out["platform.window_sl_others"] = _ratio(others["within_sl"], others["offered"])
        lost = others["blocked"] + others["refused"] + others["no_ports"]
        out["platform.window_blocked_others"] = _ratio(lost, others["offered"])
        out["platform.window_sl_noisy"] = _ratio(noisy["within_sl"], noisy["offered"])


def _session_metrics(cfg: Platform, s: pd.DataFrame, media, out: dict[str, float]) -> None:
    channel = s["channel"].astype(str).to_numpy()
    outcome = s["outcome"].astype(str).to_numpy()
    voice = channel == "voice"
    admitted = voice & ~np.isin(outcome, ["closed", "blocked", "refused", "no_ports"])
    out["platform.legs_per_call"] = float(s["legs"][admitted].mean()) if admitted.any() else np.nan
    out["platform.ports_per_call"] = (
        float(s["ports"][admitted].mean()) if admitted.any() else np.nan
    )
    out["platform.port_seconds_per_call"] = (
        float(s["port_seconds"][admitted].mean()) if admitted.any() else np.nan
    )
    refused = voice & np.isin(outcome, ["blocked", "refused", "no_ports"])
    offered = voice & (outcome != "closed")
    idle = refused & (s["free_trunks"].to_numpy() > 0)
    out["platform.refused_idle_share"] = _ratio(float(idle.sum()), float(offered.sum()))
    out["platform.idle_trunks_at_refusal"] = (
        float(s["free_trunks"][refused].mean()) if refused.any() else np.nan
    )
    dial = channel == "outbound"
    n_dial = float(dial.sum())
    connected = dial & (outcome == "answered")
    out["platform.dials"] = n_dial
    out["platform.connected_share"] = _ratio(float(connected.sum()), n_dial)
    out["platform.failed_share"] = _ratio(float((dial & (outcome == "failed")).sum()), n_dial)
    minutes = float(s["talk"][connected].sum()) / 60.0
    cost = float(s["cost"][dial].sum())
    wraps = np.array([t.wrap_seconds for t in cfg.tenants])[s["tenant"][dial].to_numpy()]
    busy = (s["end"] - s["answered_at"])[dial].to_numpy(float) + wraps
    agent_cost = float(np.nansum(busy)) / HOUR * cfg.agent_cost_per_hour
    out["platform.connected_minutes"] = minutes
    out["platform.carrier_cost"] = cost
    out["platform.cost_per_connected_minute"] = _ratio(cost, minutes)
    out["platform.total_cost_per_connected_minute"] = _ratio(cost + agent_cost, minutes)
    lo_hi = [(o.day * DAY + o.hour * HOUR, (o.day * DAY + o.hour * HOUR) + o.hours * HOUR)
             for o in cfg.outages.values()]  # fmt: skip
    if lo_hi:
        t = s["t"].to_numpy(float)
        during = np.zeros(len(s), dtype=bool)
        for lo, hi in lo_hi:
            during |= (t >= lo) & (t < hi)
        n_out = float((dial & during).sum())
        out["platform.outage_dials"] = n_out
        out["platform.outage_connected_share"] = _ratio(float((connected & during).sum()), n_out)
        out["platform.outage_failed_share"] = _ratio(
            float((dial & during & (outcome == "failed")).sum()), n_out
        )


def platform_metrics(result: SimResult) -> dict[str, float]:
    """The platform's figures of one run (empty unless ``platform.enabled``).

    Returns
    -------
    dict
        ``platform.offered`` (inbound call attempts), ``platform.sl``,
        ``platform.abandoned_share``, ``platform.blocked_share`` (no trunk),
        ``platform.refused_share`` (the isolation policy), ``platform.no_ports_share``,
        ``platform.mean_wait`` (s, over every attempt), ``platform.text_sl``,
        ``platform.agent_hours``, ``platform.occupancy``; per tenant ``platform.sl.<name>``,
        ``platform.abandoned.<name>``, ``platform.offered.<name>``;
        ``platform.days_meeting_share`` (tenant-days meeting both targets); media:
        ``platform.legs_per_call``, ``platform.ports_per_call``,
        ``platform.port_seconds_per_call``, ``platform.ports_peak``,
        ``platform.trunks_peak``, ``platform.erlang_ports`` (the ports Erlang B asks for at
        1% blocking of the busiest hour's calls); isolation: ``platform.refused_idle_share``
        (attempts refused while a trunk was free), ``platform.idle_trunks_at_refusal`` and,
        with a surge, ``platform.window_sl_others``, ``platform.window_sl_noisy``,
        ``platform.window_blocked_others``; termination: ``platform.dials``,
        ``platform.connected_share``, ``platform.failed_share``,
        ``platform.carrier_cost``, ``platform.cost_per_connected_minute``,
        ``platform.total_cost_per_connected_minute`` (agents' time included) and, with an
        outage, ``platform.outage_connected_share``, ``platform.outage_failed_share``;
        theory checks ``platform.theory.*`` (:mod:`.theory`).
    """
    cfg = result.config.platform
    if not cfg.enabled:
        return {}
    warm = cfg.warmup_hours * HOUR
    out: dict[str, float] = {}
    hourly = result.platform_hourly
    _hourly_metrics(cfg, hourly[hourly["t"] >= warm], out)
    media = result.platform_media
    media = media[media["t"] >= warm]
    out["platform.trunks_peak"] = float(media["trunks_peak"].max()) if len(media) else np.nan
    out["platform.ports_peak"] = float(media["ports_peak"].max()) if len(media) else np.nan
    design = cfg.build_media()
    blocked = hourly[hourly["t"] >= warm].groupby("t")[["offered", "no_ports"]].sum()
    if len(media):
        busiest = media.loc[media["ports_mean"].idxmax()]
        share = blocked.loc[busiest["t"]] if busiest["t"] in blocked.index else None
        lost = _ratio(share["no_ports"], share["offered"]) if share is not None else 0.0
        carried = float(busiest["ports_mean"]) / design.call_ports
        offered = carried / max(1.0 - (lost if np.isfinite(lost) else 0.0), 1e-9)
        out["platform.busy_hour_calls"] = offered
        out["platform.erlang_ports"] = float(design.ports_for(offered, 0.01))
    if cfg.record_sessions:
        s = result.platform_sessions
        _session_metrics(cfg, s[s["t"] >= warm], design, out)
    out.update(theory_metrics(result))
    return out
