"""The robocall-detection section of the report.

Closed-loop results (flags block calls, operators rotate) come from the runs' metrics;
threshold curves come from replaying one run's call log through every detector at a range
of thresholds (open loop, the same events for all), with Kleinberg's offline automaton as
the upper bound that sees each number's whole future.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.burst import DETECTORS, kleinberg_bursts
from models.burst.metrics import recommend, threshold_curve

from ...config.robocalls import Detection
from ...results.store import ExperimentResult
from ..render import ci_table, figure, table

__all__ = ["burst_section", "replay_curves"]

FACTORS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0)
"""Multipliers of every rule's threshold in the open-loop sweep."""
KLEINBERG_S = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""Burst-rate multiples of Kleinberg's automaton (its sensitivity knob)."""

HEADLINE = [
    ("detection.precision", "precision of flags (robocall numbers / flagged)"),
    ("detection.recall", "recall (robocall numbers flagged)"),
    ("detection.false_flags_per_new_number", "false flags per legitimate new number"),
    ("detection.heavy_flagged_share", "legitimate heavy callers flagged"),
    ("detection.legit_blocked_share", "legitimate calls blocked"),
    ("detection.robocall_blocked_share", "robocalls blocked"),
]


def _detect_fn(cfg: Detection, name: str, lines: pd.DataFrame):
    """``detect(factor, t, ids, n) -> flagged_at`` for detector ``name`` at the config's
    rules scaled by ``factor``."""
    new = lines[~lines["initial"].astype(bool)]
    assigned = [
        (float(start), grp["number_id"].to_numpy(np.int64)) for start, grp in new.groupby("start")
    ]

    def detect(factor, t, ids, n_ids):
        flagged = np.full(n_ids, np.inf)
        for rule in cfg.rules(scale=factor):
            try:
                det = cfg.build(name, rule).reset(n_ids)
            except ValueError:
                continue  # e.g. a CUSUM rule scaled below its baseline rate
            for start, numbers in assigned:
                det.assign(numbers, start)
            det.update(t, ids)
            flagged = np.minimum(flagged, det.flagged_at_)
            if not det.per_rule:
                break
        return flagged

    return detect


def replay_curves(calls: pd.DataFrame, lines: pd.DataFrame, cfg: Detection) -> pd.DataFrame:
    """Threshold curves of every detector (and Kleinberg) on one call log.

    Returns
    -------
    pandas.DataFrame
        ``detector``, ``threshold`` (multiplier of the configured thresholds, or
        Kleinberg's burst-rate multiple), and the columns of
        :func:`models.burst.metrics.threshold_curve`.
    """
    frames = []
    for name in DETECTORS:
        curve = threshold_curve(calls, lines, _detect_fn(cfg, name, lines), FACTORS, cfg.watch_days)
        frames.append(curve.assign(detector=name))
    base = cfg.rules()[0].baseline_rate

    def offline(s, t, ids, n_ids):
        return kleinberg_bursts(t, ids, n_ids, base_rate=base, s=s, gamma=2.0)

    frames.append(
        threshold_curve(calls, lines, offline, KLEINBERG_S, cfg.watch_days).assign(
            detector="kleinberg (offline)"
        )
    )
    return pd.concat(frames, ignore_index=True)


def _curves_figure(curves: pd.DataFrame) -> str:
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
    floor = 1e-5
    for name, grp in curves.groupby("detector", sort=False):
        x = grp["false_flags_per_new_number"].clip(lower=floor)
        style = "k--" if "offline" in name else "-"
        ax1.plot(x, grp["robocalls_blocked_share"], style, marker="o", ms=3, label=name)
        ax2.plot(x, grp["delay_seconds_median"], style, marker="o", ms=3, label=name)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel(f"false flags per legitimate new number (log; {floor:g} = none)")
    ax1.set_ylabel("robocalls stopped (share of attempts after the flag)")
    ax1.set_ylim(0, 1.02)
    ax2.set_yscale("log")
    ax2.set_ylabel("median detection delay (s, log)")
    ax1.legend(fontsize=7)
    return figure(
        fig,
        "Open-loop threshold sweep on one run's calls: each detector's "
        "thresholds are scaled from 1/4 to 4 times the configured rules. Left, "
        "the share of robocall attempts made after their number was flagged "
        "(what blocking would have stopped) against false flags on "
        "legitimate new numbers (an ROC curve); right, how long the flagged "
        "robocall numbers dialled before the flag. The dashed line is "
        "Kleinberg's automaton solved offline, which sees each number's whole "
        "future: an upper bound, not a deployable rule.",
    )


def burst_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the robocall-detection section (empty if the experiment has no campaigns)."""
    cfg = result.config
    if not cfg.robocallers.campaigns or not cfg.record.calls:
        return ""
    m = result.metrics
    m = m[m["metric"].str.startswith(("detection.", "robocall."))]
    if m.empty:
        return ""
    names = dict(HEADLINE)
    order = [(k, names.get(k, k)) for k in m["metric"].drop_duplicates()]
    parts = [
        "<h2>Robocall detection</h2>",
        "<p>Closed loop: flags block (or limit) calls in the pipeline and operators "
        "rotate to fresh numbers when blocked. Means ± 95% confidence half-widths across "
        "replications; delays are the worst campaign's median over its flagged numbers; "
        "<code>numbers_per_1000_delivered</code> is what rotation costs an operator.</p>",
        table(ci_table(m, names=order, col_labels=labels)),
    ]
    point = 0
    if "detection.detector" in result.points.columns:
        none = result.points.index[result.points["detection.detector"] == "none"]
        point = int(result.points.loc[none[0], "point"]) if len(none) else 0
    run = result.run(point, 0)
    lines = run.subscribers
    curves = replay_curves(run.calls, lines, cfg.detection)
    parts.append(_curves_figure(curves))
    budget = cfg.detection.false_flag_budget
    best = []
    for name, grp in curves.groupby("detector", sort=False):
        if "offline" in name:
            continue
        row = recommend(grp, budget)
        if row is not None:
            best.append({"detector": name, **row.drop("detector").to_dict()})
    n_legit = int((~lines["initial"].astype(bool) & (lines["type"] != "robocaller")).sum())
    parts.append("<h3>What the evidence says</h3>")
    if best:
        ranked = pd.DataFrame(best).sort_values(
            ["robocalls_blocked_share", "recall", "delay_seconds_median"],
            ascending=[False, False, True],
        )
        top = ranked.iloc[0]
        parts.append(
            f"<p>With at most {budget:g} false flags per legitimate new number and at most 1% "
            f"of legitimate heavy callers flagged, the most sensitive setting on this log is "
            f"<b>{html.escape(str(top['detector']))}</b> with its thresholds at "
            f"<b>{top['threshold']:g}×</b> the configured rules: it would stop "
            f"{top['robocalls_blocked_share']:.1%} of robocall attempts and flag "
            f"{top['recall']:.1%} of robocall numbers, after a median "
            f"{top['delay_seconds_median']:.0f} s. How sure: the log has {n_legit:,} "
            f"legitimate new numbers, so a false-flag rate below {1 / max(n_legit, 1):.1g} "
            "cannot be told from zero; the closed-loop table above gives replication "
            "intervals.</p>"
        )
        parts.append(table(ranked))
    else:
        parts.append(
            f"<p>No detector setting on this log stays within {budget:g} false flags "
            "per legitimate new number.</p>"
        )
    return "".join(parts)
