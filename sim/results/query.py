"""SQL over every run of an experiment folder, with DuckDB reading the Parquet files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .run import TABLES

__all__ = ["query"]


def query(out: str | Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over an experiment folder's tables.

    Each table of ``docs/tables.md`` is a view over all runs' files with two more columns,
    ``point`` and ``replication``; ``metrics`` is the experiment's tidy metrics.

    Examples
    --------
    >>> query("reports/quickstart",                                  # doctest: +SKIP
    ...       "SELECT point, kind, sum(attempts) AS calls FROM daily_calls GROUP BY ALL")
    """
    import duckdb

    out = Path(out)
    con = duckdb.connect()
    for name in TABLES:
        if any(out.glob(f"runs/*/{name}.parquet")):
            pattern = str(out / "runs" / "*" / f"{name}.parquet").replace("'", "''")
            con.execute(
                f"CREATE VIEW {name} AS SELECT * EXCLUDE (filename), "
                r"CAST(regexp_extract(filename, 'p(\d+)-r\d+', 1) AS INTEGER) AS point, "
                r"CAST(regexp_extract(filename, 'p\d+-r(\d+)', 1) AS INTEGER) AS replication "
                f"FROM read_parquet('{pattern}', filename = true, union_by_name = true)"
            )
    if (out / "metrics.parquet").exists():
        path = str(out / "metrics.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW metrics AS SELECT * FROM read_parquet('{path}')")
    return con.execute(sql).df()
