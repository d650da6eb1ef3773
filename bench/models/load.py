"""A closed-loop HTTP/1.1 load generator on asyncio streams, light enough not to be the bottleneck.

``concurrency`` connections each send one request, read the whole response, and send the next, over one
keep-alive connection, for ``duration_s`` (after ``warmup_s`` unrecorded). Each response's status and
latency are recorded; a non-2xx answer counts as an error. Parsing is minimal: the status line and
``Content-Length`` (both servers answer with it), so one client core drives thousands of requests a second.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
        }


def _request(host: str, port: int, path: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(
    url: str, request: bytes, window: tuple[float, float], latencies: list[float], errors: list[int]
) -> None:
    start_at, stop_at = window
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                return
            writer.write(request)
            status = await _read_response(reader)
            ended = time.perf_counter()
            if began >= start_at:
                latencies.append(ended - began)
                if not 200 <= status < 300:
                    errors.append(status)
    finally:
        writer.close()


async def _run(url: str, request: bytes, concurrency: int, warmup_s: float, duration_s: float) -> LoadResult:
    latencies: list[float] = []
    errors: list[int] = []
    now = time.perf_counter()
    start_at, stop_at = now + warmup_s, now + warmup_s + duration_s
    await asyncio.gather(
        *(_worker(url, request, (start_at, stop_at), latencies, errors) for _ in range(concurrency))
    )
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000 if ordered else 0.0
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0
    return LoadResult(concurrency, len(latencies), len(errors), duration_s, p50, p99)


def run_load(
    url: str,
    body: bytes,
    *,
    concurrency: int,
    duration_s: float,
    warmup_s: float = 1.0,
    content_type: str = "application/json",
) -> LoadResult:
    """Drive ``POST url`` over ``concurrency`` keep-alive connections; ``duration_s`` of it is recorded."""
    parts = urlsplit(url)
    request = _request(parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/", body, content_type)
    return asyncio.run(_run(url, request, concurrency, warmup_s, duration_s))
