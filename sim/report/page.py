"""The experiment report: one self-contained ``index.html`` with embedded figures.

The page holds a header (what was run, from the experiment's manifest), how to read it, the
sweep points, failed runs, the section of every study the experiment studies
(:meth:`sim.studies.study.Study.studied`) and a glossary of the metrics shown.  Every
figure has a title, axis labels with units and a plain-language caption; every table of
numbers shows means with 95% confidence half-widths across replications.
"""

from __future__ import annotations

import html
import json

import pandas as pd

from ..core.atomic import write_atomic
from ..results.store import ExperimentResult, failures
from ..studies import STUDIES
from ..studies.glossary import format_value, glossary_html, not_observed
from ..studies.render import table

__all__ = ["point_labels", "write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.wide{max-width:100%;overflow-x:auto}
figure{margin:1.2em 0} figcaption{color:#555;font-size:.92em;max-width:900px}
img{max-width:100%;height:auto}
.meta{color:#666;font-size:.9em} .meta code{word-break:break-all}
.empty{color:#666;font-style:italic}
.read{background:#f7f7f4;border-left:3px solid #bbb;padding:.5em 1em}
dl.glossary dt{font-weight:600;margin-top:.5em} dl.glossary dd{margin-left:1.5em}
"""

_HOW_TO_READ = (
    '<p class="read"><b>How to read this report.</b> Each section is one question the '
    "experiment studies. Numbers are means over the replications with their 95% confidence "
    "half-width (<i>mean ± half-width</i>); shares are percentages. A sentence names a "
    "best, an equal or a recommended option only when a paired comparison over the same "
    "simulated worlds (or a stated non-inferiority margin) says so, and it says which; a "
    "count that was zero in every run is given with its exact upper bound. <i>Not "
    "observed</i> means there was nothing to count, never zero. Every metric is defined in "
    'the <a href="#glossary">glossary</a> at the end.</p>'
)


def _header(result: ExperimentResult) -> list[str]:
    """What was run: experiment, description, commit, date, runtime, size, command."""
    cfg = result.config
    path = result.out / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    when = manifest.get("finished") or manifest.get("started") or "not recorded"
    runtime = manifest.get("runtime_s")
    facts = [
        f"{len(result.points)} point(s) × {cfg.replications} replication(s) of "
        f"{format_value(cfg.scenario.days, 'days')} each, seed {cfg.seed}",
        f"commit <code>{html.escape(str(manifest.get('git_commit') or 'unknown')[:12])}</code>",
        f"finished {html.escape(when)}",
        f"runtime {format_value(runtime, 'seconds')}" if runtime is not None else "",
        f"config sha256 <code>{cfg.digest()[:12]}</code>",
    ]
    command = manifest.get("command") or "sim.run_experiment(...) from Python"
    return [
        f"<h1>{html.escape(cfg.name)}</h1>",
        f"<p>{html.escape(cfg.description)}</p>" if cfg.description else "",
        f'<p class="meta">{" · ".join(f for f in facts if f)}</p>',
        f'<p class="meta">command: <code>{html.escape(command)}</code></p>',
        _HOW_TO_READ,
    ]


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
    body = _header(result)
    if len(points.columns) > 1:
        body += ["<h2>Sweep points</h2>", table(points)]
    failed = failures(result.out)
    if failed:
        body += [
            "<h2>Failed runs</h2>",
            "<p>These runs raised; the tables and figures below leave them out.</p>",
            table(pd.DataFrame(failed)),
        ]
    studied = [study for study in STUDIES if study.studied(cfg)]
    if result.metrics.empty:
        body.append(
            "<h2>No run finished</h2><p>Every run of this experiment failed (see above), so "
            "there is nothing to report. Fix the cause and run the same command again: it "
            "redoes the failed runs.</p>"
        )
    elif not studied:
        body.append(not_observed("this experiment studies nothing the report has a section for"))
    else:
        if not cfg.subscribers.populated():
            body.append(not_observed("no subscribers in this scenario, so no world section"))
        body += [study.section(result, labels) for study in studied]
        keys = list(result.metrics["metric"].unique())
        body.append(glossary_html(keys, [study.name for study in studied]))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(cfg.name)}"
        f"</title><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )
    write_atomic(result.out / "index.html", page)
