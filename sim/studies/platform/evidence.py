"""What the platform evidence says, generated from the tests that support it.

Every comparison pairs replications run under common random numbers (every policy faced
the same customers), so a "better" needs a paired 95% interval that excludes zero
(:func:`models.evidence.best_option`, stated by :func:`sim.studies.render.verdict`), and an
"acceptable" needs a stated margin (:func:`models.evidence.non_inferior`):

* isolation -- a policy keeps a noisy tenant from hurting the rest if the other tenants'
  service level in the surge's window, surge minus no surge, stays above
  ``-platform.noise_margin`` (lower 95% bound); among those, the one with the best service
  under normal load is recommended only if its paired intervals say so;
* staffing -- a policy is eligible if its service level's 95% lower bound is at least
  ``sl_target - staffing_margin`` and its abandonment's upper bound at most
  ``abandon_target + staffing_margin``; among those, the fewest agent-hours;
* termination -- the lowest total cost per connected minute (carrier and agents' time);
* media -- the fewer ports Erlang B asks for.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from models.evidence import best_option, non_inferior, paired_difference, ratio_ci
from models.stats import mean_ci

from ...results.store import ExperimentResult
from ..render import verdict
from .values import mean_text, points_of, share_text, values, varies

__all__ = ["evidence"]


def _factor(point) -> float:
    b = point.platform.bursts
    return next(iter(b.values())).factor if b else 1.0


def _share_pm(ratio: float, half: float) -> str:
    """``ratio ± half`` as percentages; without an interval (one replication) says so."""
    if not np.isfinite(ratio):
        return "not observed"
    if not np.isfinite(half):
        return f"{ratio:.1%} (one replication: no interval)"
    return f"{ratio:.1%} ± {half:.1%}"


def _pct(d) -> str:
    if not np.isfinite(d.half_width):
        return f"{100 * d.mean:+.2f} points (one pair: no interval)"
    return f"{100 * d.mean:+.2f} ± {100 * d.half_width:.2f} points"


def _isolation(result: ExperimentResult, labels: dict[int, str]) -> str:
    points = points_of(result)
    margin = result.config.platform.noise_margin
    by_policy: dict[str, dict[str, int]] = {}
    for p, point in enumerate(points):
        kind = "surge" if _factor(point) > 1 else "base"
        by_policy.setdefault(point.platform.isolation, {})[kind] = p
    rows, passing, base_points = [], [], {}
    for policy, pair in by_policy.items():
        if "surge" not in pair or "base" not in pair:
            continue
        base_points[policy] = pair["base"]
        v = values(result, "platform.window_sl_others", [pair["surge"], pair["base"]], labels)
        ok, d = non_inferior(v.iloc[:, 0], v.iloc[:, 1], margin, lower_is_better=False)
        if ok:
            passing.append(policy)
        idle = values(result, "platform.refused_idle_share", [pair["base"]], labels).iloc[:, 0]
        noisy = values(result, "platform.window_sl_noisy", [pair["surge"]], labels).iloc[:, 0]
        rows.append(
            f"<li><b>{html.escape(policy)}</b>: the other tenants' service level moved by "
            f"{_pct(d)} (95% CI, {d.n} paired replications) -- "
            + ("<b>within</b>" if ok else "<b>not within</b>")
            + f" the {100 * margin:g}-point margin; the surging tenant's own: "
            f"{mean_text(noisy, '{:.1%}')}; under normal load "
            f"{share_text(result, 'platform.refused_idle_share', pair['base'], idle, '{:.2%}')}"
            " of calls were turned away while a trunk sat "
            "idle (the policy's cost in idle capacity)</li>"
        )
    if not rows:
        return "<p>Isolation: no policy was run both with and without the surge.</p>"
    parts = [
        "<p><b>Isolation.</b> One tenant's calls surge; each policy is run with and without "
        "the surge on the same customers. The other tenants' service level in the surge's "
        "window (its hours and the hour after), surge minus no surge:</p><ul>",
        *rows,
        "</ul>",
    ]
    if "complete_sharing" in by_policy and "complete_sharing" not in passing:
        parts.append(
            "<p>Complete sharing lets the surge hurt the rest: the scenario shows the "
            "failure it measures.</p>"
        )
    if not passing:
        parts.append("<p>No policy kept the others within the margin; none is recommended.</p>")
        return "".join(parts)
    sl = values(result, "platform.sl", [base_points[p] for p in passing], labels)
    sl.columns = passing
    choice = best_option(sl, lower_is_better=False)
    parts.append(
        "<p>Among the policies within the margin, the service level of all tenants under "
        "normal load (no surge): "
        + verdict(
            choice, what="service level under normal load", lower_is_better=False, fmt="{:.2%}"
        )  # fmt: skip
        + "</p>"
    )
    if choice.best is not None:
        parts.append(
            f"<p><b>Recommended: {html.escape(choice.best)}</b> -- it keeps the other "
            "tenants within the margin during the surge and serves significantly better "
            "than the other such policies under normal load.</p>"
        )
    else:
        parts.append(
            "<p>No single policy can be recommended: "
            + ", ".join(html.escape(c) for c in choice.tied)
            + " keep the others within the margin and do not differ significantly under "
            "normal load.</p>"
        )
    return "".join(parts)


def _interval(v: pd.Series) -> tuple[float, float]:
    mean, half = mean_ci(v.to_numpy(float))
    return mean, half if np.isfinite(half) else np.inf


def _staffing(result: ExperimentResult, labels: dict[int, str]) -> str:
    cfg = result.config.platform
    points = points_of(result)
    names = {p: point.platform.staffing for p, point in enumerate(points)}
    idx = list(names)
    sl = values(result, "platform.sl", idx, labels)
    ab = values(result, "platform.abandoned_share", idx, labels)
    hours = values(result, "platform.agent_hours", idx, labels)
    eligible, rows = [], []
    for p in idx:
        col = labels[p]
        (m_sl, h_sl), (m_ab, h_ab) = _interval(sl[col]), _interval(ab[col])
        ok = m_sl - h_sl >= cfg.sl_target - cfg.staffing_margin and (
            m_ab + h_ab <= cfg.abandon_target + cfg.staffing_margin
        )
        if ok:
            eligible.append(col)
        rows.append(
            f"<li>{html.escape(col)}: service level {mean_text(sl[col], '{:.1%}')}, abandoned "
            f"{mean_text(ab[col], '{:.1%}')}, agent-hours {mean_text(hours[col], '{:,.0f}')} "
            + ("(eligible)" if ok else "(not eligible)")
            + "</li>"
        )
    parts = [
        f"<p><b>Staffing.</b> Target: {cfg.sl_target:.0%} within {cfg.sl_seconds:g} s and at "
        f"most {cfg.abandon_target:.0%} abandoned; a policy is eligible when the 95% lower "
        f"bound of its service level is at least {cfg.sl_target - cfg.staffing_margin:.0%} "
        f"and the upper bound of its abandonment at most "
        f"{cfg.abandon_target + cfg.staffing_margin:.0%}.</p><ul>",
        *rows,
        "</ul>",
    ]
    by_name = {names[p]: labels[p] for p in idx}
    sim, sqrt = by_name.get("sim_optimised"), by_name.get("square_root")
    if sim and sqrt:
        ratio, half = ratio_ci(hours[sim], hours[sqrt])
        d = paired_difference(hours[sim], hours[sqrt])
        parts.append(
            f"<p>The simulation-optimised schedule uses {_share_pm(ratio, half)} of square-root "
            f"staffing's agent-hours (replication by replication, 95% CI): "
            f"{d.text('{:,.0f}')} agent-hours paired.</p>"
        )
    if not eligible:
        parts.append("<p>No policy met the targets within the margin; none is recommended.</p>")
        return "".join(parts)
    choice = best_option(hours, lower_is_better=True, eligible=eligible)
    parts.append(
        "<p>Among the eligible: "
        + verdict(choice, what="agent-hours", lower_is_better=True, fmt="{:,.0f}")
        + "</p>"
    )
    if choice.best is not None:
        parts.append(
            f"<p><b>Recommended: {html.escape(choice.best)}</b> -- it meets the targets "
            "within the margin with significantly fewer agent-hours.</p>"
        )
    return "".join(parts)


def _termination(result: ExperimentResult, labels: dict[int, str]) -> str:
    idx = list(range(len(points_of(result))))
    total = values(result, "platform.total_cost_per_connected_minute", idx, labels)
    carrier = values(result, "platform.cost_per_connected_minute", idx, labels)
    connected = values(result, "platform.connected_share", idx, labels)
    parts = [
        "<p><b>Termination routing.</b> "
        + verdict(
            best_option(carrier, lower_is_better=True),
            what="carrier cost per connected minute",
            lower_is_better=True,
            fmt="{:.4f}",
            unit=" $",
        )  # fmt: skip
        + " "
        + verdict(
            best_option(connected, lower_is_better=False),
            what="connected share",
            lower_is_better=False,
            fmt="{:.2%}",
        )  # fmt: skip
        + "</p>"
    ]
    outage = values(result, "platform.outage_connected_share", idx, labels)
    if outage.notna().any().any():
        failed = values(result, "platform.outage_failed_share", idx, labels)
        rows, rows_f = [], []
        for p, c in zip(idx, outage.columns, strict=True):
            for key, v, out in (("connected", outage, rows), ("failed", failed, rows_f)):
                text = share_text(result, f"platform.outage_{key}_share", p, v[c], "{:.1%}")
                out.append(f"{html.escape(c)} {text}")
        parts.append(
            "<p>During the carrier outage, dials connected: "
            + "; ".join(rows)
            + "; dials that failed (no carrier took them): "
            + "; ".join(rows_f)
            + ".</p>"
        )
    choice = best_option(total, lower_is_better=True)
    parts.append(
        "<p>What the operator pays per connected minute, agents' time included: "
        + verdict(
            choice,
            what="total cost per connected minute",
            lower_is_better=True,
            fmt="{:.4f}",
            unit=" $",
        )  # fmt: skip
        + "</p>"
    )
    if choice.best is not None:
        parts.append(
            f"<p><b>Recommended: {html.escape(choice.best)}</b> -- the lowest total cost per "
            "connected minute, significantly.</p>"
        )
    else:
        parts.append("<p>No routing policy can be recommended on total cost.</p>")
    return "".join(parts)


def _media(result: ExperimentResult, labels: dict[int, str]) -> str:
    points = points_of(result)
    by = {point.platform.media: p for p, point in enumerate(points)}
    idx = list(by.values())
    ports = values(result, "platform.erlang_ports", idx, labels)
    per_call = values(result, "platform.ports_per_call", idx, labels)
    legs = values(result, "platform.legs_per_call", idx, labels)
    lost = values(result, "platform.no_ports_share", idx, labels)
    rows = [
        f"<li>{html.escape(labels[p])}: {mean_text(legs[labels[p]], '{:.3f}')} legs and "
        f"{mean_text(per_call[labels[p]], '{:.3f}')} ports per call; Erlang B asks "
        f"{mean_text(ports[labels[p]], '{:,.0f}')} ports at 1% blocking; with the configured "
        f"ports {mean_text(lost[labels[p]], '{:.2%}')} of calls found none</li>"
        for p in idx
    ]
    parts = ["<p><b>Media design.</b></p><ul>", *rows, "</ul>"]
    if "bridge" in by and "conference" in by:
        b, c = labels[by["bridge"]], labels[by["conference"]]
        d = paired_difference(ports[c], ports[b])
        ratio, half = ratio_ci(ports[b], ports[c])
        parts.append(
            f"<p>Conference minus bridging, ports Erlang B asks for: {d.text('{:,.1f}')} "
            f"(95% CI, {d.n} paired replications); bridging needs {_share_pm(ratio, half)} "
            "of the conference design's ports.</p>"
        )
    choice = best_option(ports, lower_is_better=True)
    parts.append("<p>" + verdict(choice, what="ports at 1% blocking", lower_is_better=True,
                                 fmt="{:,.1f}") + "</p>")  # fmt: skip
    if choice.best is not None:
        parts.append(f"<p><b>Recommended: {html.escape(choice.best)}</b>.</p>")
    return "".join(parts)


def evidence(result: ExperimentResult, labels: dict[int, str]) -> str:
    """The section's conclusions, one per question the experiment sweeps."""
    if len(points_of(result)) < 2:
        return "<p>One configuration: nothing compared, nothing recommended.</p>"
    parts = []
    if varies(result, lambda c: c.isolation):
        parts.append(_isolation(result, labels))
    if varies(result, lambda c: c.staffing):
        parts.append(_staffing(result, labels))
    if varies(result, lambda c: c.routing):
        parts.append(_termination(result, labels))
    if varies(result, lambda c: c.media):
        parts.append(_media(result, labels))
    return "".join(parts) or "<p>No platform policy is swept: nothing compared.</p>"
