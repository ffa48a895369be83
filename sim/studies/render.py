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

from models.stats import summarize  # noqa: E402

__all__ = ["ci_cells", "ci_table", "figure", "table"]


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
