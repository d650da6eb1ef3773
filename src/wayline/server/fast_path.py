"""The RPC fast path: a request for an RPC route is answered without FastAPI's route scan.

FastAPI matches a request by trying its routes in turn (two prefixes times about a hundred routes,
each through its included-router wrapper): about 0.3 ms a request before the handler starts, more
than the whole handler of a small write. Every RPC route is an exact path and method, so this ASGI
middleware looks it up in a dict and calls the same endpoint FastAPI would. Everything else (paths
with parameters, streaming artifact routes, the docs, unknown paths) goes on to FastAPI unchanged.
Errors are answered as the app's exception handlers answer them
(:func:`wayline.server.endpoint.failure_response`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.server.endpoint import failure_response

Endpoint = Callable[[Request], Awaitable[Response]]


class RpcFastPath:
    """ASGI middleware answering ``(method, path)`` pairs of ``routes`` directly."""

    def __init__(self, app: ASGIApp, routes: Mapping[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            endpoint = self.routes.get((scope["method"], scope["path"]))
            if endpoint is not None:
                request = Request(scope, receive, send)
                try:
                    response = await endpoint(request)
                except Exception as exc:  # every failure becomes the error envelope
                    response = failure_response(exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
