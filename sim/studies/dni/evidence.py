"""What the DNI evidence says, generated from the tests that support it: paired differences
under common random numbers (:func:`models.evidence.best_option` and
:func:`sim.studies.render.verdict`), for the pool sizers a stated margin (blocking within
``dni.target_blocking``), and ratios against the oracle replication by replication
(:func:`models.evidence.ratio_ci`).  Sizers planned from the true demand are kept out of the
comparison and shown apart."""

from __future__ import annotations

import html

import numpy as np

from models.evidence import best_option, paired_difference, ratio_ci

from ...results.store import ExperimentResult
from ..render import verdict
from .values import (
    NOT_OBSERVED,
    exact_text,
    flat,
    mean_text,
    num,
    observed,
    oracle_informed_points,
    points_of,
    upper_bound,
    values,
)

__all__ = ["evidence"]


def _difference_text(candidate, reference, fmt: str = "{:.2%}") -> str:
    """A paired difference with its interval and whether it is significant."""
    d = paired_difference(candidate, reference)
    if d.n == 0:
        return NOT_OBSERVED
    diffs = np.asarray(candidate, float) - np.asarray(reference, float)
    if np.all(diffs[np.isfinite(diffs)] == 0):
        return f"identical in all {d.n} paired replications"
    sig = "significant" if d.above() or d.below() else "not significant"
    return f"{d.text(fmt)} ({sig})"


def _ratio_text(candidate, reference, name: str) -> str:
    """``candidate / reference`` replication by replication, with its interval."""
    ratio, half = ratio_ci(candidate, reference)
    return (
        num(ratio, "{:.1%}")
        + (f" ± {half:.1%}" if np.isfinite(half) else " (one replication: no interval)")
        + f" of {html.escape(name)}'s (95% CI, replication by replication)"
    )


def _varies(points: list, get) -> bool:
    return len({get(p) for p in points}) > 1


def _sizing_evidence(result, labels, fair: list[int], oracle: set[int]) -> str:
    cfg = result.config.dni
    target = cfg.target_blocking
    blocking = values(result, "dni.blocked_share", fair, labels)
    days = values(result, "dni.number_days", fair, labels)
    eligible, rows = [], []
    for p, col in zip(fair, blocking.columns):
        upper = upper_bound(result, "dni.blocked_share", p)
        if np.isfinite(upper) and upper <= target:
            eligible.append(col)
        shown = exact_text(result, "dni.blocked_share", p) or mean_text(blocking[col], "{:.3%}")
        rows.append(f"{html.escape(col)}: {shown}")
    parts = [
        "<p><b>The margin.</b> A sizing policy is eligible if the 95% upper confidence "
        f"bound of its blocking after the warm-up is at or below the target of {target:.2%} "
        "(Student-t across replications; an exact Clopper-Pearson bound on the pooled count "
        "when no impression was blocked). Blocking: " + "; ".join(rows) + ".</p>"
    ]
    if not eligible:
        parts.append(
            "<p>No fair sizing policy demonstrably kept blocking within the target"
            + (
                " (one replication gives no interval)"
                if len(blocking.dropna(how="all")) < 2
                else ""
            )
            + ", so none is recommended.</p>"
        )
    else:
        choice = best_option(days, lower_is_better=True, eligible=eligible)
        parts.append(
            "<p><b>Among the eligible fair policies:</b> "
            + verdict(choice, what="number-days paid for", lower_is_better=True, fmt="{:,.0f}")
            + "</p>"
        )
        if choice.best is not None:
            best = choice.best
            text = (
                f"<p><b>Recommended: {html.escape(best)}</b> — it keeps blocking within "
                f"the target and pays for significantly fewer number-days than every other "
                f"eligible fair policy"
            )
            by_rule = {points_of(result)[p].dni.sizer: labels[p] for p in fair}
            static = by_rule.get("static_erlang")
            if static is not None and static != best:
                text += "; its number-days are " + _ratio_text(days[best], days[static], static)
            rule = by_rule.get("one_per_twenty")
            if rule is not None and rule != best:
                cost = values(result, "dni.cost_per_correct_call", fair, labels)
                text += "; its cost per correctly attributed call is " + _ratio_text(
                    cost[best], cost[rule], rule
                )
            parts.append(text + ".</p>")
        else:
            parts.append(
                "<p>No single policy can be recommended on number-days: "
                + ", ".join(html.escape(c) for c in choice.tied)
                + " all keep blocking within the target and do not differ significantly.</p>"
            )
    if oracle:
        parts.append(_oracle_gap(result, labels, fair, oracle))
    return "".join(parts)


def _oracle_gap(result, labels, fair: list[int], oracle: set[int]) -> str:
    """What knowing the true demand is worth: each oracle-informed planner against the fair
    planner of the same rule (paired)."""
    points = points_of(result)
    lines = []
    for p in sorted(oracle):
        name = points[p].dni.sizer.removesuffix("_oracle_informed")
        twin = [q for q in fair if points[q].dni.sizer == name]
        if not twin:
            continue
        q = twin[0]
        parts = []
        for metric, what, fmt in (
            ("dni.number_days", "number-days", "{:,.0f}"),
            ("dni.blocked_share", "blocking", "{:.3%}"),
        ):
            v = values(result, metric, [q, p], labels)
            parts.append(f"{what} {_difference_text(v.iloc[:, 0], v.iloc[:, 1], fmt)}")
        lines.append(
            f"{html.escape(labels[q])} minus {html.escape(labels[p])}: " + "; ".join(parts)
        )
    if not lines:
        return ""
    return (
        "<p><b>Oracle-informed references (not part of the comparison).</b> They plan from "
        "the configured, true demand, which no platform knows. What learning the demand "
        "from earlier days costs, paired by replication (95% CI): " + "; ".join(lines) + ".</p>"
    )


def _composition_evidence(result, labels) -> str:
    points = points_of(result)
    col = "dni.oracle_share_after_100k"
    oracle = [p for p, point in enumerate(points) if point.dni.optimizer == "oracle"]
    learners = [p for p in range(len(points)) if p not in oracle]
    shares = observed(values(result, col, learners, labels))
    if shares.empty:
        return (
            "<p>Which optimizer earns most is judged on the impressions after the first "
            f"100,000: {NOT_OBSERVED} (no run reached 100,000 impressions), so no optimizer "
            "is recommended.</p>"
        )
    choice = best_option(shares, lower_is_better=False)
    parts = [
        "<p>Judged on the expected calls of the impressions after the first 100,000, as a "
        "share of what always showing the best kind would bring (every optimizer faced the "
        "same impressions): "
        + verdict(
            choice,
            what="share of the best kind's expected calls",
            lower_is_better=False,
            fmt="{:.2%}",
        )
        + "</p>"
    ]
    if oracle:
        ref = values(result, col, oracle[:1], labels).iloc[:, 0]
        rows = []
        for name in choice.tied if choice.best is None else [choice.best]:
            ratio, half = ratio_ci(shares[name], ref)
            rows.append(
                f"{html.escape(name)} earns {num(ratio, '{:.1%}')}"
                + (f" ± {half:.1%}" if np.isfinite(half) else " (one replication: no interval)")
            )
        parts.append(
            "<p>Against the oracle optimizer under the same pool constraints, replication by "
            "replication (95% CI): " + "; ".join(rows) + ".</p>"
        )
    cost = observed(values(result, "dni.cost_per_correct_call", learners, labels))
    if cost.shape[1] > 1:
        parts.append(
            "<p>What a correctly attributed call costs (number rental and minutes; toll-free "
            "and vanity numbers cost more): "
            + verdict(
                best_option(cost, lower_is_better=True),
                what="cost per correctly attributed call",
                lower_is_better=True,
                fmt="{:.4f}",
                unit=" dollars",
            )
            + "</p>"
        )
    if choice.best is not None:
        best_p = [p for p in learners if labels[p] == choice.best][0]
        cost = values(result, "dni.cost_per_correct_call", [best_p], labels).iloc[:, 0]
        parts.append(
            f"<p><b>Recommended: {html.escape(choice.best)}</b>, which earns significantly "
            f"more than every other learning optimizer; it pays "
            f"${mean_text(cost, '{:.3f}')} per correctly attributed call.</p>"
        )
    else:
        parts.append(
            "<p>No single optimizer can be recommended: "
            + ", ".join(html.escape(c) for c in choice.tied)
            + " do not differ significantly.</p>"
        )
    return "".join(parts)


def _attribution_evidence(result, labels, points: list[int]) -> str:
    correct = observed(values(result, "dni.correct_share", points, labels))
    if correct.shape[1] < 2:
        return (
            "<p>Attribution after the warm-up: "
            + (NOT_OBSERVED if correct.empty else "only one configuration observed")
            + "; nothing to compare.</p>"
        )
    choice = best_option(correct, lower_is_better=False)
    parts = [
        "<p>"
        + verdict(
            choice, what="share of calls attributed correctly", lower_is_better=False, fmt="{:.2%}"
        )
        + "</p>"
    ]
    cfgs = points_of(result)
    off = [p for p in points if not cfgs[p].dni.store]
    on = [p for p in points if cfgs[p].dni.store]
    if off and on:
        rows = []
        for p in on:
            v = values(result, "dni.wrong_sponsor_share", [p, off[0]], labels)
            rows.append(f"{html.escape(labels[p])}: {_difference_text(v.iloc[:, 0], v.iloc[:, 1])}")
        parts.append(
            "<p>Calls routed to the wrong sponsor, each store setting minus "
            f"{html.escape(labels[off[0]])}, paired by replication (95% CI): "
            + "; ".join(rows)
            + ".</p>"
        )
    if choice.best is not None:
        parts.append(
            f"<p><b>Recommended: {html.escape(choice.best)}</b>: it attributes significantly "
            "more calls correctly than every other setting.</p>"
        )
    else:
        parts.append(
            "<p>No single setting can be recommended on attribution: "
            + ", ".join(html.escape(c) for c in choice.tied)
            + " do not differ significantly.</p>"
        )
    return "".join(parts)


def evidence(result: ExperimentResult, labels: dict[int, str]) -> str:
    """The section's conclusions, generated from the tests that support them.

    Parameters
    ----------
    result : ExperimentResult
        Only its config, metrics and points are read.
    labels : dict
        Point -> label (as :func:`section_labels` gives).
    """
    points = points_of(result)
    if len(points) < 2:
        return "<p>One configuration: nothing to compare, nothing recommended.</p>"
    oracle = oracle_informed_points(result)
    if _varies(points, lambda c: c.dni.sizer):
        fair = [p for p in range(len(points)) if p not in oracle]
        return _sizing_evidence(result, labels, fair, oracle)
    if _varies(points, lambda c: c.dni.optimizer):
        return _composition_evidence(result, labels)
    if all(flat(point) and point.dni.sizer == "fixed" for point in points):
        return "<p>The Erlang B comparison above is the finding; nothing is recommended.</p>"
    return _attribution_evidence(result, labels, list(range(len(points))))
