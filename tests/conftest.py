"""Shared fixtures: real PostgreSQL databases, made and dropped by the test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from servers import S3Server, ServerProcess

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _services_required() -> bool:
    return os.environ.get("WAYLINE_REQUIRE_SERVICES", "") not in ("", "0", "false")


def _admin_url() -> str:
    return os.environ.get("WAYLINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


class PostgresServer:
    """The machine's PostgreSQL server; hands out throwaway databases and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self._psycopg = psycopg
        self._created: list[str] = []
        with psycopg.connect(admin_url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")

    def create_database(self) -> str:
        """A fresh empty database; returns its URL."""
        name = f"wayline_test_{uuid.uuid4().hex[:16]}"
        with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return _with_database(self.admin_url, name)

    def drop_all(self) -> None:
        with self._psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self._created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server; skipped when unreachable, unless WAYLINE_REQUIRE_SERVICES=1 (then it fails)."""
    try:
        server = PostgresServer(_admin_url())
    except Exception as exc:
        if _services_required():
            pytest.fail(f"PostgreSQL is required (WAYLINE_REQUIRE_SERVICES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {_admin_url()}: {exc}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """One throwaway database for this test session (each xdist worker has its own)."""
    return postgres_server.create_database()


# -- servers ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's threaded S3 server on a free loopback port, with the bucket ``wayline-test``."""
    from moto.server import ThreadedMotoServer

    from servers import S3_ENV

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {**S3_ENV, "MLFLOW_S3_ENDPOINT_URL": endpoint, "WAYLINE_S3_ENDPOINT_URL": endpoint}
    server = S3Server(endpoint, "wayline-test", env)
    server.client().create_bucket(Bucket=server.bucket)
    yield server
    moto.stop()


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``wayline server`` on its embedded defaults (SQLite and a local artifact folder), two workers."""
    from servers import start_server

    server = start_server(tmp_path_factory.mktemp("server-sqlite"), workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_s3_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer, s3_server: S3Server
) -> Iterator[ServerProcess]:
    """``wayline server`` on PostgreSQL metadata and S3 artifacts (moto), two workers."""
    from servers import start_server

    server = start_server(
        tmp_path_factory.mktemp("server-pg"),
        args=(
            "--backend-store-uri",
            postgres_server.create_database(),
            "--artifacts-destination",
            f"s3://{s3_server.bucket}/artifacts",
        ),
        env=s3_server.env,
        workers=2,
    )
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres-s3"])
def live_server(request: pytest.FixtureRequest) -> ServerProcess:
    """Each real server in turn: the embedded defaults, then PostgreSQL with S3."""
    name = "sqlite_server" if request.param == "sqlite" else "postgres_s3_server"
    server: ServerProcess = request.getfixturevalue(name)
    return server
