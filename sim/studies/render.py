"""HTML pieces every report section uses: figures, tables and mean ± 95% CI tables."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from models.evidence import Choice  # noqa: E402
from models.stats import summarize  # noqa: E402

__all__ = ["ci_cells", "ci_table", "figure", "table", "verdict"]


def figure(fig, caption: str) -> str:
    """A matplotlib figure as an embedded PNG with its caption (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def table(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table."""
    return frame.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:,.4g}")


def ci_cells(summary: pd.DataFrame) -> list[str]:
    """``mean ± half-width`` text of each row of a :func:`models.stats.summarize` table."""
    return [
        f"{m:,.4g}" if np.isnan(h) else f"{m:,.4g} ± {h:,.2g}"
        for m, h in zip(summary["mean"], summary["ci"])
    ]


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
    summary["cell"] = ci_cells(summary)
    wide = summary.pivot(index=keys, columns=cols, values="cell")
    if names is not None:
        wide = wide.reindex([k for k, _ in names if k in wide.index])
        wide.index = [dict(names)[k] for k in wide.index]
        wide.index.name = keys[0]
    if col_labels is not None:
        wide.columns = [col_labels[c] for c in wide.columns]
    return wide.reset_index()


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
