"""The scoring server's ASGI application (MLflow's scoring protocol), without a web framework on the
hot path: five routes, decoded and answered directly.

====================  ===========================================================================
``POST /invocations``  score a JSON, CSV or Parquet body: ``{"predictions": ...}``
``GET /ping``          200 once the model is loaded (also ``/health``)
``GET /version``       the Wayline version
``GET /metadata``      the served model: URI, registry version, flavors, signature, input example
====================  ===========================================================================

Errors are MLflow's envelope ``{"error_code": ..., "message": ...}``: 400 for a bad body or input that
does not match the signature, 413 for a body over the limit, 415 for an unsupported content type.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Receive, Scope, Send

from wayline import __version__
from wayline.errors import BadRequest, ErrorCode, InternalError, WaylineError
from wayline.models.serving.batcher import MicroBatcher
from wayline.models.serving.follower import AliasFollower, ModelHolder, ModelLoader, ServedModel, is_followed
from wayline.models.serving.output import encode_json, encode_predictions, error_body
from wayline.models.serving.payload import BodyTooLarge, media_type, parse_request

logger = logging.getLogger(__name__)

#: Bodies up to this size are decoded on the event loop; larger ones in a thread.
INLINE_DECODE_BYTES = 256 * 1024
#: How much of a body over the limit is read (and dropped) before answering 413, so that clients that
#: send the whole body before reading the answer see the 413 rather than a reset connection.
DRAIN_BYTES = 64 * 1024 * 1024
_JSON = b"application/json"


@dataclass(frozen=True)
class ServeOptions:
    """What ``wayline models serve`` is asked to do (one worker process's share of it)."""

    model_uri: str
    tracking_uri: str | None = None
    trusted: bool | None = None
    max_batch_size: int = 1024  # rows per call to the model; 1 turns batching off
    max_wait_ms: float = 2.0
    max_body_mib: float = 50.0
    poll_interval_s: float = 10.0
    predict_threads: int = 1
    local_dir: str | None = None  # a copy of the model already downloaded (by the parent process)
    version: int | None = None  # the registry version that copy is

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mib * 1024 * 1024)


class ScoringApp:
    """ASGI app: ``startup`` loads the model (unless given) and starts following an alias."""

    def __init__(
        self, options: ServeOptions, *, served: ServedModel | None = None, loader: ModelLoader | None = None
    ) -> None:
        self.options = options
        self.loader = loader or ModelLoader(
            options.model_uri, tracking_uri=options.tracking_uri, trusted=options.trusted
        )
        self.holder = ModelHolder(served)
        self.batcher = MicroBatcher(
            max_batch_rows=options.max_batch_size,
            max_wait_s=options.max_wait_ms / 1000.0,
            threads=options.predict_threads,
        )
        self.follower: AliasFollower | None = None
        self._follow_task: asyncio.Task[None] | None = None
        self._started = False
        self._start_lock: asyncio.Lock | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Load the model (if not loaded yet) and start polling the registry for a followed URI."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            if self.holder.current is None:
                self.holder.current = await asyncio.to_thread(self._initial_load)
            if is_followed(self.options.model_uri) and self.options.poll_interval_s > 0:
                self.follower = AliasFollower(
                    self.holder, self.loader, poll_interval_s=self.options.poll_interval_s
                )
                self._follow_task = asyncio.get_running_loop().create_task(
                    self.follower.run(), name="wayline-alias-follower"
                )
            self._started = True

    def _initial_load(self) -> ServedModel:
        options = self.options
        if options.local_dir is None:
            return self.loader.load()
        version = None
        if options.version is not None:
            version = self.loader.resolve()
            if version is not None and version.version != options.version:
                return self.loader.load(version)  # it moved while the workers started
        return self.loader.load(version, local_dir=Path(options.local_dir))

    async def shutdown(self) -> None:
        if self._follow_task is not None:
            self._follow_task.cancel()
            await asyncio.gather(self._follow_task, return_exceptions=True)
            self._follow_task = None
        await self.batcher.close()
        await asyncio.to_thread(self.loader.close)

    # --- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    logger.error("Cannot load the model %s: %s", self.options.model_uri, exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/invocations":
            if method != "POST":
                await _error(
                    send, WaylineError("Use POST for /invocations", error_code=ErrorCode.BAD_REQUEST), 405
                )
                return
            await self._invocations(scope, receive, send)
            return
        if path in ("/ping", "/health", "/version", "/metadata") and method not in ("GET", "HEAD"):
            await _error(send, WaylineError(f"Use GET for {path}", error_code=ErrorCode.BAD_REQUEST), 405)
            return
        if path in ("/ping", "/health"):
            await self._ensure_started(send)
            loaded = self.holder.current is not None
            await _respond(send, 200 if loaded else 503, b"\n")
        elif path == "/version":
            await _respond(send, 200, __version__.encode(), b"text/plain; charset=utf-8")
        elif path == "/metadata":
            if not await self._ensure_started(send):
                return
            served = self.holder.current
            assert served is not None
            await _respond(send, 200, encode_json(served.describe()))
        else:
            await _error(
                send,
                WaylineError(f"No endpoint {method} {path}", error_code=ErrorCode.ENDPOINT_NOT_FOUND),
            )

    async def _ensure_started(self, send: Send) -> bool:
        """Start on first use when no lifespan ran (an in-process client); answer 503 if loading fails."""
        if self._started:
            return True
        try:
            await self.startup()
        except Exception as exc:
            logger.error("Cannot load the model %s: %s", self.options.model_uri, exc)
            await _error(
                send,
                WaylineError(f"The model is not loaded: {exc}", error_code=ErrorCode.TEMPORARILY_UNAVAILABLE),
            )
            return False
        return True

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._ensure_started(send):
            return
        served = self.holder.current
        assert served is not None
        try:
            with self.batcher.arriving():
                content_type = _header(scope, b"content-type")
                media_type(content_type)
                body = await _read_body(scope, receive, self.options.max_body_bytes)
                schema = served.model.input_schema
                if len(body) <= INLINE_DECODE_BYTES:
                    parsed = parse_request(content_type, body, schema)
                else:
                    parsed = await asyncio.to_thread(parse_request, content_type, body, schema)
            predictions = await self.batcher.predict(served.model, parsed)
        except WaylineError as exc:
            await _error(send, exc)
            return
        except Exception as exc:  # the model failed on this input
            logger.info("The model failed on a request", exc_info=True)
            await _error(
                send,
                BadRequest(
                    "Encountered an unexpected error while evaluating the model. Verify that the input is "
                    f"compatible with the model: {type(exc).__name__}: {_short(exc)}"
                ),
            )
            return
        try:
            body_out = encode_predictions(predictions)
        except TypeError as exc:
            logger.error("Cannot encode the predictions: %s", exc)
            await _error(send, InternalError(f"The model's output cannot be encoded as JSON: {_short(exc)}"))
            return
        await _respond(send, 200, body_out)


def _short(exc: BaseException, limit: int = 500) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = _header(scope, b"content-length") or ""
    declared_size = int(declared) if declared.strip().isdigit() else 0
    too_large = declared_size > limit
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("The client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
        if too_large:
            chunks = []  # read on and drop, so that the client reads the 413 instead of a reset
            if size > limit + DRAIN_BYTES:
                break
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if too_large:
        raise _too_large(max(size, declared_size), limit)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(size: int, limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The request body ({size} bytes or more) is larger than the server's limit of {limit} bytes "
        "(--max-body-mib)"
    )


async def _respond(send: Send, status: int, body: bytes, content_type: bytes = _JSON) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, error: WaylineError, status: int | None = None) -> None:
    await _respond(send, status or error.http_status, error_body(error))


__all__ = ["INLINE_DECODE_BYTES", "ScoringApp", "ServeOptions"]
