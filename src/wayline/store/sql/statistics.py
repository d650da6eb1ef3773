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

Where autovacuum is off, for the server or for a table (its ``autovacuum_enabled`` storage parameter), the
same check also vacuums those tables as autovacuum would have: when they hold more dead rows, or more rows
inserted since their last vacuum, than its thresholds allow (``threshold + scale factor × rows``, from the
server's ``autovacuum_vacuum_*`` settings). Without it every update of a run's row (its params and tags
documents, its status) would leave a dead row behind for good, and the visibility map would stay empty, so an
index-only scan (a search's walk of a metric's index) would look up the table for every entry it reads.
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
#: The name of the background thread that checks (and analyzes and vacuums).
THREAD_NAME = "wayline-statistics"
#: Seconds between two checks in one process.
CHECK_INTERVAL = 1.0
#: A table is analyzed again once its size on disk reaches this many times its size at the last ANALYZE.
GROWTH = 2
#: Held (per transaction) by the process that analyzes, so that replicas do not all analyze at once.
_LOCK_KEY = 0x7761796C696E65  # "wayline"
#: Held (per session: ``VACUUM`` runs outside transactions) by the process that vacuums.
_VACUUM_LOCK_KEY = _LOCK_KEY + 1

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

#: Of the given tables, those that autovacuum skips (off for the server, or for the table by its storage
#: parameter ``autovacuum_enabled``) and would otherwise vacuum now: with more dead rows, or more rows
#: inserted since their last vacuum, than its thresholds (the server's ``autovacuum_vacuum_*``) allow.
_UNVACUUMED = sa.text(
    """
    SELECT s.relname
    FROM pg_stat_user_tables AS s
    JOIN pg_class AS c ON c.oid = s.relid,
    LATERAL (SELECT GREATEST(c.reltuples, 0) AS rows) AS size
    WHERE s.relid = ANY(CAST(:tables AS regclass[]))
      AND (NOT current_setting('autovacuum')::boolean
           OR EXISTS (SELECT FROM pg_options_to_table(c.reloptions) AS o
                      WHERE o.option_name = 'autovacuum_enabled' AND NOT o.option_value::boolean))
      AND (s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
                          + current_setting('autovacuum_vacuum_scale_factor')::float8 * size.rows
           OR (current_setting('autovacuum_vacuum_insert_threshold')::float8 >= 0
               AND s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
                   + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * size.rows))
    ORDER BY s.relname
    """
)


def _run_on(conn: sa.Connection, command: str, tables: list[str]) -> None:
    """``ANALYZE`` or ``VACUUM`` ``tables``, their names quoted."""
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(f"{command} " + ", ".join(quote(name) for name in tables))


class StatisticsKeeper:
    """Runs ``ANALYZE`` on those of ``tables`` that have grown since their statistics were gathered, and
    ``VACUUM`` on those autovacuum would have vacuumed where it is off."""

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
            self._running = threading.Thread(target=self._check, name=THREAD_NAME, daemon=True)
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
                    _run_on(conn, "ANALYZE", stale)
                return stale
        except Exception as exc:  # pragma: no cover - a closed engine or a lost server
            log.debug("ANALYZE failed: %s", exc)
            return []

    def vacuum(self) -> list[str]:
        """Where autovacuum is off (for the server or a table), vacuum the tables it would have vacuumed by
        now, unless another process is; returns the tables vacuumed (errors are logged, as for
        :meth:`refresh`)."""
        if not self._enabled:
            return []
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if not conn.execute(sa.select(sa.func.pg_try_advisory_lock(_VACUUM_LOCK_KEY))).scalar_one():
                    return []
                try:
                    due = [
                        str(name)
                        for name in conn.execute(_UNVACUUMED, {"tables": list(self._tables)}).scalars()
                    ]
                    if due:
                        _run_on(conn, "VACUUM", due)
                    return due
                finally:
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(_VACUUM_LOCK_KEY)))
        except Exception as exc:  # pragma: no cover - a closed engine or a lost server
            log.debug("VACUUM failed: %s", exc)
            return []

    def _check(self) -> None:
        """The background check after writes: statistics, then vacuum where autovacuum is off."""
        self.refresh()
        self.vacuum()

    def wait(self) -> None:
        """Wait for a running check (for tests and shutdown)."""
        running = self._running
        if running is not None:
            running.join()


__all__ = ["REGISTRY_TABLES", "TABLES", "THREAD_NAME", "StatisticsKeeper"]
