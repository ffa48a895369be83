"""Per-run figures of the robocall-detection study, judged against the run's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.burst.metrics import (
    attribute_flags,
    busiest_windows,
    call_scores,
    campaign_scores,
    line_scores,
)

from ...config.experiment import ExperimentConfig
from ...results.run import SimResult

__all__ = ["burst_metrics", "campaign_table", "rule_key"]


def rule_key(window_seconds: float) -> str:
    """How a rule's window appears in metric names, e.g. ``"120s"`` for two minutes."""
    return f"{window_seconds:g}s"


def campaign_table(config: ExperimentConfig) -> pd.DataFrame:
    """The config's campaigns: ``campaign`` code, ``name``, ``behaviour``, ``rotate``."""
    return pd.DataFrame(
        [
            {"campaign": i, "name": c.name, "behaviour": c.behaviour, "rotate": c.rotate}
            for i, c in enumerate(config.robocallers.campaigns)
        ],
        columns=["campaign", "name", "behaviour", "rotate"],
    )


def burst_metrics(result: SimResult) -> dict[str, float]:
    """Robocall-detection figures of one run, judged against its ground truth.

    Needs the ``calls`` table (``record.calls = true``); empty otherwise.

    Returns
    -------
    dict
        ``detection.*`` from :func:`models.burst.metrics.line_scores` and
        :func:`~models.burst.metrics.call_scores`, and per campaign behaviour ``b``:
        ``robocall.blocked_share.b`` and ``robocall.numbers_per_1000_delivered.b`` (pooled
        over the behaviour's campaigns), ``robocall.flagged_share.b`` (of their numbers, with
        the counts ``robocall.numbers_used.b`` and ``robocall.numbers_flagged.b``),
        ``robocall.delay_calls_median.b`` and ``robocall.delay_seconds_median.b`` (the
        worst campaign's median over its flagged numbers); per alarm rule of the config
        (window ``W``, see :func:`_legit_windows`) ``legit.aligned_max.W``,
        ``legit.sliding_max.W`` and ``legit.lines_over.W``.
    """
    if not result.config.record.calls:
        return {}
    lines = attribute_flags(result.flags, result.subscribers)
    calls = result.calls
    out = {f"detection.{k}": v for k, v in {**line_scores(lines), **call_scores(calls)}.items()}
    out.update(_legit_windows(result))
    campaigns = campaign_table(result.config)
    if campaigns.empty:
        return out
    per = campaign_scores(calls, lines, campaigns)
    for behaviour, grp in per.groupby("behaviour"):
        attempted, delivered = grp["attempted"].sum(), grp["delivered"].sum()
        out[f"robocall.blocked_share.{behaviour}"] = (
            1 - delivered / attempted if attempted else np.nan
        )
        out[f"robocall.numbers_per_1000_delivered.{behaviour}"] = (
            1000 * grp["numbers_used"].sum() / delivered if delivered else np.nan
        )
        used = float(grp["numbers_used"].sum())
        flagged = float((grp["flagged_share"] * grp["numbers_used"]).sum().round())
        out[f"robocall.flagged_share.{behaviour}"] = flagged / used if used else np.nan
        out[f"robocall.numbers_used.{behaviour}"] = used
        out[f"robocall.numbers_flagged.{behaviour}"] = flagged
        out[f"robocall.delay_calls_median.{behaviour}"] = float(grp["delay_calls_median"].max())
        out[f"robocall.delay_seconds_median.{behaviour}"] = float(grp["delay_seconds_median"].max())
    return out


def _legit_windows(result: SimResult) -> dict[str, float]:
    """How close legitimate new lines came to each configured rule while watched.

    For each rule ``(c, W)`` of ``[detection]`` (unscaled): the busiest window of ``W``
    seconds of any legitimate new line, on the fixed grid (``legit.aligned_max.W``, what the
    patent's rule counts) and sliding (``legit.sliding_max.W``), and how many of those lines
    had an aligned window over ``c`` (``legit.lines_over.W``: the lines the fixed-window
    rule flags, whatever the run's detector).  Attempts count whether or not they were
    blocked, so every point of a common-random-numbers sweep sees the same values.
    """
    det = result.config.detection
    rules = det.rules()
    busiest = busiest_windows(
        result.calls, result.subscribers, [r.window_seconds for r in rules], det.watch_days
    )
    out = {}
    for rule in rules:
        w = f"{rule.window_seconds:g}"
        key = rule_key(rule.window_seconds)
        aligned, sliding = busiest[f"aligned_{w}"], busiest[f"sliding_{w}"]
        out[f"legit.aligned_max.{key}"] = float(aligned.max()) if len(aligned) else 0.0
        out[f"legit.sliding_max.{key}"] = float(sliding.max()) if len(sliding) else 0.0
        out[f"legit.lines_over.{key}"] = float((aligned > rule.threshold).sum())
    return out
