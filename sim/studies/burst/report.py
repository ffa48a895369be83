"""The robocall-detection section of the report.

1. Can the detector be wrong here? The busiest legitimate windows against each rule.
2. Closed loop (flags block calls, operators rotate): the runs' metrics, rare counts pooled
   over replications with exact intervals, and the comparison of the sweep points --
   screened against the false-flag budget on the first half of the replications,
   compared with paired intervals on the second (``evidence.closed_loop_evidence``).
3. Open loop: every replication of one point replayed through every detector at a range of
   thresholds; each detector's setting chosen on the first half, scored on the second
   (``models.burst.selection``); ROC and delay curves with the best possible delay at each
   false-alarm rate (Page's CUSUM, ``models.burst.bound``) beside them, and Kleinberg's
   automaton solved offline as a reference (not an upper bound).
"""

from __future__ import annotations

import pandas as pd

from models.burst.selection import Budget, pool_curves, select_and_score

from ...config.sweep import sweep_points
from ...results.store import ExperimentResult
from ..glossary import by_glossary, label, value_text
from ..render import ci_table, table
from .evidence import closed_loop_evidence, counts_table, scenario_evidence, selection_evidence
from .replay import (
    OFFLINE,
    delay_figure,
    frontiers,
    reference_point,
    replay_curves,
    replay_experiment,
    roc_figure,
)

__all__ = ["burst_section", "replay_curves"]

PER_NUMBER = (
    "detection.precision",
    "detection.recall",
    "detection.false_flags",
    "detection.legit_new_lines",
    "detection.heavy",
    "detection.robocall_lines",
    "detection.robocall_flagged",
    "detection.legit_blocked",
    "detection.legit_calls",
    "robocall.flagged_share.",
    "robocall.numbers_used.",
    "robocall.numbers_flagged.",
    "legit.",
)
"""Per-number shares and counts: pooled with exact intervals instead (and the scenario's
window figures, stated in its own paragraph)."""


def _shown(metric: str) -> bool:
    """Metrics of the mean ± CI table."""
    return not metric.startswith(PER_NUMBER)


def _mark_constant(
    frame: pd.DataFrame, shown: pd.DataFrame, labels: dict[int, str]
) -> pd.DataFrame:
    """Cells whose replications all gave one value read "v in all n", not "v ± 0"."""
    out = frame.copy()
    rows = dict(zip(out["metric"], out.index))
    for (metric, point), grp in shown.groupby(["metric", "point"]):
        vals = grp["value"].dropna()
        col = labels.get(int(point), point)
        row = rows.get(label(metric))
        if len(vals) > 1 and vals.min() == vals.max() and row is not None and col in out:
            out.loc[row, col] = f"{value_text(metric, vals.iloc[0])} in all {len(vals)}"
    return out


def burst_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the robocall-detection section (empty if no run measured detection)."""
    cfg = result.config
    m = result.metrics
    m = m[m["metric"].str.startswith(("detection.", "robocall.", "legit."))]
    if m.empty:
        return ""
    budget = Budget(cfg.detection.false_flag_budget, cfg.detection.heavy_flag_budget)
    ref, why = reference_point(result)
    shown = m[m["metric"].map(_shown)]
    order = [(k, label(k)) for k in by_glossary(shown["metric"].unique())]
    candidates = [p for p, (_, c) in enumerate(sweep_points(cfg)) if c.detection.running()]
    parts = [
        "<h2>Robocall detection</h2>",
        scenario_evidence(m[m["point"] == ref], cfg.detection),
        "<h3>Closed loop</h3>",
        "<p>Flags block (or limit) calls in the pipeline and operators rotate to fresh "
        "numbers when blocked. Means ± 95% confidence half-widths across replications; "
        "delays are the worst campaign's median over its flagged numbers; "
        "<code>numbers_per_1000_delivered</code> is what rotation costs an operator.</p>",
        table(_mark_constant(ci_table(shown, names=order, col_labels=labels), shown, labels)),
        "<p>Rare counts, pooled over all replications (a false flag is an event of a "
        "distinct legitimate new number; exact 95% Clopper–Pearson intervals):</p>",
        table(counts_table(m, labels)),
    ]
    if candidates:
        parts.append(closed_loop_evidence(m, labels, candidates, budget))
    curves = replay_experiment(result, ref)
    if curves.empty:
        return "".join(parts)
    sel = select_and_score(curves[curves["detector"] != OFFLINE], budget)
    test = curves[curves["replication"].isin(sel.test)]
    pooled = pool_curves(test)
    span = f"{sel.test[0]}–{sel.test[-1]}" if sel.test else "none"
    what = f"the logs of {labels.get(ref, ref)} ({why}), test replications {span}"
    exposure = float(test["exposure_days"].mean())
    parts += [
        "<h3>Open loop: choosing a detector and its thresholds</h3>",
        selection_evidence(sel, budget),
        roc_figure(pooled, sel.chosen, budget.false_flags, what),
        delay_figure(pooled, sel.chosen, frontiers(cfg, exposure), cfg, what, exposure),
    ]
    return "".join(parts)
