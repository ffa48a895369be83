"""Per-run figures of the DNI market, judged against its ground truth."""

from __future__ import annotations

import numpy as np

from models.common import DAY, NUMBER_KINDS

from ...config.dni import Dni
from ...results.run import SimResult

__all__ = ["dni_metrics", "oracle_probabilities", "CHECKPOINTS"]

CHECKPOINTS = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
"""Impression counts at which cumulative regret is reported."""


def oracle_probabilities(cfg: Dni) -> np.ndarray:
    """Call probability of the best kind of number per channel (what the oracle earns)."""
    return np.array([ch.call_prob * max(ch.response.values()) for ch in cfg.channels.by_code()])


def dni_metrics(result: SimResult) -> dict[str, float]:
    """DNI figures of one run (empty unless ``dni.enabled``).

    Returns
    -------
    dict
        ``dni.impressions``, ``dni.blocked_share`` (impressions given the overflow
        number); calls: ``dni.calls``, ``dni.correct_share``, ``dni.misattributed_share``,
        ``dni.unattributed_share``, ``dni.wrong_sponsor_share`` (routed to another sponsor
        than the one whose ad caused it), ``dni.correct_share_in_window`` and
        ``dni.correct_share_later`` (calls within / after the session and hold),
        ``dni.correct_share_repeat``; pool: ``dni.pool_mean``, ``dni.number_days``,
        ``dni.utilisation`` (busy / size), ``dni.store_entries_mean``, ``dni.store_entries_max``;
        money: ``dni.cost`` (number rental plus inbound minutes, dollars),
        ``dni.cost_per_correct_call``; response: ``dni.expected_calls`` (sum of the true call
        probabilities of the impressions shown), ``dni.oracle_share`` and
        ``dni.oracle_share_after_100k`` (of what always showing the best kind would expect),
        ``dni.regret.<n>`` (cumulative expected calls lost to the oracle after n impressions).
    """
    cfg = result.config.dni
    if not cfg.enabled:
        return {}
    imps, calls, pool = result.impressions, result.dni_calls, result.pool
    out: dict[str, float] = {"dni.impressions": float(len(imps))}
    out["dni.blocked_share"] = float((imps["number_id"] < 0).mean()) if len(imps) else np.nan
    n = len(calls)
    out["dni.calls"] = float(n)

    def share(mask) -> float:
        return float(mask.mean()) if len(mask) else np.nan

    outcome = calls["outcome"].astype(str)
    for name in ("correct", "misattributed", "unattributed"):
        out[f"dni.{name}_share"] = share(outcome == name)
    routed = calls["routed_sponsor"]
    out["dni.wrong_sponsor_share"] = share((routed >= 0) & (routed != calls["sponsor"]))
    window = calls["in_window"].to_numpy(bool)
    out["dni.correct_share_in_window"] = share(outcome[window] == "correct")
    out["dni.correct_share_later"] = share(outcome[~window] == "correct")
    out["dni.correct_share_repeat"] = share(outcome[calls["repeat"].to_numpy(bool)] == "correct")
    step = cfg.step_seconds
    out["dni.pool_mean"] = float(pool["size"].mean())
    out["dni.number_days"] = float(pool["size"].sum() * step / DAY)
    out["dni.utilisation"] = float((pool["busy"] / pool["size"].clip(lower=1)).mean())
    out["dni.store_entries_mean"] = float(pool["store_entries"].mean())
    out["dni.store_entries_max"] = float(pool["store_entries"].max())
    rent = sum(
        pool[f"size_{k}"].sum() * step / DAY * cfg.price_month[k] / 30.0 for k in NUMBER_KINDS
    )
    kinds = calls["kind"].astype(str)
    talk = sum(calls["minutes"][kinds == k].sum() * cfg.price_minute[k] for k in NUMBER_KINDS)
    out["dni.cost"] = float(rent + talk)
    correct = float((outcome == "correct").sum())
    out["dni.cost_per_correct_call"] = out["dni.cost"] / correct if correct else np.nan
    p = imps["call_prob"].to_numpy(np.float64)
    best = oracle_probabilities(cfg)[imps["channel"].cat.codes.to_numpy()]
    out["dni.expected_calls"] = float(p.sum())
    out["dni.oracle_share"] = float(p.sum() / best.sum()) if len(p) else np.nan
    tail = slice(100_000, None)
    out["dni.oracle_share_after_100k"] = (
        float(p[tail].sum() / best[tail].sum()) if len(p) > 100_000 else np.nan
    )
    regret = np.cumsum(best - p)
    for c in CHECKPOINTS:
        out[f"dni.regret.{c}"] = float(regret[c - 1]) if len(regret) >= c else np.nan
    return out
