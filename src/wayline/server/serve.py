"""Running the app under uvicorn, with one worker process or many sharing one listening socket.

uvicorn's own multi-worker mode binds its socket as ``socket.socket(family)``, so the socket's ``proto`` is 0
and asyncio never sets ``TCP_NODELAY`` on accepted connections (it checks ``proto == IPPROTO_TCP``). A
response written in two parts then waits for the client's delayed ACK, about 40 ms per keep-alive request.
Wayline binds the socket itself with ``IPPROTO_TCP`` and hands it to uvicorn, in both modes.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable

from wayline.server.settings import ServerSettings

logger = logging.getLogger("wayline.server")

APP_FACTORY = "wayline.server.asgi:app_from_env"
BACKLOG = 2048


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get TCP_NODELAY from asyncio."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        # Listen now: connections made as soon as the URL is printed wait in the backlog until a worker
        # accepts them, instead of being refused while uvicorn starts.
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def prepare(settings: ServerSettings) -> None:
    """Create or check the schema once, before workers start, so that they never race on migrations; warn
    when the workers' connection pools may need more connections than PostgreSQL allows."""
    from wayline.server.app import build_context
    from wayline.store.pool_limits import connection_budget
    from wayline.store.sql import SqlTrackingStore

    ctx = build_context(settings)
    try:
        store = ctx.tracking.store
        budget = connection_budget(store.engine) if isinstance(store, SqlTrackingStore) else None
        shortfall = budget.shortfall(settings.pool_limits, settings.workers) if budget else None
        if shortfall:
            logger.warning("%s", shortfall)
    finally:
        ctx.close()


def serve(settings: ServerSettings, *, announce: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted. ``announce`` receives the URL once the socket is bound (port 0 picks one)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from wayline.server.logs import log_to_stderr

    log_to_stderr(settings.log_level)  # the records of ``prepare`` too, before any worker starts
    prepare(settings)
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    settings = settings.with_overrides(port=port)
    os.environ.update(settings.to_env())
    from wayline.server.protocol import WaylineHttpProtocol

    config = uvicorn.Config(
        APP_FACTORY,
        http=WaylineHttpProtocol,
        factory=True,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        proxy_headers=True,
        timeout_keep_alive=30,
        backlog=BACKLOG,
    )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{port}"
    (announce or _print)(url)
    if settings.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


def _print(url: str) -> None:
    sys.stdout.write(f"Wayline server listening on {url}\n")
    sys.stdout.flush()
