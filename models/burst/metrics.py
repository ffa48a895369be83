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
    "busiest_windows",
    "call_scores",
    "campaign_scores",
    "line_scores",
    "line_delays",
    "recommend",
    "Replay",
    "threshold_curve",
]

HEAVY = ("call_centre", "notifier")
"""Legitimate heavy callers: the lines a detector is most likely to hurt."""
OUTSIDE = ("spam", "residual")
"""Call kinds that come from outside the network (never a subscriber's own call)."""


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
        notifier lines), and the counts behind them: ``robocall_lines``,
        ``robocall_flagged``, ``legit_new_lines``, ``false_flags``, ``heavy_lines``,
        ``heavy_flagged`` (pool counts, not shares, over replications).
    """
    new = lines[~lines["initial"].astype(bool)]
    robo = (new["type"] == "robocaller").to_numpy()
    flagged = np.isfinite(new["flagged_at"].to_numpy())
    heavy = new["type"].isin(HEAVY).to_numpy()
    legit = ~robo

    def share(num: np.ndarray, den: np.ndarray) -> float:
        return float(num.sum() / den.sum()) if den.sum() else np.nan

    return {
        "precision": share(flagged & robo, flagged),
        "recall": share(flagged & robo, robo),
        "false_flags_per_new_number": share(flagged & legit, legit),
        "heavy_flagged_share": share(flagged & heavy, heavy),
        "robocall_lines": float(robo.sum()),
        "robocall_flagged": float((flagged & robo).sum()),
        "legit_new_lines": float(legit.sum()),
        "false_flags": float((flagged & legit).sum()),
        "heavy_lines": float(heavy.sum()),
        "heavy_flagged": float((flagged & heavy).sum()),
    }


def call_scores(calls: pd.DataFrame) -> dict[str, float]:
    """Call-level outcome of the policy.

    Returns
    -------
    dict
        ``legit_blocked_share`` (legitimate subscribers' calls blocked; 1 minus the call
        precision), ``robocall_blocked_share``, ``robocalls_attempted``,
        ``robocalls_delivered`` (not blocked), and the counts ``legit_calls`` and
        ``legit_blocked``.
    """
    robo = calls["kind"] == "robocaller"
    legit = ~robo & ~calls["kind"].isin(OUTSIDE)
    blocked = calls["outcome"] == "blocked"
    n_robo = int(robo.sum())
    n_legit = int(legit.sum())
    return {
        "legit_blocked_share": float((blocked & legit).sum() / max(n_legit, 1)),
        "robocall_blocked_share": float((blocked & robo).sum() / n_robo) if n_robo else np.nan,
        "robocalls_attempted": float(n_robo),
        "robocalls_delivered": float((robo & ~blocked).sum()),
        "legit_calls": float(n_legit),
        "legit_blocked": float((blocked & legit).sum()),
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


def watched_calls(calls: pd.DataFrame, lines: pd.DataFrame, watch_days: float) -> pd.DataFrame:
    """Calls of lines that started during the run, within ``watch_days`` of their start
    (the new-number list without early removal), in the calls' order.

    Returns
    -------
    pandas.DataFrame
        ``t``, ``number_id``, ``subscriber``, ``start`` and ``row`` (position in ``calls``).
    """
    new = lines[~lines["initial"].astype(bool)]
    listed = _tenure(
        calls[["t", "caller_id"]]
        .rename(columns={"caller_id": "number_id"})
        .assign(row=np.arange(len(calls))),
        new,
    )
    listed = listed[listed["t"] - listed["start"] < watch_days * DAY]
    return listed.sort_values("row", kind="stable").reset_index(drop=True)


def busiest_windows(
    calls: pd.DataFrame, lines: pd.DataFrame, windows: Iterable[float], watch_days: float
) -> pd.DataFrame:
    """How close each legitimate new line came to each window rule while it was watched.

    For a window of ``W`` seconds, ``aligned_W`` is the line's largest count of call
    attempts in one window ``[k W, (k + 1) W)`` (the grid of the fixed-window rule, as the
    patent's detector counts) and ``sliding_W`` its largest count in any interval
    ``(t - W, t]`` (what the exact sliding window counts).  A fixed-window rule of
    threshold ``c`` flags a line exactly when ``aligned_W > c``.

    Returns
    -------
    pandas.DataFrame
        One row per legitimate line that started during the run: ``subscriber``, ``type``,
        ``number_id``, ``calls`` (attempts while watched), and ``aligned_W``, ``sliding_W``
        for each window (``W`` printed with ``:g``).
    """
    legit = lines[~lines["initial"].astype(bool) & (lines["type"] != "robocaller")]
    watched = watched_calls(calls, legit, watch_days).sort_values(["subscriber", "t"])
    out = legit[["subscriber", "type", "number_id"]].set_index("subscriber")
    sub = watched["subscriber"].to_numpy()
    t = watched["t"].to_numpy(np.float64)
    out["calls"] = watched.groupby("subscriber").size()
    for w in windows:
        aligned = watched.groupby(["subscriber", np.floor(t / w)]).size()
        out[f"aligned_{w:g}"] = aligned.groupby(level=0).max()
        # sliding: calls in (t_i - w, t_i] for each call i, per line (sorted by line, t)
        key = np.empty(len(t))
        if len(t):
            codes = np.unique(sub)
            span = float(t.max() - t.min()) + 2 * w + 1.0
            rank = np.searchsorted(codes, sub)
            key = rank * span + (t - t.min())
            inside = np.arange(len(t)) - np.searchsorted(key, key - w, side="right") + 1
            out[f"sliding_{w:g}"] = pd.Series(inside, index=sub).groupby(level=0).max()
        else:
            out[f"sliding_{w:g}"] = np.nan
    cols = [c for c in out.columns if c.startswith(("aligned_", "sliding_", "calls"))]
    out[cols] = out[cols].fillna(0).astype(np.int64)
    return out.reset_index()


class Replay:
    """What an open-loop replay computes once per call log: the watched stream, the new
    lines' tenures and the robocall attempts of each robocall line; :meth:`curve` then
    replays it through any number of detectors (see :func:`threshold_curve`).

    Parameters
    ----------
    calls, lines : pandas.DataFrame
        The log (see the module).
    watch_days : float
    behaviours : dict, optional
        Robocall campaign code -> behaviour, for the per-behaviour columns.
    """

    def __init__(
        self,
        calls: pd.DataFrame,
        lines: pd.DataFrame,
        watch_days: float,
        behaviours: dict[int, str] | None,
    ) -> None:
        listed = watched_calls(calls, lines, watch_days)
        self.t = listed["t"].to_numpy(np.float64)
        self.ids = listed["number_id"].to_numpy(np.int64)
        self.n_ids = int(lines["number_id"].max()) + 1 if len(lines) else 0
        new = lines[~lines["initial"].astype(bool)].reset_index(drop=True)
        self.number = new["number_id"].to_numpy(np.int64)
        self.start = new["start"].to_numpy(np.float64)
        self.end = new["end"].fillna(np.inf).to_numpy(np.float64)
        self.robo = (new["type"] == "robocaller").to_numpy()
        self.heavy = new["type"].isin(HEAVY).to_numpy()
        campaign = new["campaign"].to_numpy(np.int64)
        names = behaviours or {}
        self.behaviour = np.array([names.get(int(c), "") for c in campaign], dtype=object)
        self.behaviours = sorted({names[c] for c in names})
        # robocall attempts over each robocall line's whole tenure
        robo_calls = calls.loc[calls["kind"] == "robocaller", ["t", "caller_id"]].rename(
            columns={"caller_id": "number_id"}
        )
        robo_lines = new[self.robo].assign(line=np.flatnonzero(self.robo))
        held = _tenure(robo_calls, robo_lines).merge(
            robo_lines[["subscriber", "line"]], on="subscriber"
        )
        self.call_line = held["line"].to_numpy(np.int64)
        self.call_t = held["t"].to_numpy(np.float64)
        n_new = len(new)
        self.line_calls = np.bincount(self.call_line, minlength=n_new)
        first = np.full(n_new, np.inf)
        np.minimum.at(first, self.call_line, self.call_t)
        self.first_call = first

    def score(self, flagged_at: np.ndarray) -> dict[str, float]:
        """Figures of one setting from its first flag time per number id."""
        at = flagged_at[self.number]
        line_flag = np.where((at >= self.start) & (at < self.end), at, np.inf)
        flagged = np.isfinite(line_flag)
        robo, legit, heavy = self.robo, ~self.robo, self.heavy
        before = self.call_t < line_flag[self.call_line]
        delay_calls = np.bincount(self.call_line[before], minlength=len(robo))
        robo_calls = int(self.line_calls.sum())
        stopped = robo_calls - int(before.sum())
        hit = flagged & robo & (self.line_calls > 0)
        with np.errstate(invalid="ignore"):  # inf - inf for unflagged lines without calls
            delay_s = np.where(flagged, line_flag - self.first_call, np.inf)
        row = {
            "robocalls_blocked_share": stopped / max(robo_calls, 1),
            "recall": float((flagged & robo).sum() / robo.sum()) if robo.any() else np.nan,
            "false_flags_per_new_number": float((flagged & legit).sum() / max(legit.sum(), 1)),
            "heavy_flagged_share": float((flagged & heavy).sum() / heavy.sum())
            if heavy.any()
            else np.nan,
            "delay_calls_median": float(np.median(delay_calls[hit])) if hit.any() else np.nan,
            "delay_seconds_median": float(np.median(delay_s[hit])) if hit.any() else np.nan,
            "false_flags": float((flagged & legit).sum()),
            "legit_new_lines": float(legit.sum()),
            "heavy_flagged": float((flagged & heavy).sum()),
            "heavy_lines": float(heavy.sum()),
            "robocall_lines": float(robo.sum()),
            "robocall_flagged": float((flagged & robo).sum()),
            "robocall_calls": float(robo_calls),
            "robocall_calls_stopped": float(stopped),
        }
        for b in self.behaviours:
            mine = robo & (self.behaviour == b) & (self.line_calls > 0)
            got = mine & flagged
            row[f"lines.{b}"] = float(mine.sum())
            row[f"flagged.{b}"] = float(got.sum())
            row[f"delay_seconds_sum.{b}"] = float(delay_s[got].sum())
            row[f"delay_calls_sum.{b}"] = float(delay_calls[got].sum())
        return row

    def curve(
        self,
        detect: Callable[[float, np.ndarray, np.ndarray, int], np.ndarray],
        thresholds: Iterable[float],
    ) -> pd.DataFrame:
        """The rows of :func:`threshold_curve` for ``detect`` on this log."""
        rows = []
        for threshold in thresholds:
            flagged_at = detect(threshold, self.t, self.ids, self.n_ids)
            rows.append({"threshold": float(threshold), **self.score(flagged_at)})
        return pd.DataFrame(rows)


def threshold_curve(
    calls: pd.DataFrame,
    lines: pd.DataFrame,
    detect: Callable[[float, np.ndarray, np.ndarray, int], np.ndarray],
    thresholds: Iterable[float],
    watch_days: float,
    behaviours: dict[int, str] | None = None,
) -> pd.DataFrame:
    """Open-loop replay: flags and delays of a detector at each threshold, on one log.

    The calls of every line that started during the run, within ``watch_days`` of its
    start (the new-number list without early removal), are replayed in time order through
    ``detect(threshold, t, ids, n_ids) -> flagged_at`` (first flag time per number id).
    Replaying the same log keeps the comparison between thresholds and detectors exact; the
    closed loop (operators rotating when blocked) is measured by the runs themselves.

    Parameters
    ----------
    behaviours : dict, optional
        Robocall campaign code -> behaviour, for the per-behaviour columns.

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold``, ``robocalls_blocked_share`` (robocall
        attempts at or after their number's flag, over all robocall attempts), ``recall``,
        ``false_flags_per_new_number``, ``heavy_flagged_share``, ``delay_calls_median``,
        ``delay_seconds_median``; the counts behind them, to pool over replications:
        ``false_flags``, ``legit_new_lines``, ``heavy_flagged``, ``heavy_lines``,
        ``robocall_lines``, ``robocall_flagged``, ``robocall_calls``,
        ``robocall_calls_stopped``; and per behaviour ``b``: ``lines.b`` (its lines that
        called), ``flagged.b``, ``delay_seconds_sum.b`` and ``delay_calls_sum.b`` (sums
        over its flagged lines of the time from the first attempt to the flag, and of the
        attempts before it).
    """
    return Replay(calls, lines, watch_days, behaviours).curve(detect, thresholds)


def recommend(
    curve: pd.DataFrame, false_flag_budget: float, heavy_budget: float = 0.01
) -> pd.Series | None:
    """The best setting of one curve within the budgets: most robocalls stopped, then
    highest recall, then shortest median delay.

    A setting is within the budgets when its ``false_flags_per_new_number`` is at most
    ``false_flag_budget`` and its ``heavy_flagged_share`` at most ``heavy_budget`` (point
    estimates: pass a curve pooled over the replications that choose, and judge the choice
    on others, as :func:`models.burst.selection.select_and_score` does).

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
