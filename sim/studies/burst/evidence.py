"""What the robocall evidence says, as text generated from the tests.

Every "best", "recommended" or "no difference" here comes from a paired interval over the
test replications (common random numbers: replication ``r`` of every point faced the same
world), after the candidates were screened against the false-flag budget on the training
replications only (``models.burst.selection``).  Rare counts (false flags, heavy callers
flagged) are pooled over replications -- the unit is a distinct legitimate new number --
and reported with exact Clopper-Pearson intervals, never as "0 ± 0".
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from models.burst.selection import (
    Budget,
    Selection,
    budget_status,
    numbers_needed,
    split_replications,
)
from models.common import DAY
from models.evidence import best_option, clopper_pearson, rate_text
from models.stats import mean_ci

from ...config.robocalls import Detection
from ..render import table, verdict
from .metrics import rule_key

__all__ = [
    "MIN_PAIRS",
    "closed_loop_evidence",
    "counts_table",
    "scenario_evidence",
    "selection_evidence",
    "testability",
]

MIN_PAIRS = 5
"""Fewest paired test replications behind a recommendation."""

STATUS_TEXT = {
    "met": "within the budget (the exact 95% upper bound is below it)",
    "consistent": "within the budget as a point estimate, but the exact 95% interval reaches "
    "above it",
    "not met": "above the budget as a point estimate (the interval reaches below it)",
    "exceeded": "above the budget (the exact 95% lower bound is above it)",
    "no cases": "not measured (no legitimate new numbers)",
}


def _ci_text(values: pd.Series, fmt: str = "{:.4g}") -> str:
    mean, half = mean_ci(values.dropna())
    if np.isnan(mean):
        return "–"
    if np.isnan(half):
        return fmt.format(mean) + " (one replication)"
    return f"{fmt.format(mean)} ± {fmt.format(half)}"


def testability(n: int, budget: float) -> str:
    """Whether ``n`` legitimate new numbers can show the budget: a sentence."""
    need = numbers_needed(budget)
    if n >= need:
        return (
            f"{n:,} legitimate new numbers: zero false flags among them would put the exact "
            f"95% upper bound below the budget of {budget:g} (that needs {need:,}), so the "
            "budget is testable at this size."
        )
    _, hi = clopper_pearson(0, max(n, 1))
    return (
        f"<b>The budget of {budget:g} false flags per legitimate new number is not testable "
        f"at this size</b>: {n:,} legitimate new numbers, and even zero false flags among "
        f"them would only bound the rate below {hi:.2g} (exact 95%); {need:,} are needed."
    )


def counts_table(
    m: pd.DataFrame, labels: dict[int, str], replications: list[int] | None = None
) -> pd.DataFrame:
    """Rare counts per point, pooled over ``replications`` (all by default), as exact rates.

    Rows: legitimate new numbers flagged, legitimate heavy callers flagged, robocall
    numbers flagged (all, then per behaviour), precision (robocall numbers among the
    flagged), legitimate calls blocked (a count of calls: the calls of one flagged number
    are not independent, so no binomial interval is put on them).
    """
    if replications is not None:
        m = m[m["replication"].isin(replications)]
    sums = m.pivot_table(index="point", columns="metric", values="value", aggfunc="sum")
    rows = {
        "legitimate new numbers flagged": ("detection.false_flags", "detection.legit_new_lines"),
        "legitimate heavy callers flagged (call centres, notifiers)": (
            "detection.heavy_flagged",
            "detection.heavy_lines",
        ),
        "robocall numbers flagged": ("detection.robocall_flagged", "detection.robocall_lines"),
    }
    for c in sums.columns:
        if c.startswith("robocall.numbers_flagged."):
            b = c.rsplit(".", 1)[1]
            rows[f"{b} numbers flagged"] = (c, f"robocall.numbers_used.{b}")
    out = {}
    for p in sums.index:
        col = {}
        for name, (k, n) in rows.items():
            if k in sums and n in sums:
                col[name] = rate_text(int(sums.loc[p, k]), int(sums.loc[p, n]))
        if {"detection.robocall_flagged", "detection.false_flags"} <= set(sums.columns):
            k = int(sums.loc[p, "detection.robocall_flagged"])
            col["precision: robocall numbers among flagged"] = rate_text(
                k, k + int(sums.loc[p, "detection.false_flags"])
            )
        if "detection.legit_blocked" in sums and "detection.legit_calls" in sums:
            k, n = (
                int(sums.loc[p, "detection.legit_blocked"]),
                int(sums.loc[p, "detection.legit_calls"]),
            )
            col["legitimate calls blocked"] = f"{k:,} of {n:,} calls" + (
                "" if k == 0 else f" = {k / n:.2g}"
            )
        out[labels.get(int(p), str(p))] = col
    frame = pd.DataFrame(out)
    frame.index.name = "pooled over replications"
    return frame.reset_index()


def scenario_evidence(m: pd.DataFrame, det: Detection) -> str:
    """Can the detector be wrong here? The busiest legitimate windows against each rule.

    ``m`` holds the metrics of one sweep point (all its replications): the legitimate
    world is the same at every point of a common-random-numbers sweep.
    """
    wide = m.pivot_table(index="replication", columns="metric", values="value")
    if "detection.legit_new_lines" not in wide:
        return ""
    n = int(wide["detection.legit_new_lines"].sum())
    parts = []
    for rule in det.rules():
        key = rule_key(rule.window_seconds)
        if f"legit.aligned_max.{key}" not in wide:
            continue
        aligned = float(wide[f"legit.aligned_max.{key}"].max())
        sliding = float(wide[f"legit.sliding_max.{key}"].max())
        over = int(wide[f"legit.lines_over.{key}"].sum())
        span = _window_text(rule.window_seconds)
        parts.append(
            f"the busiest legitimate {span} on the fixed grid had <b>{aligned:,.0f} calls = "
            f"{aligned / rule.threshold:.2f}×</b> the {rule.threshold:,.0f}-call rule "
            f"(sliding: {sliding:,.0f} = {sliding / rule.threshold:.2f}×), and "
            f"{rate_text(over, n)} legitimate new numbers had a fixed-grid {span} over it"
        )
    if not parts:
        return ""
    return (
        "<p><b>Can the detector be wrong here?</b> Over "
        f"{len(wide)} replications ({n:,} legitimate new numbers, each while on the watch "
        "list): " + "; ".join(parts) + ". Notification blasts, contact centres' opening "
        "backlogs and auto-dialler campaign days are drawn from distributions "
        "(docs/calibration.md), so some legitimate windows fall below each threshold and "
        "some above it.</p>"
    )


def _window_text(seconds: float) -> str:
    if seconds % DAY == 0:
        days = seconds / DAY
        return "day" if days == 1 else f"{days:g}-day window"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}-minute window"
    return f"{seconds:g}-second window"


def closed_loop_evidence(
    m: pd.DataFrame,
    labels: dict[int, str],
    candidates: list[int],
    budget: Budget,
    metric: str = "detection.robocalls_delivered",
    what: str = "robocalls delivered",
    level: float = 0.95,
) -> str:
    """The closed-loop comparison, generated from the tests.

    Points in ``candidates`` (those that run a detector) are eligible when their false
    flags and heavy callers flagged, pooled over the training replications, are within
    ``budget`` (point estimates); the eligible ones are compared on ``metric`` (lower is
    better) over the test replications with paired intervals
    (:func:`models.evidence.best_option`).  One is recommended only when it beats every
    other eligible point and its pooled test false flags are within the budget.

    Parameters
    ----------
    m : pandas.DataFrame
        Tidy metrics: ``point``, ``replication``, ``metric``, ``value``.
    labels : dict
        Point -> label.
    """
    reps = sorted(m["replication"].unique())
    train, test = split_replications(reps)
    if len(test) < MIN_PAIRS:
        return (
            f"<p>No recommendation from the closed loop: {len(reps)} replication(s), so "
            f"{len(test)} to test on -- a recommendation needs {MIN_PAIRS} paired test "
            f"replications after the first half chose ({2 * MIN_PAIRS} in all).</p>"
        )
    sums = {
        part: m[m["replication"].isin(r)].pivot_table(
            index="point", columns="metric", values="value", aggfunc="sum"
        )
        for part, r in (("train", train), ("test", test))
    }
    rows, eligible = [], []
    for p in candidates:
        tr, te = sums["train"].loc[p], sums["test"].loc[p]
        k_tr, n_tr = int(tr["detection.false_flags"]), int(tr["detection.legit_new_lines"])
        h_tr, hn_tr = int(tr["detection.heavy_flagged"]), int(tr["detection.heavy_lines"])
        ok = (
            n_tr > 0
            and k_tr / n_tr <= budget.false_flags
            and (hn_tr == 0 or h_tr / hn_tr <= budget.heavy)
        )
        k_te, n_te = int(te["detection.false_flags"]), int(te["detection.legit_new_lines"])
        if ok:
            eligible.append(labels[p])
        values = m[(m["point"] == p) & (m["metric"] == metric) & m["replication"].isin(test)]
        rows.append(
            {
                "point": labels[p],
                "training: false flags": rate_text(k_tr, n_tr),
                "training: heavy callers flagged": rate_text(h_tr, hn_tr),
                "within budget on training": "yes" if ok else "no",
                "test: false flags": rate_text(k_te, n_te),
                "test: budget": budget_status(k_te, n_te, budget.false_flags),
                f"test: {what} (mean ± 95% CI)": _ci_text(values["value"]),
            }
        )
    n_test = (
        int(sums["test"]["detection.legit_new_lines"].loc[candidates].max()) if candidates else 0
    )
    head = (
        f"<p>Replications {_reps(train)} screen the points against the budget "
        f"({budget.false_flags:g} false flags per legitimate new number, at most "
        f"{budget.heavy:.0%} of legitimate heavy callers flagged; pooled point estimates); "
        f"replications {_reps(test)} compare the points that pass on {what}, paired. "
        f"Test size: {testability(n_test, budget.false_flags)}</p>"
    )
    parts = [head, table(pd.DataFrame(rows))]
    if not eligible:
        parts.append(
            f"<p><b>No recommendation</b>: no point kept the budget on the training "
            f"replications ({_reps(train)}).</p>"
        )
        return "".join(parts)
    wide = _wide(m, metric, labels, test)[eligible]
    choice = best_option(wide, lower_is_better=True, level=level)
    sentence = verdict(
        choice, what=f"{what} (test replications)", lower_is_better=True, fmt="{:,.4g}"
    )
    parts.append(f"<p>{sentence}</p>")
    if len(eligible) == 1:
        parts.append(
            f"<p><b>No recommendation</b>: {html.escape(eligible[0])} is the only point "
            "that kept the budget on the training replications, so it was compared with "
            "nothing.</p>"
        )
    else:
        parts.append(_recommendation(choice.best, choice.tied, rows, what))
    return "".join(parts)


def _reps(reps: list[int]) -> str:
    return f"{reps[0]}–{reps[-1]}" if len(reps) > 1 else str(reps[0]) if reps else "none"


def _wide(m: pd.DataFrame, metric: str, labels: dict[int, str], reps: list[int]) -> pd.DataFrame:
    part = m[(m["metric"] == metric) & m["replication"].isin(reps)]
    wide = part.pivot_table(index="replication", columns="point", values="value")
    return wide.rename(columns=labels)


def _recommendation(best: str | None, tied: list[str], rows: list[dict], what: str) -> str:
    status = {r["point"]: r["test: budget"] for r in rows}
    if best is None:
        names = ", ".join(f"<b>{html.escape(t)}</b>" for t in tied)
        return (
            f"<p><b>No single point can be recommended</b> on {what}: {names} are not "
            "significantly different on the test replications (any of them, within the "
            "budget, is as good as the evidence can tell).</p>"
        )
    state = status.get(best, "no cases")
    if state in ("met", "consistent"):
        return (
            f"<p><b>Recommended: {html.escape(best)}</b> -- significantly fewer {what} than "
            f"every other point that kept the budget, and on the test replications its false "
            f"flags are {STATUS_TEXT[state]}.</p>"
        )
    return (
        f"<p><b>No recommendation</b>: {html.escape(best)} has significantly fewer {what}, "
        f"but on the test replications its false flags are {STATUS_TEXT[state]}.</p>"
    )


def selection_evidence(sel: Selection, budget: Budget, factor_word: str = "×") -> str:
    """The open-loop choice of each detector's setting and the test of it, as HTML."""
    if sel.chosen.empty:
        return ""
    n_train = int(sel.chosen["train_legit_new_lines"].max())
    rows = []
    scored = sel.scored.set_index("detector") if len(sel.scored) else pd.DataFrame()
    for _, c in sel.chosen.iterrows():
        name = c["detector"]
        row = {"detector": name}
        if np.isnan(c["threshold"]):
            row["chosen scale (training)"] = "none within budget"
            rows.append(row)
            continue
        s = scored.loc[name]
        k, n = int(s["false_flags"]), int(s["legit_new_lines"])
        row.update(
            {
                "chosen scale (training)": f"{c['threshold']:g}{factor_word}",
                "training: false flags": rate_text(
                    int(c["train_false_flags"]), int(c["train_legit_new_lines"])
                ),
                "test: false flags": rate_text(k, n),
                "test: budget": budget_status(k, n, budget.false_flags),
                "test: heavy callers flagged": rate_text(
                    int(s["heavy_flagged"]), int(s["heavy_lines"])
                ),
                "test: robocall attempts stopped (mean ± 95% CI)": _ci_text(sel.paired[name]),
            }
        )
        for col in [c2 for c2 in s.index if str(c2).startswith("delay_seconds_mean.")]:
            if np.isfinite(s[col]):
                row[f"test: mean delay, {col.split('.', 1)[1]} (s)"] = f"{s[col]:,.3g}"
        rows.append(row)
    n_test = int(sel.scored["legit_new_lines"].max()) if len(sel.scored) else 0
    parts = [
        f"<p>Each detector's setting is chosen on replications {_reps(sel.train)} "
        f"({n_train:,} legitimate new numbers pooled) as the most sensitive scale of the "
        f"configured thresholds whose false flags per legitimate new number stay within "
        f"{budget.false_flags:g} and whose heavy callers flagged stay within "
        f"{budget.heavy:.0%} (point estimates), stopping the most robocall attempts; it is "
        f"then scored on replications {_reps(sel.test)}, which played no part in the choice. "
        f"Test size: {testability(n_test, budget.false_flags)}</p>",
        table(pd.DataFrame(rows)),
    ]
    if sel.paired.shape[1] == 0:
        parts.append(
            "<p><b>No recommendation</b>: no detector setting kept the budget on the "
            "training replications.</p>"
        )
        return "".join(parts)
    if len(sel.test) < MIN_PAIRS:
        parts.append(
            f"<p><b>No recommendation</b>: {len(sel.test)} test replication(s); a "
            f"recommendation needs {MIN_PAIRS}.</p>"
        )
        return "".join(parts)
    choice = sel.choice
    if sel.paired.shape[1] == 1:
        only = html.escape(str(sel.paired.columns[0]))
        parts.append(
            f"<p><b>No recommendation</b>: {only} is the only detector with a setting "
            "within the budget on the training replications, so it was compared with "
            "nothing.</p>"
        )
        return "".join(parts)
    parts.append(
        "<p>"
        + verdict(
            choice,
            what="share of robocall attempts stopped on the test replications (each detector "
            "at its chosen setting)",
            lower_is_better=False,
        )
        + "</p>"
    )
    status = {r["detector"]: r.get("test: budget", "no cases") for r in rows}
    scale = dict(zip(sel.chosen["detector"], sel.chosen["threshold"]))
    if choice.best is None:
        names = ", ".join(f"<b>{html.escape(t)}</b> at {scale[t]:g}×" for t in choice.tied)
        parts.append(
            f"<p><b>No single detector can be recommended</b> on robocall attempts stopped: "
            f"{names} are not significantly different on the test replications.</p>"
        )
    else:
        state = status.get(choice.best, "no cases")
        best = html.escape(choice.best)
        if state in ("met", "consistent"):
            parts.append(
                f"<p><b>Recommended (open loop): {best} at {scale[choice.best]:g}× the "
                f"configured thresholds</b> -- it stops significantly more robocall attempts "
                f"than every other detector at its own chosen setting, and on the test "
                f"replications its false flags are {STATUS_TEXT[state]}.</p>"
            )
        else:
            parts.append(
                f"<p><b>No recommendation</b>: {best} stops significantly more robocall "
                f"attempts, but on the test replications its false flags are "
                f"{STATUS_TEXT[state]}.</p>"
            )
    return "".join(parts)
