"""Per-run figures of the robocall-detection study, judged against the run's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.burst.metrics import attribute_flags, call_scores, campaign_scores, line_scores

from ...config.experiment import ExperimentConfig
from ...results.run import SimResult

__all__ = ["burst_metrics", "campaign_table"]


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
        over the behaviour's campaigns), ``robocall.flagged_share.b`` (of their numbers),
        ``robocall.delay_calls_median.b`` and ``robocall.delay_seconds_median.b`` (the
        worst campaign's median over its flagged numbers).
    """
    if not result.config.record.calls:
        return {}
    lines = attribute_flags(result.flags, result.subscribers)
    calls = result.calls
    out = {f"detection.{k}": v for k, v in {**line_scores(lines), **call_scores(calls)}.items()}
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
        out[f"robocall.flagged_share.{behaviour}"] = float(
            (grp["flagged_share"] * grp["numbers_used"]).sum() / grp["numbers_used"].sum()
        )
        out[f"robocall.delay_calls_median.{behaviour}"] = float(grp["delay_calls_median"].max())
        out[f"robocall.delay_seconds_median.{behaviour}"] = float(grp["delay_seconds_median"].max())
    return out
