"""A finished run's episodes as model inputs: features, early aging traffic and labels.

The carrier's labels are what it could establish itself: the residual rate of a number is
known only until the number is reassigned (after that the new owner's calls mix in), so a
crossing not seen by then -- or by the end of the run -- is censored at that time.  The
simulator's truth follows every number to the end of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.common import DAY

__all__ = ["episode_frame", "labels"]


def episode_frame(
    episodes: pd.DataFrame,
    crossings: pd.DataFrame,
    early_inbound: pd.DataFrame,
    horizon_days: float,
    thresholds=(),
) -> pd.DataFrame:
    """One row per episode of a finished run: inputs, outcomes and observation times.

    Parameters
    ----------
    episodes, crossings, early_inbound : pandas.DataFrame
        The run's tables of those names.
    horizon_days : float
        The run's length.
    thresholds : sequence of float
        Threshold multiples whose columns must exist even without any episode.

    Returns
    -------
    pandas.DataFrame
        The episode columns, ``type`` as str, ``early_<d>`` columns, ``first_<m>`` and
        ``stable_<m>`` (days to the crossings of the threshold of multiple ``m``),
        ``observed_days`` (until the end of the run) and ``known_days`` (until the
        reassignment, or the end of the run).
    """
    frame = episodes.set_index("episode").copy()
    frame["type"] = frame["type"].astype(str)
    early = early_inbound.pivot(index="episode", columns="day", values="calls")
    early.columns = [f"early_{d}" for d in early.columns]
    frame = frame.join(early)
    for m in thresholds:
        frame[f"first_{m:g}"] = frame[f"stable_{m:g}"] = np.nan
    for m, part in crossings.groupby("threshold"):
        part = part.set_index("episode")
        frame[f"first_{m:g}"] = part["first_days"]
        frame[f"stable_{m:g}"] = part["stable_days"]
    frame["observed_days"] = horizon_days - frame["t"] / DAY
    reassigned = (frame["reassign_t"] - frame["t"]) / DAY
    frame["known_days"] = np.fmin(reassigned, frame["observed_days"])
    return frame


def labels(
    frame: pd.DataFrame, multiple: float, *, truth: bool = False, crossing: str = "first"
) -> tuple[np.ndarray, np.ndarray]:
    """Event indicator and time (days) to the crossing below one threshold.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`episode_frame`.
    multiple : float
        The threshold, as a multiple of the background rate.
    truth : bool
        The simulator's truth (censored only by the end of the run) instead of the
        carrier's labels (censored at the reassignment).
    crossing : {"first", "stable"}
        Which crossing.

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of float)
    """
    if crossing not in ("first", "stable"):
        raise ValueError(f"crossing must be 'first' or 'stable', got {crossing!r}")
    days = frame[f"{crossing}_{multiple:g}"].to_numpy(dtype=float)
    limit = frame["observed_days" if truth else "known_days"].to_numpy(dtype=float)
    event = np.isfinite(days) & (days <= limit)
    return event, np.where(event, days, limit)
