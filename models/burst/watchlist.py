"""The list of newly assigned numbers (US 2023/0008835), with intermittent removal."""

from __future__ import annotations

import numpy as np

from ..common import DAY

__all__ = ["NewNumberList"]


class NewNumberList:
    """Numbers assigned recently, watched by the per-number detectors.

    A number enters when it is assigned and leaves at the periodic purge once it has been
    listed for ``watch_days``, or earlier once it has been quiet (no outbound call) for
    ``quiet_days`` -- the "intermittent removal" of the patent.

    Parameters
    ----------
    watch_days : float
        Longest stay on the list.
    quiet_days : float
        A number without a call for this long leaves early.

    Attributes
    ----------
    listed_at_ : numpy.ndarray of float64
        When each listed number entered (NaN if not listed).
    last_call_ : numpy.ndarray of float64
        Time of each number's last outbound call while listed (NaN if none).
    """

    def __init__(self, watch_days: float, quiet_days: float) -> None:
        if not watch_days > 0:
            raise ValueError("watch_days must be positive")
        if not quiet_days > 0:
            raise ValueError("quiet_days must be positive")
        self.watch_days = watch_days
        self.quiet_days = quiet_days

    def reset(self, n_ids: int) -> NewNumberList:
        """An empty list over ``n_ids`` numbers."""
        self.listed_at_ = np.full(n_ids, np.nan)
        self.last_call_ = np.full(n_ids, np.nan)
        return self

    def add(self, ids: np.ndarray, t: float) -> None:
        """Numbers assigned at ``t`` enter (or re-enter, afresh) the list."""
        self.listed_at_[ids] = t
        self.last_call_[ids] = np.nan

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Whether each id is listed."""
        return ~np.isnan(self.listed_at_[ids])

    def touch(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Record outbound calls of listed numbers (times in order)."""
        self.last_call_[ids] = t

    def purge(self, t: float) -> int:
        """Remove numbers listed too long or quiet too long; returns how many left."""
        since = t - np.fmax(self.listed_at_, self.last_call_)
        out = (t - self.listed_at_ > self.watch_days * DAY) | (since > self.quiet_days * DAY)
        out &= ~np.isnan(self.listed_at_)
        self.listed_at_[out] = np.nan
        self.last_call_[out] = np.nan
        return int(out.sum())

    @property
    def size(self) -> int:
        """Numbers listed now."""
        return int((~np.isnan(self.listed_at_)).sum())
