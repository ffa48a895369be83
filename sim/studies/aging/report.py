"""The aging section of the report: how fast numbers go quiet, how well profiles predict it,
and what each release policy costs in days, inventory and harm to new owners.

Every "best" and "recommended" here comes from paired differences over replications
(common random numbers), never from ranking means: release policies by a non-inferiority
test on harm against fixed 90-day aging (margin ``aging.harm_margin``) and then
:func:`models.evidence.best_option` on residential days; profile models by
:func:`~models.evidence.best_option` on their per-replication scores.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.aging import kaplan_meier
from models.evidence import best_option, non_inferior, ratio_ci
from models.stats import summarize

from ...results.store import ExperimentResult
from ..render import ci_table, figure, table, verdict
from .data import labels
from .models import ORACLE, run_frame

__all__ = ["MIN_REPLICATIONS", "aging_section", "model_evidence", "policy_evidence"]

MIN_REPLICATIONS = 5
"""Fewest paired replications behind a recommendation."""
REFERENCE = "fixed_90"
POLICY_METRICS = [
    ("aging.days_mean.residential", "mean days in aging, residential"),
    ("aging.days_mean.business", "mean days in aging, business"),
    ("aging.harm_calls", "residual calls to new owners per disconnect"),
    ("aging.harm_dollars", "harm per disconnect ($)"),
    ("aging.false_clean_rate", "false-clean releases"),
    ("aging.episodes_complete", "disconnects judged (complete follow-up)"),
    ("aging.available_mean", "assignable numbers (mean)"),
    ("aging.exhaustion_events", "exhaustion events"),
]
DAYS = "aging.days_mean.residential"
HARM = "aging.harm_dollars"
MODEL_METRICS = ("mae_ipcw", "mae_days", "uno_c", "ibs_km_ratio", "coverage", "n_events")
KIND_TEXT = {
    "observed": "observed labels (all inbound calls less the mean background: what a "
    "carrier can see)",
    "residual": "residual-only labels (the simulator's truth: no carrier has them)",
}


# -- release policies ---------------------------------------------------------------------
def _wide(m: pd.DataFrame, metric: str, labels_: dict[int, str]) -> pd.DataFrame:
    """One row per replication, one column per point label, of one metric."""
    part = m[m["metric"] == metric]
    wide = part.pivot_table(index="replication", columns="point", values="value")
    return wide.rename(columns=labels_)


def policy_evidence(
    days: pd.DataFrame,
    harm: pd.DataFrame,
    *,
    reference: str,
    margin: float,
    candidates: list[str] | None = None,
    level: float = 0.95,
) -> tuple[str, list[str]]:
    """The recommendation sentence for release policies, and the eligible ones.

    Parameters
    ----------
    days, harm : pandas.DataFrame
        One row per replication, one column per policy (paired under common random
        numbers): mean residential days in aging and harm per disconnect (dollars).
    reference : str
        The column of fixed 90-day aging.
    margin : float
        Non-inferiority margin on harm, dollars per disconnect.
    candidates : list of str, optional
        Policies that may be recommended (those a carrier can run); every column by
        default.
    level : float
        Confidence level of the paired intervals.

    Returns
    -------
    (str, list of str)
        HTML text generated from the tests, and the policies non-inferior in harm.
    """
    pairs = int(days[reference].notna().sum()) if reference in days else 0
    if reference not in days or reference not in harm:
        return f"<p>No recommendation: the experiment has no {reference} reference.</p>", []
    if pairs < MIN_REPLICATIONS:
        return (
            f"<p>No recommendation: {pairs} paired replication(s), fewer than the "
            f"{MIN_REPLICATIONS} a recommendation needs.</p>",
            [],
        )
    options = [c for c in days.columns if candidates is None or c in candidates]
    eligible, lines = [], []
    for name in options:
        if name == reference:
            eligible.append(name)
            continue
        ok, diff = non_inferior(harm[name], harm[reference], margin, level=level)
        if ok:
            eligible.append(name)
        word = "non-inferior" if ok else "not shown non-inferior"
        lines.append(f"{html.escape(name)}: {diff.text('{:.3g}')} $ per disconnect → {word}")
    text = (
        f"<p><b>Harm against {html.escape(reference)}</b> (paired difference, {level:.0%} "
        f"CI over {pairs} replications; non-inferior when the upper end is below the "
        f"margin of ${margin:.2f} per disconnect): " + "; ".join(lines) + ".</p>"
    )
    choice = best_option(days, lower_is_better=True, eligible=eligible, level=level)
    sentence = verdict(
        choice, what="mean residential days in aging", lower_is_better=True, unit=" days"
    )
    if choice.best is not None:
        head = (
            f"Among the policies whose harm is not worse than {html.escape(reference)} "
            f"by more than ${margin:.2f} per disconnect, the recommended one is "
            f"<b>{html.escape(choice.best)}</b>. "
        )
    else:
        head = (
            f"Among the policies whose harm is not worse than {html.escape(reference)} "
            f"by more than ${margin:.2f} per disconnect, none can be named: "
        )
    return text + f"<p>{head}{sentence}</p>", eligible


def _implementable(result: ExperimentResult, labels_: dict[int, str]) -> list[str]:
    """Points a carrier could run: no model trained on residual-only labels."""
    cfg = result.config
    points = result.points.set_index("point")
    ok = []
    for p, label in labels_.items():
        kind = points.loc[p].get("aging.labels", cfg.aging.labels) if len(points) else None
        policy = str(points.loc[p].get("aging.release.policy", cfg.aging.release.policy))
        needs_model = policy.split("_")[0] in ("model", "online")
        if not (needs_model and kind == "residual"):
            ok.append(label)
    return ok


def _ratio_rows(m: pd.DataFrame, labels_: dict[int, str], ref: str) -> pd.DataFrame:
    rows = []
    for metric, name in ((DAYS, "residential days"), (HARM, "harm")):
        wide = _wide(m, metric, labels_)
        if ref not in wide:
            continue
        for col in wide.columns:
            if col == ref:
                continue
            mean, half = ratio_ci(wide[col], wide[ref])
            rows.append(
                {"policy": col, "ratio": f"{name} / {ref}", "value": f"{mean:.3g} ± {half:.2g}"}
            )
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).pivot(index="policy", columns="ratio", values="value").reset_index()


def _tradeoff_figure(per_point: pd.DataFrame, reference_harm: float, margin: float) -> str:
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
    if np.isfinite(reference_harm):
        ax.axhline(
            reference_harm + margin,
            color="grey",
            ls="--",
            lw=1,
            label=f"fixed 90 harm + margin ${margin:.2f}",
        )
        ax.legend(fontsize=8)
    ax.set_xlabel("mean days in aging, residential numbers")
    ax.set_ylabel("harm per disconnect ($)")
    ax.set_title("Release policies: aging time against harm to new owners")
    ax.grid(alpha=0.3)
    return figure(
        fig,
        "Each release policy's mean residential aging time against the harm its releases "
        "do to the numbers' next owners (residual calls in their first days, priced per "
        "call), on the disconnects with complete follow-up; bars are 95% confidence "
        "intervals of the levels across replications (the decision uses the paired "
        "differences, which are much narrower). Lower left is better.",
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

    per_point = pd.DataFrame(
        [
            {
                "label": labels_[p],
                "days": get(p, DAYS),
                "days_ci": get(p, DAYS, "ci"),
                "harm": get(p, HARM),
                "harm_ci": get(p, HARM, "ci"),
            }
            for p in result.points["point"]
        ]
    )
    refs = [label for label in labels_.values() if REFERENCE in label]
    ref = refs[0] if refs else None
    margin = cfg.aging.harm_margin
    ref_harm = float(per_point.loc[per_point["label"] == ref, "harm"].iloc[0]) if ref else np.nan
    parts = [
        "<h3>Release policies</h3>",
        "<p>Closed loop: each policy decides when numbers return to the pool, arrivals "
        "take them from there, and the residual traffic they still carry reaches their "
        "new owners. Days, harm and false-clean releases are measured on one population: "
        "the disconnects with complete follow-up (disconnected at least the type's upper "
        f"aging bound plus the {cfg.aging.harm_days:g}-day harm window before the end of "
        "the run). Means ± 95% confidence half-widths across replications.</p>",
        table(ci_table(m, names=POLICY_METRICS, col_labels=labels_)),
        _tradeoff_figure(per_point.dropna(subset=["days", "harm"]), ref_harm, margin),
    ]
    parts.append("<h3>What the evidence says</h3>")
    if ref is None or not cfg.common_random_numbers:
        why = "no fixed_90 reference" if ref is None else "no common random numbers"
        parts.append(f"<p>No recommendation: {why} to pair the policies against.</p>")
        return parts
    keyed = m.set_index(["metric", "replication", "point"])["value"]
    base = m[m["point"] == [p for p, lab in labels_.items() if lab == ref][0]]
    base = base.set_index(["metric", "replication"])["value"]
    diff = (keyed - base.reindex(keyed.index.droplevel("point")).to_numpy()).rename("value")
    diff = diff.reset_index()
    diff = diff[diff["point"].map(labels_) != ref]
    parts += [
        f"<p>Paired against {ref} (each replication's difference; with common random "
        "numbers both policies face the same subscribers and callers):</p>",
        table(ci_table(diff, names=POLICY_METRICS, col_labels=labels_)),
    ]
    ratios = _ratio_rows(m, labels_, ref)
    if len(ratios):
        parts += [
            f"<p>Ratios to {ref}, replication by replication (mean ± 95% CI):</p>",
            table(ratios),
        ]
    candidates = _implementable(result, labels_)
    text, _ = policy_evidence(
        _wide(m, DAYS, labels_),
        _wide(m, HARM, labels_),
        reference=ref,
        margin=margin,
        candidates=candidates,
    )
    left_out = [label for label in labels_.values() if label not in candidates]
    if left_out:
        text += (
            "<p>Not eligible, shown for comparison only (their models learned from "
            "residual-only labels, which no carrier has): "
            + ", ".join(html.escape(x) for x in left_out)
            + ".</p>"
        )
    parts.append(text)
    return parts


# -- profile models -----------------------------------------------------------------------
def _model_frame(result: ExperimentResult) -> pd.DataFrame:
    m = result.metrics
    m = m[m["metric"].str.startswith("aging.model.")]
    if m.empty:
        return m
    parts = m["metric"].str.split(".", n=5, expand=True)
    return m.assign(
        labels=parts[2], model=parts[3], score=parts[4], threshold=parts[5].astype(float)
    )


def model_evidence(values: pd.DataFrame, *, score: str, lower_is_better: bool) -> str:
    """The sentence on which model is best in one score, from paired differences over
    replications (``values``: one row per replication, one column per model; the oracle
    is left out: no carrier has it)."""
    cols = [c for c in values.columns if c != ORACLE]
    values = values[cols].dropna(axis=0, how="any")
    if len(values) < MIN_REPLICATIONS:
        return (
            f"{len(values)} paired replication(s), fewer than {MIN_REPLICATIONS}: no model "
            "is named best."
        )
    choice = best_option(values, lower_is_better=lower_is_better)
    what = {"mae_ipcw": "IPCW MAE (days)", "uno_c": "Uno's C"}.get(score, score)
    return verdict(choice, what=what, lower_is_better=lower_is_better)


def _model_part(result: ExperimentResult) -> list[str]:
    m = _model_frame(result)
    if m.empty:
        return []
    cfg = result.config
    landmark = cfg.aging.landmark_days
    shown = m[m["score"].isin(MODEL_METRICS)]
    wide = ci_table(shown, rows=["labels", "threshold", "model"], cols="score")
    wide = wide[["labels", "threshold", "model", *[c for c in MODEL_METRICS if c in wide]]]
    parts = [
        "<h3>Profile models at the landmark</h3>",
        f"<p>Each model learns from half of a run's disconnects (split by number), with "
        "the carrier's labels censored at the reassignment — once with "
        f"{KIND_TEXT['observed']} and once with {KIND_TEXT['residual']} — and is judged "
        f"on the other half at a landmark of {landmark} days: only the numbers still "
        "aging and not yet seen below the threshold then, predicting the days to the "
        "crossing given survival to the landmark (the conditional median of "
        "S(t)/S(L)), against the residual truth (censored only by the end of the run). "
        "<code>mae_ipcw</code> weights each crossing seen by the inverse probability of "
        "staying uncensored that long (Kaplan–Meier of the censoring times); "
        "<code>mae_days</code> is over the crossings seen only; Uno's C; the integrated "
        "Brier score relative to the conditional Kaplan–Meier curve's (below 1 is "
        "better); the coverage of 80% intervals (crossings seen). "
        f"<code>{ORACLE}</code> predicts when the <i>expected</i> residual rate (the "
        "simulator's hidden decay, over the trailing window) falls to the threshold — "
        "not the realised, Poisson-noisy rate, so it is not a bound on what a model can "
        "reach; <code>online</code> revises Weibull AFT with the first "
        f"{landmark} days of aging traffic.</p>",
        table(wide),
    ]
    kinds = [k for k in ("observed", "residual") if k in set(m["labels"])]
    side = m[m["score"] == "mae_ipcw"]
    if len(kinds) > 1:
        parts += [
            "<p>IPCW MAE (days), the same models and numbers, by the labels they learned from:</p>",
            table(ci_table(side, rows=["threshold", "model"], cols="labels")),
        ]
    items = []
    for kind in kinds:
        for thr in sorted(set(m["threshold"]), reverse=True):
            for score, lower in (("mae_ipcw", True), ("uno_c", False)):
                part = m[(m["labels"] == kind) & (m["threshold"] == thr) & (m["score"] == score)]
                values = part.pivot_table(index="replication", columns="model", values="value")
                items.append(
                    f"<li>{kind} labels, {thr:g}× background, {score}: "
                    f"{model_evidence(values, score=score, lower_is_better=lower)}</li>"
                )
    parts.append(
        "<p>Which model is best (paired over replications):</p><ul>" + "".join(items) + "</ul>"
    )
    parts.append(_model_figure(m, kinds))
    parts += _scatter(result)
    return parts


def _model_figure(m: pd.DataFrame, kinds: list[str]) -> str:
    summary = summarize(m, ["labels", "threshold", "model", "score"])
    fig, axes = plt.subplots(len(kinds), 2, figsize=(11, 3.6 * len(kinds)), squeeze=False)
    for row, kind in enumerate(kinds):
        mean = summary[summary["labels"] == kind].pivot(
            index="model", columns=["score", "threshold"], values="mean"
        )
        for ax, score, label in (
            (axes[row, 0], "mae_ipcw", "IPCW MAE (days)"),
            (axes[row, 1], "uno_c", "Uno's C"),
        ):
            if score in mean.columns.get_level_values(0):
                mean[score].plot.bar(ax=ax, rot=30)
                ax.set_ylabel(label)
                ax.set_xlabel("")
                ax.legend(title="threshold (× background)", fontsize=8)
                ax.grid(alpha=0.3, axis="y")
            ax.set_title(f"{label}, {kind} labels")
        axes[row, 1].set_ylim(0.5, 1.0)
    return figure(
        fig,
        "Profile models side by side on the same held-out numbers at the landmark, per "
        "threshold and kind of training label: mean over replications (the intervals "
        f"are in the table above). {ORACLE} is the expected-rate oracle.",
    )


def _scatter(result: ExperimentResult) -> list[str]:
    path = result.out / "runs" / "p000-r000" / "model_predictions.parquet"
    if not path.exists():
        return []
    preds = pd.read_parquet(path)
    release = result.config.aging.release.threshold
    sel = preds[(preds["threshold"] == release) & preds["event"]]
    if "labels" in sel:
        sel = sel[sel["labels"] == "observed"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name in ("weibull_aft", "online", ORACLE):
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
    ax.set_xlabel("true days to the release threshold (residual)")
    ax.set_ylabel("predicted conditional median days")
    ax.set_title(f"Predicted against true, threshold {release:g}× background")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return [
        figure(
            fig,
            "Each scored held-out number of the first run (observed labels): predicted "
            "against true days to the release threshold (the diagonal is perfect).",
        )
    ]


# -- the section ----------------------------------------------------------------------------
def _crossing_figure(run) -> str:
    """Share of episodes below each threshold against days since the disconnect."""
    frame = run_frame(run)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, typ in zip(axes, ("residential", "business")):
        part = frame[frame["type"] == typ]
        for i, m in enumerate(run.config.aging.thresholds):
            color = f"C{i}"
            ev, tt = labels(part, m, truth=True)
            if ev.sum():
                grid, surv = kaplan_meier(tt, ev)
                ax.step(grid, 1 - surv, where="post", color=color, label=f"≤ {m:g}× residual")
            if f"obs_first_{m:g}" in part:
                ev, tt = labels(part, m, kind="observed")
                if ev.sum():
                    grid, surv = kaplan_meier(tt, ev)
                    ax.step(
                        grid,
                        1 - surv,
                        where="post",
                        color=color,
                        ls="--",
                        label=f"≤ {m:g}× observed",
                    )
        ax.set_title(f"{typ} ({len(part):,} disconnects)")
        ax.set_xlabel("days since the disconnect")
        ax.set_xlim(0, 180)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of numbers below (first crossing)")
    if axes[0].lines:
        axes[0].legend(fontsize=7)
    return figure(
        fig,
        "How fast disconnected numbers go quiet: Kaplan–Meier estimate of the share "
        "whose trailing residual rate has fallen to each threshold (solid: the truth, "
        "censored only by the end of the run) and of the share a carrier sees below it "
        "in all inbound calls less the mean background (dashed: censored at the "
        "reassignment). Spam-heavy numbers look quiet to the carrier later, if ever (only "
        "a noisy dip of their spam brings them below); low-spam ones a little earlier.",
    )


def aging_section(result: ExperimentResult, labels_: dict[int, str]) -> str:
    """HTML of the aging section."""
    cfg = result.config
    run = result.run(0, 0)
    parts = [
        "<h2>Aging disconnected numbers</h2>",
        "<p>After a disconnect the previous owner's callers keep calling, each stopping at "
        "its own time, plus persistent callers for some owners; the traffic goes on after "
        "the number is reassigned. Thresholds are multiples of the background spam rate "
        f"({cfg.spam.calls_per_line_per_day:g} calls/day) over a trailing "
        f"{cfg.aging.trailing_days}-day window. Models and model-driven policies learn "
        f"from {KIND_TEXT[cfg.aging.labels]} unless a sweep says otherwise.</p>",
        _crossing_figure(run),
    ]
    parts += _model_part(result)
    parts += _policy_part(result, labels_)
    return "".join(parts)
