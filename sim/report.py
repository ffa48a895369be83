"""The experiment report: one self-contained ``index.html`` with embedded figures.

Every figure has a title, axis labels with units and a plain-language caption; every table
of numbers shows means with 95% confidence half-widths across replications.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from models.stats import summarize  # noqa: E402

from .atomic import write_atomic  # noqa: E402
from .config import SUBSCRIBER_TYPES  # noqa: E402
from .aging_report import aging_section  # noqa: E402
from .burst_report import burst_section  # noqa: E402
from .dni_report import dni_section  # noqa: E402
from .numbering import area_code_region  # noqa: E402
from .population import DAY  # noqa: E402
from .recorder import CALL_KINDS, STATES  # noqa: E402

if TYPE_CHECKING:
    from .experiment import ExperimentResult

__all__ = ["write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
figure{margin:1.2em 0} figcaption{color:#555;font-size:.92em;max-width:900px}
.meta{color:#666;font-size:.9em}
"""


def _figure(fig, caption: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:,.4g}")


def _point_labels(result: "ExperimentResult") -> dict[int, str]:
    keys = [c for c in result.points.columns if c != "point"]
    if not keys:
        return {0: "baseline"}
    return {
        int(row["point"]): ", ".join(f"{k.split('.')[-1]}={row[k]}" for k in keys)
        for _, row in result.points.iterrows()
    }


def _states_figure(states: pd.DataFrame, labels: dict[int, str]) -> str:
    fig, axes = plt.subplots(1, len(STATES), figsize=(15, 3.4), sharex=True)
    mean = states.groupby(["point", "t"])[list(STATES)].mean().reset_index()
    for ax, state in zip(axes, STATES):
        for p, grp in mean.groupby("point"):
            ax.plot(grp["t"] / DAY, grp[state], label=labels[p])
        ax.set_title(state.replace("_", " "))
        ax.set_xlabel("day of run")
    axes[0].set_ylabel("numbers")
    axes[-1].legend(fontsize=8)
    return _figure(fig, "Inventory states over time: how many numbers are available to "
                        "assign, held by subscribers, resting in aging after a disconnect, and "
                        "ported out to other carriers (mean over replications).")


def _calls_figure(calls: pd.DataFrame, labels: dict[int, str]) -> str:
    fig, axes = plt.subplots(1, len(CALL_KINDS), figsize=(18, 3.4), sharex=True)
    mean = calls.groupby(["point", "kind", "day"], observed=True)["attempts"].mean().reset_index()
    for ax, kind in zip(axes, CALL_KINDS):
        for p, grp in mean[mean["kind"] == kind].groupby("point"):
            ax.plot(grp["day"], grp["attempts"], marker="o", ms=3, label=labels[p])
        ax.set_title(kind.replace("_", " "))
        ax.set_xlabel("day of run")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("calls per day")
    axes[-1].legend(fontsize=8)
    return _figure(fig, "Calls per day by who really placed them (ground truth): outbound "
                        "calls of each subscriber type and the background spam every number "
                        "receives (mean over replications).")


def _exhaustion_figure(exh: pd.DataFrame, labels: dict[int, str], days: float,
                       reps: int) -> str:
    if exh.empty:
        return "<p>No arrival found the inventory empty: no exhaustion events.</p>"
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for p in labels:  # points without exhaustion show as a flat line at zero
        t = np.sort(exh.loc[exh["point"] == p, "t"].to_numpy()) / DAY
        ax.step(np.concatenate([[0], t, [days]]),
                np.concatenate([[0], np.arange(1, len(t) + 1), [len(t)]]) / reps,
                where="post", label=labels[p])
    ax.set_xlabel("day of run")
    ax.set_ylabel("exhaustion events (cumulative)")
    ax.legend(fontsize=8)
    return _figure(fig, "Arrivals that found no number to assign, accumulated over the run "
                        "(mean per replication). Each is a subscriber the carrier turned away.")


def _ledger_section(ledger: pd.DataFrame, labels: dict[int, str], reps: int) -> str:
    counts = (ledger.groupby(["point", "from_state", "to_state", "reason"], observed=True)
              .size().div(reps).rename("per replication").reset_index())
    counts["point"] = counts["point"].map(labels)
    counts = counts.rename(columns={"from_state": "from", "to_state": "to"})
    return ("<p>Every change of a number's state is a ledger row. Transitions per "
            "replication:</p>" + _table(counts))


def _metrics_section(result: "ExperimentResult", labels: dict[int, str]) -> str:
    summary = summarize(result.metrics, ["point", "metric"])
    summary["cell"] = [
        f"{m:,.4g}" if np.isnan(h) else f"{m:,.4g} ± {h:,.2g}"
        for m, h in zip(summary["mean"], summary["ci"])
    ]
    wide = summary.pivot(index="metric", columns="point", values="cell")
    wide.columns = [labels[p] for p in wide.columns]
    wide = wide.reset_index()
    return ("<p>Mean ± 95% confidence half-width across replications "
            f"({result.config.replications} per point).</p>" + _table(wide))


def write_report(result: "ExperimentResult") -> None:
    """Render ``index.html`` in the experiment's output folder from its saved results."""
    from .experiment import failures, load_runs

    cfg = result.config
    labels = _point_labels(result)
    reps = cfg.replications
    regions = pd.DataFrame({
        "area code": cfg.inventory.area_codes,
        "region": [area_code_region(a) for a in cfg.inventory.area_codes],
        "thousands-blocks": cfg.inventory.blocks_per_area_code,
    })
    population = pd.DataFrame([
        {"type": name, "initial": spec.initial,
         "arrivals per day": round(spec.steady_arrivals_per_day, 3),
         "mean tenure (days)": round(spec.tenure.mean, 1),
         "outbound calls per day": spec.calls_per_day,
         "aging (days)": f"{spec.aging_days[0]:g}–{spec.aging_days[1]:g}"}
        for name, spec in zip(SUBSCRIBER_TYPES,
                              cfg.subscribers.by_code())
    ])
    points = result.points.copy()
    body = [
        f"<h1>{html.escape(cfg.name)}</h1>",
        f"<p>{html.escape(cfg.description)}</p>" if cfg.description else "",
        f'<p class="meta">seed {cfg.seed} · {len(points)} point(s) × {reps} replication(s) · '
        f"{cfg.scenario.days:g} simulated days each · config sha256 {cfg.digest()[:12]}</p>",
        "<h2>The world</h2>",
        f"<p>An inventory of {cfg.inventory.size:,} numbers in thousands-blocks of these "
        "area codes:</p>", _table(regions),
        "<p>Subscribers at the start (calibration sources in docs/calibration.md):</p>",
        _table(population),
    ]
    if len(points.columns) > 1:
        body += ["<h2>Sweep points</h2>", _table(points)]
    failed = failures(result.out)
    if failed:
        body += ["<h2>Failed runs</h2>",
                 "<p>These runs raised; the tables and figures below leave them out.</p>",
                 _table(pd.DataFrame(failed))]
    body += ["<h2>Headline metrics</h2>", _metrics_section(result, labels),
             "<h2>Inventory states over time</h2>",
             _states_figure(load_runs(result, "states"), labels),
             "<h2>Calls per day by caller type</h2>",
             _calls_figure(load_runs(result, "daily_calls"), labels),
             "<h2>Exhaustion events</h2>",
             _exhaustion_figure(load_runs(result, "exhaustion"), labels, cfg.scenario.days, reps),
             "<h2>Ledger summary</h2>",
             _ledger_section(load_runs(result, "ledger"), labels, reps),
             burst_section(result, labels, _table, _figure),
             aging_section(result, labels, _table, _figure),
             dni_section(result, labels, _table, _figure)]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(cfg.name)}"
            f"</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
    write_atomic(result.out / "index.html", page)
