"""Open-loop replay of the runs' call logs through every detector at a range of thresholds,
and the figures drawn from it.

The same events go through every detector and threshold (open loop: no flag changes what
the operators do), so the comparison between settings is exact on each log.  Every
replication of one sweep point is replayed; the report chooses each detector's setting on
the first half and scores it on the second (``models.burst.selection``).  Kleinberg's
automaton, solved offline, is drawn as a reference: it sees each number's whole future,
and it is not an upper bound on the online detectors.  The bound drawn beside the measured
delays is Page's CUSUM for the change from the tolerated legitimate rate to each
campaign's rate (``models.burst.bound``).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from models.burst import DETECTORS, kleinberg_bursts
from models.burst.bound import cusum_frontier
from models.burst.metrics import Replay
from models.common import HOUR
from models.evidence import clopper_pearson, rate_text

from ...config.experiment import ExperimentConfig
from ...config.robocalls import Detection
from ...config.sweep import sweep_points
from ...core.atomic import parquet_bytes, write_atomic
from ...results.run import SimResult
from ...results.store import METRICS_FILE, ExperimentResult, run_dir
from ..render import figure

__all__ = [
    "FACTORS",
    "KLEINBERG_S",
    "OFFLINE",
    "campaign_rates",
    "delay_figure",
    "exposure_days",
    "frontiers",
    "keep_replay",
    "reference_point",
    "replay_curves",
    "replay_experiment",
    "roc_figure",
]

FACTORS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0)
"""Multipliers of every rule's threshold in the open-loop sweep."""
KLEINBERG_S = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
"""Burst-rate multiples of Kleinberg's automaton (its sensitivity knob)."""
OFFLINE = "kleinberg (offline)"
"""The curve of Kleinberg's automaton: an offline reference, never a recommendation."""
REPLAY_FILE = "replay.parquet"
"""A run's open-loop curves, kept in its folder by :func:`keep_replay`."""


def _assignments(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Numbers assigned during the run and when, in time order; a number assigned twice
    keeps its last assignment (what assigning them one after another leaves)."""
    new = lines[~lines["initial"].astype(bool)]
    start = new["start"].to_numpy(np.float64)
    order = np.argsort(start, kind="stable")
    start, ids = start[order], new["number_id"].to_numpy(np.int64)[order]
    _, last_from_end = np.unique(ids[::-1], return_index=True)
    keep = np.sort(len(ids) - 1 - last_from_end)
    return ids[keep], start[keep]


def _detect_fn(cfg: Detection, name: str, assigned: tuple[np.ndarray, np.ndarray]):
    """``detect(factor, t, ids, n) -> flagged_at`` for detector ``name`` at the config's
    rules scaled by ``factor``, told of the run's assignments (:func:`_assignments`)."""

    def detect(factor, t, ids, n_ids):
        flagged = np.full(n_ids, np.inf)
        for rule in cfg.rules(scale=factor):
            try:
                det = cfg.build(name, rule).reset(n_ids)
            except ValueError:
                continue  # e.g. a CUSUM rule scaled below its baseline rate
            det.assign(*assigned)
            det.update(t, ids)
            flagged = np.minimum(flagged, det.flagged_at_)
            if not det.per_rule:
                break
        return flagged

    return detect


def replay_curves(
    calls: pd.DataFrame,
    lines: pd.DataFrame,
    cfg: Detection,
    groups: dict[int, str] | None = None,
) -> pd.DataFrame:
    """Threshold curves of every detector (and Kleinberg's offline automaton) on one log.

    Parameters
    ----------
    groups : dict, optional
        Robocall campaign code -> label, for per-campaign columns (see
        :func:`models.burst.metrics.threshold_curve`).

    Returns
    -------
    pandas.DataFrame
        ``detector``, ``threshold`` (multiplier of the configured thresholds, or
        Kleinberg's burst-rate multiple), and the columns of
        :func:`models.burst.metrics.threshold_curve`.
    """
    replay = Replay(calls, lines, cfg.watch_days, groups)
    assigned = _assignments(lines)
    frames = [
        replay.curve(_detect_fn(cfg, name, assigned), FACTORS).assign(detector=name)
        for name in DETECTORS
    ]
    base = cfg.rules()[0].baseline_rate

    def offline(s, t, ids, n_ids):
        return kleinberg_bursts(t, ids, n_ids, base_rate=base, s=s, gamma=2.0)

    frames.append(replay.curve(offline, KLEINBERG_S).assign(detector=OFFLINE))
    return pd.concat(frames, ignore_index=True)


def _point_configs(result: ExperimentResult) -> dict[int, ExperimentConfig]:
    return {p: cfg for p, (_, cfg) in enumerate(sweep_points(result.config))}


def reference_point(result: ExperimentResult) -> tuple[int, str]:
    """The sweep point whose logs are replayed, and why: the first one that runs no
    detector (the operators then never react to a flag), else the first point."""
    for p, cfg in _point_configs(result).items():
        if not cfg.detection.running():
            return p, "the point without detection, where no operator reacts to a flag"
    return 0, "the first sweep point (every point runs a detector; its operators react)"


def campaign_rates(config: ExperimentConfig) -> dict[str, float]:
    """Each campaign's calls per second per number while it dials (name -> rate)."""
    return {
        c.name: c.calls_per_number_per_day / ((c.active_hours[1] - c.active_hours[0]) * HOUR)
        for c in config.robocallers.campaigns
    }


def exposure_days(lines: pd.DataFrame, watch_days: float, horizon_days: float) -> float:
    """Mean days a legitimate new number was watched in a run: from its start to the first
    of the end of its watch, of its tenure and of the run."""
    new = lines[~lines["initial"].astype(bool) & (lines["type"] != "robocaller")]
    if new.empty:
        return float("nan")
    start = new["start"].to_numpy(np.float64)
    end = new["end"].fillna(np.inf).to_numpy(np.float64)
    day = 24 * HOUR
    stop = np.minimum(np.minimum(start + watch_days * day, end), horizon_days * day)
    return float(np.mean(stop - start) / day)


def _groups(config: ExperimentConfig) -> dict[int, str]:
    return {i: c.name for i, c in enumerate(config.robocallers.campaigns)}


def keep_replay(result: SimResult, folder: Path) -> None:
    """Replay a run that runs no detector (a candidate for :func:`reference_point`) where
    it ran, and keep its curves beside its tables (``replay.parquet``): the report then
    reads them instead of replaying every replication one after another."""
    cfg = result.config
    curves = replay_curves(result.calls, result.subscribers, cfg.detection, _groups(cfg))
    write_atomic(Path(folder) / REPLAY_FILE, parquet_bytes(curves))


def replay_experiment(result: ExperimentResult, point: int) -> pd.DataFrame:
    """Threshold curves of every finished replication of ``point`` (kept by its run, see
    :func:`keep_replay`, or replayed now with the point's detection settings), stacked
    with a ``replication`` column (per-campaign columns labelled by campaign name) and the
    mean days its legitimate new numbers were watched (``exposure_days``)."""
    cfg = result.config
    detection = _point_configs(result)[point].detection
    frames = []
    for r in range(cfg.replications):
        folder = run_dir(result.out, point, r)
        if not (folder / METRICS_FILE).exists():
            continue  # a run that failed
        run = result.run(point, r)
        kept = folder / REPLAY_FILE
        curves = (
            pd.read_parquet(kept)
            if kept.exists()
            else replay_curves(run.calls, run.subscribers, detection, _groups(cfg))
        )
        exposure = exposure_days(run.subscribers, detection.watch_days, cfg.scenario.days)
        frames.append(curves.assign(replication=r, exposure_days=exposure))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def frontiers(
    config: ExperimentConfig, watch_days: float | None = None, floor: float = 1e-6
) -> pd.DataFrame:
    """The CUSUM frontier (``models.burst.bound.cusum_frontier``) from the tolerated
    legitimate rate ``baseline_per_day`` to each campaign's dialling rate, over alarm
    levels from half a jump up to where fewer than ``floor`` numbers at the tolerated rate
    would be flagged in ``watch_days`` (default: the watch list's ``watch_days``; the
    report passes the mean days its legitimate new numbers were actually watched).
    Campaigns that dial slower than the tolerated rate have none (no per-number detector
    can tell them from a legitimate line).

    Returns
    -------
    pandas.DataFrame
        ``campaign``, ``rate1`` (calls/s) and the columns of ``cusum_frontier``.
    """
    det = config.detection
    rate0 = det.baseline_per_day / (24 * HOUR)
    watch = (det.watch_days if watch_days is None else watch_days) * 24 * HOUR
    frames = []
    for name, rate1 in campaign_rates(config).items():
        if not rate1 > rate0:
            continue
        jump = math.log(rate1 / rate0)
        h = 0.5 * jump
        for _ in range(40):
            part = cusum_frontier(rate0, rate1, watch, [h])
            frames.append(part.assign(campaign=name, rate1=rate1))
            if part["false_flag_share"].iloc[0] < floor:
                break
            h += max(0.5 * jump, 1.0)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _x(pooled: pd.DataFrame, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """False flags per legitimate new number to plot, and whether it is a zero count
    (plotted at its exact upper bound)."""
    k = pooled["false_flags"].to_numpy()
    n = pooled["legit_new_lines"].to_numpy()
    zero = k == 0
    upper = np.array([clopper_pearson(0, int(m), level)[1] if m > 0 else np.nan for m in n])
    return np.where(zero, upper, k / np.maximum(n, 1)), zero


def _plot(ax, x, y, zero, style, label):
    """Observed points joined by a line; settings with no false flag as open "<" markers
    at their exact upper bound (the rate is at most there), not joined."""
    line = ax.plot(x[~zero], y[~zero], style, marker="o", ms=3.5, label=label)[0]
    ax.plot(x[zero], y[zero], "<", ms=5, mfc="none", color=line.get_color())


def _chosen_marks(ax, pooled, chosen, ycol):
    for _, row in chosen.dropna(subset=["threshold"]).iterrows():
        hit = pooled[
            (pooled["detector"] == row["detector"]) & (pooled["threshold"] == row["threshold"])
        ]
        if len(hit):
            x, _ = _x(hit)
            ax.plot(x, hit[ycol], "*", ms=11, mfc="none", mec="k", zorder=5)


def _no_false_flag(pooled: pd.DataFrame, what: str) -> str:
    """The sentence shown instead of a trade-off curve when no setting of any detector
    flagged a legitimate new number (every point would sit at one exact bound)."""
    n = int(pooled["legit_new_lines"].max()) if len(pooled) else 0
    return (
        f'<p class="empty">Not drawn: on {html.escape(what)} no detector flagged a '
        f"legitimate new number at any threshold ({rate_text(0, n)} at each setting), so "
        "false flags cannot be traded against anything here; every setting is within a "
        "false-flag budget above that bound.</p>"
    )


def roc_figure(pooled: pd.DataFrame, chosen: pd.DataFrame, budget: float, what: str) -> str:
    """Robocall attempts let through against false flags, every detector (pooled curves);
    a sentence instead when no setting had a false flag."""
    if not (pooled["false_flags"] > 0).any():
        return _no_false_flag(pooled, what)
    fig, ax = plt.subplots(figsize=(8, 4.4))
    pooled = pooled.assign(let_through=1.0 - pooled["robocalls_blocked_share"])
    for name, grp in pooled.groupby("detector", sort=False):
        x, zero = _x(grp)
        _plot(ax, x, grp["let_through"].to_numpy(), zero, "k--" if name == OFFLINE else "-", name)
    _chosen_marks(ax, pooled, chosen, "let_through")
    ax.axvline(budget, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false flags per legitimate new number (log)")
    ax.set_ylabel("robocall attempts let through (share, log)")
    ax.legend(fontsize=7, loc="best")
    return figure(
        fig,
        f"Open-loop threshold sweep on {what}: the share of robocall attempts made before "
        "their number was flagged (what blocking would have let through) against false "
        "flags; each detector's thresholds scaled from 1/4 to 4 "
        "times the configured rules (its loosest setting at the left, fewest false flags; "
        "its strictest at the right). Filled points: false flags observed, pooled over the "
        "replications; open triangles: none observed, drawn at the exact 95% upper bound of "
        "the rate (the rate is at most there). Stars: the setting each detector chose on "
        "the training replications. "
        "Dotted line: the false-flag budget. Dashed: Kleinberg's automaton solved offline "
        "(it sees each number's whole future): a reference, not a deployable rule and not "
        "an upper bound.",
    )


def delay_figure(
    pooled: pd.DataFrame,
    chosen: pd.DataFrame,
    bounds: pd.DataFrame,
    config: ExperimentConfig,
    what: str,
    watch_days: float,
) -> str:
    """Mean detection delay against false flags, per campaign, with the CUSUM frontier
    (``bounds`` from :func:`frontiers` over ``watch_days``)."""
    names = list(bounds["campaign"].unique()) if len(bounds) else []
    if not names:
        return ""
    if not (pooled["false_flags"] > 0).any():
        return ""  # the trade-off figure's sentence says why
    det = config.detection
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        col = f"delay_seconds_mean.{name}"
        for det_name, grp in pooled.groupby("detector", sort=False):
            if col not in grp:
                continue
            ok = grp[col].notna().to_numpy()
            x, zero = _x(grp)
            _plot(
                ax,
                x[ok],
                grp[col].to_numpy()[ok],
                zero[ok],
                "k--" if det_name == OFFLINE else "-",
                det_name,
            )
        _chosen_marks(ax, pooled, chosen, col)
        b = bounds[(bounds["campaign"] == name) & (bounds["false_flag_share"] < 1.0)]
        ax.plot(
            b["false_flag_share"],
            b["delay_seconds"].clip(lower=1e-2),
            color="red",
            lw=2.2,
            alpha=0.6,
            label="best possible (Page's CUSUM, Poisson change)",
        )
        rate1 = b["rate1"].iloc[0] if len(b) else float("nan")
        ax.set_title(f"{name}: {rate1:.3g} calls/s", fontsize=10)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("false flags per legitimate new number (log)")
        ax.set_ylabel("mean delay, first call to flag (s, log)")
    axes[0][0].legend(fontsize=6.5, loc="best")
    return figure(
        fig,
        f"Detection delay against false flags on {what}, per campaign that dials faster than "
        f"the tolerated legitimate rate ({det.baseline_per_day:g} calls a day). Each "
        "detector: mean time from a robocall number's first call to its flag, over the "
        "numbers flagged (pooled replications; open triangles: no false flag observed, drawn "
        "at the exact 95% upper bound). Red: the best possible delay at each false-alarm rate "
        "for a number whose Poisson call rate changes from the tolerated rate to the "
        "campaign's -- Page's CUSUM, minimax-optimal in Lorden's sense -- computed from its "
        "average run lengths (models.burst.bound) and placed at the share of numbers calling "
        f"at the tolerated rate that it flags in {watch_days:.3g} days (the mean days a "
        "legitimate new number was watched in these runs). The world's "
        "legitimate lines are not that model (most call far less, heavy ones burst above "
        "it), so the line shows how far a detector is from what this change allows, not a "
        "limit its points cannot cross.",
    )
