"""The softphone platform's section of the report: headline figures with 95% intervals,
service level and abandonment per tenant, the closed-form checks, media ports per design,
termination cost, the noisy-neighbour window, staffing, and what the evidence says
(:mod:`.evidence`).  A share that is 0 or 1 in every replication is shown as its pooled
count with an exact bound; a figure the runs could not measure is "not observed"."""

from __future__ import annotations

from ...results.store import ExperimentResult
from ..render import ci_table, table
from .evidence import evidence
from .figures import (
    isolation_figure,
    media_figure,
    staffing_figure,
    tenant_figure,
    termination_figure,
    theory_part,
)
from .values import NOT_OBSERVED, exact_text, points_of, varies

__all__ = ["platform_section"]

HEADLINE = [
    ("platform.offered", "inbound call attempts"),
    ("platform.sl", "answered within the threshold"),
    ("platform.abandoned_share", "abandoned"),
    ("platform.blocked_share", "blocked (no trunk)"),
    ("platform.refused_share", "refused by the isolation policy"),
    ("platform.no_ports_share", "no media ports"),
    ("platform.mean_wait", "mean wait (s)"),
    ("platform.text_sl", "texts answered within the threshold"),
    ("platform.agent_hours", "agent-hours"),
    ("platform.occupancy", "agent occupancy"),
    ("platform.days_meeting_share", "tenant-days meeting both targets"),
    ("platform.trunks_peak", "trunks in use (peak)"),
    ("platform.ports_peak", "media ports in use (peak)"),
    ("platform.erlang_ports", "ports Erlang B asks for (1%)"),
    ("platform.legs_per_call", "media legs per call (most at once)"),
    ("platform.ports_per_call", "media ports per call"),
    ("platform.refused_idle_share", "turned away while a trunk was idle"),
    ("platform.window_sl_others", "others' service level in the surge window"),
    ("platform.window_sl_noisy", "surging tenant's service level in the window"),
    ("platform.dials", "outbound dials"),
    ("platform.connected_share", "dials connected"),
    ("platform.failed_share", "dials no carrier took"),
    ("platform.cost_per_connected_minute", "carrier $ per connected minute"),
    ("platform.total_cost_per_connected_minute", "… with agents' time"),
    ("platform.outage_connected_share", "dials connected during the outage"),
]


def _headline(result: ExperimentResult, labels: dict[int, str]) -> str:
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in HEADLINE])]
    if m.empty:
        return "<p>No run finished.</p>"
    points = sorted(int(p) for p in m["point"].unique())
    wide = ci_table(m, names=HEADLINE, col_labels={p: labels[p] for p in points})
    wide = wide.replace({"nan": NOT_OBSERVED})
    row = {label: key for key, label in HEADLINE}
    for i, label in enumerate(wide.iloc[:, 0]):
        for p in points:
            exact = exact_text(result, row[label], p)
            if exact is not None and labels[p] in wide.columns:
                wide.loc[i, labels[p]] = exact
    return table(wide)


def _tenants(result: ExperimentResult, labels: dict[int, str]) -> str:
    names = []
    for t in result.config.platform.tenants:
        names += [(f"platform.sl.{t.name}", f"{t.name}: service level"),
                  (f"platform.abandoned.{t.name}", f"{t.name}: abandoned")]  # fmt: skip
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in names])]
    if m.empty:
        return ""
    points = sorted(int(p) for p in m["point"].unique())
    wide = ci_table(m, names=names, col_labels={p: labels[p] for p in points})
    return table(wide.replace({"nan": NOT_OBSERVED}))


def platform_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the platform section (empty unless the experiment runs the platform)."""
    cfg = result.config.platform
    if not cfg.enabled:
        return ""
    parts = [
        "<h2>Softphone platform (multi-tenant)</h2>",
        f"<p>Client businesses' customers call and text their numbers; calls take a trunk "
        f"and media ports, choose a skill in the IVR and wait for an agent; agents' outbound "
        f"calls leave through the carriers. The service level is the share of inbound call "
        f"attempts answered within {cfg.sl_seconds:g} s (blocked, refused and abandoned ones "
        f"count against it); the targets are {cfg.sl_target:.0%} and at most "
        f"{cfg.abandon_target:.0%} abandoned. Means ± 95% confidence half-widths across "
        f"replications; every point faced the same customers (common random numbers when "
        f"the experiment asks for them)."
        + (f" The first {cfg.warmup_hours:g} hours are left out." if cfg.warmup_hours else "")
        + "</p>",
        _headline(result, labels),
        "<h3>Per tenant</h3>",
        _tenants(result, labels),
        tenant_figure(result, labels),
    ]
    parts += theory_part(result, labels)
    points = points_of(result)
    if varies(result, lambda c: c.media) or any(p.platform.media != "bridge" for p in points):
        parts.append(media_figure(result, labels))
    if any(t.outbound_per_hour > 0 for p in points for t in p.platform.tenants):
        parts.append(termination_figure(result, labels))
    if cfg.bursts:
        parts.append(isolation_figure(result, labels))
    if varies(result, lambda c: c.staffing):
        parts.append(staffing_figure(result, labels))
    parts += ["<h3>What the evidence says</h3>", evidence(result, labels)]
    return "".join(parts)
