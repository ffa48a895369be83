"""A finished run's episodes as model inputs: features, early aging traffic and labels.

Two kinds of crossing come out of a run (``crossings`` table):

* ``residual`` -- the simulator's truth: the trailing rate of the calls *meant for the
  previous owner* falls to the threshold.  No carrier can see it (it cannot tell a
  residual call from spam), so it serves to judge harm and to score models;
* ``observed`` -- what the carrier sees: the trailing rate of *every* inbound call, less
  the mean background rate (which it estimates from numbers nobody holds), falls to the
  threshold.  Background spam included, a spam-heavy number may never cross.

The carrier's labels (of either kind) are what it could establish itself: a number's
traffic is attributable to its previous owner only until it is reassigned (after that the
new owner's calls mix in), so a crossing not seen by then -- or by the end of the run -- is
censored at that time.  The truth follows every number to the end of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.common import DAY

__all__ = ["LABEL_KINDS", "episode_frame", "labels"]

LABEL_KINDS = ("observed", "residual")
"""What a model may learn from (``aging.labels``)."""
_PREFIX = {"residual": "", "observed": "obs_"}


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
        ``stable_<m>`` (days to the residual crossings of the threshold of multiple
        ``m``), ``obs_first_<m>`` and ``obs_stable_<m>`` (the observed crossings),
        ``observed_days`` (until the end of the run) and ``known_days`` (until the
        reassignment, or the end of the run).
    """
    frame = episodes.set_index("episode").copy()
    frame["type"] = frame["type"].astype(str)
    early = early_inbound.pivot(index="episode", columns="day", values="calls")
    early.columns = [f"early_{d}" for d in early.columns]
    frame = frame.join(early)
    columns = {"first_days": "first", "stable_days": "stable"}
    if "obs_first_days" in crossings.columns:
        columns.update(obs_first_days="obs_first", obs_stable_days="obs_stable")
    for m in thresholds:
        for name in columns.values():
            frame[f"{name}_{m:g}"] = np.nan
    for m, part in crossings.groupby("threshold"):
        part = part.set_index("episode")
        for source, name in columns.items():
            frame[f"{name}_{m:g}"] = part[source]
    frame["observed_days"] = horizon_days - frame["t"] / DAY
    reassigned = (frame["reassign_t"] - frame["t"]) / DAY
    frame["known_days"] = np.fmin(reassigned, frame["observed_days"])
    return frame


def labels(
    frame: pd.DataFrame,
    multiple: float,
    *,
    truth: bool = False,
    crossing: str = "first",
    kind: str = "residual",
) -> tuple[np.ndarray, np.ndarray]:
    """Event indicator and time (days) to the crossing below one threshold.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`episode_frame`.
    multiple : float
        The threshold, as a multiple of the background rate.
    truth : bool
        The simulator's truth: residual crossings censored only by the end of the run
        (``kind`` is then ignored).  Otherwise the carrier's labels of ``kind``, censored at
        the reassignment.
    crossing : {"first", "stable"}
        Which crossing.
    kind : {"residual", "observed"}
        Which crossings the carrier's labels are made of (see the module docstring).

    Returns
    -------
    (numpy.ndarray of bool, numpy.ndarray of float)
    """
    if crossing not in ("first", "stable"):
        raise ValueError(f"crossing must be 'first' or 'stable', got {crossing!r}")
    if kind not in LABEL_KINDS:
        raise ValueError(f"kind must be one of {LABEL_KINDS}, got {kind!r}")
    prefix = "" if truth else _PREFIX[kind]
    days = frame[f"{prefix}{crossing}_{multiple:g}"].to_numpy(dtype=float)
    limit = frame["observed_days" if truth else "known_days"].to_numpy(dtype=float)
    event = np.isfinite(days) & (days <= limit)
    return event, np.where(event, days, limit)
