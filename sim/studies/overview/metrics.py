"""Per-run headline figures of the world itself, one number each."""

from __future__ import annotations

import numpy as np

from models.common import DAY

from ...results.run import SimResult

__all__ = ["world_metrics"]


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
        out[f"answer_rate.{kind}"] = (
            row["answered"] / row["attempts"] if row["attempts"] else np.nan
        )
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
    out["aging_days_mean"] = (
        float(((both["end"] - both["start"]) / DAY).mean()) if len(both) else np.nan
    )
    return out
