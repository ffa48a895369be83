"""The burst-detection policy of the call-control pipeline (system 1 of the seeds).

The carrier's provisioning feed puts every newly assigned number on a watch list
(``models.burst.NewNumberList``); per-number detectors see the outbound calls of listed
numbers only, while the Count-Min sketch watches every line of the network.  A number is
flagged at its first alarm; from then on its calls are blocked, or rate-limited by a token
bucket, until the number is assigned to someone new.  Decisions are online, call by call
in time order, so a blaster is stopped inside the slice in which it crosses the threshold.
"""

from __future__ import annotations

import numpy as np

from models.burst import (
    EWMA,
    CohortDetector,
    CountMinWindow,
    FixedWindow,
    NewNumberList,
    PoissonCUSUM,
    SlidingWindow,
    TokenBucket,
)

from .config import Detection
from .inventory import Inventory
from .pipeline import CallBatch
from .recorder import Recorder

__all__ = ["BurstPolicy", "make_detector"]


def make_detector(cfg: Detection, seed: int = 0):
    """The detector named by ``cfg.detector`` with the config's parameters.

    ``threshold`` calls per ``window_seconds`` sets every detector's alarm level: the count
    of the window rules, the bucket (rate ``threshold / window``, depth ``threshold``), the
    EWMA's rate with ``tau = window``, and the CUSUM's post-change rate.
    """
    rate = cfg.threshold / cfg.window_seconds
    match cfg.detector:
        case "fixed_window":
            return FixedWindow(int(cfg.threshold), cfg.window_seconds)
        case "sliding_window":
            return SlidingWindow(int(cfg.threshold), cfg.window_seconds)
        case "token_bucket":
            return TokenBucket(rate, cfg.threshold)
        case "ewma":
            return EWMA(cfg.window_seconds, rate)
        case "cusum":
            return PoissonCUSUM(cfg.baseline_per_day / 86400.0, rate, cfg.cusum_h)
        case "count_min":
            return CountMinWindow(int(cfg.threshold), cfg.window_seconds, cfg.sketch_width,
                                  cfg.sketch_depth, seed)
        case "cohort":
            return make_cohort(cfg)
    raise ValueError(f"detector {cfg.detector!r} has no implementation")


def make_cohort(cfg: Detection) -> CohortDetector:
    """The cohort detector with the config's ``cohort_*`` parameters."""
    return CohortDetector(cfg.cohort_seconds, cfg.cohort_window_seconds, cfg.cohort_threshold,
                          cfg.cohort_min_members, cfg.cohort_max_member_calls)


class BurstPolicy:
    """New-number list + detector(s) + action, as a pipeline policy.

    Parameters
    ----------
    cfg : Detection
        The ``[detection]`` section.
    inventory : Inventory
        Its assignments feed the list (the policy subscribes to ``inventory.listeners``).
    recorder : Recorder
        Receives the ``flags`` and ``watchlist`` tables.
    seed : int
        Seed of the sketch's hash functions.
    """

    def __init__(self, cfg: Detection, inventory: Inventory, recorder: Recorder, seed: int = 0):
        n = len(inventory)
        self.cfg = cfg
        self.numbers = inventory.numbers
        self.recorder = recorder
        self.watch = NewNumberList(cfg.watch_days, cfg.quiet_days).reset(n)
        rules = [cfg] if cfg.detector == "cohort" else cfg.rules()  # cohort has its own
        self.detectors = [make_detector(rule, seed + i).reset(n) for i, rule in enumerate(rules)]
        if cfg.with_cohort and cfg.detector != "cohort":
            self.detectors.append(make_cohort(cfg).reset(n))
        self.sees_all = cfg.detector == "count_min"
        self.flagged_at = np.full(n, np.inf)
        self.limiter = TokenBucket(cfg.limit_per_hour / 3600.0, max(cfg.limit_per_hour / 6, 1.0))
        self.limiter.reset(n)
        self._next_purge = cfg.purge_every_hours * 3600.0
        inventory.listeners.append(self.assigned)

    def assigned(self, t: float, ids: np.ndarray) -> None:
        """A number given to a new owner is listed afresh and loses any flag."""
        self.watch.add(ids, t)
        self.flagged_at[ids] = np.inf
        self.limiter.forget(ids)
        for det in self.detectors:
            det.forget(ids)
            if isinstance(det, CohortDetector):
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
            self.recorder["flags"].append(t=first[new], number=self.numbers[new], number_id=new)
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
            self.recorder["watchlist"].append(t=self._next_purge, listed=self.watch.size,
                                              flagged=int(np.isfinite(self.flagged_at).sum()))
            self._next_purge += self.cfg.purge_every_hours * 3600.0
