"""Tests of the columnar recorder (sim/recorder.py) and atomic writes (sim/atomic.py)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.atomic import write_atomic
from sim.world.recorder import Table
from sim.world.schemas import SCHEMAS


def make_values(name: str, n: int, rng: np.random.Generator, scalars=()) -> dict:
    """Random values for every column of ``SCHEMAS[name]`` (some given as scalars)."""
    out = {}
    for col in SCHEMAS[name]:
        dtype = np.dtype(col.dtype)
        if col.categories is not None:
            v = rng.integers(0, len(col.categories), max(n, 1))
        elif dtype == np.bool_:
            v = rng.random(max(n, 1)) < 0.5
        elif dtype.kind == "f":
            v = rng.normal(0, 1e4, max(n, 1))
        else:
            v = rng.integers(-1000, 10**9, max(n, 1))
        out[col.name] = v[0].item() if col.name in scalars else v[:n].astype(dtype)
    return out


def expected_frame(name: str, appends: list[dict]) -> pd.DataFrame:
    """The rows the appends stand for, built without the Table."""
    cols = {}
    sizes = [max((np.size(v) for v in a.values() if np.ndim(v) > 0), default=1) for a in appends]
    for col in SCHEMAS[name]:
        parts = [
            np.full(n, a[col.name], dtype=col.dtype)
            if np.ndim(a[col.name]) == 0
            else np.asarray(a[col.name], dtype=col.dtype)
            for a, n in zip(appends, sizes)
        ]
        data = np.concatenate(parts) if parts else np.empty(0, dtype=col.dtype)
        if col.categories is not None:
            data = pd.Categorical.from_codes(data, categories=list(col.categories))
        cols[col.name] = data
    return pd.DataFrame(cols)


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for name in want.columns:
        g, w = got[name], want[name]
        if isinstance(w.dtype, pd.CategoricalDtype):
            assert isinstance(g.dtype, pd.CategoricalDtype), name
            assert list(g.cat.categories) == list(w.cat.categories), name
            np.testing.assert_array_equal(g.cat.codes.to_numpy(), w.cat.codes.to_numpy())
        else:
            assert g.dtype == w.dtype, name
            np.testing.assert_array_equal(g.to_numpy(), w.to_numpy(), err_msg=name)


def row_groups(sizes, flush_rows: int) -> int:
    """Row groups the flush rule writes for appends of these sizes."""
    groups, buffered = 0, 0
    for n in sizes:
        if n == 0:
            continue
        buffered += n
        if buffered >= flush_rows:
            groups, buffered = groups + 1, 0
    return groups + (1 if buffered or groups == 0 else 0)


@st.composite
def appends(draw):
    name = draw(st.sampled_from(["ledger", "calls"]), label="table")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    col_names = [c.name for c in SCHEMAS[name]]
    rng = np.random.default_rng(seed)
    out = []
    for n in draw(st.lists(st.integers(0, 12), max_size=12), label="sizes"):
        scalars = draw(st.sets(st.sampled_from(col_names)), label="scalars")
        if n != 1 and len(scalars) == len(col_names):
            scalars = set(col_names[1:])  # all-scalar appends are one row
        out.append(make_values(name, n, rng, scalars))
    return name, out


@settings(max_examples=40, deadline=None)
@given(case=appends(), flush_rows=st.integers(1, 10))
def test_streamed_table_equals_in_memory_table(case, flush_rows):
    """A Parquet-streamed table holds exactly the rows of an in-memory one fed the same appends."""
    name, values = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{name}.parquet"
        disk, mem = Table(name, path, flush_rows=flush_rows), Table(name)
        sizes = []
        for v in values:
            disk.append(**v)
            mem.append(**v)
            sizes.append(max((np.size(x) for x in v.values() if np.ndim(x) > 0), default=1))
            assert not path.exists(), "final file written before finish()"
        assert disk.rows == mem.rows == sum(sizes)
        disk.finish()
        assert path.exists()
        assert not Path(f"{path}.{os.getpid()}.part").exists()
        assert sorted(os.listdir(d)) == [path.name]
        got = pd.read_parquet(path)
        assert pq.ParquetFile(path).num_row_groups == row_groups(sizes, flush_rows)
    want = mem.to_frame()
    assert_same_rows(want, expected_frame(name, values))
    if len(want):
        assert_same_rows(got, want)
    else:  # an empty Parquet file stores no dictionary (sim/runner.py restores categories)
        assert list(got.columns) == list(want.columns) and len(got) == 0


def test_several_row_groups_and_part_file():
    """With a small flush size, rows go to <name>.parquet.<pid>.part first, in several row
    groups."""
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.parquet"
        part = Path(d) / f"ledger.parquet.{os.getpid()}.part"
        table = Table("ledger", path, flush_rows=4)
        table.append(**make_values("ledger", 3, rng))
        assert os.listdir(d) == []  # nothing flushed yet
        table.append(**make_values("ledger", 3, rng))
        assert os.listdir(d) == [part.name]
        for _ in range(3):
            table.append(**make_values("ledger", 5, rng))
        assert os.listdir(d) == [part.name]
        table.finish()
        assert os.listdir(d) == [path.name]
        f = pq.ParquetFile(path)
        assert f.num_row_groups == 4
        assert f.metadata.num_rows == 21


def test_row_groups_are_written_while_the_run_goes_on(monkeypatch):
    """A flush hands its row group to the writer thread and returns: the run appends on
    while the write is held up; ``finish`` waits for it and the file has every row in
    order."""
    rng = np.random.default_rng(6)
    release, started = threading.Event(), threading.Event()
    write = pq.ParquetWriter.write_table

    def held(writer, table, *args, **kwargs):
        started.set()
        assert release.wait(30)
        return write(writer, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", held)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.parquet"
        table = Table("ledger", path, flush_rows=4)
        parts = [make_values("ledger", 5, rng)]
        table.append(**parts[0])  # a row group handed over, its write held up
        assert started.wait(30)
        parts.append(make_values("ledger", 3, rng))
        table.append(**parts[1])  # the run goes on meanwhile
        assert not path.exists()
        release.set()
        table.finish()
        assert_same_rows(pd.read_parquet(path), expected_frame("ledger", parts))
        assert pq.ParquetFile(path).num_row_groups == 2


def test_an_interrupt_while_a_row_group_is_written_abandons_after_it(monkeypatch):
    """Ctrl-C or SIGTERM during ``finish``'s wait for the writer thread: ``abandon`` lets
    the row group in flight finish before it closes and removes the file (closing a writer
    in use had crashed the process or masked the interrupt with Arrow's error)."""
    rng = np.random.default_rng(8)
    release, written = threading.Event(), threading.Event()
    write, result = pq.ParquetWriter.write_table, Future.result

    def held(writer, table, *args, **kwargs):
        assert release.wait(30)
        write(writer, table, *args, **kwargs)
        written.set()

    def interrupted(self, timeout=None):
        monkeypatch.setattr(Future, "result", result)
        raise KeyboardInterrupt  # the signal's exception, raised in the waiting thread

    monkeypatch.setattr(pq.ParquetWriter, "write_table", held)
    with tempfile.TemporaryDirectory() as d:
        table = Table("ledger", Path(d) / "ledger.parquet", flush_rows=4)
        table.append(**make_values("ledger", 5, rng))
        monkeypatch.setattr(Future, "result", interrupted)
        with pytest.raises(KeyboardInterrupt):
            table.finish()
        assert not written.is_set()
        threading.Timer(0.2, release.set).start()
        table.abandon()
        assert written.is_set()  # abandon returned only after the write
        assert os.listdir(d) == []


@pytest.mark.parametrize("failing", [1, 2], ids=["first-row-group", "second-row-group"])
def test_a_failed_background_write_is_raised_naming_the_file(monkeypatch, failing):
    """The writer thread's error (a full disk) comes out of the next flush or ``finish`` as
    an OSError naming the table's file; abandoning then leaves nothing behind."""
    rng = np.random.default_rng(7)
    write = pq.ParquetWriter.write_table
    calls = []

    def full(writer, table, *args, **kwargs):
        calls.append(1)
        if len(calls) == failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(writer, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.parquet"
        table = Table("ledger", path, flush_rows=2)
        with pytest.raises(OSError, match="No space left") as err:
            for _ in range(3):
                table.append(**make_values("ledger", 2, rng))
            table.finish()
        assert err.value.filename == str(path) and err.value.errno == errno.ENOSPC
        table.abandon()
        assert os.listdir(d) == []


def test_finish_with_no_rows_writes_an_empty_table():
    """A table that received nothing still finishes into a readable file with its schema."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "exhaustion.parquet"
        table = Table("exhaustion", path, flush_rows=3)
        table.finish()
        df = pd.read_parquet(path)
    assert list(df.columns) == [c.name for c in SCHEMAS["exhaustion"]]
    assert len(df) == 0
    assert isinstance(df["type"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize("rows_before_abandon", [2, 9], ids=["buffered-only", "flushed"])
def test_abandon_keeps_earlier_finished_file(rows_before_abandon):
    """abandon() removes the partial file and leaves an earlier finished table byte-identical."""
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.parquet"
        first = Table("ledger", path, flush_rows=4)
        first.append(**make_values("ledger", 6, rng))
        first.finish()
        before = path.read_bytes()
        second = Table("ledger", path, flush_rows=4)
        second.append(**make_values("ledger", rows_before_abandon, rng))
        assert path.read_bytes() == before  # not replaced while running
        assert Path(d, f"ledger.parquet.{os.getpid()}.part").exists() == (rows_before_abandon >= 4)
        second.abandon()
        assert sorted(os.listdir(d)) == [path.name]
        assert path.read_bytes() == before


def test_abandon_without_earlier_file_leaves_nothing():
    """abandon() of a first run leaves the folder empty."""
    rng = np.random.default_rng(12)
    with tempfile.TemporaryDirectory() as d:
        table = Table("ledger", Path(d) / "ledger.parquet", flush_rows=2)
        table.append(**make_values("ledger", 5, rng))
        table.abandon()
        assert os.listdir(d) == []


def test_finish_replaces_an_earlier_file():
    """A finished run replaces the table of an earlier run at the same path."""
    rng = np.random.default_rng(13)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ledger.parquet"
        for n in (6, 3):
            table = Table("ledger", path, flush_rows=2)
            values = make_values("ledger", n, rng)
            table.append(**values)
            table.finish()
        assert_same_rows(pd.read_parquet(path), expected_frame("ledger", [values]))


@pytest.mark.parametrize("drop", [c.name for c in SCHEMAS["ledger"]])
def test_append_with_a_missing_column_raises(drop):
    """Leaving out any column raises KeyError and records nothing."""
    values = make_values("ledger", 3, np.random.default_rng(1))
    del values[drop]
    table = Table("ledger")
    with pytest.raises(KeyError):
        table.append(**values)
    assert table.rows == 0
    assert len(table.to_frame()) == 0


def test_append_with_an_unknown_column_raises():
    """An extra column not in the schema raises KeyError and records nothing."""
    values = make_values("ledger", 3, np.random.default_rng(1))
    table = Table("ledger")
    with pytest.raises(KeyError):
        table.append(**values, colour=np.zeros(3))
    assert table.rows == 0


@pytest.mark.parametrize("one_code", [False, True], ids=["random-codes", "one-code"])
@pytest.mark.parametrize(
    "name", [n for n, cols in SCHEMAS.items() if any(c.categories for c in cols)]
)
def test_categorical_columns_have_the_schema_categories(name, one_code):
    """Categorical columns come back as Categorical with all schema categories, memory and disk."""
    values = make_values(name, 4, np.random.default_rng(2))
    for col in SCHEMAS[name]:
        if col.categories is not None and one_code:  # unused categories must survive too
            values[col.name] = np.full(4, len(col.categories) - 1, dtype=col.dtype)
    mem = Table(name)
    mem.append(**values)
    with tempfile.TemporaryDirectory() as d:
        disk = Table(name, Path(d) / f"{name}.parquet", flush_rows=2)
        disk.append(**values)
        disk.finish()
        on_disk = pd.read_parquet(Path(d) / f"{name}.parquet")
    for df in (mem.to_frame(), on_disk):
        for col in SCHEMAS[name]:
            if col.categories is None:
                continue
            assert isinstance(df[col.name].dtype, pd.CategoricalDtype)
            assert list(df[col.name].cat.categories) == list(col.categories)
            np.testing.assert_array_equal(df[col.name].cat.codes.to_numpy(), values[col.name])
            np.testing.assert_array_equal(
                df[col.name].astype(str).to_numpy(), np.array(col.categories)[values[col.name]]
            )


@pytest.mark.parametrize("path", [False, True], ids=["in-memory", "streamed"])
def test_appended_arrays_are_copied(path):
    """Mutating an array after appending it does not change the recorded rows."""
    rng = np.random.default_rng(3)
    values = make_values("ledger", 5, rng)
    kept = {k: np.copy(v) for k, v in values.items()}
    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / "ledger.parquet" if path else None
        table = Table("ledger", target, flush_rows=1000)
        table.append(**values)
        for v in values.values():
            v[...] = v[::-1]  # overwrite in place
            v[0] = v[1]
        if path:
            table.finish()
            got = pd.read_parquet(target)
        else:
            got = table.to_frame()
    assert_same_rows(got, expected_frame("ledger", [kept]))


def test_scalars_are_broadcast():
    """A scalar value fills its column for every row of the append."""
    values = make_values("ledger", 4, np.random.default_rng(4), scalars={"t", "reason"})
    table = Table("ledger")
    table.append(**values)
    df = table.to_frame()
    assert len(df) == 4
    assert (df["t"] == values["t"]).all()
    assert (df["reason"].cat.codes == values["reason"]).all()


# -- sim/atomic.py -------------------------------------------------------------------------------
def test_write_atomic_writes_text_and_bytes(tmp_path):
    """Text is written as UTF-8 and bytes as they are, with mode 0644."""
    write_atomic(tmp_path / "a.txt", "héllo\n")
    assert (tmp_path / "a.txt").read_bytes() == "héllo\n".encode()
    write_atomic(str(tmp_path / "b.bin"), b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_write_atomic_replaces_an_existing_file(tmp_path):
    """Writing over a file replaces its whole content and leaves no temporary file."""
    target = tmp_path / "report.md"
    target.write_text("old content that is longer than the new one\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    write_atomic(target, b"")
    assert target.read_bytes() == b""
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path):
    """A write that fails leaves the old file untouched and no temporary file behind."""
    target = tmp_path / "data.json"
    target.write_text("{}")
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # neither str nor bytes
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


@settings(max_examples=30, deadline=None)
@given(
    contents=st.lists(
        st.one_of(st.text(max_size=200), st.binary(max_size=200)), min_size=1, max_size=4
    )
)
def test_write_atomic_last_write_wins(contents):
    """After several writes the file holds the last content, and nothing else is in the folder."""
    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / "out.txt"
        for c in contents:
            write_atomic(target, c)
        last = contents[-1]
        assert target.read_bytes() == (last.encode() if isinstance(last, str) else last)
        assert os.listdir(d) == ["out.txt"]
