"""The fresh, empty store each server gets: a temporary folder for artifacts (and the SQLite file), or a
throwaway PostgreSQL database on the machine's server; all removed afterwards, also on failure."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BACKENDS = ("sqlite", "postgres")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Store:
    """Where one server keeps its metadata (``uri``, in that product's spelling) and its proxied artifacts."""

    backend: str
    uri: str
    artifacts: Path
    workdir: Path


class Postgres:
    """Creates the throwaway databases (``<product>_srvbench_<pid>_<n>``) and drops them."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.created: list[str] = []
        self._serial = itertools.count()

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(f"{self.server_url}/postgres", autocommit=True, connect_timeout=10)

    def check(self) -> None:
        with self._admin() as conn:
            conn.execute("SELECT 1")

    def create(self, product: str) -> str:
        name = f"{product}_srvbench_{os.getpid()}_{next(self._serial)}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{self.server_url}/{name}"

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> list[str]:
        """Drop every database still listed; returns the errors (the caller reports them)."""
        errors = []
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as exc:
                errors.append(f"could not drop database {name}: {exc}")
        return errors


@contextlib.contextmanager
def fresh_store(backend: str, product: str, pg: Postgres | None) -> Iterator[Store]:
    """An empty store for one server; its folder is removed and its database dropped on the way out."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{product}-srvbench-"))
    artifacts = workdir / "artifacts"
    artifacts.mkdir()
    name = ""
    try:
        if backend == "sqlite":
            uri = f"sqlite:///{workdir / f'{product}.db'}"
        else:
            if pg is None:
                raise ValueError("the postgres backend needs a Postgres admin connection")
            url = pg.create(product)
            name = url.rsplit("/", 1)[1]
            # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; MLflow's venv has psycopg2 (the usual setup).
            uri = url.replace("postgresql://", "postgresql+psycopg2://", 1) if product == "mlflow" else url
        yield Store(backend, uri, artifacts, workdir)
    finally:
        if name and pg is not None:
            # On failure the name stays in ``pg.created``: ``drop_all`` retries it at the end and reports.
            with contextlib.suppress(Exception):
                pg.drop(name)
        shutil.rmtree(workdir, ignore_errors=True)
