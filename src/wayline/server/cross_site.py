"""Refusing cross-site writes from browsers (SECURITY.md §3: CSRF).

A page on another site can make a visitor's browser send a ``POST`` to this server (a form, or ``fetch``
with a "simple" content type needs no CORS preflight). Browsers mark such requests: they send ``Origin``
on every cross-origin request that is not a ``GET`` or ``HEAD``, and ``Sec-Fetch-Site: cross-site``. This
ASGI middleware refuses a state-changing request (any method but ``GET``, ``HEAD`` and ``OPTIONS``) whose
``Origin`` is not the server's own (its ``Host`` or ``X-Forwarded-Host`` header), or that a browser marks
``cross-site``, with ``PERMISSION_DENIED`` (403) before anything runs. API clients (the ``mlflow``
client, Wayline's, ``curl``) send neither header and are not affected; neither is the web UI, which is
served on the same origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from wayline.errors import ErrorCode, WaylineError
from wayline.server.endpoint import error_response

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ASGI header names are lower-case bytes.
_WANTED = frozenset({b"origin", b"sec-fetch-site", b"host", b"x-forwarded-host"})


def cross_site_reason(method: str, headers: dict[str, str]) -> str | None:
    """Why a request with these (lower-cased) headers is a cross-site write, or None when it is not."""
    if method in _SAFE_METHODS:
        return None
    if headers.get("sec-fetch-site") == "cross-site":
        return "the browser marked it cross-site"
    origin = headers.get("origin")
    if origin is None:
        return None
    # Behind a proxy that rewrites Host, the name the browser used is in X-Forwarded-Host.
    hosts = {
        h.strip().lower() for h in (headers.get("host", ""), *headers.get("x-forwarded-host", "").split(","))
    }
    if origin == "null" or urlsplit(origin).netloc.lower() not in hosts - {""}:
        return f"its Origin {origin!r} is not this server ({headers.get('host', '')!r})"
    return None


class CrossSiteWriteGuard:
    """ASGI middleware: 403 ``PERMISSION_DENIED`` for browsers' cross-site writes (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE_METHODS:
            # Writes are the ingest hot path: only the four headers that matter are decoded, and only
            # when a browser sent one of its markers (API clients send neither).
            wanted = {k: v for k, v in scope["headers"] if k in _WANTED}
            if b"origin" not in wanted and b"sec-fetch-site" not in wanted:
                await self.app(scope, receive, send)
                return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in wanted.items()}
            reason = cross_site_reason(scope["method"], headers)
            if reason is not None:
                error = WaylineError(
                    f"Refused a cross-site {scope['method']} request: {reason}",
                    error_code=ErrorCode.PERMISSION_DENIED,
                )
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


__all__ = ["CrossSiteWriteGuard", "cross_site_reason"]
