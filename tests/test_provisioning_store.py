"""The SQLite store follows the pure pool's rules (the same random operations on both), keeps
its invariants under constraints, undoes a failed request alone, and can be opened by a
second process's connection on the same file."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.common import DAY
from models.provisioning import NumberPool, PhoneConfig, PoolExhausted, number_block
from services.provisioning.store import Store

BLOCK = number_block("2124561000", 6)
DEVICES = [f"0004f2{i:06x}" for i in range(8)]

ops = st.lists(
    st.tuples(
        st.sampled_from(["allocate", "release", "transfer"]),
        st.integers(0, 7),
        st.integers(0, 7),
        st.floats(0, 100 * DAY),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_store_and_pure_pool_agree(sequence):
    pool = NumberPool(BLOCK, static=[BLOCK[2]], aging_days=45)
    store = Store(":memory:", realm="r")
    store.set_aging_days(45)
    store.add_numbers(BLOCK, static=[BLOCK[2]])
    store.add_devices([(d, "secret-xx", None) for d in DEVICES], 0.0)
    now = 0.0
    for op, a, b, dt in sequence:
        now += dt / 10
        da, db = DEVICES[a], DEVICES[b]
        if op == "allocate":
            try:
                want = pool.allocate(da, now)
            except PoolExhausted as e:
                with pytest.raises(PoolExhausted) as got:
                    store.allocate(da, now)
                assert got.value.next_available == e.next_available
                continue
            assert store.allocate(da, now) == want
        elif op == "release":
            assert store.release(da, now) == ([n] if (n := pool.release(da, now)) else [])
        elif da != db and pool.number_of(db) is None:
            assert store.transfer(da, db) == ([n] if (n := pool.transfer(da, db)) else [])
        assert {r["number"]: r["holder"] for r in store.numbers() if r["kind"] == "pool"} == {
            n: pool.holder(n) for n in BLOCK if n != BLOCK[2]
        }
    store.commit()


def test_constraints_hold_against_a_bug(tmp_path):
    store = Store(str(tmp_path / "p.db"), realm="r")
    store.add_numbers(BLOCK)
    store.add_devices([(DEVICES[0], "secret-xx", None)], 0.0)
    store.allocate(DEVICES[0], 0.0)
    with pytest.raises(sqlite3.IntegrityError):  # a second pool number for one device
        store.db.execute("UPDATE numbers SET holder = ? WHERE number = ?", (DEVICES[0], BLOCK[3]))
    with pytest.raises(sqlite3.IntegrityError):  # a holder that does not exist
        store.db.execute("UPDATE numbers SET holder = 'ffffffffffff' WHERE number = ?", (BLOCK[4],))
    store.commit()
    with pytest.raises(ValueError, match="realm"):
        Store(str(tmp_path / "p.db"), realm="other")


def test_a_failed_request_is_undone_alone(tmp_path):
    store = Store(str(tmp_path / "p.db"), realm="r")
    store.add_numbers(BLOCK)
    store.add_devices([(d, "secret-xx", None) for d in DEVICES[:3]], 0.0)
    store.commit()
    with store.atomic():
        store.allocate(DEVICES[0], 1.0)
    with pytest.raises(RuntimeError), store.atomic():
        store.allocate(DEVICES[1], 1.0)
        raise RuntimeError
    store.commit()
    assert [r["holder"] for r in store.numbers()][:2] == [DEVICES[0], None]


def test_a_second_connection_reads_committed_data_and_writes(tmp_path):
    path = str(tmp_path / "p.db")
    one = Store(path, realm="r")
    one.add_numbers(BLOCK)
    one.add_devices([(DEVICES[0], "secret-xx", "alice")], 0.0)
    one.allocate(DEVICES[0], 1.0)
    other = Store(path, realm="r")
    assert other.holder(BLOCK[0]) is None  # not committed yet
    one.set_config(DEVICES[0], PhoneConfig(numbers=(BLOCK[0],)), 1.0)
    one.commit()
    assert other.holder(BLOCK[0]) == DEVICES[0]
    d = other.device(DEVICES[0])
    assert (d.user, d.state, d.config.numbers) == ("alice", "active", (BLOCK[0],))
    other.set_config(DEVICES[0], PhoneConfig(numbers=(BLOCK[0],), dnd=True), 2.0)
    other.commit()
    assert one.device(DEVICES[0]).config.dnd
    assert one.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
