"""The server process: socket options, settings from flags and environment, health and version."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from servers import ServerProcess, start_server
from wayline import __version__
from wayline.errors import InvalidParameterValue
from wayline.server.app import build_context
from wayline.server.serve import bind_socket
from wayline.server.settings import ServerSettings
from wayline.store.pool_limits import PoolLimits
from wayline.store.sql import SqlTrackingStore


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
        backend_store_uri="sqlite:///x.db",
        artifacts_destination="s3://b/p",
        workers=3,
        serve_artifacts=False,
        db_pool_size=4,
        db_max_overflow=0,
        db_pool_timeout_s=9,
    )
    assert ServerSettings.from_env(settings.to_env()) == settings
    assert settings.pool_limits == PoolLimits(size=4, max_overflow=0, timeout_s=9)


def test_pool_settings_take_mlflows_names_and_name_the_bad_one() -> None:
    env = {"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "3", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "1"}
    assert ServerSettings.from_env(env).pool_limits == PoolLimits(size=3, max_overflow=1)
    with pytest.raises(InvalidParameterValue, match=r"'WAYLINE_DB_POOL_TIMEOUT'.*must be an integer"):
        ServerSettings.from_env({"WAYLINE_DB_POOL_TIMEOUT": "soon"})
    with pytest.raises(InvalidParameterValue, match=r"'db_max_overflow'.*between 0 and 1000"):
        ServerSettings().with_overrides(db_max_overflow=-1)


@pytest.mark.postgres
def test_each_worker_pools_as_its_settings_say(postgres_server: Any, tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=postgres_server.create_database(),
        artifacts_destination=str(tmp_path / "artifacts"),
        db_pool_size=2,
        db_max_overflow=1,
        db_pool_timeout_s=7,
    )
    ctx = build_context(settings)
    try:
        store = ctx.tracking.store
        assert isinstance(store, SqlTrackingStore)
        assert "Pool size: 2" in store.engine.pool.status()
        assert store.engine.pool.timeout() == 7  # type: ignore[attr-defined]
    finally:
        ctx.close()


@pytest.mark.postgres
def test_a_server_warns_when_its_workers_may_need_more_connections_than_postgres_allows(
    postgres_server: Any, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    server = start_server(
        tmp_path / "data", args=("--backend-store-uri", url, "--db-pool-size", "1000"), workers=2
    )
    try:
        assert requests.get(server.url + "/health", timeout=10).text == "OK"
    finally:
        server.stop()
    (line,) = [line for line in server.log().splitlines() if "PostgreSQL connections" in line]
    assert line.startswith("WARNING:")
    assert "2 worker(s) may open up to 2018 PostgreSQL connections (1000 pooled + 5 overflow" in line
    assert "Lower --db-pool-size or --db-max-overflow, or raise max_connections" in line


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
