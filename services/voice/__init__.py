"""Voice command service (``tnlab serve voice``): a technician speaks or types a command
that manages numbers, phones, forwarding and port <-> line cross-connects; the service
parses it against the command grammar and the live equipment, reads back what is risky,
executes, journals and answers in words and synthesised speech.

Modules: :mod:`.store` (SQLite, WAL: the equipment and the journal), :mod:`.engine` (the
turns: confirmation, timeout, undo), :mod:`.web` (HTTP, WebSocket and the assist page),
:mod:`.cli` and :mod:`.main` (``tnlab serve voice``), :mod:`.client` (a small CLI client).
The logic without I/O is in :mod:`models.voice`.  See ``docs/voice.md``.
"""
