"""Per-run summary metrics of the world, one number each, for ``metrics.parquet``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.burst.metrics import attribute_flags, call_scores, campaign_scores, line_scores

from .config import ExperimentConfig
from .population import DAY
from .runner import SimResult

__all__ = ["world_metrics", "burst_metrics", "campaign_table"]


def world_metrics(result: SimResult) -> dict[str, float]:
    """Headline figures of one run.

    Returns
    -------
    dict
        ``calls_per_day.<kind>`` and ``answer_rate.<kind>`` for each caller kind;
        ``exhaustion_events``, ``arrivals``, ``disconnects``, ``port_outs``, ``releases``
        (totals over the run); ``available_mean``, ``available_min``, ``aging_mean``
        (numbers); ``utilisation_mean`` (assigned share of the numbers still in the
        inventory); ``subscribers_end``; ``aging_days_mean`` (disconnect to release, for
        numbers released during the run).
    """
    days = result.config.scenario.days
    out: dict[str, float] = {}
    calls = result.daily_calls.groupby("kind", observed=False)[["attempts", "answered"]].sum()
    for kind, row in calls.iterrows():
        out[f"calls_per_day.{kind}"] = row["attempts"] / days
        out[f"answer_rate.{kind}"] = row["answered"] / row["attempts"] if row["attempts"] else np.nan
    daily = result.daily
    for col in ("arrivals", "disconnects", "port_outs", "releases"):
        out[col] = float(daily[col].sum())
    out["exhaustion_events"] = float(len(result.exhaustion))
    states = result.states
    held = states["available"] + states["assigned"] + states["aging"]
    out["available_mean"] = float(states["available"].mean())
    out["available_min"] = float(states["available"].min())
    out["aging_mean"] = float(states["aging"].mean())
    out["utilisation_mean"] = float((states["assigned"] / held).mean())
    out["subscribers_end"] = float(daily["subscribers"].iloc[-1])
    ledger = result.ledger
    went = ledger[ledger["reason"] == "disconnect"].groupby("number_id")["t"].first()
    back = ledger[ledger["reason"] == "release"].groupby("number_id")["t"].last()
    both = went.to_frame("start").join(back.to_frame("end"), how="inner")
    both = both[both["end"] > both["start"]]
    out["aging_days_mean"] = float(((both["end"] - both["start"]) / DAY).mean()) if len(both) else np.nan
    return out


def campaign_table(config: ExperimentConfig) -> pd.DataFrame:
    """The config's campaigns: ``campaign`` code, ``name``, ``behaviour``, ``rotate``."""
    return pd.DataFrame(
        [{"campaign": i, "name": c.name, "behaviour": c.behaviour, "rotate": c.rotate}
         for i, c in enumerate(config.robocallers.campaigns)],
        columns=["campaign", "name", "behaviour", "rotate"])


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
            1 - delivered / attempted if attempted else np.nan)
        out[f"robocall.numbers_per_1000_delivered.{behaviour}"] = (
            1000 * grp["numbers_used"].sum() / delivered if delivered else np.nan)
        out[f"robocall.flagged_share.{behaviour}"] = float(
            (grp["flagged_share"] * grp["numbers_used"]).sum() / grp["numbers_used"].sum())
        out[f"robocall.delay_calls_median.{behaviour}"] = float(grp["delay_calls_median"].max())
        out[f"robocall.delay_seconds_median.{behaviour}"] = float(
            grp["delay_seconds_median"].max())
    return out
