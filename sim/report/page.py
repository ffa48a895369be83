"""The experiment report: one self-contained ``index.html`` with embedded figures.

The page holds a header (what was run), the sweep points, failed runs, and the section of
every study (:data:`sim.studies.STUDIES`).  Every figure has a title, axis labels with
units and a plain-language caption; every table of numbers shows means with 95% confidence
half-widths across replications.
"""

from __future__ import annotations

import html

import pandas as pd

from ..core.atomic import write_atomic
from ..results.store import ExperimentResult, failures
from ..studies import STUDIES
from ..studies.render import table

__all__ = ["point_labels", "write_report"]

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


def point_labels(result: ExperimentResult) -> dict[int, str]:
    """A short label per sweep point: its swept keys' last parts and values."""
    keys = [c for c in result.points.columns if c != "point"]
    if not keys:
        return {0: "baseline"}
    return {
        int(row["point"]): ", ".join(f"{k.split('.')[-1]}={row[k]}" for k in keys)
        for _, row in result.points.iterrows()
    }


def write_report(result: ExperimentResult) -> None:
    """Render ``index.html`` in the experiment's output folder from its saved results."""
    cfg = result.config
    labels = point_labels(result)
    points = result.points.copy()
    body = [
        f"<h1>{html.escape(cfg.name)}</h1>",
        f"<p>{html.escape(cfg.description)}</p>" if cfg.description else "",
        f'<p class="meta">seed {cfg.seed} · {len(points)} point(s) × {cfg.replications} '
        f"replication(s) · {cfg.scenario.days:g} simulated days each · config sha256 "
        f"{cfg.digest()[:12]}</p>",
    ]
    if len(points.columns) > 1:
        body += ["<h2>Sweep points</h2>", table(points)]
    failed = failures(result.out)
    if failed:
        body += [
            "<h2>Failed runs</h2>",
            "<p>These runs raised; the tables and figures below leave them out.</p>",
            table(pd.DataFrame(failed)),
        ]
    if result.metrics.empty:
        body.append(
            "<h2>No run finished</h2><p>Every run of this experiment failed (see above), so "
            "there is nothing to report. Fix the cause and run the same command again: it "
            "redoes the failed runs.</p>"
        )
    else:
        body += [study.section(result, labels) for study in STUDIES]
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(cfg.name)}"
        f"</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )
    write_atomic(result.out / "index.html", page)
