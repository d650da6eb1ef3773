"""The ceiling: a REST server that does the least any server must do, to measure the client's own limit.

The harness is one Python process (``requests``, 16 or 8 threads under one GIL) on the same 2 cores as the
server. Part of every figure is the client's own work: building and encoding a 1,000-point batch, decoding
a 100,000-point history. This server answers the routes of ``metric_ingest``, ``metric_history`` and
``concurrency`` with no storage: it parses each request body (orjson; any server must) and keeps only a
count of points per run and key, and serves a history of that many points from bytes encoded once. What
the harness reaches against it is the best figure any server can reach with this client on this machine;
``ceiling ÷ MLflow`` is then the best ratio a target can ask for.

Run by uvicorn with one worker (the counts live in the process): ``uvicorn null_server:app --app-dir
bench/server``; standard library plus orjson only.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_ids = itertools.count(1)
_lock = threading.Lock()
#: (run_id, key) -> points logged (the steps the harness sends are 0..n-1 for each key).
_points: dict[tuple[str, str], int] = {}
#: (run_id, key, count, page size, page) -> the encoded page.
_pages: dict[tuple[str, str, int, int, int], bytes] = {}
_TS = 1_700_000_000_000


def _history(run_id: str, key: str, page_size: int, page: int) -> bytes:
    count = _points.get((run_id, key), 0)
    cache_key = (run_id, key, count, page_size, page)
    cached = _pages.get(cache_key)
    if cached is not None:
        return cached
    start = page * page_size
    stop = min(count, start + page_size) if page_size else count
    steps = range(start, stop)
    points = [{"key": key, "value": (s * 0.001) % 7.0, "timestamp": _TS + s, "step": s} for s in steps]
    body: dict[str, Any] = {"metrics": points}
    if page_size and stop < count:
        body["next_page_token"] = str(page + 1)
    encoded = orjson.dumps(body)
    _pages[cache_key] = encoded
    return encoded


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _answer(method: str, path: str, query: dict[str, list[str]], body: bytes) -> bytes:
    data = orjson.loads(body) if body else {}
    if path.endswith("/experiments/create"):
        return orjson.dumps({"experiment_id": str(next(_ids))})
    if path.endswith("/runs/create"):
        return orjson.dumps({"run": {"info": {"run_id": f"{next(_ids):032x}"}}})
    if path.endswith("/runs/log-batch"):
        counts: dict[str, int] = {}
        for metric in data.get("metrics", ()):
            counts[metric["key"]] = counts.get(metric["key"], 0) + 1
        with _lock:
            for key, n in counts.items():
                run_key = (data["run_id"], key)
                _points[run_key] = _points.get(run_key, 0) + n
        return b"{}"
    if path.endswith("/metrics/get-history"):
        page_size = int(query.get("max_results", ["0"])[0])
        page = int(query.get("page_token", ["0"])[0])
        return _history(query["run_id"][0], query["metric_key"][0], page_size, page)
    return b"{}"  # log-metric and anything else: accepted, nothing kept


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()  # startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = await _body(receive)
    path: str = scope["path"]
    if path == "/health":
        status, out = 200, b"OK"
    elif path.startswith(("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")):
        query = parse_qs(scope.get("query_string", b"").decode())
        status, out = 200, _answer(scope["method"], path, query, body)
    else:
        status, out = 404, b'{"error_code": "ENDPOINT_NOT_FOUND", "message": "not served by the ceiling"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})
