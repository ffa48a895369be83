"""The world's vocabularies (state, reason, caller-kind and outcome codes) and the schema of
every table a run writes (documented in ``docs/tables.md``).

Categorical columns hold small integer codes in memory; the tuples here give their names,
in code order.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.common import CHANNELS, NUMBER_KINDS, SUBSCRIBER_TYPES
from models.platform.layout import CHANNELS as PLATFORM_CHANNELS
from models.platform.layout import OUTCOMES as PLATFORM_OUTCOMES
from models.platform.layout import TRANSFERS as PLATFORM_TRANSFERS
from models.provisioning.replacement import REASONS as REPLACEMENT_REASONS

__all__ = [
    "AGING",
    "ASSIGNED",
    "AVAILABLE",
    "BLOCKED",
    "CALL_KINDS",
    "Column",
    "DELIVERED",
    "DNI_OUTCOMES",
    "DNI_VIA",
    "END_REASONS",
    "FLEET_OUTCOMES",
    "FLEET_REASONS",
    "HEADSET_EVENTS",
    "LINE_TYPES",
    "OFF_NET",
    "OUTCOMES",
    "PLATFORM_HOURLY",
    "PORTED_OUT",
    "REASONS",
    "RESIDUAL",
    "ROBOCALLER",
    "SCHEMAS",
    "SPAM",
    "STATES",
    "VACANT",
]

STATES = ("available", "assigned", "aging", "ported_out")
"""Inventory states, in the order of their integer codes."""
REASONS = ("initial", "assign", "disconnect", "release", "port_out", "warm_aging")
"""Ledger transition reasons, in the order of their integer codes."""
LINE_TYPES = (*SUBSCRIBER_TYPES, "robocaller")
"""Who holds a line: the subscriber types, or a robocall campaign."""
CALL_KINDS = (*LINE_TYPES, "spam", "residual")
"""Ground-truth kinds of caller, in the order of their integer codes."""
OUTCOMES = ("blocked", "vacant", "delivered", "off_net")
"""Call outcomes at routing, in the order of their integer codes."""
END_REASONS = ("active", "disconnect", "port_out")
"""How a subscriber's tenure ended, in the order of their integer codes."""
DNI_VIA = ("store", "lease", "none")
"""How a tracked call was routed: the association store, the number's current lease, or
neither (the overflow number, or a number nobody leases)."""
DNI_OUTCOMES = ("correct", "misattributed", "unattributed")
"""A tracked call's attribution against the truth."""

FLEET_OUTCOMES = ("accept", "refuse", "admin")
"""A phone replacement's outcome: the record copied, refused, or left to an administrator."""
FLEET_REASONS = ("accepted", *REPLACEMENT_REASONS)
"""Why a replacement was refused or left to an administrator ("accepted" when it was not)."""
HEADSET_EVENTS = ("borrow", "return", "share", "move")
"""What happened to a headset: lent to another user, given back, shared with another user
for good, moved to another desk and user for good."""

PLATFORM_HOURLY = (
    "offered",
    "closed",
    "answered",
    "within_sl",
    "queued",
    "abandoned",
    "blocked",
    "no_ports",
    "refused",
    "retried",
    "wait_seconds",
    "texts",
    "texts_answered",
    "texts_within_sl",
    "dials",
    "connected",
    "agent_hours",
    "busy_hours",
    "trunk_hours",
)
"""Counts of ``platform_hourly`` per tenant and hour (see docs/tables.md)."""

AVAILABLE, ASSIGNED, AGING, PORTED_OUT = range(len(STATES))
BLOCKED, VACANT, DELIVERED, OFF_NET = range(len(OUTCOMES))
ROBOCALLER = LINE_TYPES.index("robocaller")
"""Line type (and call kind) of robocall campaign lines."""
SPAM = CALL_KINDS.index("spam")
"""Call kind of background spam."""
RESIDUAL = CALL_KINDS.index("residual")
"""Call kind of residual calls (meant for a number's previous owner)."""


@dataclass(frozen=True)
class Column:
    """One column of a table: name, NumPy dtype, and categories if categorical."""

    name: str
    dtype: str
    categories: tuple[str, ...] | None = None


def _cols(*spec) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in spec)


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "calls": _cols(
        ("t", "float64"),
        ("caller", "int64"),
        ("callee", "int64"),
        ("caller_id", "int32"),
        ("callee_id", "int32"),
        ("outcome", "int8", OUTCOMES),
        ("answered", "bool"),
        ("duration", "float32"),
        ("kind", "int8", CALL_KINDS),
        ("campaign", "int32"),
    ),
    "ledger": _cols(
        ("t", "float64"),
        ("number", "int64"),
        ("number_id", "int32"),
        ("from_state", "int8", STATES),
        ("to_state", "int8", STATES),
        ("reason", "int8", REASONS),
        ("owner", "int32"),
    ),
    "subscribers": _cols(
        ("subscriber", "int32"),
        ("type", "int8", LINE_TYPES),
        ("campaign", "int32"),
        ("number", "int64"),
        ("number_id", "int32"),
        ("initial", "bool"),
        ("start", "float64"),
        ("end", "float64"),
        ("end_reason", "int8", END_REASONS),
        ("rate_multiplier", "float64"),
        ("contacts", "int32"),
    ),
    "exhaustion": _cols(("t", "float64"), ("type", "int8", LINE_TYPES)),
    "flags": _cols(("t", "float64"), ("number", "int64"), ("number_id", "int32")),
    "watchlist": _cols(("t", "float64"), ("listed", "int64"), ("flagged", "int64")),
    "states": _cols(
        ("t", "float64"),
        ("available", "int64"),
        ("assigned", "int64"),
        ("aging", "int64"),
        ("ported_out", "int64"),
    ),
    "daily": _cols(
        ("day", "int32"),
        ("arrivals", "int64"),
        ("exhaustion", "int64"),
        ("disconnects", "int64"),
        ("port_outs", "int64"),
        ("releases", "int64"),
        ("subscribers", "int64"),
    ),
    "episodes": _cols(
        ("episode", "int32"),
        ("number", "int64"),
        ("number_id", "int32"),
        ("line", "int32"),
        ("type", "int8", LINE_TYPES),
        ("t", "float64"),
        ("tenure_days", "float64"),
        ("inbound_90d", "float64"),
        ("unique_callers_90d", "float64"),
        ("robocall_share", "float64"),
        ("earlier_reassignments", "int32"),
        ("lam0", "float64"),
        ("alpha", "float64"),
        ("beta_days", "float64"),
        ("persistent_per_day", "float64"),
        ("persistent_days", "float64"),
        ("spam_per_day", "float64"),
        ("release_t", "float64"),
        ("reassign_t", "float64"),
        ("harm_calls", "int64"),
        ("harm_calls_all", "int64"),
        ("false_clean", "bool"),
    ),
    "crossings": _cols(
        ("episode", "int32"),
        ("threshold", "float64"),
        ("first_days", "float64"),
        ("stable_days", "float64"),
        ("obs_first_days", "float64"),
        ("obs_stable_days", "float64"),
    ),
    "threshold_status": _cols(
        ("t", "float64"),
        ("episode", "int32"),
        ("number_id", "int32"),
        ("threshold", "float64"),
        ("below", "bool"),
        ("state", "int8", STATES),
    ),
    "early_inbound": _cols(
        ("episode", "int32"),
        ("day", "int16"),
        ("calls", "int32"),
    ),
    "impressions": _cols(
        ("t", "float64"),
        ("impression", "int64"),
        ("consumer", "int32"),
        ("area", "int16"),
        ("channel", "int8", CHANNELS),
        ("sponsor", "int16"),
        ("kind", "int8", NUMBER_KINDS),
        ("number_id", "int32"),
        ("lease_end", "float64"),
        ("call_prob", "float32"),
    ),
    "dni_calls": _cols(
        ("t", "float64"),
        ("impression", "int64"),
        ("consumer", "int32"),
        ("withheld", "bool"),
        ("number_id", "int32"),
        ("kind", "int8", NUMBER_KINDS),
        ("sponsor", "int16"),
        ("attributed", "int64"),
        ("routed_sponsor", "int16"),
        ("via", "int8", DNI_VIA),
        ("outcome", "int8", DNI_OUTCOMES),
        ("in_window", "bool"),
        ("repeat", "bool"),
        ("minutes", "float32"),
    ),
    "pool": _cols(
        ("t", "float64"),
        ("size", "int64"),
        *((f"size_{k}", "int64") for k in NUMBER_KINDS),
        ("busy", "int64"),
        ("store_entries", "int64"),
        ("sessions", "int64"),
        ("blocked", "int64"),
    ),
    "storm_phones": _cols(
        ("phone", "int32"),
        ("boot", "float64"),
        ("first_attempt", "float64"),
        ("registered", "float64"),
        ("transactions", "int32"),
        ("messages", "int32"),
        ("timeouts", "int32"),
        ("rejected", "int32"),
        ("queue_wait", "float64"),
        ("number_before", "int32"),
        ("number_after", "int32"),
    ),
    "storm_seconds": _cols(
        ("second", "int32"),
        ("sent", "int64"),
        ("dropped_limit", "int64"),
        ("dropped_full", "int64"),
        ("negotiated", "int64"),
        ("stale", "int64"),
        ("duplicates", "int64"),
        ("rejected", "int64"),
        ("queue_max", "int64"),
    ),
    "fleet_replacements": _cols(
        ("t", "float64"),
        ("user", "int32"),
        ("headset", "int32"),
        ("headset_users", "int16"),
        ("found_user", "int32"),
        ("still_registered", "bool"),
        ("pin_offered", "bool"),
        ("pin_ok", "bool"),
        ("outcome", "int8", FLEET_OUTCOMES),
        ("reason", "int8", FLEET_REASONS),
        ("wrong_user", "bool"),
        ("protective", "bool"),
        ("fields_lost", "int16"),
        ("admin_touches", "int8"),
        ("install_hours", "float64"),
        ("service_hours", "float64"),
    ),
    "fleet_headsets": _cols(
        ("t", "float64"),
        ("headset", "int32"),
        ("kind", "int8", HEADSET_EVENTS),
        ("from_user", "int32"),
        ("to_user", "int32"),
    ),
    "platform_sessions": _cols(
        ("t", "float64"),
        ("session", "int64"),
        ("attempt", "int8"),
        ("tenant", "int16"),
        ("customer", "int32"),
        ("number_id", "int32"),
        ("channel", "int8", PLATFORM_CHANNELS),
        ("skill", "int8"),
        ("outcome", "int8", PLATFORM_OUTCOMES),
        ("wait", "float32"),
        ("queued", "bool"),
        ("answered_at", "float64"),
        ("talk", "float32"),
        ("talk2", "float32"),
        ("end", "float64"),
        ("agent", "int32"),
        ("agent2", "int32"),
        ("transfer", "int8", PLATFORM_TRANSFERS),
        ("legs", "int8"),
        ("ports", "int16"),
        ("port_seconds", "float32"),
        ("carrier", "int8"),
        ("failovers", "int8"),
        ("billed_seconds", "float32"),
        ("cost", "float32"),
        ("free_trunks", "int32"),
        ("retried", "bool"),
    ),
    "platform_hourly": _cols(
        ("t", "float64"),
        ("tenant", "int16"),
        *((name, "float64") for name in PLATFORM_HOURLY),
    ),
    "platform_carriers": _cols(
        ("t", "float64"),
        ("carrier", "int8"),
        ("attempts", "int64"),
        ("connected", "int64"),
        ("failed_down", "int64"),
        ("skipped_full", "int64"),
        ("skipped_cps", "int64"),
        ("peak_channels", "int64"),
        ("billed_minutes", "float64"),
        ("cost", "float64"),
    ),
    "platform_media": _cols(
        ("t", "float64"),
        ("trunks_peak", "int64"),
        ("trunks_mean", "float64"),
        ("ports_peak", "int64"),
        ("ports_mean", "float64"),
        ("in_system", "int64"),
        ("agents", "int64"),
    ),
    "daily_calls": _cols(
        ("day", "int32"),
        ("kind", "int8", CALL_KINDS),
        ("attempts", "int64"),
        ("blocked", "int64"),
        ("vacant", "int64"),
        ("off_net", "int64"),
        ("answered", "int64"),
        ("minutes", "float64"),
    ),
}
