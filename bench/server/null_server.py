"""The ceiling: a REST server that does the least any server must do, to measure the client's own limit.

The harness is one Python process (``requests``, 16 or 8 threads under one GIL) on the same 2 cores as the
server. Part of every figure is the client's own work: building and encoding a 1,000-point batch, decoding a
100,000-point history. This server answers the routes of ``metric_ingest``, ``metric_history`` and
``concurrency`` with no storage: it parses each request body (orjson; any server must) and keeps nothing; a
history (``WAYLINE_BENCH_HISTORY_POINTS`` points, as many as the harness logged) is served from bytes
encoded once. What the harness reaches against it is the best figure any server can reach with this client
on this machine; ``ceiling ÷ MLflow`` is then the best ratio a target can ask for.

Run with Wayline's venv: ``python bench/server/null_server.py --port P --workers N`` (the same workers as
Wayline's server, and its socket setup).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_ids = itertools.count(1)
#: Points of every history it serves: what the harness will ask for (the bench sets it from its sizes).
HISTORY_POINTS = int(os.environ.get("WAYLINE_BENCH_HISTORY_POINTS", "100000"))
_TS = 1_700_000_000_000


@functools.cache
def _history(key: str, page_size: int, page: int) -> bytes:
    """A page of a ``HISTORY_POINTS``-point history, encoded once per worker and served from then on."""
    count = HISTORY_POINTS
    start = page * page_size
    stop = min(count, start + page_size) if page_size else count
    steps = range(start, stop)
    points = [{"key": key, "value": (s * 0.001) % 7.0, "timestamp": _TS + s, "step": s} for s in steps]
    body: dict[str, Any] = {"metrics": points}
    if page_size and stop < count:
        body["next_page_token"] = str(page + 1)
    return orjson.dumps(body)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _answer(path: str, query: dict[str, list[str]], body: bytes) -> bytes:
    if body:
        orjson.loads(body)  # the least any server does with a request
    if path.endswith("/experiments/create"):
        return orjson.dumps({"experiment_id": str(next(_ids))})
    if path.endswith("/runs/create"):
        return orjson.dumps({"run": {"info": {"run_id": f"{next(_ids):032x}"}}})
    if path.endswith("/metrics/get-history"):
        page_size = int(query.get("max_results", ["0"])[0])
        page = int(query.get("page_token", ["0"])[0])
        return _history(query["metric_key"][0], page_size, page)
    return b"{}"  # log-batch, log-metric and anything else: parsed, accepted, nothing kept


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
        status, out = 200, _answer(path, query, body)
    else:
        status, out = 404, b'{"error_code": "ENDPOINT_NOT_FOUND", "message": "not served by the ceiling"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})


def main() -> None:
    """``python null_server.py --port P --workers N``: the socket is bound as Wayline's server binds it
    (TCP_NODELAY on accepted connections, see ``wayline.server.serve``): no Nagle stall on either side; and
    a response leaves in one write, as from Wayline's server (``wayline.server.protocol``)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from wayline.server.protocol import WaylineHttpProtocol
    from wayline.server.serve import bind_socket

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    sock = bind_socket(args.host, args.port)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # workers import null_server:app
    config = uvicorn.Config(
        "null_server:app",
        http=WaylineHttpProtocol,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    if args.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
