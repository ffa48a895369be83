"""The burst-detection policy of the call-control pipeline (system 1 of the seeds).

The carrier's provisioning feed puts every newly assigned number on a watch list
(``models.burst.NewNumberList``); per-number detectors see the outbound calls of listed
numbers only, while detectors that watch every line (bounded-memory sketches) see all.  A
number is flagged at its first alarm; from then on its calls are blocked, or rate-limited
by a token bucket, until the number is assigned to someone new.  Decisions are online,
call by call in time order, so a blaster is stopped inside the slice in which it crosses
the threshold.
"""

from __future__ import annotations

import numpy as np

from models.burst import NewNumberList, TokenBucket
from models.common import HOUR

from ...config.robocalls import Detection
from ...world.calls import CallBatch, PolicyContext

__all__ = ["BurstPolicy"]


class BurstPolicy:
    """New-number list + detector(s) + action, as a pipeline policy.

    Parameters
    ----------
    cfg : Detection
        The ``[detection]`` section: the detectors it runs (``detector`` and ``beside``),
        their alarm rules, the list and the action.
    """

    def __init__(self, cfg: Detection):
        self.cfg = cfg

    def attach(self, context: PolicyContext) -> None:
        """Size the state for the inventory and subscribe to its assignments."""
        cfg = self.cfg
        n = len(context.numbers)
        seed = int(context.rng("detection").integers(2**31))
        self.numbers = context.numbers
        self._flags = context.table("flags")
        self._watchlist = context.table("watchlist")
        self.watch = NewNumberList(cfg.watch_days, cfg.quiet_days).reset(n)
        self.detectors = []
        rules = cfg.rules(seed=seed)
        for name in cfg.running():
            built = [cfg.build(name, rule) for rule in rules]
            self.detectors += built if built[0].per_rule else built[:1]
        for det in self.detectors:
            det.reset(n)
        self.sees_all = any(det.watches_all for det in self.detectors)
        self.flagged_at = np.full(n, np.inf)
        self.limiter = TokenBucket(cfg.limit_per_hour / HOUR, max(cfg.limit_per_hour / 6, 1.0))
        self.limiter.reset(n)
        self._next_purge = cfg.purge_every_hours * HOUR
        context.on_assign(self.assigned)

    def assigned(self, t: float, ids: np.ndarray) -> None:
        """A number given to a new owner is listed afresh and loses any flag."""
        self.watch.add(ids, t)
        self.flagged_at[ids] = np.inf
        self.limiter.forget(ids)
        for det in self.detectors:
            det.forget(ids)
            det.assign(ids, t)

    def screen(self, batch: CallBatch) -> np.ndarray:
        """Block mask for a slice's calls (see the module docstring)."""
        block = np.zeros(len(batch), dtype=bool)
        if len(batch) == 0:
            return block
        self._purge_until(float(batch.t[-1]))
        own = batch.caller_id >= 0
        ids_all = batch.caller_id[own].astype(np.int64)
        listed = self.watch.contains(ids_all)
        seen = listed | self.sees_all
        watched = np.flatnonzero(own)[seen]
        ids, t = batch.caller_id[watched].astype(np.int64), batch.t[watched]
        self.watch.touch(ids[listed[seen]], t[listed[seen]])
        alarm = np.zeros(len(ids), dtype=bool)
        for det in self.detectors:
            alarm |= det.update(t, ids)
        hit = np.flatnonzero(alarm & (t < self.flagged_at[ids]))
        if len(hit):
            first = np.full(len(self.flagged_at), np.inf)
            np.minimum.at(first, ids[hit], t[hit])
            new = np.flatnonzero(np.isfinite(first))
            self.flagged_at[new] = first[new]
            self._flags.append(t=first[new], number=self.numbers[new], number_id=new)
        caller = np.flatnonzero(own)
        cids = batch.caller_id[caller].astype(np.int64)
        flagged = batch.t[caller] >= self.flagged_at[cids]
        if self.cfg.action == "block":
            block[caller[flagged]] = True
        else:
            limited = caller[flagged]
            block[limited] = self.limiter.update(batch.t[limited], batch.caller_id[limited])
        return block

    def _purge_until(self, t: float) -> None:
        while self._next_purge <= t:
            self.watch.purge(self._next_purge)
            self._watchlist.append(
                t=self._next_purge,
                listed=self.watch.size,
                flagged=int(np.isfinite(self.flagged_at).sum()),
            )
            self._next_purge += self.cfg.purge_every_hours * HOUR
