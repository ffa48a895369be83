"""HTTP and WebSocket of the voice service (Starlette on uvicorn).

``POST /command`` ``{"text": ..., "session": ..., "who": ...}``; ``POST /audio`` a 16 kHz
mono WAV body (``X-Session`` and ``X-Who`` headers); ``WS /ws`` the same turns as JSON text
messages or binary WAV frames; ``GET /state``, ``GET /journal``, ``GET /speech?text=``
(the reply synthesised, a WAV), ``GET /`` the voice assist page.  Every input is checked
before anything changes; a bad one gets a 4xx (or an ``error`` message on the WebSocket)
with one sentence saying why.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from models.voice.jsgf import command_grammar, confirm_grammar
from models.voice.recognize import Recognizer, in_dictionary
from models.voice.speech import AudioError, check_audio, read_wav, synthesize

from .engine import Engine

__all__ = ["Limits", "app"]

PAGE = Path(__file__).with_name("page.html")
_LOG = logging.getLogger(__name__)
_SESSION = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Limits(BaseModel):
    """What the service accepts."""

    max_seconds: float = Field(gt=0, description="Longest utterance (s).")
    silence_dbfs: float = Field(description="Audio quieter than this is silence (dBFS).")
    max_text: int = Field(gt=0, description="Longest typed command (characters).")


class CommandIn(BaseModel):
    """A typed command."""

    model_config = ConfigDict(extra="forbid", strict=True)
    text: str = Field(min_length=1, max_length=500)
    session: str = Field(default="default", pattern=_SESSION.pattern)
    who: str = Field(default="anonymous", min_length=1, max_length=64)


def _log_failure(job: Future) -> None:
    """Log a grammar compilation that failed after a turn (the next decode compiles the
    grammar again and answers with the error, if any)."""
    if job.exception() is not None:
        _LOG.error("compiling the next grammar failed: %s", job.exception())


class _Bad(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


class Voice:
    """The service's handlers around one :class:`Engine` (SQLite from the loop's thread;
    decoding in one worker thread, which owns the decoder)."""

    def __init__(self, engine: Engine, limits: Limits) -> None:
        self.engine = engine
        self.limits = limits
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decoder")
        self._recognizer: Recognizer | None = None
        self.lock = asyncio.Lock()

    def _ready(self) -> Recognizer:
        if self._recognizer is None:
            self._recognizer = Recognizer("jsgf")
            self._recognizer.set_grammar("confirm", confirm_grammar(), fillers=True)
        return self._recognizer

    def _decode(self, samples: Any, grammar_text: str, expect: str) -> tuple[str, float, float]:
        r = self._ready()
        if expect == "yes_no":
            res = r.recognize(samples, "confirm")
        else:
            r.set_grammar("command", grammar_text)  # compiled after the last turn already
            res = r.recognize(samples, "command")
        return res.text, res.confidence, res.seconds

    def _prepare(self) -> None:
        """Compile the grammar of the equipment as a turn left it, in the decoder's thread
        (about 30 ms), so that the next utterance does not wait for it; only once speech
        has been used (the recogniser exists)."""
        if self._recognizer is not None:
            grammar = command_grammar(self.engine.store.equipment, in_dictionary)
            job = self.pool.submit(self._recognizer.set_grammar, "command", grammar)
            job.add_done_callback(_log_failure)

    async def text_turn(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = CommandIn.model_validate(body)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "body"
            raise _Bad(422, f"{where}: {err['msg']}") from None
        if len(cmd.text) > self.limits.max_text:
            raise _Bad(422, f"text: longer than {self.limits.max_text} characters")
        async with self.lock:
            out = self.engine.handle(cmd.session, cmd.who, cmd.text, 1.0)
            self._prepare()
            return out

    async def audio_turn(self, data: bytes, session: str, who: str) -> dict[str, Any]:
        if not _SESSION.match(session):
            raise _Bad(422, "session: letters, digits, '_', '-' or '.', at most 64")
        if not who or len(who) > 64 or not who.isprintable():
            raise _Bad(422, "who: 1-64 printable characters")
        try:
            samples = read_wav(data, max_seconds=self.limits.max_seconds)
            check_audio(samples, silence_dbfs=self.limits.silence_dbfs)
        except AudioError as e:
            raise _Bad(422, f"audio: {e}") from None
        async with self.lock:
            expect = self.engine.expects(session)
            grammar = command_grammar(self.engine.store.equipment, in_dictionary)
            loop = asyncio.get_running_loop()
            text, conf, seconds = await loop.run_in_executor(
                self.pool, self._decode, samples, grammar, expect
            )
            out = self.engine.handle(session, who, text, conf)
            self._prepare()
        out["recognition_ms"] = round(1000 * seconds, 1)
        return out


def app(engine: Engine, limits: Limits) -> Starlette:
    """The Starlette application of the service."""
    v = Voice(engine, limits)
    max_body = int(44 + 2 * 16_000 * limits.max_seconds + 4096)

    async def body_of(request: Request, limit: int, what: str = "") -> bytes:
        message = what or f"body larger than {limit} bytes"
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > limit):
            raise _Bad(413, message)
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise _Bad(413, message)
        return data

    def guarded(handler):  # type: ignore[no-untyped-def]
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except _Bad as e:
                return JSONResponse({"error": e.message}, status_code=e.status)

        return wrapped

    @guarded
    async def command(request: Request) -> Response:
        import json

        data = await body_of(request, 8192)
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise _Bad(400, "body: not JSON") from None
        if not isinstance(body, dict):
            raise _Bad(422, "body: expected a JSON object")
        return JSONResponse(await v.text_turn(body))

    @guarded
    async def audio(request: Request) -> Response:
        data = await body_of(
            request,
            max_body,
            f"audio: longer than {limits.max_seconds:g} s (over {max_body} bytes)",
        )
        session = request.headers.get("x-session", "default")
        who = request.headers.get("x-who", "anonymous")
        return JSONResponse(await v.audio_turn(data, session, who))

    async def state(request: Request) -> Response:
        return JSONResponse(engine.store.equipment.to_dict())

    @guarded
    async def journal(request: Request) -> Response:
        limit = request.query_params.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            raise _Bad(422, "limit: an integer 1..1000")
        return JSONResponse(engine.store.journal(int(limit)))

    @guarded
    async def speech(request: Request) -> Response:
        text = request.query_params.get("text", "")
        if not 1 <= len(text) <= 500 or not text.isprintable():
            raise _Bad(422, "text: 1-500 printable characters")
        loop = asyncio.get_running_loop()
        wav = await loop.run_in_executor(None, lambda: synthesize(text, voice="en-us", rate=165))
        return Response(wav, media_type="audio/wav")

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        session = f"ws-{id(socket)}"
        who = socket.query_params.get("who", "assist-unit")[:64] or "assist-unit"
        try:
            while True:
                msg = await socket.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                try:
                    if msg.get("bytes") is not None:
                        out = await v.audio_turn(msg["bytes"], session, who)
                    else:
                        import json

                        try:
                            body = json.loads(msg.get("text") or "")
                        except ValueError:
                            raise _Bad(400, "message: not JSON") from None
                        if not isinstance(body, dict):
                            raise _Bad(422, "message: expected a JSON object")
                        out = await v.text_turn({**body, "session": session})
                except _Bad as e:
                    out = {"error": e.message}
                await socket.send_json(out)
        except WebSocketDisconnect:
            return

    return Starlette(
        routes=[
            Route("/", page),
            Route("/command", command, methods=["POST"]),
            Route("/audio", audio, methods=["POST"]),
            Route("/state", state),
            Route("/journal", journal),
            Route("/speech", speech),
            WebSocketRoute("/ws", ws),
        ]
    )
