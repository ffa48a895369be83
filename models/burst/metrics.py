"""Judging burst detection against ground truth.

Inputs are DataFrames with the columns of the simulator's tables (``docs/tables.md``), so
the same functions score a carrier's own records when it has labels:

- ``lines``: ``subscriber, type, campaign, number_id, initial, start, end`` -- who held
  which number when (``type == "robocaller"`` is the truth; ``end`` NaN while active);
- ``flags``: ``t, number_id`` -- when a number was flagged;
- ``calls``: ``t, caller_id, outcome, kind, campaign`` -- every call attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..common import DAY

__all__ = [
    "attribute_flags",
    "call_scores",
    "campaign_scores",
    "line_scores",
    "line_delays",
    "recommend",
    "threshold_curve",
]

HEAVY = ("call_centre", "notifier")
"""Legitimate heavy callers: the lines a detector is most likely to hurt."""


def _tenure(frame: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` (with ``t`` and ``number_id``) joined to the line holding the
    number at ``t``."""
    merged = frame.merge(lines[["subscriber", "number_id", "start", "end"]], on="number_id")
    end = merged["end"].fillna(np.inf)
    return merged[(merged["t"] >= merged["start"]) & (merged["t"] < end)]


def attribute_flags(flags: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """``lines`` with ``flagged_at``: the first flag of the number during the line's tenure.

    Returns
    -------
    pandas.DataFrame
        ``lines`` plus ``flagged_at`` (float64 s, ``inf`` if never flagged).
    """
    held = _tenure(flags[["t", "number_id"]], lines)
    first = held.groupby("subscriber")["t"].min()
    out = lines.copy()
    out["flagged_at"] = out["subscriber"].map(first).fillna(np.inf).astype(float)
    return out


def line_scores(lines: pd.DataFrame) -> dict[str, float]:
    """Per-number quality of flags (``lines`` from :func:`attribute_flags`).

    Only lines that started during the run count (the new numbers a carrier would list).

    Returns
    -------
    dict
        ``precision`` (robocall lines among flagged lines), ``recall`` (flagged among
        robocall lines), ``false_flags_per_new_number`` (flagged legitimate new lines over
        legitimate new lines), ``heavy_flagged_share`` (flagged among new call-centre and
        notifier lines), ``robocall_lines`` and ``legit_new_lines`` (counts).
    """
    new = lines[~lines["initial"].astype(bool)]
    robo = (new["type"] == "robocaller").to_numpy()
    flagged = np.isfinite(new["flagged_at"].to_numpy())
    heavy = new["type"].isin(HEAVY).to_numpy()
    legit = ~robo

    def share(num: pd.Series, den: pd.Series) -> float:
        return float(num.sum() / den.sum()) if den.sum() else np.nan

    return {
        "precision": share(flagged & robo, flagged),
        "recall": share(flagged & robo, robo),
        "false_flags_per_new_number": share(flagged & legit, legit),
        "heavy_flagged_share": share(flagged & heavy, heavy),
        "robocall_lines": float(robo.sum()),
        "legit_new_lines": float(legit.sum()),
    }


def call_scores(calls: pd.DataFrame) -> dict[str, float]:
    """Call-level outcome of the policy.

    Returns
    -------
    dict
        ``legit_blocked_share`` (legitimate subscribers' calls blocked; 1 minus the call
        precision), ``robocall_blocked_share``, ``robocalls_attempted``,
        ``robocalls_delivered`` (not blocked).
    """
    robo = calls["kind"] == "robocaller"
    legit = ~robo & (calls["kind"] != "spam")
    blocked = calls["outcome"] == "blocked"
    n_robo = int(robo.sum())
    return {
        "legit_blocked_share": float((blocked & legit).sum() / max(int(legit.sum()), 1)),
        "robocall_blocked_share": float((blocked & robo).sum() / n_robo) if n_robo else np.nan,
        "robocalls_attempted": float(n_robo),
        "robocalls_delivered": float((robo & ~blocked).sum()),
    }


def line_delays(calls: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Detection delay of every robocall line.

    Returns
    -------
    pandas.DataFrame
        One row per robocall line: ``subscriber, campaign, calls`` (attempts during the
        tenure), ``delay_calls`` (attempts before the flag, all of them if never flagged),
        ``delay_seconds`` (first attempt to flag; ``inf`` if never flagged), ``flagged``.
    """
    robo_lines = lines[lines["type"] == "robocaller"]
    robo_calls = calls.loc[calls["kind"] == "robocaller", ["t", "caller_id"]].rename(
        columns={"caller_id": "number_id"}
    )
    held = _tenure(robo_calls, robo_lines).merge(
        robo_lines[["subscriber", "campaign", "flagged_at"]], on="subscriber"
    )
    held["before"] = held["t"] < held["flagged_at"]
    per = held.groupby("subscriber").agg(
        calls=("t", "size"), delay_calls=("before", "sum"), first=("t", "min")
    )
    out = robo_lines[["subscriber", "campaign", "flagged_at"]].set_index("subscriber").join(per)
    out[["calls", "delay_calls"]] = out[["calls", "delay_calls"]].fillna(0)
    out["flagged"] = np.isfinite(out["flagged_at"])
    out["delay_seconds"] = np.where(out["flagged"], out["flagged_at"] - out["first"], np.inf)
    return out.reset_index()[
        ["subscriber", "campaign", "calls", "delay_calls", "delay_seconds", "flagged"]
    ]


def campaign_scores(
    calls: pd.DataFrame, lines: pd.DataFrame, campaigns: pd.DataFrame
) -> pd.DataFrame:
    """Outcome per robocall campaign.

    Parameters
    ----------
    calls, lines : pandas.DataFrame
        As in the module docstring (``lines`` with ``flagged_at``).
    campaigns : pandas.DataFrame
        ``campaign`` (int code), ``name``, ``behaviour``, ``rotate``.

    Returns
    -------
    pandas.DataFrame
        Per campaign: ``attempted``, ``delivered``, ``blocked_share``, ``numbers_used``,
        ``numbers_per_1000_delivered``, ``flagged_share`` (of its numbers),
        ``delay_calls_median`` and ``delay_seconds_median`` (over its flagged numbers).
    """
    robo = calls.loc[calls["kind"] == "robocaller", ["t", "campaign"]].assign(
        delivered=(calls["outcome"] != "blocked").to_numpy()[calls["kind"] == "robocaller"]
    )
    per = robo.groupby("campaign").agg(attempted=("t", "size"), delivered=("delivered", "sum"))
    delays = line_delays(calls, lines)
    flagged = delays[delays["flagged"]]
    used = delays.groupby("campaign").agg(
        numbers_used=("subscriber", "size"), flagged_share=("flagged", "mean")
    )
    med = (
        flagged.groupby("campaign")[["delay_calls", "delay_seconds"]].median().add_suffix("_median")
    )
    out = campaigns.set_index("campaign").join(per).join(used).join(med)
    out[["attempted", "delivered"]] = out[["attempted", "delivered"]].fillna(0)
    out["blocked_share"] = 1 - out["delivered"] / out["attempted"].where(out["attempted"] > 0)
    out["numbers_per_1000_delivered"] = (
        1000 * out["numbers_used"] / out["delivered"].where(out["delivered"] > 0)
    )
    return out.reset_index()


def threshold_curve(
    calls: pd.DataFrame,
    lines: pd.DataFrame,
    detect: Callable[[float, np.ndarray, np.ndarray, int], np.ndarray],
    thresholds: Iterable[float],
    watch_days: float,
) -> pd.DataFrame:
    """Open-loop replay: flags and delays of a detector at each threshold, on one log.

    The calls of every line that started during the run, within ``watch_days`` of its
    start (the new-number list without early removal), are replayed in time order through
    ``detect(threshold, t, ids, n_ids) -> flagged_at`` (first flag time per number id).
    Replaying the same log keeps the comparison between thresholds and detectors exact; the
    closed loop (operators rotating when blocked) is measured by the runs themselves.

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold``, ``robocalls_blocked_share`` (robocall
        attempts at or after their number's flag, over all robocall attempts), ``recall``,
        ``false_flags_per_new_number``, ``heavy_flagged_share``, ``delay_calls_median``,
        ``delay_seconds_median``.
    """
    new = lines[~lines["initial"].astype(bool)]
    listed = _tenure(
        calls[["t", "caller_id"]]
        .rename(columns={"caller_id": "number_id"})
        .assign(row=np.arange(len(calls))),
        new,
    )
    listed = listed[listed["t"] - listed["start"] < watch_days * DAY].sort_values("row")
    t = listed["t"].to_numpy(np.float64)
    ids = listed["number_id"].to_numpy(np.int64)
    n_ids = int(lines["number_id"].max()) + 1 if len(lines) else 0
    rows = []
    for threshold in thresholds:
        flagged_at = detect(threshold, t, ids, n_ids)
        flags = pd.DataFrame({"number_id": np.flatnonzero(np.isfinite(flagged_at))})
        flags["t"] = flagged_at[flags["number_id"]]
        scored = attribute_flags(flags, lines)
        s = line_scores(scored)
        d = line_delays(calls, scored)
        hit = d[d["flagged"]]
        stopped = (d["calls"] - d["delay_calls"]).sum() / max(d["calls"].sum(), 1)
        rows.append(
            {
                "threshold": float(threshold),
                "robocalls_blocked_share": float(stopped),
                "recall": s["recall"],
                "false_flags_per_new_number": s["false_flags_per_new_number"],
                "heavy_flagged_share": s["heavy_flagged_share"],
                "delay_calls_median": float(hit["delay_calls"].median()) if len(hit) else np.nan,
                "delay_seconds_median": float(hit["delay_seconds"].median())
                if len(hit)
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def recommend(
    curve: pd.DataFrame, false_flag_budget: float, heavy_budget: float = 0.01
) -> pd.Series | None:
    """The best setting within the budgets: most robocalls stopped, then highest recall,
    then shortest delay.

    Returns the chosen row of ``curve`` (None if no threshold meets both budgets).
    """
    ok = curve[
        (curve["false_flags_per_new_number"] <= false_flag_budget)
        & (curve["heavy_flagged_share"].fillna(0) <= heavy_budget)
    ]
    if ok.empty:
        return None
    return ok.sort_values(
        ["robocalls_blocked_share", "recall", "delay_seconds_median"],
        ascending=[False, False, True],
    ).iloc[0]
