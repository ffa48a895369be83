"""IP-phone provisioning: the logic without I/O that the provisioning service
(``services/provisioning``) and the provisioning studies share.

* :mod:`.records` -- the phone record (:class:`PhoneConfig`) and its field-driven copy.
* :mod:`.replacement` -- what the server observes of a replacement request, the decision,
  and the policies (:data:`REPLACEMENT_POLICIES`).
* :mod:`.allocation` -- the number pool: static numbers excluded, idempotent per device,
  aging before reuse, exhaustion signalled.
* :mod:`.digest` -- digest authentication (RFC 7616 / RFC 8760) and nonces.
* :mod:`.numbering` -- NANP number blocks and E.164 spelling (``phonenumbers``).
"""

from __future__ import annotations

from .allocation import (
    AGING_BOUNDS,
    NumberPool,
    PoolExhausted,
    check_aging_days,
    retry_after_seconds,
)
from .numbering import e164, number_block
from .records import (
    Forwarding,
    LineAppearance,
    PhoneConfig,
    SpeedDial,
    Voicemail,
    config_fields,
    config_from_dict,
    config_to_dict,
    copy_config,
)
from .replacement import (
    BASIC_EXCLUDED,
    REASONS,
    REPLACEMENT_POLICIES,
    HeadsetId,
    ReplacementDecision,
    ReplacementPolicy,
    ReplacementRequest,
)

__all__ = [
    "AGING_BOUNDS",
    "BASIC_EXCLUDED",
    "Forwarding",
    "HeadsetId",
    "LineAppearance",
    "NumberPool",
    "PhoneConfig",
    "PoolExhausted",
    "REASONS",
    "REPLACEMENT_POLICIES",
    "ReplacementDecision",
    "ReplacementPolicy",
    "ReplacementRequest",
    "SpeedDial",
    "Voicemail",
    "check_aging_days",
    "config_fields",
    "config_from_dict",
    "config_to_dict",
    "copy_config",
    "e164",
    "number_block",
    "retry_after_seconds",
]
