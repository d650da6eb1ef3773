"""Fresh planner statistics on PostgreSQL while a database grows.

PostgreSQL plans from statistics that ``ANALYZE`` gathers; autovacuum refreshes them only after a share of a
table has changed and its next wake-up (a minute by default), and some servers run with it off. A new server
that logs a few thousand runs and searches them at once would be planned from statistics of nearly empty
tables: sequential scans and nested loops that read every run for each candidate, tens of milliseconds for a
search that takes one or two.

So after writes a store checks, at most once per ``interval`` seconds per process and in the background,
which of the tables its searches depend on have at least doubled in size on disk since they were last
analyzed (or hold rows and were never analyzed), and analyzes those. The sizes are read from the database
(``pg_relation_size`` against ``pg_class.relpages``), so every worker process and replica sees the same
state, whoever wrote the rows; an advisory lock lets one of them analyze at a time. Doubling bounds the work:
a table that grows to a million rows is analyzed about twenty times. SQLite plans without statistics (the
queries are written to drive the order themselves), so this is PostgreSQL only.
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa

log = logging.getLogger(__name__)

#: The tables whose statistics run search plans depend on.
TABLES = ("experiments", "runs", "latest_metrics", "params", "tags")
#: The tables whose statistics registry search plans depend on.
REGISTRY_TABLES = ("registered_models", "registered_model_tags", "model_versions", "model_version_tags")
#: Seconds between two checks in one process.
CHECK_INTERVAL = 1.0
#: A table is analyzed again once its size on disk reaches this many times its size at the last ANALYZE.
GROWTH = 2
#: Held (per transaction) by the process that analyzes, so that replicas do not all analyze at once.
_LOCK_KEY = 0x7761796C696E65  # "wayline"

#: The given tables that hold rows but were never analyzed, or have grown ``GROWTH`` times since.
_STALE = sa.text(
    """
    SELECT c.relname
    FROM pg_class AS c, LATERAL (SELECT pg_relation_size(c.oid) AS bytes) AS size
    WHERE c.oid = ANY(CAST(:tables AS regclass[]))
      AND size.bytes > 0
      AND (c.reltuples < 0
           OR size.bytes >= :growth * GREATEST(c.relpages, 1) * current_setting('block_size')::bigint)
    ORDER BY c.relname
    """
)


class StatisticsKeeper:
    """Runs ``ANALYZE`` on those of ``tables`` that have grown since their statistics were gathered."""

    def __init__(
        self, engine: sa.Engine, tables: tuple[str, ...] = TABLES, *, interval: float = CHECK_INTERVAL
    ) -> None:
        self._engine = engine
        self._tables = tables
        self._interval = interval
        self._enabled = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._next_check = 0.0
        self._running: threading.Thread | None = None

    def wrote(self) -> None:
        """Rows were written to the tables: check them in the background unless that was done lately."""
        if not self._enabled or time.monotonic() < self._next_check:
            return
        with self._lock:
            now = time.monotonic()
            if now < self._next_check or (self._running is not None and self._running.is_alive()):
                return
            self._next_check = now + self._interval
            self._running = threading.Thread(target=self.refresh, name="wayline-analyze", daemon=True)
            self._running.start()

    def refresh(self) -> list[str]:
        """Analyze the stale tables now, unless another process is; returns the tables analyzed (errors are
        logged: statistics are an optimisation)."""
        if not self._enabled:
            return []
        try:
            with self._engine.begin() as conn:
                if not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(_LOCK_KEY))).scalar_one():
                    return []
                stale = [
                    str(name)
                    for name in conn.execute(
                        _STALE, {"tables": list(self._tables), "growth": GROWTH}
                    ).scalars()
                ]
                if stale:
                    quote = conn.dialect.identifier_preparer.quote
                    conn.exec_driver_sql("ANALYZE " + ", ".join(quote(name) for name in stale))
                return stale
        except Exception as exc:  # pragma: no cover - a closed engine or a lost server
            log.debug("ANALYZE failed: %s", exc)
            return []

    def wait(self) -> None:
        """Wait for a running check (for tests and shutdown)."""
        running = self._running
        if running is not None:
            running.join()


__all__ = ["REGISTRY_TABLES", "TABLES", "StatisticsKeeper"]
