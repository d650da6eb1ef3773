"""Artifact bytes between the async HTTP layer and the blocking artifact stores, never held whole.

Uploads: :func:`receive_body` runs the store's blocking writer (``write_stream``) in a worker thread and
feeds it the request body through a small bounded queue of blocks, so a slow store slows the client down
(TCP back-pressure) instead of filling memory. If the body ends early (the client went away), the writer
sees an error, not an end of file, so no truncated artifact is ever committed.

Downloads: :func:`file_response` streams an open artifact in chunks, with the type MLflow would send, an
attachment disposition, and ``Content-Length`` when the size is known.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import stat
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from fastapi import Request
from fastapi.responses import StreamingResponse

from wayline.artifacts.multipart import attachment_disposition
from wayline.errors import BadRequest, ErrorCode, WaylineError

T = TypeVar("T")

#: Request-body bytes gathered before they are handed to the writer thread.
BLOCK_SIZE = 1024 * 1024
#: Blocks waiting for the writer at most (so an upload buffers about ``BLOCK_SIZE * (QUEUE_BLOCKS + 2)``).
QUEUE_BLOCKS = 4
#: Bytes read from an artifact per chunk of a download.
DOWNLOAD_CHUNK_SIZE = 1024 * 1024
#: Uploads written at once per server process; more wait, so they never starve the shared thread pool.
MAX_CONCURRENT_UPLOADS = 16

#: Extensions (or whole names) MLflow serves as ``text/plain``.
TEXT_NAMES = frozenset(
    {
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "ipynb",
        "MLmodel",
        "MLproject",
    }
)

_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class _Transfer:
    """Set by the event loop once the whole body has been forwarded."""

    complete: bool = False


class _BodyReader(io.RawIOBase):
    """The writer thread's view of the request body: blocks received from the event loop."""

    def __init__(
        self, receive: MemoryObjectReceiveStream[list[bytes]], transfer: _Transfer, limit: int | None
    ):
        super().__init__()
        self._receive = receive
        self._transfer = transfer
        self._limit = limit
        self._block = b""
        self._position = 0
        #: The chunks of the block received last, and how many of them were taken into ``_block``.
        self._chunks: list[bytes] = []
        self._taken = 0
        self._eof = False
        self.received = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if not self._fill():
            return b""
        available = len(self._block) - self._position
        count = available if size is None or size < 0 else min(size, available)
        if self._position == 0 and count == len(self._block):
            out = self._block
        else:
            out = self._block[self._position : self._position + count]
        self._position += count
        return out

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def _fill(self) -> bool:
        """Make sure a block with unread bytes is at hand; False at the end of the body."""
        while self._position >= len(self._block):
            if self._taken < len(self._chunks):
                self._block = self._chunks[self._taken]
                self._taken += 1
                self._position = 0
                continue
            if self._eof:
                return False
            try:
                self._chunks = anyio.from_thread.run(self._receive.receive)
            except anyio.EndOfStream:
                self._eof = True
                if not self._transfer.complete:
                    raise BadRequest("The request body ended before it was complete") from None
                return False
            self._taken = 0
            self.received += sum(map(len, self._chunks))
            if self._limit is not None and self.received > self._limit:
                raise _too_large(self._limit)
        return True


async def receive_body(request: Request, write: Callable[[BinaryIO], T], *, limit: int | None = None) -> T:
    """Run ``write(stream)`` in a worker thread, ``stream`` yielding the request body; return its result.

    ``limit`` caps the body size in bytes (checked on ``Content-Length`` and while it streams).
    """
    declared = request.headers.get("content-length")
    if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    send, receive = anyio.create_memory_object_stream[list[bytes]](max_buffer_size=QUEUE_BLOCKS)
    transfer = _Transfer()
    reader = _BodyReader(receive, transfer, limit)
    results: list[T] = []
    failures: list[BaseException] = []

    def run() -> T:
        try:
            return write(cast(BinaryIO, reader))
        finally:
            anyio.from_thread.run_sync(receive.close)

    async def consume() -> None:
        try:
            results.append(await anyio.to_thread.run_sync(run, limiter=_upload_limiter()))
        except Exception as exc:
            failures.append(exc)

    async def produce() -> None:
        try:
            await _forward(request, send)
            transfer.complete = True
        except anyio.BrokenResourceError:
            pass  # the writer stopped reading (it failed); its error is the answer
        except Exception:
            pass  # the client went away: the writer sees an incomplete body and gives up
        finally:
            send.close()

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await produce()
    if failures:
        raise failures[0]
    return results[0]


async def _forward(request: Request, send: MemoryObjectSendStream[list[bytes]]) -> None:
    """Send the body to the writer in blocks of about :data:`BLOCK_SIZE` bytes: lists of the chunks as
    they arrived, so that no byte is copied on the way (the writer writes each chunk as it is)."""
    pending: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= BLOCK_SIZE:
            await send.send(pending)
            pending = []
            size = 0
    if pending:
        await send.send(pending)


def _upload_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(MAX_CONCURRENT_UPLOADS)
    return limiter


def _too_large(limit: int) -> WaylineError:
    return WaylineError(f"Request body exceeds the limit of {limit} bytes", error_code=ErrorCode.BAD_REQUEST)


def file_response(stream: BinaryIO, filename: str) -> StreamingResponse:
    """Stream ``stream`` (closed at the end) as the attachment ``filename``."""
    headers = {
        "Content-Disposition": attachment_disposition(filename),
        "X-Content-Type-Options": "nosniff",
    }
    size = content_length(stream)
    if size is not None:
        headers["Content-Length"] = str(size)
    return StreamingResponse(_chunks(stream), media_type=media_type(filename), headers=headers)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Chunks of ``stream``; Starlette pulls each one in a worker thread."""
    try:
        while chunk := stream.read(DOWNLOAD_CHUNK_SIZE):
            yield chunk
    finally:
        stream.close()


def content_length(stream: BinaryIO) -> int | None:
    """The size of an open artifact: a regular file's, or the ``size`` an object store reported."""
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    try:
        info = os.fstat(stream.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def media_type(filename: str) -> str:
    """The ``Content-Type`` MLflow sends for an artifact: plain text for logs, configs, code and data
    files (and ``MLmodel``), else by extension, else ``application/octet-stream``."""
    stem, dot, extension = filename.rpartition(".")
    if (extension if dot and stem else filename) in TEXT_NAMES:
        return "text/plain"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


__all__ = [
    "BLOCK_SIZE",
    "DOWNLOAD_CHUNK_SIZE",
    "MAX_CONCURRENT_UPLOADS",
    "QUEUE_BLOCKS",
    "content_length",
    "file_response",
    "media_type",
    "receive_body",
]
