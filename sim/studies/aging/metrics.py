"""Per-run figures of the aging study: what a release policy costs and what it saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.common import DAY

from ...core.atomic import parquet_bytes, write_atomic
from ...results.run import SimResult
from .models import compare_models

__all__ = ["aging_metrics", "model_metrics"]


def aging_metrics(result: SimResult) -> dict[str, float]:
    """Release-policy figures of one run, judged against its ground truth.

    Returns
    -------
    dict
        ``aging.episodes``; ``aging.days_mean.<type>`` (disconnect to release, episodes
        released in the run) for residential and business numbers; ``aging.harm_calls``
        and ``aging.harm_dollars`` (residual calls reaching new owners in their first
        ``harm_days``, per disconnect, and their price); ``aging.harm_calls_all`` (at any
        time after reassignment); ``aging.false_clean_rate`` (released numbers above the
        release threshold within ``false_clean_days``, among those released early enough
        to tell); ``aging.available_mean`` (assignable numbers) and
        ``aging.exhaustion_events``.
    """
    cfg = result.config.aging
    eps = result.episodes
    out: dict[str, float] = {"aging.episodes": float(len(eps))}
    days = (eps["release_t"] - eps["t"]) / DAY
    for name in ("residential", "business"):
        sel = days[(eps["type"] == name) & days.notna()]
        out[f"aging.days_mean.{name}"] = float(sel.mean()) if len(sel) else np.nan
    none = len(eps) == 0  # every run reports the same metrics (NaN when there is nothing)
    out["aging.harm_calls"] = np.nan if none else float(eps["harm_calls"].mean())
    out["aging.harm_dollars"] = out["aging.harm_calls"] * cfg.harm_price
    out["aging.harm_calls_all"] = np.nan if none else float(eps["harm_calls_all"].mean())
    horizon = result.config.scenario.days * DAY
    judged = eps["release_t"] + cfg.false_clean_days * DAY <= horizon
    out["aging.false_clean_rate"] = (
        float(eps.loc[judged, "false_clean"].mean()) if judged.any() else np.nan
    )
    out["aging.available_mean"] = float(result.states["available"].mean())
    out["aging.exhaustion_events"] = float(len(result.exhaustion))
    return out


def model_metrics(result: SimResult, out: Path | None = None) -> dict[str, float]:
    """Profile models compared on the run's held-out numbers (:func:`.models.compare_models`).

    Returns ``aging.model.<model>.<score>.<threshold>`` for the scores ``mae_days, uno_c,
    ibs, ibs_km_ratio, coverage``; with ``out``, the test half's predictions are written to
    ``out/model_predictions.parquet``.
    """
    scores, preds = compare_models(result)
    if out is not None and len(preds):
        write_atomic(Path(out) / "model_predictions.parquet", parquet_bytes(preds))
    found = {}
    for row in scores.itertuples():
        for score in ("mae_days", "uno_c", "ibs", "ibs_km_ratio", "coverage"):
            found[f"aging.model.{row.model}.{score}.{row.threshold:g}"] = float(getattr(row, score))
    return found
