"""What both benchmarks (``tracking_bench.py``, ``server_bench.py``) share.

* throwaway PostgreSQL databases, named ``<product>_<tag>_<pid>_<n>`` so that two runs on one machine never
  meet, and dropped again, also on failure (:class:`Postgres`);
* a child process followed line by line and killed when its time is up (:func:`follow_lines`);
* lookups in nested result documents (:func:`dig`), the header of a results file (:func:`when_and_where`,
  :func:`args_json`) and the SIGTERM handler (:func:`exit_on_sigterm`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import os
import platform
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"


class Postgres:
    """Creates the throwaway databases on the server at ``server_url`` (no database in it) and drops them."""

    def __init__(self, server_url: str, *, tag: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.tag = tag
        self.created: list[str] = []
        self._serial = itertools.count()

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(f"{self.server_url}/postgres", autocommit=True, connect_timeout=10)

    def check(self) -> None:
        with self._admin() as conn:
            conn.execute("SELECT 1")

    def create(self, product: str) -> str:
        """A new, empty database for ``product``; returns its URL."""
        name = f"{product}_{self.tag}_{os.getpid()}_{next(self._serial)}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{self.server_url}/{name}"

    def drop(self, url_or_name: str) -> None:
        """Drop a database made by :meth:`create` (named by its URL or its name)."""
        name = url_or_name.rsplit("/", 1)[-1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(ValueError):
            self.created.remove(name)

    def drop_all(self) -> list[str]:
        """Drop every database still listed; returns the errors (the caller reports them or not)."""
        errors = []
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as exc:
                errors.append(f"could not drop database {name}: {exc}")
        return errors


def product_uri(url: str, product: str) -> str:
    """The database URL in ``product``'s spelling: SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3, but
    MLflow's venv has psycopg2 (the usual setup)."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1) if product == "mlflow" else url


def follow_lines(
    proc: subprocess.Popen[str], lines: Iterable[str], timeout: float, on_line: Callable[[str], None]
) -> int:
    """Pass each line of ``lines`` (one of ``proc``'s pipes) to ``on_line`` until it ends, then return
    ``proc``'s exit code; ``proc`` is killed after ``timeout`` seconds, and always reaped."""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in lines:
            on_line(line)
        return proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def dig(document: Any, path: Iterable[str]) -> Any:
    """``document[k1][k2]...`` along ``path``; None where a key is missing or a step is not a dict."""
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def when_and_where() -> dict[str, Any]:
    """The ``date`` (UTC) and ``machine`` entries that open a results file."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }


def args_json(args: argparse.Namespace) -> dict[str, Any]:
    """The command-line arguments as JSON values (paths as strings)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def exit_on_sigterm(signum: int, _frame: Any) -> None:
    """A SIGTERM handler that exits through ``SystemExit``, so ``finally`` blocks clean up."""
    raise SystemExit(128 + signum)
