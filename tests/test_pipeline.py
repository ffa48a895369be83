"""The call-control pipeline: policies plug in, see no ground truth, and act on calls."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.runs.simulate import simulate
from sim.world.calls import CallBatch


class BlockNumbers:
    """A test policy: block every call from a fixed set of numbers; remember what it saw."""

    def __init__(self, numbers):
        self.numbers = np.asarray(numbers)
        self.seen_fields: set[str] = set()
        self.batches = 0
        self.times_sorted = True

    def screen(self, batch: CallBatch) -> np.ndarray:
        self.seen_fields |= {f.name for f in dataclasses.fields(batch)}
        self.batches += 1
        self.times_sorted &= bool(np.all(np.diff(batch.t) >= 0))
        return np.isin(batch.caller, self.numbers)


def test_policy_blocks_only_its_calls_and_leaves_the_rest_unchanged(tiny_config):
    """Blocked calls are not answered; every other call is exactly as in the run without policy."""
    free = simulate(tiny_config, progress=False).calls
    heavy = free[free["kind"] == "call_centre"]["caller"].unique()[:2]
    policy = BlockNumbers(heavy)
    limited = simulate(tiny_config, policies=[policy], progress=False).calls
    hit = limited["caller"].isin(heavy)
    assert hit.sum() > 0
    assert (limited.loc[hit, "outcome"] == "blocked").all()
    assert not limited.loc[hit, "answered"].any()
    assert (limited.loc[hit, "duration"] == 0).all()
    keep = ["t", "caller", "callee", "outcome", "answered", "duration", "kind"]
    assert (
        limited.loc[~hit, keep]
        .reset_index(drop=True)
        .equals(free.loc[~free["caller"].isin(heavy), keep].reset_index(drop=True))
    )


BATCH_FIELDS = {
    "t",
    "caller",
    "callee",
    "caller_id",
    "callee_id",
    "blocked",
    "outcome",
    "answered",
    "duration",
}
"""What the network sees of a call: the whole of what a policy is given per call."""


class Watcher(BlockNumbers):
    """Records everything it is handed: the batches and, once, its context."""

    def attach(self, context) -> None:
        self.context = context
        self.assigned: list[tuple[float, np.ndarray]] = []
        context.on_assign(lambda t, ids: self.assigned.append((t, ids.copy())))


def _objects(obj, depth: int = 0, seen=None):
    """Every object reachable from ``obj``'s attributes (slots included), a few levels."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 3:
        return
    seen.add(id(obj))
    yield obj
    names = [*getattr(obj, "__dict__", {}), *getattr(type(obj), "__slots__", ())]
    for name in names:
        value = getattr(obj, name, None)
        children = value.values() if isinstance(value, dict) else [value]
        for child in children:
            yield from _objects(child, depth + 1, seen)


def test_a_policy_sees_the_allowlist_only(tiny_config):
    """A policy is handed each slice's batch -- the network's fields, in time order -- and
    once a context holding the numbers (read only), the feed of new assignments, its own
    tables and streams of its own: no world, inventory, recorder, truth or world stream."""
    from sim.world.calls import POLICY_TABLES, WORLD_STREAMS
    from sim.world.inventory import Inventory
    from sim.world.recorder import Recorder
    from sim.world.world import World

    policy = Watcher([])
    res = simulate(tiny_config, policies=[policy], progress=False)
    assert policy.batches == int(tiny_config.scenario.days * 24)
    assert policy.times_sorted
    assert policy.seen_fields == BATCH_FIELDS
    ctx = policy.context
    forbidden = (World, Inventory, Recorder)
    assert not [o for o in _objects(ctx) if isinstance(o, forbidden)]
    assert not ctx.numbers.flags.writeable
    with pytest.raises(KeyError):
        ctx.table("calls")  # the truth's table
    assert {name for name in POLICY_TABLES} == {"flags", "watchlist"}
    for name in WORLD_STREAMS:
        with pytest.raises(ValueError):
            ctx.rng(name)
    ctx.rng("my_policy")  # a stream of its own is fine
    new = res.ledger[res.ledger["reason"] == "assign"]
    assert sorted(np.concatenate([ids for _, ids in policy.assigned])) == sorted(new["number_id"])
    assert [t for t, _ in policy.assigned] == sorted(new["t"].unique())


def test_daily_aggregates_match_the_call_table(tiny_config):
    """daily_calls is the per-day, per-kind sum of the calls table."""
    res = simulate(tiny_config, progress=False)
    calls = res.calls.assign(day=(res.calls["t"] // 86400).astype(int))
    agg = calls.groupby(["day", "kind"], observed=True).agg(
        attempts=("t", "size"),
        answered=("answered", "sum"),
        minutes=("duration", lambda d: d.astype(float).sum() / 60),
    )
    daily = res.daily_calls.set_index(["day", "kind"]).loc[agg.index]
    assert (daily["attempts"].to_numpy() == agg["attempts"].to_numpy()).all()
    assert (daily["answered"].to_numpy() == agg["answered"].to_numpy()).all()
    assert np.allclose(daily["minutes"], agg["minutes"], rtol=1e-6)


def test_calls_to_aging_numbers_are_vacant(tiny_config):
    """A call is delivered only to an assigned line; calls to aging or free numbers are vacant."""
    res = simulate(tiny_config, progress=False)
    calls, ledger = res.calls, res.ledger
    on_net = calls[calls["callee_id"] >= 0]
    assert set(on_net["outcome"].unique()) <= {"delivered", "vacant", "off_net"}
    never = set(range(3000)) - set(ledger["number_id"])  # never changed state: still available
    vacant_ids = set(on_net.loc[on_net["outcome"] == "vacant", "callee_id"])
    delivered_ids = set(on_net.loc[on_net["outcome"] == "delivered", "callee_id"])
    assert never & vacant_ids
    assert not never & delivered_ids
