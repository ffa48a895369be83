"""Columnar recording of a run's tables, in memory or streamed to Parquet.

Each table has a fixed schema (:data:`~sim.world.schemas.SCHEMAS`, documented in
``docs/tables.md``).  Rows are
appended as whole NumPy columns; categorical columns hold small integer codes and become
dictionary-encoded strings in Parquet and ``pandas.Categorical`` in DataFrames.

When a run writes to a directory, a table is streamed to ``<name>.parquet.<pid>.part`` one row
group at a time (so memory is bounded by the flush size, not the horizon) and renamed to
``<name>.parquet`` only when the run has finished: an interrupted run never leaves a
truncated table behind and never replaces a finished one.

Row groups are encoded and written on a background thread (Arrow releases the GIL while it
compresses), one at a time per table, while the simulation goes on: a run that keeps its
calls table spends a third of its time there.  A table waits for its previous row group
before handing over the next, so at most two are in memory; an error of the writer is
raised by the next flush or by ``finish``.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.columns import batch_rows
from .schemas import SCHEMAS, Column

__all__ = ["Recorder", "Table"]


_WRITERS: dict[int, ThreadPoolExecutor] = {}


def _writer() -> ThreadPoolExecutor:
    """The thread that encodes and writes row groups, in the order they are handed over:
    one per process (a forked child starts its own; the parent's thread is not in it)."""
    pid = os.getpid()
    if pid not in _WRITERS:
        _WRITERS[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tnlab-parquet")
    return _WRITERS[pid]


def _arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    fields = []
    for col in columns:
        if col.categories is None:
            fields.append(pa.field(col.name, pa.from_numpy_dtype(np.dtype(col.dtype))))
        else:
            fields.append(pa.field(col.name, pa.dictionary(pa.int8(), pa.string())))
    return pa.schema(fields)


class Table:
    """A columnar buffer with a fixed schema, optionally streamed to a Parquet file.

    Parameters
    ----------
    name : str
        Table name; its schema is ``SCHEMAS[name]``.
    path : pathlib.Path or None
        Final Parquet path, or None to keep every row in memory.
    flush_rows : int
        Rows buffered before a row group is written (when ``path`` is set).
    """

    def __init__(self, name: str, path: Path | None = None, flush_rows: int = 1_000_000):
        self.name = name
        self.columns = SCHEMAS[name]
        self.path = path
        self.flush_rows = flush_rows
        self.rows = 0
        self._chunks: dict[str, list[np.ndarray]] = {c.name: [] for c in self.columns}
        self._buffered = 0
        self._schema = _arrow_schema(self.columns)
        self._categorical = [c.name for c in self.columns if c.categories is not None]
        self._writer: pq.ParquetWriter | None = None
        self._pending: Future | None = None  # the row group being written

    @property
    def _part(self) -> Path:
        return self.path.with_name(f"{self.path.name}.{os.getpid()}.part")

    def append(self, **values) -> None:
        """Append rows given as equal-length arrays (scalars are broadcast).

        Every column of the schema must be given.
        """
        n = batch_rows(values.values())
        if values.keys() != self._chunks.keys():
            missing = set(self._chunks) ^ set(values)
            raise KeyError(f"{self.name}: columns mismatch {sorted(missing)}")
        if n == 0:
            return
        for col in self.columns:
            arr = np.array(values[col.name], dtype=col.dtype)  # a copy: callers reuse buffers
            self._chunks[col.name].append(np.full(n, arr) if arr.ndim == 0 else arr)
        self.rows += n
        self._buffered += n
        if self.path is not None and self._buffered >= self.flush_rows:
            self._flush()

    def _arrow(self) -> pa.Table:
        arrays = []
        for col in self.columns:
            chunks = self._chunks[col.name]
            data = np.concatenate(chunks) if chunks else np.empty(0, dtype=col.dtype)
            if col.categories is None:
                arrays.append(pa.array(data))
            else:
                arrays.append(
                    pa.DictionaryArray.from_arrays(
                        pa.array(data, type=pa.int8()), pa.array(col.categories)
                    )
                )
        return pa.Table.from_arrays(arrays, schema=self._schema)

    def _flush(self) -> None:
        self._wait()
        with self._naming_errors():
            if self._writer is None:
                # dictionary pages only for the categorical columns: on ids, times and
                # durations Arrow's default tried a dictionary per column and fell back,
                # which made writing 2.5x slower and the file larger (docs/tables.md)
                self._writer = pq.ParquetWriter(
                    self._part, self._schema, use_dictionary=self._categorical
                )
        self._pending = _writer().submit(self._writer.write_table, self._arrow())
        for chunks in self._chunks.values():
            chunks.clear()
        self._buffered = 0

    def _wait(self) -> None:
        """Wait for the row group being written; raise its error, naming the file.  An
        interrupt while waiting leaves it pending (``abandon`` then waits for it)."""
        pending = self._pending
        if pending is None:
            return
        try:
            with self._naming_errors():
                pending.result()
        finally:
            if pending.done():
                self._pending = None

    @contextmanager
    def _naming_errors(self):
        try:
            yield
        except OSError as err:  # Arrow's errors name no file: say which one failed
            raise OSError(
                err.errno, os.strerror(err.errno) if err.errno else str(err), str(self.path)
            ) from err

    def to_frame(self) -> pd.DataFrame:
        """The in-memory rows as a DataFrame (categorical columns as ``Categorical``)."""
        if self.path is not None:
            raise ValueError(f"{self.name} is streamed to {self.path}; read the Parquet file")
        # straight from the chunks: through Arrow it was two conversions more (a tenth of the
        # DNI market's bench, end to end); the frames are identical
        data = {}
        for col in self.columns:
            chunks = self._chunks[col.name]
            arr = np.concatenate(chunks) if chunks else np.empty(0, dtype=col.dtype)
            data[col.name] = (
                arr if col.categories is None else pd.Categorical.from_codes(arr, col.categories)
            )
        # the arrays are this call's own: a frame of one block per column skips pandas'
        # consolidation, a copy of the whole table (0.07 s of a 0.5 s platform week)
        return pd.DataFrame(data, copy=False)

    def finish(self) -> None:
        """Write what is left and rename the finished file into place."""
        if self.path is None:
            return
        if self._buffered or self._writer is None:
            self._flush()
        self._wait()
        with self._naming_errors():
            self._writer.close()
        os.replace(self._part, self.path)

    def abandon(self) -> None:
        """Drop a partly written file, leaving any earlier finished table untouched.

        Called after a failure or an interrupt: first every row group handed to the writer
        thread is let finish (a no-op queued behind them is waited for, since the interrupt
        may have come between handing one over and keeping its future), then the file is
        closed and removed; an error closing it (after a failed write) is not the run's and
        is dropped with the file.
        """
        if self._writer is not None:
            wait([_writer().submit(int)])
            self._pending = None
            with suppress(Exception):
                self._writer.close()
            self._writer = None
        if self.path is not None and self._part.exists():
            self._part.unlink()


class Recorder:
    """The tables of one run.

    Parameters
    ----------
    out : str or pathlib.Path or None
        Directory for the Parquet files, or None to keep tables in memory.
    tables : iterable of str
        Which tables to record (names in :data:`SCHEMAS`).
    """

    def __init__(self, out: str | Path | None, tables):
        self.out = None if out is None else Path(out)
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
        self.tables = {
            name: Table(name, None if self.out is None else self.out / f"{name}.parquet")
            for name in tables
        }

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def finish(self) -> None:
        """Finish every table (atomic rename when writing to disk).

        A table that an earlier run left in the folder but this run did not record (say
        ``calls`` when ``record.calls`` is now false) is removed, so the folder holds one run.
        """
        for table in self.tables.values():
            table.finish()
        if self.out is not None:
            for name in set(SCHEMAS) - set(self.tables):
                (self.out / f"{name}.parquet").unlink(missing_ok=True)

    def abandon(self) -> None:
        """Remove partial files after a failed or interrupted run."""
        for table in self.tables.values():
            table.abandon()

    def frames(self) -> dict[str, pd.DataFrame]:
        """All tables as DataFrames (in-memory recorders only)."""
        return {name: table.to_frame() for name, table in self.tables.items()}
