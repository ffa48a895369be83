"""Start the provisioning service: the store, the SIP socket and the HTTP servers on one
asyncio loop (one core: SQLite is used from the loop's thread only)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
import time
from typing import Any

from models.provisioning import REPLACEMENT_POLICIES
from models.provisioning.digest import NonceBook

from .registrar import Registrar, Settings
from .server import SipServer
from .store import Store

__all__ = ["serve"]


def _tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def _addr(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def build(args: argparse.Namespace, opts: dict[str, Any]) -> tuple[Store, Registrar]:
    """The store (numbers and devices loaded) and the registrar, from checked options."""
    now = time.time()
    store = Store(":memory:" if args.memory else args.db, realm=args.realm, sync=args.sync)
    store.set_aging_days(opts["aging_days"])
    store.add_numbers(opts["numbers"], static=opts["static"])
    if opts["devices"]:
        store.add_devices(opts["devices"], now)
    store.commit()
    policy = REPLACEMENT_POLICIES.build(
        args.policy, refuse_conflicts=not args.allow_headset_conflicts
    )
    settings = Settings(
        realm=args.realm,
        algorithms=opts["algorithms"],
        auth=not args.no_auth,
        unknown_device=args.unknown_device,
        policy=policy,
        min_expires=opts["min_expires"],
    )
    nonces = NonceBook(os.urandom(32), lifetime=opts["nonce_lifetime"])
    return store, Registrar(store, settings, nonces)


async def _main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    import uvicorn

    from .web import admin_app, by_port, phone_app

    store, registrar = build(args, opts)
    loop = asyncio.get_running_loop()
    sip = SipServer(registrar, store, batch=opts["batch"])
    sip_host, sip_port = sip.bind(args.host, opts["sip_port"])
    http = _tcp(args.host, opts["http_port"])
    sockets = [http]
    apps = {http.getsockname()[1]: phone_app(registrar, f"{sip_host}:{sip_port}", time.time)}
    admin = None
    if "token" in opts:
        admin = _tcp(args.admin_host, opts["admin_port"])
        sockets.append(admin)
        apps[admin.getsockname()[1]] = admin_app(store, opts["token"], time.time)
    config = uvicorn.Config(
        by_port(apps),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    sip.start(loop)

    async def housekeeping() -> None:
        while True:
            await asyncio.sleep(60)
            store.expire_bindings(time.time())
            store.commit()

    task = asyncio.create_task(housekeeping())
    line = f"ready sip={sip_host}:{sip_port} http={_addr(http)}"
    print(line + (f" admin={_addr(admin)}" if admin else ""), flush=True)
    try:
        await server.serve(sockets=sockets)
    finally:
        task.cancel()
        sip.stop(loop)
        store.close()
    return 0


def serve(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """Run the service in the foreground; its exit status."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    return asyncio.run(_main(args, opts))
