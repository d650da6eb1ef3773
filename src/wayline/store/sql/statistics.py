"""Fresh planner statistics on PostgreSQL while a database grows from empty.

PostgreSQL plans from statistics that ``ANALYZE`` gathers; autovacuum refreshes them only after a share of a
table has changed and its next wake-up (a minute by default). A new server that logs a few thousand runs and
searches them at once would be planned as if the tables were empty: nested loops that scan every run for each
candidate, tens of milliseconds for a search that takes one or two. So a store counts what it creates (the
tracking store its runs, the registry store its models and versions) and, each time the count passes a
threshold (50, 500, 5,000, ...), analyzes the tables its searches depend on, in the background and at most
once at a time. SQLite plans without statistics (the
queries are written to drive the order themselves), so this is PostgreSQL only.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

log = logging.getLogger(__name__)

#: The tables whose statistics run search plans depend on.
TABLES = ("experiments", "runs", "latest_metrics", "params", "tags")
#: The tables whose statistics registry search plans depend on.
REGISTRY_TABLES = ("registered_models", "registered_model_tags", "model_versions", "model_version_tags")
FIRST_THRESHOLD = 50
GROWTH = 10


class StatisticsKeeper:
    """Counts created rows and runs ``ANALYZE`` on ``tables`` when the count passes each threshold."""

    def __init__(self, engine: sa.Engine, tables: tuple[str, ...] = TABLES) -> None:
        self._engine = engine
        self._tables = tables
        self._enabled = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._created = 0
        self._next = FIRST_THRESHOLD
        self._running: threading.Thread | None = None

    def created(self, count: int = 1) -> None:
        if not self._enabled:
            return
        with self._lock:
            self._created += count
            if self._created < self._next:
                return
            while self._next <= self._created:
                self._next *= GROWTH
            if self._running is not None and self._running.is_alive():
                return
            self._running = threading.Thread(target=self.analyze, name="wayline-analyze", daemon=True)
            self._running.start()

    def analyze(self) -> None:
        """``ANALYZE`` the tables now (errors are logged: statistics are an optimisation)."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE " + ", ".join(self._tables)
                )
        except Exception as exc:  # pragma: no cover - a closed engine or a lost server
            log.debug("ANALYZE failed: %s", exc)

    def wait(self) -> None:
        """Wait for a running ``ANALYZE`` (for tests and shutdown)."""
        running = self._running
        if running is not None:
            running.join()


__all__ = ["REGISTRY_TABLES", "TABLES", "StatisticsKeeper"]
