"""Per-run figures of a restart storm, from the world's tables (the truth: every message,
every timeout, the number each phone had before and got after)."""

from __future__ import annotations

import numpy as np

from models.common import DAY

from ...results.run import SimResult

__all__ = ["COUNTS", "DENOMINATORS", "storm_metrics"]

DENOMINATORS = {
    "storm.timed_out_share": "storm.phones",
    "storm.unregistered_share": "storm.phones",
    "storm.reassigned_share": "storm.registered",
}
"""Each share and the count it is a share of (exact bounds when a share is 0 in every
replication)."""
COUNTS = {
    "storm.timeouts": ("storm.transactions", "negotiation"),
    "storm.rejected": ("storm.messages", "message"),
    "storm.dropped_full": ("storm.messages", "message"),
    "storm.dropped_limit": ("storm.messages", "message"),
    "storm.duplicates": ("storm.messages", "message"),
    "storm.wasted_messages": ("storm.messages", "message"),
    "storm.stale": ("storm.negotiations", "negotiation"),
    "storm.reassigned": ("storm.registered", "phone"),
}
"""Each count, the trials it counts among, and what one trial is (a count that is 0 in every
replication is written with its exact bound per trial)."""


def storm_metrics(result: SimResult) -> dict[str, float]:
    """Storm figures of one run (empty unless ``storm.enabled``).

    Times are seconds after power returned.

    Returns
    -------
    dict
        ``storm.phones``, ``storm.registered``, ``storm.all_registered`` (1 if every phone
        registered before the horizon), ``storm.unregistered_share``; ``storm.time_to_all``
        (when the last phone registered; the horizon if some never did),
        ``storm.registered_mean`` and ``storm.registered_p95`` (over registered phones),
        ``storm.service_mean`` (registration minus boot, the delay the storm and the
        policy added); ``storm.timeouts`` (Timer F expiries), ``storm.timed_out_share``
        (phones with at least one); ``storm.messages``, ``storm.wasted_messages`` (messages
        that registered no phone), ``storm.messages_per_phone``; server side
        ``storm.dropped_full`` (queue full), ``storm.dropped_limit`` (rate limiter),
        ``storm.duplicates`` (retransmissions of answered requests), ``storm.stale``
        (negotiations for phones that had given up), ``storm.negotiations`` (all the
        server did), ``storm.rejected`` (503s),
        ``storm.wasted_work_share`` (server time not spent registering a waiting phone);
        ``storm.reassigned`` and ``storm.reassigned_share`` (registered phones given another
        number than before the outage); ``storm.queue_wait_mean`` (queueing delay of the
        requests that registered a phone).
    """
    cfg = result.config.storm
    if not cfg.enabled:
        return {}
    phones = result.storm_phones
    seconds = result.storm_seconds
    n = len(phones)
    reg = phones["registered"].to_numpy(np.float64)
    ok = np.isfinite(reg)
    k = int(ok.sum())
    horizon = min(cfg.horizon_seconds, result.config.scenario.days * DAY)
    sums = {c: float(seconds[c].sum()) for c in seconds.columns if c != "second"}
    messages = float(phones["messages"].sum())
    useful = sums["negotiated"]
    work = useful + sums["stale"] + cfg.overhead * (sums["duplicates"] + sums["rejected"])
    changed = ok & (phones["number_after"].to_numpy() != phones["number_before"].to_numpy())
    out = {
        "storm.phones": float(n),
        "storm.registered": float(k),
        "storm.all_registered": float(k == n),
        "storm.unregistered_share": (n - k) / n if n else np.nan,
        "storm.time_to_all": float(reg[ok].max()) if k == n and n else float(horizon),
        "storm.registered_mean": float(reg[ok].mean()) if k else np.nan,
        "storm.registered_p95": float(np.percentile(reg[ok], 95)) if k else np.nan,
        "storm.service_mean": (
            float((reg[ok] - phones["boot"].to_numpy()[ok]).mean()) if k else np.nan
        ),
        "storm.transactions": float(phones["transactions"].sum()),
        "storm.timeouts": float(phones["timeouts"].sum()),
        "storm.timed_out_share": float((phones["timeouts"] > 0).mean()) if n else np.nan,
        "storm.messages": messages,
        "storm.wasted_messages": messages - k,
        "storm.messages_per_phone": messages / n if n else np.nan,
        "storm.dropped_full": sums["dropped_full"],
        "storm.dropped_limit": sums["dropped_limit"],
        "storm.duplicates": sums["duplicates"],
        "storm.stale": sums["stale"],
        "storm.negotiations": useful + sums["stale"],
        "storm.rejected": sums["rejected"],
        "storm.wasted_work_share": 1.0 - useful / work if work > 0 else np.nan,
        "storm.reassigned": float(changed.sum()),
        "storm.reassigned_share": float(changed.sum()) / k if k else np.nan,
        "storm.queue_wait_mean": (
            float(np.nanmean(phones["queue_wait"].to_numpy()[ok])) if k else np.nan
        ),
    }
    return out
