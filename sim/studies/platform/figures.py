"""The platform report's figures: service level and abandonment per tenant, the closed-form
checks, media ports per design against Erlang B, termination cost and connected share, the
noisy-neighbour window and the staffing trade-off.  Every bar is a mean over replications
with its 95% interval."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.stats import mean_ci

from ...results.store import ExperimentResult
from ..render import figure, table
from .theory import MEASURES
from .values import points_of, values

__all__ = [
    "bars",
    "isolation_figure",
    "media_figure",
    "staffing_figure",
    "tenant_figure",
    "termination_figure",
    "theory_part",
]


def _summary(result, metric: str, points: list[int], labels) -> tuple[np.ndarray, np.ndarray]:
    v = values(result, metric, points, labels)
    stats = [mean_ci(v[c].to_numpy(float)) for c in v.columns]
    return np.array([m for m, _ in stats]), np.nan_to_num(np.array([h for _, h in stats]))


def bars(ax, result, metrics: list[tuple[str, str]], labels, scale: float = 1.0) -> None:
    """Grouped bars: one group per point, one bar per metric, with 95% intervals."""
    points = list(range(len(points_of(result))))
    x = np.arange(len(points))
    width = 0.8 / max(len(metrics), 1)
    for k, (metric, name) in enumerate(metrics):
        mean, half = _summary(result, metric, points, labels)
        ax.bar(x + k * width, mean * scale, width, yerr=half * scale, capsize=3, label=name)
    ax.set_xticks(x + width * (len(metrics) - 1) / 2)
    ax.set_xticklabels([labels[p] for p in points], rotation=20, ha="right", fontsize=8)
    if len(metrics) > 1:
        ax.legend(fontsize=8)


def tenant_figure(result: ExperimentResult, labels: dict[int, str]) -> str:
    """Service level and abandonment of every tenant, per point."""
    names = [t.name for t in result.config.platform.tenants]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    bars(axes[0], result, [(f"platform.sl.{n}", n) for n in names], labels, 100)
    axes[0].set_ylabel(f"answered within {result.config.platform.sl_seconds:g} s (%)")
    axes[0].axhline(100 * result.config.platform.sl_target, color="k", lw=0.8, ls="--")
    bars(axes[1], result, [(f"platform.abandoned.{n}", n) for n in names], labels, 100)
    axes[1].set_ylabel("abandoned (%)")
    axes[1].axhline(100 * result.config.platform.abandon_target, color="k", lw=0.8, ls="--")
    return figure(
        fig,
        "Service level (left) and abandonment (right) of each tenant's calls, per point: "
        "means over replications with 95% intervals; dashed: the targets.",
    )


def theory_part(result: ExperimentResult, labels: dict[int, str]) -> list[str]:
    """Measured against closed form, per point that has one (table and figure)."""
    m = result.metrics
    rows = []
    for p in range(len(points_of(result))):
        for measure in MEASURES:
            pred = m[(m["point"] == p) & (m["metric"] == f"platform.theory.{measure}")]
            if pred.empty:
                continue
            v = values(result, f"platform.measured.{measure}", [p], labels).iloc[:, 0]
            mean, half = mean_ci(v.to_numpy(float))
            theory = float(pred["value"].iloc[0])
            inside = abs(mean - theory) <= half if np.isfinite(half) else None
            rows.append(
                {
                    "point": labels[p],
                    "measure": measure,
                    "simulated": mean,
                    "± 95%": half,
                    "closed form": theory,
                    "inside the interval": {True: "yes", False: "no", None: "one replication"}[
                        inside
                    ],
                }
            )
    if not rows:
        return []
    frame = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(6, 4))
    for measure, part in frame.groupby("measure"):
        scale = 1.0 if measure == "mean_wait" else 100.0
        ax.errorbar(
            part["closed form"] * scale, part["simulated"] * scale,
            yerr=part["± 95%"].fillna(0) * scale, fmt="o", capsize=3,
            label=f"{measure} ({'s' if measure == 'mean_wait' else '%'})",
        )  # fmt: skip
    lim = ax.get_xlim()
    ax.plot(lim, lim, color="k", lw=0.8)
    ax.set_xscale("symlog")
    ax.set_yscale("symlog")
    ax.set_xlabel("closed form (Erlang B, C or A)")
    ax.set_ylabel("simulated")
    ax.legend(fontsize=8)
    inside = int((frame["inside the interval"] == "yes").sum())
    return [
        "<h3>Against closed-form theory</h3>",
        f"<p>{inside} of {len(frame)} closed-form values lie inside the simulation's 95% "
        "interval (Student-t across replications).</p>",
        table(frame),
        figure(
            fig,
            "Simulated against closed form: blocking against Erlang B, waiting, "
            "abandonment, mean wait and service level against Erlang C or A; "
            "the line is equality.",
        ),  # fmt: skip
    ]


def media_figure(result: ExperimentResult, labels: dict[int, str]) -> str:
    """Peak ports used and ports Erlang B asks for, per point."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    bars(axes[0], result, [("platform.ports_peak", "peak ports in use"),
                           ("platform.erlang_ports", "Erlang B at 1%")], labels)  # fmt: skip
    axes[0].set_ylabel("media ports")
    bars(axes[1], result, [("platform.legs_per_call", "legs"),
                           ("platform.ports_per_call", "ports")], labels)  # fmt: skip
    axes[1].set_ylabel("per admitted call (most at once)")
    return figure(
        fig,
        "Media ports: the busiest step's peak against what Erlang B asks for at 1% blocking "
        "of the busiest hour's calls (left); legs and ports per call (right).",
    )


def termination_figure(result: ExperimentResult, labels: dict[int, str]) -> str:
    """Cost per connected minute and connected share, per point."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    bars(axes[0], result, [("platform.cost_per_connected_minute", "carrier"),
                           ("platform.total_cost_per_connected_minute", "with agents' time")],
         labels)  # fmt: skip
    axes[0].set_ylabel("$ per connected minute")
    bars(axes[1], result, [("platform.connected_share", "whole run"),
                           ("platform.outage_connected_share", "during the outage")],
         labels, 100)  # fmt: skip
    axes[1].set_ylabel("dials connected (%)")
    return figure(fig, "Termination: cost per connected minute (left) and connected share of "
                       "agents' dials (right), per routing policy.")  # fmt: skip


def isolation_figure(result: ExperimentResult, labels: dict[int, str]) -> str:
    """The other tenants' and the surging tenant's service level in the surge window."""
    fig, ax = plt.subplots(figsize=(11, 3.6))
    bars(ax, result, [("platform.window_sl_others", "other tenants"),
                      ("platform.window_sl_noisy", "surging tenant")], labels, 100)  # fmt: skip
    ax.set_ylabel("answered within the threshold (%)")
    return figure(fig, "Service level in the surge's window (its hours and the hour after), "
                       "per isolation policy, with and without the surge.")  # fmt: skip


def staffing_figure(result: ExperimentResult, labels: dict[int, str]) -> str:
    """Agent-hours against service level, per staffing policy."""
    points = list(range(len(points_of(result))))
    h_mean, h_half = _summary(result, "platform.agent_hours", points, labels)
    s_mean, s_half = _summary(result, "platform.sl", points, labels)
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, p in enumerate(points):
        ax.errorbar(h_mean[k], 100 * s_mean[k], xerr=h_half[k], yerr=100 * s_half[k],
                    fmt="o", capsize=3, label=labels[p])  # fmt: skip
    ax.axhline(100 * result.config.platform.sl_target, color="k", lw=0.8, ls="--")
    ax.set_xlabel("agent-hours")
    ax.set_ylabel("service level (%)")
    ax.legend(fontsize=8)
    return figure(fig, "Staffing: agent-hours against the service level reached, per "
                       "policy (95% intervals); dashed: the target.")  # fmt: skip
