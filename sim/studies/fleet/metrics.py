"""Per-run figures of the phone fleet, judged against the truth (the user at the desk)."""

from __future__ import annotations

import numpy as np

from ...results.run import SimResult

__all__ = ["COUNTS", "fleet_metrics"]

COUNTS = {
    "fleet.wrong_users": "fleet.replacements",
    "fleet.refused": "fleet.replacements",
    "fleet.refused_needless": "fleet.replacements",
    "fleet.refused_protective": "fleet.replacements",
    "fleet.accepted": "fleet.replacements",
}
"""Each count and the replacements it counts among (exact bounds when it is 0)."""


def fleet_metrics(result: SimResult) -> dict[str, float]:
    """Fleet figures of one run (empty unless ``fleet.enabled``).

    Returns
    -------
    dict
        ``fleet.replacements`` (decided within the horizon); counts and shares of them:
        ``fleet.accepted``, ``fleet.wrong_users`` (the record copied was another user's),
        ``fleet.refused`` (left to an administrator: refused or manual),
        ``fleet.refused_needless`` (refused although the identifier found the desk user's
        record, or found none), ``fleet.refused_protective`` (refused where accepting would
        have copied another user's record), with ``_share`` versions; time to service
        (failure to the right record working, hours): ``fleet.service_hours_mean``,
        ``fleet.service_hours_p95``; ``fleet.fields_lost_mean`` (configured fields of the
        desk user's record missing when the phone came into service, per replacement);
        ``fleet.admin_touches`` and ``fleet.admin_touches_share`` (per replacement);
        headset events: ``fleet.borrows``, ``fleet.shares``, ``fleet.moves``.
    """
    cfg = result.config.fleet
    if not cfg.enabled:
        return {}
    r = result.fleet_replacements
    h = result.fleet_headsets
    n = len(r)
    refused = r["outcome"] != "accept"
    protective = r["protective"].to_numpy(bool)
    counts = {
        "fleet.accepted": float((~refused).sum()),
        "fleet.wrong_users": float(r["wrong_user"].sum()),
        "fleet.refused": float(refused.sum()),
        "fleet.refused_protective": float(protective.sum()),
        "fleet.refused_needless": float((refused.to_numpy() & ~protective).sum()),
        "fleet.admin_touches": float(r["admin_touches"].sum()),
    }
    out: dict[str, float] = {"fleet.replacements": float(n), **counts}
    for key, value in counts.items():
        out[f"{key}_share"] = value / n if n else np.nan
    service = r["service_hours"].to_numpy(np.float64)
    out["fleet.service_hours_mean"] = float(service.mean()) if n else np.nan
    out["fleet.service_hours_p95"] = float(np.percentile(service, 95)) if n else np.nan
    out["fleet.fields_lost_mean"] = float(r["fields_lost"].mean()) if n else np.nan
    for kind in ("borrow", "share", "move"):
        out[f"fleet.{kind}s"] = float((h["kind"] == kind).sum())
    return out
