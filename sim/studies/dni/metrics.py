"""Per-run figures of the DNI market, judged against its ground truth."""

from __future__ import annotations

import numpy as np

from models.common import DAY, HOUR, NUMBER_KINDS

from ...config.dni import Dni
from ...results.run import SimResult

__all__ = ["dni_metrics", "oracle_probabilities", "CHECKPOINTS", "DENOMINATORS"]

CHECKPOINTS = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
"""Impression counts at which cumulative regret is reported."""


DENOMINATORS = {
    "dni.blocked_share": "dni.impressions_steady",
    "dni.blocked_share_warmup": "dni.impressions_warmup",
    "dni.correct_share": "dni.calls",
    "dni.misattributed_share": "dni.calls",
    "dni.unattributed_share": "dni.calls",
    "dni.wrong_sponsor_share": "dni.calls",
    "dni.correct_share_in_window": "dni.calls_in_window",
    "dni.correct_share_later": "dni.calls_later",
    "dni.correct_share_repeat": "dni.calls_repeat",
}
"""Each share and the count it is a share of (for exact bounds when a share is 0 or 1)."""


def oracle_probabilities(cfg: Dni) -> np.ndarray:
    """Call probability of the best kind of number per channel (what the oracle earns)."""
    return np.array([ch.call_prob * max(ch.response.values()) for ch in cfg.channels.by_code()])


def _steps(pool, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and length (s) of each step of the ``pool`` table (rows at the steps' ends)."""
    end = pool["t"].to_numpy(np.float64)
    start = np.concatenate([[0.0], end[:-1]]) if len(end) else end
    return start, end - start


def dni_metrics(result: SimResult) -> dict[str, float]:
    """DNI figures of one run (empty unless ``dni.enabled``).

    Steady-state figures leave out the first ``dni.warmup_hours``: blocking counts the
    impressions shown after it, attribution and cost the calls made after it, the pool
    figures the steps that begin after it.  Learning figures (expected calls, share of the
    oracle, regret) count every impression from the start.  A figure with nothing to count
    (no impression, call or step after the warm-up) is NaN: not observed.

    Returns
    -------
    dict
        ``dni.impressions`` (all), ``dni.impressions_steady`` and
        ``dni.impressions_warmup`` (after and during the warm-up), ``dni.blocked_share``
        (impressions given the overflow number, after the warm-up),
        ``dni.blocked_share_warmup`` (during it); calls after the warm-up: ``dni.calls``,
        ``dni.calls_in_window``, ``dni.calls_later``, ``dni.calls_repeat`` (the
        denominators of the shares below), ``dni.correct_share``, ``dni.misattributed_share``,
        ``dni.unattributed_share``, ``dni.wrong_sponsor_share`` (routed to another sponsor
        than the one whose ad caused it), ``dni.correct_share_in_window`` and
        ``dni.correct_share_later`` (calls within / after the session and hold),
        ``dni.correct_share_repeat``; pool after the warm-up: ``dni.pool_mean``,
        ``dni.number_days``, ``dni.utilisation`` (busy / size), ``dni.store_entries_mean``,
        ``dni.store_entries_max``; money after the warm-up: ``dni.cost`` (number rental
        plus inbound minutes, dollars), ``dni.cost_per_correct_call``; response, from the
        start: ``dni.expected_calls`` (sum of the true call probabilities of the
        impressions shown), ``dni.oracle_share`` and ``dni.oracle_share_after_100k`` (of
        what always showing the best kind would expect), ``dni.regret.<n>`` (cumulative
        expected calls lost to the oracle after n impressions).
    """
    cfg = result.config.dni
    if not cfg.enabled:
        return {}
    imps, calls, pool = result.impressions, result.dni_calls, result.pool
    warm = cfg.warmup_hours * HOUR
    out: dict[str, float] = {"dni.impressions": float(len(imps))}

    def share(mask) -> float:
        mask = np.asarray(mask, dtype=bool)
        return float(mask.mean()) if len(mask) else np.nan

    t_imp = imps["t"].to_numpy(np.float64)
    blocked = imps["number_id"].to_numpy() < 0
    out["dni.impressions_steady"] = float((t_imp >= warm).sum())
    out["dni.impressions_warmup"] = float((t_imp < warm).sum())
    out["dni.blocked_share"] = share(blocked[t_imp >= warm])
    out["dni.blocked_share_warmup"] = share(blocked[t_imp < warm])
    calls = calls[calls["t"].to_numpy(np.float64) >= warm]
    out["dni.calls"] = float(len(calls))
    outcome = calls["outcome"].astype(str).to_numpy()
    for name in ("correct", "misattributed", "unattributed"):
        out[f"dni.{name}_share"] = share(outcome == name)
    routed = calls["routed_sponsor"].to_numpy()
    out["dni.wrong_sponsor_share"] = share((routed >= 0) & (routed != calls["sponsor"].to_numpy()))
    window = calls["in_window"].to_numpy(bool)
    repeat = calls["repeat"].to_numpy(bool)
    out["dni.calls_in_window"] = float(window.sum())
    out["dni.calls_later"] = float((~window).sum())
    out["dni.calls_repeat"] = float(repeat.sum())
    out["dni.correct_share_in_window"] = share(outcome[window] == "correct")
    out["dni.correct_share_later"] = share(outcome[~window] == "correct")
    out["dni.correct_share_repeat"] = share(outcome[repeat] == "correct")
    start, length = _steps(pool, float(cfg.step_seconds))
    steady = start >= warm - 1e-9
    pool, length = pool[steady], length[steady]
    size = pool["size"].to_numpy(np.float64)
    some = len(pool) > 0
    out["dni.pool_mean"] = float(size.mean()) if some else np.nan
    out["dni.number_days"] = float((size * length).sum() / DAY) if some else np.nan
    busy = pool["busy"].to_numpy(np.float64)
    out["dni.utilisation"] = float((busy / np.maximum(size, 1)).mean()) if some else np.nan
    store = pool["store_entries"].to_numpy(np.float64)
    out["dni.store_entries_mean"] = float(store.mean()) if some else np.nan
    out["dni.store_entries_max"] = float(store.max()) if some else np.nan
    rent = sum(
        (pool[f"size_{k}"].to_numpy(np.float64) * length).sum() / DAY * cfg.price_month[k] / 30.0
        for k in NUMBER_KINDS
    )
    kinds = calls["kind"].astype(str).to_numpy()
    minutes = calls["minutes"].to_numpy(np.float64)
    talk = sum(minutes[kinds == k].sum() * cfg.price_minute[k] for k in NUMBER_KINDS)
    out["dni.cost"] = float(rent + talk) if some else np.nan
    correct = float((outcome == "correct").sum())
    out["dni.cost_per_correct_call"] = out["dni.cost"] / correct if correct else np.nan
    p = imps["call_prob"].to_numpy(np.float64)
    best = oracle_probabilities(cfg)[imps["channel"].cat.codes.to_numpy()]
    out["dni.expected_calls"] = float(p.sum())
    out["dni.oracle_share"] = float(p.sum() / best.sum()) if best.sum() > 0 else np.nan
    tail = slice(100_000, None)
    out["dni.oracle_share_after_100k"] = (
        float(p[tail].sum() / best[tail].sum()) if best[tail].sum() > 0 else np.nan
    )
    regret = np.cumsum(best - p)
    for c in CHECKPOINTS:
        out[f"dni.regret.{c}"] = float(regret[c - 1]) if len(regret) >= c else np.nan
    return out
