"""The HTTP side (Starlette on uvicorn): phones fetch their configuration, administrators
manage devices, numbers and history.

Phones (``--http-port``), what a phone fetches after DHCP option 66 names this server:

``GET /phones/{mac}.json``
    The phone's record and how to register, behind HTTP digest authentication with the
    device's own credentials (RFC 7616; the same nonces as SIP).  In quarantine mode an
    unknown device gets an emergency-only profile.

Administrators (``--admin-port``, 127.0.0.1 by default; ``Authorization: Bearer <token>``):

``GET /devices``, ``GET /devices/{mac}``
    Devices with their state, user, numbers, registration and record.
``POST /devices``
    ``{"devices": [{"mac", "secret", "user"?, "numbers"?, "config"?, "pin"?}]}``: known
    hardware; with ``numbers`` (static) or ``config`` the phone is provisioned at once.
``DELETE /devices/{mac}``
    Retire a phone: its pool numbers go into aging.
``PUT /users/{user}/pin``
    ``{"pin": "1234"}``.
``POST /replacements``
    ``{"old": mac, "new": mac}``: an administrator's replacement (every field copied).
``GET /numbers``, ``GET /history?after=ID``
    The inventory and the events.
"""

from __future__ import annotations

import dataclasses
import hmac
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from models.provisioning import PhoneConfig, config_fields, config_from_dict, config_to_dict, e164

from .auth import challenges, verify
from .registrar import QUARANTINE_DIAL_PLAN, Registrar
from .store import Device, Store, normalize_mac

__all__ = ["admin_app", "phone_app", "by_port"]

MAX_BODY = 1 << 20


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _device_json(store: Store, d: Device, now: float, full: bool) -> dict[str, Any]:
    numbers = [
        r[0] for r in store.db.execute("SELECT number FROM numbers WHERE holder = ?", (d.mac,))
    ]
    out: dict[str, Any] = {
        "mac": d.mac,
        "state": d.state,
        "user": d.user,
        "numbers": numbers,
        "registered": store.registered(d.mac, now),
        "replaced_by": d.replaced_by,
    }
    if full:
        out["config"] = None if d.config is None else config_to_dict(d.config)
        out["bindings"] = [
            {"number": b.number, "contact": b.contact, "expires_at": b.expires_at}
            for n in numbers
            for b in store.bindings(n, now)
        ]
    return out


def phone_app(registrar: Registrar, sip_address: str, clock: Callable[[], float]) -> Starlette:
    """The phones' configuration server.

    Parameters
    ----------
    registrar : Registrar
        Its store, nonces and settings.
    sip_address : str
        ``host:port`` phones register to.
    clock : callable
        Current time.
    """
    store, s = registrar.store, registrar.s

    async def config(request: Request) -> Response:
        name = request.path_params["name"]
        if not name.endswith(".json"):
            return _error(404, "not found")
        try:
            mac = normalize_mac(name[: -len(".json")])
        except ValueError:
            return _error(404, "not found")
        now = clock()
        v = verify(
            request.headers.get("authorization"),
            request.method,
            request.url.path,
            store=store,
            nonces=registrar.nonces,
            algorithms=s.algorithms,
            now=now,
        )
        if v.kind == "challenge":
            headers = [
                ("WWW-Authenticate", c)
                for c in challenges(registrar.nonces, s.realm, s.algorithms, now, v.stale)
            ]
            resp = _error(401, "unauthorized")
            for k, val in headers:
                resp.headers.append(k, val)
            return resp
        if v.kind == "unknown" and s.unknown_device == "quarantine":
            return JSONResponse(
                {
                    "mac": mac,
                    "quarantine": True,
                    "dial_plan": list(QUARANTINE_DIAL_PLAN),
                    "config": config_to_dict(PhoneConfig()),
                }
            )
        if v.kind == "bad":
            return _error(400, v.reason)
        if v.kind != "ok" or v.device is None or v.device.mac != mac:
            return _error(403, v.reason or "forbidden")
        d = v.device
        return JSONResponse(
            {
                "mac": d.mac,
                "user": d.user,
                "quarantine": False,
                "config": None if d.config is None else config_to_dict(d.config),
                "sip": {
                    "registrar": sip_address,
                    "transport": "udp",
                    "realm": s.realm,
                    "username": d.mac,
                },
            }
        )

    return Starlette(routes=[Route("/phones/{name}", config, methods=["GET"])])


class _NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mac: str = Field(description="MAC address")
    secret: str = Field(min_length=8, max_length=128, description="device secret")
    user: str | None = Field(None, min_length=1, max_length=128, description="owner")
    numbers: list[str] = Field([], max_length=16, description="static numbers")
    config: dict[str, Any] | None = Field(None, description="record")
    pin: str | None = Field(None, description="the user's replacement PIN")


class _Devices(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    devices: list[_NewDevice] = Field(max_length=100_000, description="devices to add")


class _Pin(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    pin: str = Field(description="4-12 digits")


class _Replacement(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    old: str = Field(description="MAC of the replaced phone")
    new: str = Field(description="MAC of the new phone")


async def _body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValueError("body too large")
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None


def admin_app(store: Store, token: str, clock: Callable[[], float]) -> Starlette:
    """The administrators' API (see the module's docstring).

    Parameters
    ----------
    store : Store
        The records.
    token : str
        The bearer token every request must carry.
    clock : callable
        Current time.
    """
    expected = f"Bearer {token}".encode()

    def guarded(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def inner(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                return _error(401, "a bearer token is required")
            try:
                result: Response = await fn(request)
            except ValueError as e:
                store.rollback()
                return _error(400, str(e))
            except KeyError as e:
                store.rollback()
                return _error(404, str(e).strip("'\""))
            return result

        return inner

    def _paging(request: Request) -> tuple[int, int]:
        try:
            limit = int(request.query_params.get("limit", "1000"))
            offset = int(request.query_params.get("offset", request.query_params.get("after", "0")))
        except ValueError:
            raise ValueError("limit and offset are integers") from None
        if not (1 <= limit <= 100_000 and offset >= 0):
            raise ValueError("limit is 1..100000 and offset >= 0")
        return limit, offset

    def _mac(request: Request) -> str:
        mac = normalize_mac(request.path_params["mac"])
        if store.device(mac) is None:
            raise KeyError(f"unknown device {mac}")
        return mac

    async def list_devices(request: Request) -> Response:
        limit, offset = _paging(request)
        now = clock()
        return JSONResponse(
            [_device_json(store, d, now, False) for d in store.devices(limit=limit, offset=offset)]
        )

    async def get_device(request: Request) -> Response:
        d = store.device(_mac(request))
        assert d is not None
        return JSONResponse(_device_json(store, d, clock(), True))

    async def add_devices(request: Request) -> Response:
        body = await _body(request, _Devices)
        now = clock()
        with store.atomic():
            added = store.add_devices([(d.mac, d.secret, d.user) for d in body.devices], now)
            for d in body.devices:
                mac = normalize_mac(d.mac)
                device = store.device(mac)
                assert device is not None
                if d.pin is not None:
                    store.set_pin(device.user, d.pin)
                if d.config is None and not d.numbers:
                    continue
                config = config_from_dict(d.config or {})
                statics = tuple(e164(n) for n in d.numbers)
                for n in statics:
                    store.assign_static(mac, n)
                numbers = statics + tuple(n for n in config.numbers if n not in statics)
                for n in config.numbers:
                    if n not in statics and store.holder(n) != mac:
                        raise ValueError(f"{n} is not one of this device's static numbers")
                store.set_config(mac, dataclasses.replace(config, numbers=numbers), now)
                store.log("provisioned", now, mac=mac, numbers=list(numbers))
            store.commit()
        return JSONResponse({"added": added}, status_code=201)

    async def delete_device(request: Request) -> Response:
        mac = _mac(request)
        now = clock()
        with store.atomic():
            released = store.retire(mac, now)
            store.log("retired", now, mac=mac, released=released)
            store.commit()
        return JSONResponse({"retired": mac, "aging": released})

    async def set_pin(request: Request) -> Response:
        body = await _body(request, _Pin)
        with store.atomic():
            store.set_pin(request.path_params["user"], body.pin)
            store.commit()
        return JSONResponse({"ok": True})

    async def replace(request: Request) -> Response:
        body = await _body(request, _Replacement)
        old, new = normalize_mac(body.old), normalize_mac(body.new)
        d_old, d_new = store.device(old), store.device(new)
        if d_old is None or d_old.config is None or d_old.state != "active":
            raise ValueError(f"{old} is not an active phone with a record")
        if d_new is None or d_new.state != "new":
            raise ValueError(f"{new} is not known hardware without a record")
        now = clock()
        with store.atomic():
            config = store.replace(old, new, config_fields(), now)
            store.log("replaced", now, mac=new, old=old, copied=list(config_fields()), key="admin")
            store.commit()
        return JSONResponse({"new": new, "config": config_to_dict(config)})

    async def numbers(request: Request) -> Response:
        limit, offset = _paging(request)
        return JSONResponse(store.numbers(limit=limit, offset=offset))

    async def history(request: Request) -> Response:
        limit, after = _paging(request)
        return JSONResponse(list(store.history(after=after, limit=limit)))

    routes = [
        Route("/devices", guarded(list_devices), methods=["GET"]),
        Route("/devices", guarded(add_devices), methods=["POST"]),
        Route("/devices/{mac}", guarded(get_device), methods=["GET"]),
        Route("/devices/{mac}", guarded(delete_device), methods=["DELETE"]),
        Route("/users/{user}/pin", guarded(set_pin), methods=["PUT"]),
        Route("/replacements", guarded(replace), methods=["POST"]),
        Route("/numbers", guarded(numbers), methods=["GET"]),
        Route("/history", guarded(history), methods=["GET"]),
    ]
    return Starlette(routes=routes)


def by_port(apps: dict[int, ASGIApp]) -> ASGIApp:
    """One ASGI app that hands each connection to the app of the port it arrived on."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") or ("", 0)
        target = apps.get(int(server[1] or 0))
        if target is None:
            if scope["type"] == "http":
                await _error(404, "not found")(scope, receive, send)
            return
        await target(scope, receive, send)

    return app


def now_clock() -> float:
    """Unix time (the service's clock)."""
    return time.time()
