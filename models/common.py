"""Names shared by the models and the simulator, defined once.

``sim`` imports these (it may import ``models``); ``models`` never imports ``sim``.
"""

from __future__ import annotations

__all__ = ["DAY", "HOUR", "SUBSCRIBER_TYPES", "NUMBER_KINDS", "CHANNELS"]

DAY = 86400.0
"""Seconds per day."""
HOUR = 3600.0
"""Seconds per hour."""
SUBSCRIBER_TYPES = ("residential", "business", "call_centre", "notifier")
"""Subscriber types, in the order of their integer codes."""
NUMBER_KINDS = ("local", "non_local", "tollfree_800", "tollfree_other", "vanity")
"""Kinds of tracking number a DNI pool can hold (the arms of the composition bandits)."""
CHANNELS = ("search", "social", "display", "print")
"""Ad channels of the DNI market (``print`` stands for print and broadcast)."""
