"""The app's front: the cross-site guard and the RPC fast path, ahead of FastAPI's own middleware stack.

Between uvicorn and a route, FastAPI runs its telemetry check, Starlette's error middleware, FastAPI's
exception-telemetry and body-limit middlewares (~0.12 ms a request here, besides the check's ~0.08 ms). The
RPC fast path (:class:`~wayline.server.fast_path.RpcFastPath`) needs none of them: it answers every failure
with the error envelope itself. So when FastAPI's native telemetry is off (:mod:`wayline.server.telemetry`),
:class:`WaylineApp` sends HTTP requests through the guard and the fast path first, and only what the fast
path does not answer goes on into FastAPI. When telemetry is on, both run inside FastAPI's stack instead,
so that every request is instrumented.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.server.cross_site import CrossSiteWriteGuard
from wayline.server.fast_path import Endpoint, RpcFastPath


class WaylineApp(FastAPI):
    """A FastAPI app whose HTTP requests may pass a front of ASGI middleware first (see the module)."""

    _front: ASGIApp | None = None
    #: The routes the fast path answers, by ``(method, path)``.
    fast_routes: Mapping[tuple[str, str], Endpoint] = {}

    @property
    def fast_path_ahead(self) -> bool:
        """Whether the guard and the fast path run ahead of FastAPI's middleware stack."""
        return self._front is not None

    def put_in_front(self, routes: Mapping[tuple[str, str], Endpoint], *, ahead_of_fastapi: bool) -> None:
        """The cross-site guard (outermost: before the fast path answers anything), then the fast path for
        ``routes``: ahead of FastAPI's middleware stack, or inside it as its outermost user middleware."""
        self.fast_routes = dict(routes)
        if ahead_of_fastapi:
            self._front = CrossSiteWriteGuard(RpcFastPath(self._fastapi, routes))
        else:
            self.add_middleware(RpcFastPath, routes=routes)
            self.add_middleware(CrossSiteWriteGuard)

    async def _fastapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self._front
        if front is not None and scope["type"] == "http":
            scope["app"] = self  # as Starlette sets it: endpoints find the server's context through it
            await front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


__all__ = ["WaylineApp"]
