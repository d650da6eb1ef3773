"""The server process: socket options, settings from flags and environment, health and version."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
import requests

from servers import ServerProcess, start_server
from wayline import __version__
from wayline.errors import InvalidParameterValue
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


def test_log_level_must_be_one_of_uvicorns() -> None:
    assert ServerSettings.from_env({"WAYLINE_LOG_LEVEL": "WARNING"}).log_level == "WARNING"
    with pytest.raises(InvalidParameterValue, match=r"'log_level'.*must be one of critical, error"):
        ServerSettings.from_env({"WAYLINE_LOG_LEVEL": "loud"})


def test_a_one_worker_server_logs_wayline_warnings(tmp_path: Path) -> None:
    """The server's own records reach its output (here a webhook delivery that failed) in the one-worker
    mode too, where the server runs in the ``wayline`` command's process, whose records are otherwise shown
    only with ``WAYLINE_DEBUG=1``."""
    env = {"WAYLINE_WEBHOOK_ALLOW_PRIVATE": "true", "WAYLINE_WEBHOOK_MAX_ATTEMPTS": "1"}
    server = start_server(tmp_path / "data", env=env)
    try:
        with socket.socket() as closed:  # a loopback port that nothing listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        server.post_ok(
            "/api/2.0/mlflow/webhooks",
            {
                "name": "nobody-home",
                "url": f"http://127.0.0.1:{port}/hook",
                "events": [{"entity": "REGISTERED_MODEL", "action": "CREATED"}],
            },
        )
        server.post_ok("/api/2.0/mlflow/registered-models/create", {"name": "logged"})
        deadline = time.monotonic() + 30
        while "webhook delivery" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    (line,) = [line for line in server.log().splitlines() if "webhook delivery" in line]
    assert line.startswith("WARNING:")
    assert "wayline.webhooks" in line
    assert "nobody-home failed" in line
