"""Per-run figures of the aging study: what a release policy costs and what it saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.aging.metrics import SCORES
from models.common import DAY, SUBSCRIBER_TYPES

from ...core.atomic import parquet_bytes, write_atomic
from ...results.run import SimResult
from .models import compare_models

__all__ = ["MODEL_SCORES", "aging_metrics", "complete_follow_up", "model_metrics"]


def complete_follow_up(result: SimResult) -> np.ndarray:
    """Episodes whose release and harm could be seen in full: disconnected early enough
    that the type's upper aging bound plus the harm window (or the false-clean window, if
    longer) ends by the end of the run."""
    cfg = result.config
    eps = result.episodes
    upper = {name: getattr(cfg.subscribers, name).aging_days[1] for name in SUBSCRIBER_TYPES}
    bound = eps["type"].astype(str).map(upper).to_numpy(dtype=float)
    window = max(cfg.aging.harm_days, cfg.aging.false_clean_days)
    return eps["t"].to_numpy() / DAY + bound + window <= cfg.scenario.days


def aging_metrics(result: SimResult) -> dict[str, float]:
    """Release-policy figures of one run, judged against its ground truth, all on one
    population: the disconnects with complete follow-up (:func:`complete_follow_up`).

    Returns
    -------
    dict
        ``aging.episodes`` (all) and ``aging.episodes_complete`` (judged);
        ``aging.days_mean.<type>`` (disconnect to release) for residential and business
        numbers; ``aging.harm_calls`` and ``aging.harm_dollars`` (residual calls reaching
        new owners in their first ``harm_days``, per disconnect, and their price);
        ``aging.harm_calls_all`` (at any time after reassignment in the run);
        ``aging.false_clean_rate`` (released numbers above the release threshold within
        ``false_clean_days``) with ``aging.false_clean`` and ``aging.released`` (its
        count and denominator); ``aging.available_mean`` (assignable numbers) and
        ``aging.exhaustion_events`` (the whole run).
    """
    cfg = result.config.aging
    all_eps = result.episodes
    eps = all_eps[complete_follow_up(result)]
    out: dict[str, float] = {
        "aging.episodes": float(len(all_eps)),
        "aging.episodes_complete": float(len(eps)),
    }
    days = (eps["release_t"] - eps["t"]) / DAY
    for name in ("residential", "business"):
        sel = days[(eps["type"] == name) & days.notna()]
        out[f"aging.days_mean.{name}"] = float(sel.mean()) if len(sel) else np.nan
    none = len(eps) == 0  # every run reports the same metrics (NaN when there is nothing)
    out["aging.harm_calls"] = np.nan if none else float(eps["harm_calls"].mean())
    out["aging.harm_dollars"] = out["aging.harm_calls"] * cfg.harm_price
    out["aging.harm_calls_all"] = np.nan if none else float(eps["harm_calls_all"].mean())
    released = eps["release_t"].notna()
    out["aging.released"] = float(released.sum())
    out["aging.false_clean"] = float(eps.loc[released, "false_clean"].sum())
    out["aging.false_clean_rate"] = (
        out["aging.false_clean"] / out["aging.released"] if released.any() else np.nan
    )
    out["aging.available_mean"] = float(result.states["available"].mean())
    out["aging.exhaustion_events"] = float(len(result.exhaustion))
    return out


MODEL_SCORES = (*SCORES, "n_test", "n_events")
"""Per-run model metrics: ``aging.model.<labels>.<model>.<score>.<threshold>``."""


def model_metrics(result: SimResult, out: Path | None = None) -> dict[str, float]:
    """Profile models compared at the landmark on the run's held-out numbers, trained on
    each kind of label (:func:`.models.compare_models`).

    Returns ``aging.model.<labels>.<model>.<score>.<threshold>`` for :data:`MODEL_SCORES`;
    with ``out``, the scored rows' predictions are written to
    ``out/model_predictions.parquet``.
    """
    scores, preds = compare_models(result)
    if out is not None and len(preds):
        write_atomic(Path(out) / "model_predictions.parquet", parquet_bytes(preds))
    found = {}
    for row in scores.itertuples():
        for name in MODEL_SCORES:
            key = f"aging.model.{row.labels}.{row.model}.{name}.{row.threshold:g}"
            found[key] = float(getattr(row, name))
    return found
