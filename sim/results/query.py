"""SQL over every run of an experiment folder, with DuckDB reading the Parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .run import TABLES

__all__ = ["query"]


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over an experiment folder's tables.

    Each table of ``docs/tables.md`` is a view over all runs' files with more columns:
    ``point``, ``replication`` and the point's swept keys (named by their dotted paths,
    quoted in SQL: ``"scenario.days"``); ``points`` lists the sweep's points; ``metrics`` is
    the experiment's tidy metrics.

    Examples
    --------
    >>> query("reports/quickstart",                                  # doctest: +SKIP
    ...       "SELECT point, kind, sum(attempts) AS calls FROM daily_calls GROUP BY ALL")
    """
    import duckdb

    out = Path(out)
    con = duckdb.connect()
    points = _points(out)
    con.register("points", points)
    swept = "".join(f', points."{c}"' for c in points.columns if c != "point")
    for name in TABLES:
        if any(out.glob(f"runs/*/{name}.parquet")):
            pattern = str(out / "runs" / "*" / f"{name}.parquet").replace("'", "''")
            con.execute(
                f"CREATE VIEW {name} AS SELECT t.*{swept} FROM (SELECT * EXCLUDE (filename), "
                r"CAST(regexp_extract(filename, 'p(\d+)-r\d+', 1) AS INTEGER) AS point, "
                r"CAST(regexp_extract(filename, 'p\d+-r(\d+)', 1) AS INTEGER) AS replication "
                f"FROM read_parquet('{pattern}', filename = true, union_by_name = true)) t "
                "LEFT JOIN points USING (point)"
            )
    if (out / "metrics.parquet").exists():
        path = str(out / "metrics.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW metrics AS SELECT * FROM read_parquet('{path}')")
    return con.execute(sql).df()


def _points(out: Path) -> pd.DataFrame:
    """The folder's sweep points (``point`` and the swept values) from its resolved config."""
    from ..config import load_config
    from .store import point_table

    resolved = out / "config.resolved.toml"
    if not resolved.exists():
        return pd.DataFrame({"point": pd.Series([], dtype="int64")})
    points = point_table(load_config(resolved))
    for column in points.columns:  # arrays and tables of a swept key: as their JSON text
        if any(isinstance(v, (list, tuple, dict)) for v in points[column]):
            points[column] = points[column].map(json.dumps)
    return points
