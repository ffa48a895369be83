"""The DNI report's figures: blocking against Erlang B (with its table), the pool over
time, attribution, the sizing trade-off and the optimizers' regret."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.common import DAY
from models.dni.erlang import erlang_b
from models.evidence import paired_difference
from models.stats import mean_ci, summarize

from ...results.store import METRICS_FILE, ExperimentResult, run_dir
from ..render import figure, table
from .metrics import oracle_probabilities
from .values import flat, points_of, values

__all__ = [
    "attribution_figure",
    "erlang_part",
    "pool_figure",
    "regret_figure",
    "sizing_figure",
]


def erlang_part(result: ExperimentResult, labels: dict[int, str]) -> list[str]:
    """Measured blocking against Erlang B (stationary demand, fixed pool only)."""
    points = points_of(result)
    if not all(flat(point) and point.dni.sizer == "fixed" for point in points):
        return []
    rows = []
    for p, point in enumerate(points):
        load = float(point.dni.offered_loads().mean())
        b = float(erlang_b(point.dni.pool_size, load))
        v = values(result, "dni.blocked_share", [p], labels).iloc[:, 0].to_numpy(float)
        mean, half = mean_ci(v)
        diff = paired_difference(v, np.full(len(v), b))
        rows.append(
            {
                "point": labels[p],
                "pool N": point.dni.pool_size,
                "offered A (erlangs)": load,
                "session": point.dni.session_minutes.kind,
                "replications": int(np.isfinite(v).sum()),
                "measured": mean,
                "± 95%": half,
                "Erlang B(N, A)": b,
                "measured / B": mean / b if b > 0 else np.nan,
                "B inside the interval": (
                    "one replication: no interval"
                    if not np.isfinite(half)
                    else ("yes" if abs(diff.mean) <= half else "no")
                ),
            }
        )
    frame = pd.DataFrame(rows)
    inside = (frame["B inside the interval"] == "yes").sum()
    judged = frame["B inside the interval"].isin(["yes", "no"]).sum()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(frame))
    ticks = [
        f"A={a:.4g}, N={n}, {kind[:3]}"
        for a, n, kind in zip(frame["offered A (erlangs)"], frame["pool N"], frame["session"])
    ]
    ax.errorbar(
        x, frame["measured"], yerr=frame["± 95%"], fmt="o", capsize=4, label="simulated (95% CI)"
    )
    ax.scatter(x, frame["Erlang B(N, A)"], marker="_", s=400, color="k", label="Erlang B(N, A)")
    ax.set_yscale("log")
    ax.set_xticks(x, ticks, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("share of impressions blocked (log scale)")
    ax.set_title("Blocking of the simulated pool against Erlang B")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    b = frame["Erlang B(N, A)"].to_numpy(float)
    ax2.errorbar(x, frame["measured"] / b, yerr=frame["± 95%"] / b, fmt="o", capsize=4)
    ax2.axhline(1.0, color="k", lw=1)
    ax2.set_xticks(x, ticks, rotation=30, ha="right", fontsize=7)
    ax2.set_ylabel("measured / Erlang B (95% CI)")
    ax2.set_title("Ratio to Erlang B")
    ax2.grid(alpha=0.3)
    warm = result.config.dni.warmup_hours
    return [
        "<h3>The pool against Erlang B</h3>",
        table(frame),
        f"<p>Blocking is measured after a warm-up of {warm:g} hours (the pool starts empty), "
        "mean across replications with its 95% Student-t interval. "
        + (
            f"Erlang B lies inside the interval at {inside} of {judged} points."
            if judged
            else "With one replication there is no interval to compare Erlang B with."
        )
        + "</p>",
        figure(
            fig,
            "Share of impressions that found no free number (overflow) in each "
            "stationary configuration, against Erlang B for its pool size N and offered "
            "load A (left, log scale), and the ratio measured / Erlang B with its 95% "
            "interval (right); Erlang B does not depend on the lease-time distribution, "
            "only on its mean (exp: exponential, log: lognormal sessions).",
        ),
    ]


# -- over time --------------------------------------------------------------------------------
def _first_run(result: ExperimentResult, point: int):
    for r in range(result.config.replications):
        if (run_dir(result.out, point, r) / METRICS_FILE).exists():
            return result.run(point, r)
    return None


def pool_figure(result, labels, oracle: set[int]) -> str:
    fig, ax = plt.subplots(figsize=(9, 3.8))
    first = None
    for p in result.points["point"]:
        run = _first_run(result, int(p))
        if run is None:
            continue
        pool = run.pool
        first = pool if first is None else first
        style = "--" if int(p) in oracle else "-"
        ax.plot(pool["t"] / DAY, pool["size"], style, lw=1, label=labels[int(p)])
    if first is not None:
        ax.plot(
            first["t"] / DAY,
            first["busy"],
            color="k",
            lw=0.6,
            alpha=0.6,
            label="numbers leased (first point)",
        )
    warm = result.config.dni.warmup_hours / 24
    if warm > 0:
        ax.axvspan(0, warm, color="0.9", zorder=0, label="warm-up (left out)")
    ax.set_xlabel("day")
    ax.set_ylabel("numbers")
    ax.set_title("Pool size over time (first replication)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return figure(
        fig,
        "Numbers in the pool at each step under each configuration, and the numbers "
        "actually leased: a pool that follows demand pays for fewer number-days."
        + (
            " Dashed: oracle-informed sizers, planned from the true demand (a reference, "
            "not a policy a platform could run)."
            if oracle
            else ""
        )
        + (" The shaded warm-up is left out of the steady-state figures." if warm > 0 else ""),
    )


def regret_figure(result, labels) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    best = oracle_probabilities(result.config.dni)
    for p in result.points["point"]:
        run = _first_run(result, int(p))
        if run is None or len(run.impressions) == 0:
            continue
        imps = run.impressions
        regret = np.cumsum(
            best[imps["channel"].cat.codes.to_numpy()] - imps["call_prob"].to_numpy(np.float64)
        )
        # on a log axis 2,000 log-spaced points draw the curve; every impression is too many
        at = np.unique(np.geomspace(1, len(regret), 2000).astype(np.int64)) - 1
        ax.plot(at + 1, np.maximum(regret[at], 1e-3), lw=1.2, label=labels[int(p)])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("impressions")
    ax.set_ylabel("cumulative regret (expected calls lost)")
    ax.set_title("Composition optimizers against the oracle")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    return figure(
        fig,
        "Expected calls each optimizer lost to the oracle (which always shows the best "
        "kind of number for the channel), cumulated over impressions, first replication; "
        "a slope below 1 on these log axes is sublinear regret. Every optimizer faced the "
        "same impressions (common random numbers).",
    )


def attribution_figure(result, labels) -> str:
    names = ["dni.correct_share", "dni.misattributed_share", "dni.unattributed_share"]
    m = result.metrics[result.metrics["metric"].isin(names)]
    summary = summarize(m, ["point", "metric"])
    wide = summary.pivot(index="point", columns="metric", values="mean").reindex(columns=names)
    wide.index = [labels[p] for p in wide.index]
    ax = wide.fillna(0.0).plot.barh(
        stacked=True, figsize=(8, 0.5 * len(wide) + 1.5), color=["#4c9a2a", "#d9822b", "#999999"]
    )
    ax.set_xlabel("share of tracked calls after the warm-up")
    ax.set_title("Attribution of calls")
    ax.legend(["correct", "misattributed", "unattributed"], fontsize=8)
    return figure(
        ax.figure,
        "What each configuration credited every tracked call after the warm-up to, against "
        "the impression that really caused it (mean over replications; an empty bar: no "
        "call observed).",
    )


def sizing_figure(result, labels, fair: list[int], oracle: set[int]) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for p in [*fair, *sorted(oracle)]:
        nd = values(result, "dni.number_days", [p], labels).iloc[:, 0]
        bl = values(result, "dni.blocked_share", [p], labels).iloc[:, 0]
        (x, xh), (y, yh) = mean_ci(nd), mean_ci(bl)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        hollow = p in oracle
        ax.errorbar(
            x,
            y,
            xerr=np.nan_to_num(xh),
            yerr=np.nan_to_num(yh),
            fmt="s" if hollow else "o",
            mfc="none" if hollow else None,
            capsize=3,
            label=labels[p],
        )
    ax.axhline(result.config.dni.target_blocking, color="r", lw=1, ls=":", label="target")
    ax.set_xlabel("number-days paid for after the warm-up")
    ax.set_ylabel("share of impressions blocked")
    ax.set_title("Sizing policies: cost against blocking")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return figure(
        fig,
        "Each sizing policy's number-days and blocking after the warm-up, means with 95% "
        "intervals across replications. Filled: fair policies (demand learned from earlier "
        "days); hollow squares: oracle-informed references, planned from the true demand.",
    )
