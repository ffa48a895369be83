"""Start the voice service: the store, the engine and the HTTP/WebSocket server on one
asyncio loop (SQLite from the loop's thread; decoding in one worker thread)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from typing import Any

from .engine import Engine
from .store import Store
from .web import Limits, app

__all__ = ["serve"]


async def _main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    import uvicorn

    store = Store(args.db, opts["equipment"])
    engine = Engine(
        store, opts["policy"], repeat_below=opts["repeat_below"], timeout=opts["timeout"]
    )
    limits = Limits(max_seconds=opts["max_seconds"], silence_dbfs=-50.0, max_text=500)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, opts["port"]))
    sock.listen(128)
    sock.setblocking(False)
    config = uvicorn.Config(
        app(engine, limits),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        ws="wsproto",
    )
    server = uvicorn.Server(config)
    host, port = sock.getsockname()[:2]
    print(f"ready http={host}:{port}", flush=True)
    try:
        await server.serve(sockets=[sock])
    finally:
        store.close()
    return 0


def serve(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Run the service in the foreground; its exit status."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    return asyncio.run(_main(args, opts))
