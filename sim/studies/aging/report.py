"""The aging section of the report: how fast numbers go quiet, how well profiles predict it,
and what each release policy costs in days, inventory and harm to new owners."""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.aging import kaplan_meier
from models.stats import summarize

from ...results.store import ExperimentResult
from ..render import ci_table, figure, table
from .data import labels
from .models import run_frame

__all__ = ["aging_section", "recommend_policy"]

POLICY_METRICS = [
    ("aging.days_mean.residential", "mean days in aging, residential"),
    ("aging.days_mean.business", "mean days in aging, business"),
    ("aging.harm_calls", "residual calls to new owners per disconnect"),
    ("aging.harm_dollars", "harm per disconnect ($)"),
    ("aging.false_clean_rate", "false-clean releases"),
    ("aging.available_mean", "assignable numbers (mean)"),
    ("aging.exhaustion_events", "exhaustion events"),
]
MODEL_METRICS = ("mae_days", "uno_c", "ibs_km_ratio", "coverage")


def recommend_policy(per_point: pd.DataFrame, budget: float) -> pd.Series | None:
    """The policy with the fewest residential aging days whose harm is within budget.

    Parameters
    ----------
    per_point : pandas.DataFrame
        One row per policy: ``label``, ``days`` (mean residential aging days), ``harm``
        (dollars per disconnect), ``false_clean``.
    budget : float
        Harm budget, dollars per disconnect.

    Returns
    -------
    pandas.Series or None
        The chosen row, None if no policy meets the budget.
    """
    ok = per_point[per_point["harm"] <= budget + 1e-12]
    if ok.empty:
        return None
    return ok.sort_values(["days", "harm"]).iloc[0]


def _crossing_figure(run) -> str:
    """Share of episodes below each threshold against days since the disconnect."""
    frame = run_frame(run)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, typ in zip(axes, ("residential", "business")):
        part = frame[frame["type"] == typ]
        for m in run.config.aging.thresholds:
            ev, tt = labels(part, m, truth=True)
            if ev.sum() == 0:
                continue
            grid, surv = kaplan_meier(tt, ev)
            ax.step(grid, 1 - surv, where="post", label=f"≤ {m:g}× background")
        ax.set_title(f"{typ} ({len(part):,} disconnects)")
        ax.set_xlabel("days since the disconnect")
        ax.set_xlim(0, 180)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of numbers below (first crossing)")
    if axes[0].lines:
        axes[0].legend(fontsize=8)
    return figure(
        fig,
        "How fast disconnected numbers go quiet: Kaplan–Meier estimate of the "
        "share whose trailing residual rate has fallen to each threshold, from the "
        "simulated traffic (truth; censored only by the end of the run).",
    )


def _tradeoff_figure(per_point: pd.DataFrame, budget: float) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.errorbar(
        per_point["days"],
        per_point["harm"],
        xerr=per_point["days_ci"],
        yerr=per_point["harm_ci"],
        fmt="o",
        capsize=3,
    )
    for _, row in per_point.iterrows():
        ax.annotate(
            row["label"],
            (row["days"], row["harm"]),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=8,
        )
    ax.axhline(budget, color="grey", ls="--", lw=1, label=f"harm budget ${budget:.3g}")
    ax.set_xlabel("mean days in aging, residential numbers")
    ax.set_ylabel("harm per disconnect ($)")
    ax.set_title("Release policies: aging time against harm to new owners")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure(
        fig,
        "Each release policy's mean residential aging time against the harm "
        "its releases do to the numbers' next owners (residual calls in their first "
        "days, priced per call); bars are 95% confidence intervals across "
        "replications. Lower left is better.",
    )


def _policy_part(result: ExperimentResult, labels_: dict[int, str]) -> list[str]:
    cfg = result.config
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in POLICY_METRICS])]
    if m.empty or result.points.shape[0] < 2:
        return []
    stat = summarize(m, ["point", "metric"]).set_index(["point", "metric"])

    def get(p: int, key: str, col: str = "mean") -> float:
        return float(stat.loc[(p, key), col]) if (p, key) in stat.index else np.nan

    rows = []
    for p in result.points["point"]:
        rows.append(
            {
                "label": labels_[p],
                "days": get(p, "aging.days_mean.residential"),
                "days_ci": get(p, "aging.days_mean.residential", "ci"),
                "harm": get(p, "aging.harm_dollars"),
                "harm_ci": get(p, "aging.harm_dollars", "ci"),
                "false_clean": get(p, "aging.false_clean_rate"),
            }
        )
    per_point = pd.DataFrame(rows)
    budget = cfg.aging.harm_budget
    source = "the configured budget"
    if budget == "fixed_90":
        fixed90 = per_point[per_point["label"].str.contains("fixed_90")]
        budget = float(fixed90["harm"].iloc[0]) if len(fixed90) else float(per_point["harm"].min())
        source = "the harm of fixed 90-day aging" if len(fixed90) else "the least harm seen"
    parts = [
        "<h3>Release policies</h3>",
        "<p>Closed loop: each policy decides when numbers return to the pool, arrivals "
        "take them from there, and the residual traffic they still carry reaches their "
        "new owners. Means ± 95% confidence half-widths across replications.</p>",
        table(ci_table(m, names=POLICY_METRICS, col_labels=labels_)),
        _tradeoff_figure(per_point, budget),
    ]
    parts += _paired_part(result, labels_, m)
    parts.append("<h3>What the evidence says</h3>")
    best = recommend_policy(per_point.dropna(subset=["days", "harm"]), budget)
    if best is None:
        parts.append(
            f"<p>No policy keeps the harm within {source} (${budget:.3g} per disconnect).</p>"
        )
    else:
        reference = per_point[per_point["label"].str.contains("fixed_90")]
        saved = (
            f" — {float(reference['days'].iloc[0]) - best['days']:.1f} days shorter than "
            "fixed 90-day aging"
            if len(reference)
            else ""
        )
        parts.append(
            f"<p>Within {source} (${budget:.3g} per disconnect), the policy with the shortest "
            f"residential aging is <b>{html.escape(str(best['label']))}</b>: "
            f"{best['days']:.1f} days on average{saved}, harm ${best['harm']:.3g} per "
            f"disconnect, {best['false_clean']:.1%} of its releases false-clean. How sure: "
            "compare the confidence intervals in the table; differences smaller than them "
            "are not established by this many replications.</p>"
        )
    return parts


def _paired_part(result, labels_, m: pd.DataFrame) -> list[str]:
    """Each policy minus fixed 90-day aging, replication by replication (with common random
    numbers both face the same world, so the differences are much surer than the levels)."""
    if not result.config.common_random_numbers:
        return []
    ref = [p for p, label in labels_.items() if "fixed_90" in label]
    if not ref:
        return []
    keyed = m.set_index(["metric", "replication", "point"])["value"]
    base = m[m["point"] == ref[0]].set_index(["metric", "replication"])["value"]
    diff = (keyed - base.reindex(keyed.index.droplevel("point")).to_numpy()).rename("value")
    diff = diff.reset_index()
    diff = diff[diff["point"] != ref[0]]
    wide = ci_table(diff, names=POLICY_METRICS, col_labels=labels_)
    return [
        "<p>Paired against fixed 90-day aging (each replication's difference; with "
        "common random numbers both policies face the same subscribers and callers):</p>",
        table(wide.rename(columns={"metric": "difference"})),
    ]


def _model_part(result: ExperimentResult) -> list[str]:
    m = result.metrics
    m = m[m["metric"].str.startswith("aging.model.")]
    if m.empty:
        return []
    parts3 = m["metric"].str.split(".", n=4, expand=True)
    m = m.assign(model=parts3[2], score=parts3[3], threshold=parts3[4].astype(float))
    summary = summarize(m, ["threshold", "model", "score"])
    wide = ci_table(m, rows=["threshold", "model"], cols="score")
    wide = wide[["threshold", "model", *[c for c in MODEL_METRICS if c in wide.columns]]]
    parts = [
        "<h3>Profile models on held-out numbers</h3>",
        "<p>Each model learns from half of a run's disconnects (split by number) with the "
        "carrier's labels — a crossing is known only until the number is reassigned — "
        "and is judged on the other half against the simulator's truth: MAE of the "
        "predicted median days to the threshold (over crossings seen), Uno's C, the "
        "integrated Brier score relative to Kaplan–Meier's (below 1 is better), and the "
        "coverage of 80% prediction intervals. <code>oracle</code> knows the hidden "
        "decay of each number; <code>online</code> revises Weibull AFT with the first "
        "days of aging traffic.</p>",
        table(wide),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    mean = summary.pivot(index=["model"], columns=["score", "threshold"], values="mean")
    for ax, score, label in ((axes[0], "mae_days", "MAE (days)"), (axes[1], "uno_c", "Uno's C")):
        if score in mean.columns.get_level_values(0):
            mean[score].plot.bar(ax=ax, rot=30)
            ax.set_ylabel(label)
            ax.set_xlabel("")
            ax.legend(title="threshold (× background)", fontsize=8)
            ax.grid(alpha=0.3, axis="y")
    axes[1].set_ylim(0.5, 1.0)
    axes[0].set_title("Error of predicted days to quiet")
    axes[1].set_title("Ranking of numbers (concordance)")
    parts.append(
        figure(
            fig,
            "Profile models side by side on the same held-out numbers, per "
            "threshold: mean over replications.",
        )
    )
    path = result.out / "runs" / "p000-r000" / "model_predictions.parquet"
    if path.exists():
        preds = pd.read_parquet(path)
        release = result.config.aging.release.threshold
        sel = preds[(preds["threshold"] == release) & preds["event"]]
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for name in ("weibull_aft", "online", "oracle"):
            part = sel[sel["model"] == name]
            ax.scatter(
                part["true_days"],
                np.minimum(part["predicted_days"], 400),
                s=6,
                alpha=0.4,
                label=name,
            )
        top = float(sel["true_days"].max()) if len(sel) else 100.0
        ax.plot([0, top], [0, top], color="grey", lw=1)
        ax.set_xlabel("true days to the release threshold")
        ax.set_ylabel("predicted median days")
        ax.set_title(f"Predicted against true, threshold {release:g}× background")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        parts.append(
            figure(
                fig,
                "Each held-out number of the first run: predicted against "
                "true days to the release threshold (the diagonal is perfect).",
            )
        )
    return parts


def aging_section(result: ExperimentResult, labels_: dict[int, str]) -> str:
    """HTML of the aging section (empty unless the experiment studies aging)."""
    cfg = result.config
    swept = any(k.startswith("aging.") for k in cfg.sweep)
    if not (swept or cfg.aging.compare_models or cfg.aging.release.policy != "drawn"):
        return ""
    run = result.run(0, 0)
    parts = [
        "<h2>Aging disconnected numbers</h2>",
        "<p>After a disconnect the previous owner's callers keep calling, each stopping at "
        "its own time, plus persistent callers for some owners; the traffic goes on after "
        "the number is reassigned. Thresholds are multiples of the background spam rate "
        f"({cfg.spam.calls_per_line_per_day:g} calls/day) over a trailing "
        f"{cfg.aging.trailing_days}-day window.</p>",
        _crossing_figure(run),
    ]
    parts += _model_part(result)
    parts += _policy_part(result, labels_)
    return "".join(parts)
