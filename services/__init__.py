"""tnlab's network services: real servers that real clients talk to.

Each service is a subpackage with the same shape -- its logic without I/O (in ``models`` or
its own pure modules), storage in SQLite (WAL), the network around them -- and a module
named in :data:`SERVICES` that gives ``add_arguments(parser)`` and ``run(args) -> int``, so
that ``tnlab serve NAME`` starts it in the foreground on 127.0.0.1 by default.  Services use
``models``, never ``sim``.
"""

from __future__ import annotations

__all__ = ["SERVICES"]

SERVICES: dict[str, str] = {
    "provisioning": "services.provisioning.cli",
    "voice": "services.voice.cli",
}
"""Service name -> the module that runs it (imported only when it is served)."""
