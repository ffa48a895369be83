"""The call-tracking (DNI) section of the report: blocking against Erlang B, pool size over
the day, attribution with and without the association store, the composition optimizers'
regret against the oracle, and what the evidence says (:mod:`.evidence`).

Every "best", "equal" or "recommended" comes from a test stated beside it.  Sizers planned
from the true demand (``oracle_informed``) are labelled so and kept out of the comparison.
A figure that a run could not observe (e.g. nothing after the warm-up) is written "not
observed"; a share that is 0 or 1 in every replication is a pooled count with its exact
bound, never "0 ± 0".
"""

from __future__ import annotations

from ...results.store import ExperimentResult
from ..render import ci_table, table
from .evidence import evidence
from .figures import (
    attribution_figure,
    erlang_part,
    pool_figure,
    regret_figure,
    sizing_figure,
)
from .values import (
    NOT_OBSERVED,
    exact_text,
    oracle_informed_points,
    points_of,
    section_labels,
)

__all__ = ["NOT_OBSERVED", "dni_section", "evidence", "section_labels"]

HEADLINE = [
    ("dni.impressions", "impressions (whole run)"),
    ("dni.blocked_share", "impressions given the overflow number"),
    ("dni.blocked_share_warmup", "… during the warm-up"),
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
    ("dni.oracle_share", "expected calls, share of the oracle's (whole run)"),
    ("dni.oracle_share_after_100k", "… after the first 100k impressions"),
]


# -- tables ---------------------------------------------------------------------------------
def _headline(result: ExperimentResult, labels: dict[int, str], points: list[int]) -> str:
    m = result.metrics
    m = m[m["metric"].isin([k for k, _ in HEADLINE]) & m["point"].isin(points)]
    if m.empty:
        return "<p>No run finished.</p>"
    wide = ci_table(m, names=HEADLINE, col_labels={p: labels[p] for p in points})
    wide = wide.replace({"nan": NOT_OBSERVED})
    row = {label: key for key, label in HEADLINE}
    for i, label in enumerate(wide.iloc[:, 0]):
        for p in points:
            exact = exact_text(result, row[label], p)
            if exact is not None and labels[p] in wide.columns:
                wide.loc[i, labels[p]] = exact
    return table(wide)


def dni_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the DNI section."""
    cfg = result.config
    labels = section_labels(result, labels)
    oracle = oracle_informed_points(result)
    all_points = [int(p) for p in result.points["point"]]
    fair = [p for p in all_points if p not in oracle]
    warm = cfg.dni.warmup_hours
    parts = [
        "<h2>Call tracking (DNI)</h2>",
        "<p>Ad sessions lease numbers from the platform's shared pool for the session "
        f"plus {cfg.dni.hold_minutes:g} minutes; calls come during the session or days "
        "later and are routed by the association store, then by the number's current "
        "lease. Means ± 95% confidence half-widths across replications. Blocking, "
        f"attribution, pool and cost figures leave out the first {warm:g} hours (the "
        "warm-up: the pool starts empty and the fair sizers have no history yet); "
        f"“{NOT_OBSERVED}” marks a figure the runs could not measure.</p>",
    ]
    if oracle:
        parts += [
            "<h3>Fair comparison: demand learned from earlier days</h3>",
            _headline(result, labels, fair),
            "<h3>Oracle-informed references (not part of the comparison)</h3>",
            "<p>These sizers plan from the configured, true demand, which no platform "
            "knows; they show what knowing it would be worth.</p>",
            _headline(result, labels, sorted(oracle)),
        ]
    else:
        parts.append(_headline(result, labels, all_points))
    parts += erlang_part(result, labels)
    parts.append(pool_figure(result, labels, oracle))
    if len({c.dni.sizer for c in points_of(result)}) > 1:
        parts.append(sizing_figure(result, labels, fair, oracle))
    parts.append(attribution_figure(result, labels))
    if "dni.optimizer" in result.points.columns or cfg.dni.optimizer != "none":
        parts.append(regret_figure(result, labels))
    parts += ["<h3>What the evidence says</h3>", evidence(result, labels)]
    return "".join(parts)
