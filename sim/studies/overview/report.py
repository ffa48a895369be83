"""The report's overview of the world: the inventory and subscribers, headline metrics,
inventory states, calls per day, exhaustion and the ledger."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.common import DAY, SUBSCRIBER_TYPES

from ...core.numbering import area_code_region
from ...results.store import ExperimentResult, load_runs
from ...world.schemas import CALL_KINDS, STATES
from ..glossary import not_observed
from ..render import figure, metric_table, table

__all__ = ["overview_section"]


def _world(result: ExperimentResult) -> list[str]:
    cfg = result.config
    regions = pd.DataFrame(
        {
            "area code": cfg.inventory.area_codes,
            "region": [area_code_region(a) for a in cfg.inventory.area_codes],
            "thousands-blocks": cfg.inventory.blocks_per_area_code,
        }
    )
    population = pd.DataFrame(
        [
            {
                "type": name,
                "initial": spec.initial,
                "arrivals per day": round(spec.steady_arrivals_per_day, 3),
                "mean tenure (days)": round(spec.tenure.mean, 1),
                "outbound calls per day": spec.calls_per_day,
                "aging (days)": f"{spec.aging_days[0]:g}–{spec.aging_days[1]:g}",
            }
            for name, spec in zip(SUBSCRIBER_TYPES, cfg.subscribers.by_code())
        ]
    )
    return [
        "<h2>The world</h2>",
        f"<p>An inventory of {cfg.inventory.size:,} numbers in thousands-blocks of these "
        "area codes:</p>",
        table(regions),
        "<p>Subscribers at the start (calibration sources in docs/calibration.md):</p>",
        table(population),
    ]


def _states_figure(states: pd.DataFrame, labels: dict[int, str]) -> str:
    fig, axes = plt.subplots(1, len(STATES), figsize=(11, 2.8), sharex=True)
    mean = states.groupby(["point", "t"])[list(STATES)].mean().reset_index()
    for ax, state in zip(axes, STATES):
        for p, grp in mean.groupby("point"):
            ax.plot(grp["t"] / DAY, grp[state], label=labels[p])
        ax.set_title(state.replace("_", " "))
        ax.set_xlabel("day of run")
    axes[0].set_ylabel("numbers")
    axes[-1].legend(fontsize=8)
    return figure(
        fig,
        "Inventory states over time: how many numbers are available to "
        "assign, held by subscribers, resting in aging after a disconnect, and "
        "ported out to other carriers (mean over replications).",
    )


def _calls_figure(calls: pd.DataFrame, labels: dict[int, str]) -> str:
    cols = (len(CALL_KINDS) + 1) // 2
    fig, grid = plt.subplots(2, cols, figsize=(11, 5.2), sharex=True, constrained_layout=True)
    axes = grid.ravel()
    for ax in axes[len(CALL_KINDS) :]:
        ax.remove()
    mean = calls.groupby(["point", "kind", "day"], observed=True)["attempts"].mean().reset_index()
    for ax, kind in zip(axes, CALL_KINDS):
        for p, grp in mean[mean["kind"] == kind].groupby("point"):
            ax.plot(grp["day"], grp["attempts"], marker="o", ms=3, label=labels[p])
        ax.set_title(kind.replace("_", " "))
        ax.set_xlabel("day of run")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("calls per day")
    axes[cols].set_ylabel("calls per day")
    axes[len(CALL_KINDS) - 1].legend(fontsize=8)
    return figure(
        fig,
        "Calls per day by who really placed them (ground truth): outbound "
        "calls of each subscriber type and the background spam every number "
        "receives (mean over replications).",
    )


def _exhaustion_figure(exh: pd.DataFrame, labels: dict[int, str], days: float, reps: int) -> str:
    if exh.empty:
        return "<p>No arrival found the inventory empty: no exhaustion events.</p>"
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for p in labels:  # points without exhaustion show as a flat line at zero
        t = np.sort(exh.loc[exh["point"] == p, "t"].to_numpy()) / DAY
        ax.step(
            np.concatenate([[0], t, [days]]),
            np.concatenate([[0], np.arange(1, len(t) + 1), [len(t)]]) / reps,
            where="post",
            label=labels[p],
        )
    ax.set_xlabel("day of run")
    ax.set_ylabel("exhaustion events (cumulative)")
    ax.legend(fontsize=8)
    return figure(
        fig,
        "Arrivals that found no number to assign, accumulated over the run "
        "(mean per replication). Each is a subscriber the carrier turned away.",
    )


def _ledger_section(ledger: pd.DataFrame, labels: dict[int, str], reps: int) -> str:
    counts = (
        ledger.groupby(["point", "from_state", "to_state", "reason"], observed=True)
        .size()
        .div(reps)
        .rename("per replication")
        .reset_index()
    )
    counts["point"] = counts["point"].map(labels)
    counts = counts.rename(columns={"from_state": "from", "to_state": "to"})
    return (
        "<p>Every change of a number's state is a ledger row. Transitions per "
        "replication:</p>" + table(counts)
    )


def overview_section(result: ExperimentResult, labels: dict[int, str]) -> str:
    """HTML of the world's overview: what was simulated and what happened in it."""
    cfg = result.config
    reps = cfg.replications
    headline, unobserved = metric_table(result.metrics, "world", labels)
    missing = (
        not_observed(", ".join(unobserved) + " (nothing to count in any run)") if unobserved else ""
    )
    return "".join(
        [
            *_world(result),
            "<h2>Headline metrics</h2>",
            f"<p>Mean ± 95% confidence half-width across replications ({reps} per point); "
            "no ± when every replication gave the same value.</p>",
            table(headline) if len(headline) else "",
            missing,
            "<h2>Inventory states over time</h2>",
            _states_figure(load_runs(result, "states"), labels),
            "<h2>Calls per day by caller type</h2>",
            _calls_figure(load_runs(result, "daily_calls"), labels),
            "<h2>Exhaustion events</h2>",
            _exhaustion_figure(load_runs(result, "exhaustion"), labels, cfg.scenario.days, reps),
            "<h2>Ledger summary</h2>",
            _ledger_section(load_runs(result, "ledger"), labels, reps),
        ]
    )
