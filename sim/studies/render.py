"""HTML pieces every report section uses: figures, tables and mean ± 95% CI tables, with
values written for people (:func:`.glossary.format_value`) and legends kept off the data."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from models.evidence import Choice  # noqa: E402
from models.stats import summarize  # noqa: E402

from .glossary import describe, format_value  # noqa: E402

__all__ = ["ci_cells", "ci_table", "figure", "metric_table", "table", "verdict"]


def _legends_outside(fig) -> None:
    """Move the axes' legends off the data: one legend (or the same one on every panel)
    goes right of the figure; different legends go below their own panels."""
    legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None]
    if not legends:
        return
    entries = [ax.get_legend_handles_labels() for ax, _ in legends]
    size = legends[0][1].get_texts()[0].get_fontsize() if legends[0][1].get_texts() else 8
    title = legends[0][1].get_title().get_text() or None
    if len(legends) == 1 or all(e[1] == entries[0][1] for e in entries):
        for _, legend in legends:
            legend.remove()
        handles, names = entries[0]
        fig.legend(
            handles, names, loc="upper left", bbox_to_anchor=(1.0, 0.98), fontsize=size,
            title=title, frameon=False,
        )  # fmt: skip
        return
    for (ax, legend), (handles, names) in zip(legends, entries):
        legend.remove()
        ax.legend(
            handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=size,
            frameon=False, ncol=min(len(names), 3),
        )  # fmt: skip


def figure(fig, caption: str) -> str:
    """A matplotlib figure as an embedded PNG with its caption (the figure is closed).

    Legends are moved off the data (:func:`_legends_outside`); the page scales the image
    to its width.
    """
    _legends_outside(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def table(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table (in a box that scrolls sideways if the table is wider
    than the page)."""
    body = frame.to_html(
        index=False, border=0, na_rep="–", float_format=lambda v: format_value(v, "ratio")
    )
    return f'<div class="wide">{body}</div>'


def _unit(key) -> str:
    """The glossary's unit of a metric key ("ratio": a plain number, for other rows)."""
    found = describe(key) if isinstance(key, str) else None
    return found.unit if found is not None else "ratio"


def ci_cells(summary: pd.DataFrame, units: list[str] | None = None) -> list[str]:
    """``mean ± half-width`` text of each row of a :func:`models.stats.summarize` table:
    shares as percentages, no ``± 0`` when every replication agrees, "not observed" for
    NaN (:func:`.glossary.format_value`)."""
    units = units or ["ratio"] * len(summary)
    return [format_value(m, u, h) for m, h, u in zip(summary["mean"], summary["ci"], units)]


def ci_table(
    metrics: pd.DataFrame,
    *,
    rows: str | list[str] = "metric",
    cols: str = "point",
    names: list[tuple[str, str]] | None = None,
    col_labels: dict | None = None,
) -> pd.DataFrame:
    """Mean ± 95% confidence half-width across replications, ``rows`` by ``cols``.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Tidy values (a ``value`` column and the ``rows`` and ``cols`` columns).
    rows, cols : str
        Columns that index the rows and the columns of the table.
    names : list of (key, label), optional
        Which row keys to show, in this order, under these labels (``rows`` a single
        column).
    col_labels : dict, optional
        Column key -> heading.

    Returns
    -------
    pandas.DataFrame
        One row per row key (its label first), one column per column key.
    """
    keys = [rows] if isinstance(rows, str) else list(rows)
    if names is not None:
        metrics = metrics[metrics[keys[0]].isin([k for k, _ in names])]
    summary = summarize(metrics, [cols, *keys])
    summary["cell"] = ci_cells(summary, [_unit(k) for k in summary[keys[0]]])
    wide = summary.pivot(index=keys, columns=cols, values="cell")
    if names is not None:
        wide = wide.reindex([k for k, _ in names if k in wide.index])
        wide.index = [dict(names)[k] for k in wide.index]
        wide.index.name = keys[0]
    if col_labels is not None:
        wide.columns = [col_labels[c] for c in wide.columns]
    return wide.reset_index()


def metric_table(metrics: pd.DataFrame, group: str, col_labels: dict) -> tuple[pd.DataFrame, list]:
    """A study's metrics, labelled and in the glossary's order, mean ± 95% CI per point.

    Parameters
    ----------
    metrics : pandas.DataFrame
        The experiment's tidy metrics (``metric``, ``point``, ``value``).
    group : str
        The glossary group (study) whose metrics to show.
    col_labels : dict
        Point -> heading.

    Returns
    -------
    table : pandas.DataFrame
        One row per metric observed in some run, labelled with its unit.
    unobserved : list of str
        Labels of the metrics not observed in any run (NaN everywhere).
    """
    found = {k: describe(k) for k in metrics["metric"].unique()}
    keys = sorted(
        (k for k, d in found.items() if d is not None and d.group == group),
        key=lambda k: (found[k].order, k),
    )
    m = metrics[metrics["metric"].isin(keys)]
    seen = set(m.loc[m["value"].notna(), "metric"])
    names = [(k, found[k].label) for k in keys if k in seen]
    unobserved = [found[k].label for k in keys if k not in seen]
    if not names:
        return pd.DataFrame(), unobserved
    return ci_table(m, names=names, col_labels=col_labels), unobserved


def verdict(
    choice: Choice, *, what: str, lower_is_better: bool, fmt: str = "{:.3g}", unit: str = ""
) -> str:
    """The sentence a report states about a :func:`models.evidence.best_option` choice.

    It names a winner only when the paired intervals say so; otherwise it says that there is
    no significant difference, and between which options.

    Parameters
    ----------
    choice : Choice
        From :func:`models.evidence.best_option`.
    what : str
        The quantity compared (e.g. ``"mean residential days in aging"``).
    lower_is_better : bool
        Direction of the quantity.
    fmt, unit : str
        How a difference is written.
    """
    if not choice.eligible:
        return "No option is eligible."
    if len(choice.eligible) == 1:
        return f"Only <b>{html.escape(choice.eligible[0])}</b> is eligible."
    leader = choice.tied[0]
    word = "lower" if lower_is_better else "higher"

    def diff(other: str) -> str:
        d = choice.differences[other]
        return f"{d.text(fmt)}{unit} ({d.level:.0%} CI, {d.n} paired replications)"

    beaten = [o for o in choice.eligible if o not in choice.tied]
    if choice.best is not None:
        against = "; ".join(f"against {html.escape(o)}: {diff(o)}" for o in beaten)
        return (
            f"<b>{html.escape(leader)}</b> has the {word} {what}, significantly: "
            f"the paired difference {against}."
        )
    tied = ", ".join(html.escape(o) for o in choice.tied)
    text = (
        f"<b>No significant difference</b> in {what} between {tied}: "
        + "; ".join(
            f"{html.escape(leader)} minus {html.escape(o)} is {diff(o)}" for o in choice.tied[1:]
        )
        + "."
    )
    if beaten:
        text += (
            " "
            + ", ".join(html.escape(o) for o in beaten)
            + f" {'is' if len(beaten) == 1 else 'are'} significantly worse."
        )
    return text
