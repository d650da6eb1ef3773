"""The fresh, empty store each server gets: a temporary folder for artifacts (and the SQLite file), or a
throwaway PostgreSQL database on the machine's server; all removed afterwards, also on failure."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench_common import Postgres, product_uri

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Store:
    """Where one server keeps its metadata (``uri``, in that product's spelling) and its proxied artifacts."""

    backend: str
    uri: str
    artifacts: Path
    workdir: Path


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
            uri = product_uri(url, product)
        yield Store(backend, uri, artifacts, workdir)
    finally:
        if name and pg is not None:
            # On failure the name stays in ``pg.created``: ``drop_all`` retries it at the end and reports.
            with contextlib.suppress(Exception):
                pg.drop(name)
        shutil.rmtree(workdir, ignore_errors=True)
