"""Shared fixtures: real PostgreSQL databases, made and dropped by the test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

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
