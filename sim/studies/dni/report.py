"""The call-tracking (DNI) section of the report: blocking against Erlang B, pool size over
the day, attribution with and without the association store, and the composition
optimizers' regret against the oracle."""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.common import DAY
from models.dni.erlang import erlang_b
from models.stats import summarize

from ...config import sweep_points
from ...results.store import ExperimentResult
from ..render import ci_table, figure, table
from .metrics import oracle_probabilities

__all__ = ["dni_section"]

HEADLINE = [
    ("dni.impressions", "impressions"),
    ("dni.blocked_share", "impressions given the overflow number"),
    ("dni.calls", "tracked calls"),
    ("dni.correct_share", "calls attributed correctly"),
    ("dni.correct_share_in_window", "… of calls within session + hold"),
    ("dni.correct_share_later", "… of later calls"),
    ("dni.misattributed_share", "calls credited to the wrong impression"),
    ("dni.unattributed_share", "calls not tied to any impression"),
    ("dni.wrong_sponsor_share", "calls routed to the wrong sponsor"),
    ("dni.pool_mean", "pool size (mean)"),
    ("dni.number_days", "number-days paid for"),
    ("dni.utilisation", "utilisation"),
    ("dni.store_entries_max", "association store entries (max)"),
    ("dni.cost_per_correct_call", "cost per correctly attributed call ($)"),
    ("dni.oracle_share", "expected calls, share of the oracle's"),
    ("dni.oracle_share_after_100k", "… after the first 100k impressions"),
]


def _wide(result: ExperimentResult, labels: dict[int, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in HEADLINE])]
    return (ci_table(m, names=HEADLINE, col_labels=labels), summarize(m, ["point", "metric"]))


def _flat(cfg) -> bool:
    return all(
        ch.sessions_per_day == 0 or np.ptp(ch.diurnal) == 0 for ch in cfg.dni.channels.by_code()
    )


def _erlang_part(result, labels, summary) -> list[str]:
    """Measured blocking against Erlang B (stationary demand only)."""
    points = [point for _, point in sweep_points(result.config)]
    if not all(_flat(point) and point.dni.sizer == "fixed" for point in points):
        return []
    rows = []
    for p, point in enumerate(points):
        load = float(point.dni.offered_loads().mean())
        got = summary[(summary["point"] == p) & (summary["metric"] == "dni.blocked_share")]
        rows.append(
            {
                "point": labels[p],
                "pool": point.dni.pool_size,
                "offered (erlangs)": load,
                "session": point.dni.session_minutes.kind,
                "measured": float(got["mean"].iloc[0]),
                "± 95%": float(got["ci"].iloc[0]),
                "Erlang B": float(erlang_b(point.dni.pool_size, load)),
            }
        )
    frame = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    x = np.arange(len(frame))
    ax.errorbar(
        x, frame["measured"], yerr=frame["± 95%"], fmt="o", capsize=4, label="simulated (95% CI)"
    )
    ax.scatter(x, frame["Erlang B"], marker="_", s=400, color="k", label="Erlang B(N, A)")
    ax.set_xticks(x, frame["point"], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("share of impressions blocked")
    ax.set_title("Blocking of the simulated pool against Erlang B")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return [
        "<h3>The pool against Erlang B</h3>",
        table(frame),
        figure(
            fig,
            "Share of impressions that found no free number (overflow) in each "
            "stationary configuration, against Erlang B for its pool size and offered "
            "load; Erlang B does not depend on the lease-time distribution, only on "
            "its mean.",
        ),
    ]


def _pool_figure(result, labels) -> str:
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for p in result.points["point"]:
        pool = result.run(int(p), 0).pool
        ax.plot(pool["t"] / DAY, pool["size"], lw=1, label=labels[int(p)])
    pool = result.run(0, 0).pool
    ax.plot(
        pool["t"] / DAY,
        pool["busy"],
        color="k",
        lw=0.6,
        alpha=0.6,
        label="numbers leased (first point)",
    )
    ax.set_xlabel("day")
    ax.set_ylabel("numbers")
    ax.set_title("Pool size over time (first replication)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return figure(
        fig,
        "Numbers in the pool at each step under each configuration, and the "
        "numbers actually leased: a pool that follows demand pays for fewer "
        "number-days.",
    )


def _regret_figure(result, labels) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    best = oracle_probabilities(result.config.dni)
    for p in result.points["point"]:
        imps = result.run(int(p), 0).impressions
        regret = np.cumsum(
            best[imps["channel"].cat.codes.to_numpy()] - imps["call_prob"].to_numpy(np.float64)
        )
        n = np.arange(1, len(regret) + 1)
        ax.plot(n, np.maximum(regret, 1e-3), lw=1.2, label=labels[int(p)])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("impressions")
    ax.set_ylabel("cumulative regret (expected calls lost)")
    ax.set_title("Composition optimizers against the oracle")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return figure(
        fig,
        "Expected calls each optimizer lost to the oracle (which always shows "
        "the best kind of number for the channel), cumulated over impressions, "
        "first replication; a slope below 1 on these log axes is sublinear regret.",
    )


def _attribution_figure(summary, labels) -> str:
    frame = summary[
        summary["metric"].isin(
            ["dni.correct_share", "dni.misattributed_share", "dni.unattributed_share"]
        )
    ]
    wide = frame.pivot(index="point", columns="metric", values="mean")
    wide.index = [labels[p] for p in wide.index]
    ax = wide.plot.barh(
        stacked=True, figsize=(8, 0.5 * len(wide) + 1.5), color=["#4c9a2a", "#d9822b", "#999999"]
    )
    ax.set_xlabel("share of tracked calls")
    ax.set_title("Attribution of calls")
    ax.legend(["correct", "misattributed", "unattributed"], fontsize=8)
    return figure(
        ax.figure,
        "What each configuration credited every tracked call to, against "
        "the impression that really caused it (mean over replications).",
    )


def _evidence(result, summary, labels) -> str:
    cfg = result.config
    mean = summary.pivot(index="point", columns="metric", values="mean")
    if "dni.sizer" in cfg.sweep:
        ok = mean[mean["dni.blocked_share"] <= cfg.dni.target_blocking + 1e-12]
        if ok.empty:
            return "<p>No sizing policy kept blocking within the target.</p>"
        best = int(ok["dni.number_days"].idxmin())
        static = [p for p, lab in labels.items() if "static_erlang" in lab]
        saved = ""
        if static:
            ref = mean.loc[static[0], "dni.number_days"]
            saved = (
                f", {1 - mean.loc[best, 'dni.number_days'] / ref:.1%} fewer than static Erlang B"
            )
        return (
            f"<p>Among policies that block at most {cfg.dni.target_blocking:.1%} of "
            f"impressions, <b>{html.escape(labels[best])}</b> pays for the fewest "
            f"number-days ({mean.loc[best, 'dni.number_days']:,.0f}{saved}), attributing "
            f"{mean.loc[best, 'dni.correct_share_in_window']:.2%} of in-window calls "
            f"correctly at ${mean.loc[best, 'dni.cost_per_correct_call']:.3f} per correct "
            "call.</p>"
        )
    if "dni.optimizer" in cfg.sweep:
        col = "dni.oracle_share_after_100k"
        oracle = [p for p, lab in labels.items() if "oracle" in lab]
        learned = mean.drop(oracle, errors="ignore")
        best = int(learned[col].idxmax())
        versus = ""
        if oracle:
            versus = (
                f", {learned.loc[best, col] / mean.loc[oracle[0], col]:.1%} of what the "
                "oracle optimizer earns under the same pool constraints"
            )
        return (
            f"<p>The best learning optimizer is <b>{html.escape(labels[best])}</b>: after "
            f"the first 100,000 impressions its impressions expect "
            f"{learned.loc[best, col]:.1%} of the calls that always showing the best kind "
            f"would bring{versus}; it pays "
            f"${mean.loc[best, 'dni.cost_per_correct_call']:.3f} per correctly attributed "
            "call.</p>"
        )
    best = int(mean["dni.correct_share"].idxmax())
    return (
        f"<p>Attribution is best with <b>{html.escape(labels[best])}</b>: "
        f"{mean.loc[best, 'dni.correct_share']:.1%} of calls credited correctly, "
        f"{mean.loc[best, 'dni.wrong_sponsor_share']:.2%} routed to the wrong sponsor.</p>"
    )


def dni_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the DNI section (empty unless the experiment runs the DNI market)."""
    cfg = result.config
    if not cfg.dni.enabled:
        return ""
    wide, summary = _wide(result, labels)
    parts = [
        "<h2>Call tracking (DNI)</h2>",
        "<p>Ad sessions lease numbers from the platform's shared pool for the session "
        f"plus {cfg.dni.hold_minutes:g} minutes; calls come during the session or days "
        "later and are routed by the association store, then by the number's current "
        "lease. Means ± 95% confidence half-widths across replications.</p>",
        table(wide),
    ]
    parts += _erlang_part(result, labels, summary)
    parts.append(_pool_figure(result, labels))
    parts.append(_attribution_figure(summary, labels))
    if "dni.optimizer" in cfg.sweep or cfg.dni.optimizer != "none":
        parts.append(_regret_figure(result, labels))
    parts += ["<h3>What the evidence says</h3>", _evidence(result, summary, labels)]
    return "".join(parts)
