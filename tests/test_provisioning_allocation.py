"""The allocation pool's rules, NANP blocks, and the retry hint of an exhausted pool."""

from __future__ import annotations

import pytest

from models.common import DAY
from models.provisioning import (
    NumberPool,
    PoolExhausted,
    check_aging_days,
    e164,
    number_block,
    retry_after_seconds,
)

BLOCK = number_block("2124561000", 5)


def test_block_and_spelling():
    assert BLOCK == tuple(f"+1212456100{i}" for i in range(5))
    assert e164("+1 (212) 456-1000") == "+12124561000"
    for bad in (
        "212-555-0100",
        "212-911-1000",
        "212-156-1000",
        "800-456-1000",
        "12345",
        "+44 20 7946 0000",
        "x" * 40,
    ):
        with pytest.raises(ValueError):
            e164(bad)
    with pytest.raises(ValueError, match="leaves the exchange"):
        number_block("2124569999", 2)
    for count in (0, 10_001, True, 2.0):
        with pytest.raises(ValueError):
            number_block("2124561000", count)


def test_static_numbers_are_never_allocated_and_order_is_lowest_first():
    pool = NumberPool(BLOCK, static=[BLOCK[0], BLOCK[2]], aging_days=90)
    got = [pool.allocate(d, 0.0)[0] for d in "abc"]
    assert got == [BLOCK[1], BLOCK[3], BLOCK[4]]
    with pytest.raises(PoolExhausted) as info:
        pool.allocate("d", 0.0)
    assert info.value.next_available is None


def test_idempotent_per_device():
    pool = NumberPool(BLOCK, aging_days=45)
    assert pool.allocate("a", 0.0) == (BLOCK[0], True)
    assert pool.allocate("a", 10.0) == (BLOCK[0], False)
    assert pool.number_of("a") == BLOCK[0] and pool.holder(BLOCK[0]) == "a"


def test_released_numbers_rest_before_reuse_then_come_back_oldest_first():
    pool = NumberPool(BLOCK[:2], aging_days=45)
    pool.allocate("a", 0.0)
    pool.allocate("b", 0.0)
    assert pool.release("b", 100.0) == BLOCK[1]
    assert pool.release("a", 200.0) == BLOCK[0]
    assert pool.release("a", 300.0) is None
    assert (pool.available(200.0), pool.aging(200.0)) == (0, 2)
    with pytest.raises(PoolExhausted) as info:
        pool.allocate("c", 100.0 + 45 * DAY - 1)
    assert info.value.next_available == 100.0 + 45 * DAY
    assert pool.allocate("c", 100.0 + 45 * DAY) == (BLOCK[1], True)  # aged the longest
    assert pool.allocate("d", 200.0 + 45 * DAY) == (BLOCK[0], True)


def test_transfer_keeps_the_number_with_the_user():
    pool = NumberPool(BLOCK, aging_days=90)
    pool.allocate("old", 0.0)
    assert pool.transfer("old", "new") == BLOCK[0]
    assert pool.number_of("old") is None and pool.holder(BLOCK[0]) == "new"
    assert pool.allocate("new", 1.0) == (BLOCK[0], False)
    pool.allocate("x", 0.0)
    with pytest.raises(ValueError):
        pool.transfer("new", "x")
    assert pool.transfer("nobody", "y") is None


def test_aging_bounds_and_retry_after():
    assert check_aging_days(45) == 45.0 and check_aging_days(365.0) == 365.0
    for bad in (44.9, 365.5, float("nan"), float("inf"), True, "90"):
        with pytest.raises(ValueError):
            check_aging_days(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            NumberPool(BLOCK, aging_days=bad)  # type: ignore[arg-type]
    assert retry_after_seconds(None, 0.0) == 3600
    assert retry_after_seconds(10.2, 0.0) == 11
    assert retry_after_seconds(0.0, 5.0) == 1
    assert retry_after_seconds(1e9, 0.0, cap=60) == 60
