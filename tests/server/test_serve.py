"""The server process: socket options, settings from flags and environment, health and version."""

from __future__ import annotations

import asyncio
import socket

import requests

from servers import ServerProcess
from wayline import __version__
from wayline.server.serve import bind_socket
from wayline.server.settings import ServerSettings


def test_accepted_connections_get_tcp_nodelay() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; ours is, in every mode."""
    sock = bind_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    port = sock.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted = writer.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen
    assert seen[0] != 0


def test_settings_round_trip_through_the_environment() -> None:
    settings = ServerSettings(
        backend_store_uri="sqlite:///x.db", artifacts_destination="s3://b/p", workers=3, serve_artifacts=False
    )
    assert ServerSettings.from_env(settings.to_env()) == settings


def test_health_and_version(sqlite_server: ServerProcess) -> None:
    assert requests.get(sqlite_server.url + "/health", timeout=10).text == "OK"
    assert requests.get(sqlite_server.url + "/version", timeout=10).text == __version__
