"""The fleet-replacement section of the report: per policy, wrong-user assignments (pooled,
with exact Clopper-Pearson bounds), refused swaps, time to service, configuration fields
lost and administrator touches; and what the evidence says.

* **The PIN target** (0 wrong-user assignments with the PIN): per PIN policy, the pooled
  count with its exact bound, beside its rate of refused legitimate swaps.
* **Recommendation**: among the policies with no wrong-user assignment observed (their
  exact upper bounds stated), :func:`models.evidence.best_option` on the mean time to
  service (paired: every policy of a replication faced the same fleet); a policy is
  recommended only if it is significantly faster than every other, over at least
  :data:`MIN_REPLICATIONS` replications.
* **Against the baselines** (Cisco-style ``extension_pin``, VOSS-style ``copy_basic``):
  paired differences with their 95% intervals.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np

from models.evidence import best_option, clopper_pearson, paired_difference
from models.stats import mean_ci

from ...results.store import ExperimentResult
from ..glossary import value_text
from ..render import ci_table, figure, table, verdict
from .values import FleetPoint, count_text, fleet_points, pooled, values

__all__ = ["MIN_REPLICATIONS", "fleet_evidence", "fleet_section"]

MIN_REPLICATIONS = 5
"""Replications below which nothing is recommended."""

HEADLINE = [
    ("fleet.replacements", "replacements"),
    ("fleet.wrong_users_share", "wrong-user assignments (share)"),
    ("fleet.refused_share", "refused or left to an administrator (share)"),
    ("fleet.refused_needless_share", "… legitimate swaps refused needlessly"),
    ("fleet.refused_protective_share", "… refusals that prevented a wrong copy"),
    ("fleet.service_hours_mean", "time to service, mean (hours)"),
    ("fleet.service_hours_p95", "time to service, 95th percentile (hours)"),
    ("fleet.fields_lost_mean", "configured fields lost per replacement"),
    ("fleet.admin_touches_share", "administrator touches per replacement"),
]
_SHARES = {f"{k}_share": k for k in ("fleet.wrong_users", "fleet.refused", "fleet.accepted")}
_SHARES |= {f"{k}_share": k for k in ("fleet.refused_needless", "fleet.refused_protective")}


def _headline(result: ExperimentResult, pts: list[FleetPoint]) -> str:
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in HEADLINE])]
    if m.empty:
        return "<p>No run finished.</p>"
    wide = ci_table(m, names=HEADLINE, col_labels={p.index: p.label for p in pts})
    row = {label: key for key, label in HEADLINE}
    for i, label in enumerate(wide.iloc[:, 0]):
        key = row[label]
        for p in pts:
            v = values(result, key, [p]).iloc[:, 0].dropna()
            if key in _SHARES and len(v) and (v == 0).all():
                wide.loc[i, p.label] = count_text(result, _SHARES[key], p)
            elif len(v) > 1 and (v == v.iloc[0]).all():
                wide.loc[i, p.label] = f"{value_text(key, v.iloc[0])} in every replication"
    return table(wide)


def _figure(result: ExperimentResult, pts: list[FleetPoint]) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    x = np.arange(len(pts))
    names = [p.label for p in pts]
    lo, hi, mid = [], [], []
    for p in pts:
        k, n = pooled(result, "fleet.wrong_users", p)
        a, b = clopper_pearson(k, n) if n else (np.nan, np.nan)
        mid.append(k / n if n else np.nan)
        lo.append(a)
        hi.append(b)
    mid_a = np.asarray(mid)
    axes[0].errorbar(
        x, mid_a, yerr=[mid_a - np.asarray(lo), np.asarray(hi) - mid_a], fmt="o", capsize=4
    )
    axes[0].set_ylabel("wrong-user assignments per replacement")
    axes[0].set_title("Wrong-user assignments (pooled, exact 95%)")
    for ax, metric, what in (
        (axes[1], "fleet.refused_share", "refused or manual, per replacement"),
        (axes[2], "fleet.service_hours_mean", "time to service, mean (hours)"),
    ):
        stats_ = [mean_ci(values(result, metric, [p]).iloc[:, 0]) for p in pts]
        means = [s[0] for s in stats_]
        halves = [s[1] if np.isfinite(s[1]) else 0.0 for s in stats_]
        ax.bar(x, means, yerr=halves, capsize=4, color="C0", alpha=0.75)
        ax.set_ylabel(what)
        ax.set_title(what[0].upper() + what[1:])
    axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.set_xticks(x, names, rotation=35, ha="right", fontsize=7)
        ax.grid(alpha=0.3, axis="y")
    return figure(
        fig,
        "Per replacement policy: left, the share of replacements that copied another "
        "user's record (pooled over replications, with its exact Clopper-Pearson 95% "
        "interval); middle, the share left to an administrator (refused or manual); right, "
        "the mean hours from a failure to the phone working with its user's record (means "
        "and 95% intervals across replications; every policy faced the same fleet).",
    )


def _diff(result: ExperimentResult, metric: str, a: FleetPoint, b: FleetPoint, fmt: str) -> str:
    v = values(result, metric, [a, b])
    d = paired_difference(v.iloc[:, 0], v.iloc[:, 1])
    if d.n == 0:
        return "not observed"
    diffs = (v.iloc[:, 0] - v.iloc[:, 1]).dropna()
    if d.n > 1 and (diffs == diffs.iloc[0]).all():
        return f"{fmt.format(diffs.iloc[0])} in each of the {d.n} paired replications"
    sig = "significant" if d.above() or d.below() else "not significant"
    return f"{d.text(fmt)} ({sig})"


def fleet_evidence(result: ExperimentResult, pts: list[FleetPoint]) -> str:
    """HTML of the fleet's conclusions, each from the test stated beside it."""
    reps = result.config.replications
    parts = [
        "<p><b>Wrong-user assignments</b>, pooled over replications (exact 95% "
        "Clopper-Pearson): "
        + "; ".join(
            f"{html.escape(p.label)}: {count_text(result, 'fleet.wrong_users', p)}" for p in pts
        )
        + ".</p>"
    ]
    for p in (q for q in pts if q.pin):
        k, n = pooled(result, "fleet.wrong_users", p)
        met = "met" if k == 0 and n > 0 else "not met"
        parts.append(
            f"<p><b>Target of 0 wrong-user assignments with the PIN — {met}</b> for "
            f"{html.escape(p.label)}: {count_text(result, 'fleet.wrong_users', p)}; "
            "legitimate swaps it refused needlessly: "
            f"{count_text(result, 'fleet.refused_needless', p)}, and refusals that prevented "
            f"a wrong copy: {count_text(result, 'fleet.refused_protective', p)}.</p>"
        )
    safe = []
    for p in pts:
        k, n = pooled(result, "fleet.wrong_users", p)
        if k == 0 and n > 0:
            safe.append(p)
    if reps < MIN_REPLICATIONS:
        parts.append(
            f"<p>{reps} replication(s): at least {MIN_REPLICATIONS} are needed before a "
            "policy is recommended, so none is.</p>"
        )
    elif len(safe) >= 2:
        choice = best_option(values(result, "fleet.service_hours_mean", safe), lower_is_better=True)
        parts.append(
            "<p>Among the policies with no wrong-user assignment observed, on the mean time "
            "to service: "
            + verdict(
                choice,
                what="mean time to service",
                lower_is_better=True,
                fmt="{:.2f}",
                unit=" h",
            )
            + "</p>"
        )
        if choice.best is not None:
            parts.append(
                f"<p><b>Recommended: {html.escape(choice.best)}</b> — no wrong-user "
                "assignment observed and significantly the shortest time to service of those "
                "that had none.</p>"
            )
        else:
            parts.append(
                "<p>No single policy can be recommended on time to service among those with "
                "no wrong-user assignment.</p>"
            )
    elif len(safe) == 1:
        parts.append(
            f"<p>Only {html.escape(safe[0].label)} had no wrong-user assignment; no "
            "comparison names a best policy.</p>"
        )
    parts.append(_baselines(result, pts))
    return "".join(parts)


def _baselines(result: ExperimentResult, pts: list[FleetPoint]) -> str:
    rows = []
    for base, style in (("extension_pin", "Cisco-style"), ("copy_basic", "VOSS-style")):
        refs = [p for p in pts if p.policy == base and p.refuse_conflicts]
        refs = refs or [p for p in pts if p.policy == base]
        if not refs:
            continue
        ref = refs[0]
        for p in pts:
            if p is ref or p.policy in ("extension_pin", "copy_basic", "manual"):
                continue
            cells = "; ".join(
                f"{what} {_diff(result, metric, p, ref, fmt)}"
                for metric, what, fmt in (
                    ("fleet.service_hours_mean", "time to service", "{:.2f} h"),
                    ("fleet.admin_touches_share", "admin touches per replacement", "{:.3f}"),
                    ("fleet.fields_lost_mean", "fields lost per replacement", "{:.2f}"),
                    ("fleet.wrong_users_share", "wrong-user share", "{:.4f}"),
                )
            )
            rows.append(
                f"<li>{html.escape(p.label)} minus {html.escape(ref.label)} ({style} "
                f"baseline): {cells}</li>"
            )
    if not rows:
        return ""
    return (
        "<p><b>Against the baselines</b>, paired by replication (95% CI):</p><ul>"
        + "".join(rows)
        + "</ul>"
    )


def fleet_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the fleet-replacement section."""
    cfg = result.config.fleet
    pts = fleet_points(result, labels)
    years = result.config.scenario.days / 365.25
    return "".join(
        [
            "<h2>Fleet replacement</h2>",
            f"<p>{cfg.phones:,} desk phones over {years:.3g} years, failing at "
            f"{cfg.failures_per_year:.3g} a phone-year; headsets lent "
            f"({cfg.borrows_per_year:.3g}), shared ({cfg.shares_per_year:.3g}) and moved "
            f"({cfg.moves_per_year:.3g} a headset-year). Each replacement is decided from "
            "what the server observes and judged against the truth: the user at the desk "
            "where the new phone was installed. Means ± 95% confidence half-widths across "
            "replications; every policy of a replication faced the same fleet (common "
            "random numbers); counts that are 0 are pooled with their exact bound.</p>",
            _headline(result, pts),
            _figure(result, pts),
            "<h3>What the evidence says</h3>",
            fleet_evidence(result, pts),
        ]
    )
