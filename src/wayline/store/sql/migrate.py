"""Schema migrations: Alembic, driven from code (no ``alembic.ini``; the scripts ship inside the package).

Opening a store calls :func:`ensure_schema`: a brand-new empty database is migrated to the head revision; a
database at an older revision is never migrated implicitly (the user runs ``wayline db upgrade`` after a
backup); a database with tables but no Wayline schema version is refused. The version lives in its own table,
``wayline_alembic_version``, so that an MLflow database (whose ``alembic_version`` holds MLflow's revisions)
is recognised as "not a Wayline database" rather than as an unknown revision.

``migrations_dir`` defaults to the package's scripts; tests pass a copy with an extra revision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from wayline.errors import InvalidState
from wayline.store.sql.engine import make_engine, transaction

#: Alembic's version table for the Wayline schema (also set in ``migrations/env.py``).
VERSION_TABLE = "wayline_alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run `wayline db upgrade` (back the database up first)"

_LOCK_KEY = int.from_bytes(hashlib.sha256(b"wayline-migrate").digest()[:7], "big")


def alembic_config(connection: sa.Connection | None = None, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic configuration built in code; ``connection`` is handed to ``migrations/env.py``."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts(migrations_dir: Path) -> tuple[str, frozenset[str]]:
    scripts = ScriptDirectory.from_config(alembic_config(migrations_dir=migrations_dir))
    head = scripts.get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise InvalidState(f"No schema migrations found in {migrations_dir}")
    return head, frozenset(script.revision for script in scripts.walk_revisions())


def head_revision(migrations_dir: Path = MIGRATIONS_DIR) -> str:
    """The newest revision this version of Wayline knows."""
    return _scripts(migrations_dir)[0]


def _current(conn: sa.Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def current_revision(engine: sa.Engine) -> str | None:
    """The database's schema revision, or None when it has none (empty or not a Wayline database)."""
    with transaction(engine) as conn:
        return _current(conn)


@contextmanager
def _locked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A write transaction holding the migration lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
    lock), so that two processes opening one new database do not both create it."""
    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield conn


def _foreign_tables(conn: sa.Connection) -> list[str]:
    """Tables other than Wayline version tables."""
    names = sa.inspect(conn).get_table_names()
    return sorted(name for name in names if not (name.startswith("wayline_") and name.endswith("_version")))


def _describe(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _check_revision(engine: sa.Engine, current: str, migrations_dir: Path) -> None:
    head, known = _scripts(migrations_dir)
    if current == head:
        return
    if current in known:
        raise InvalidState(
            f"The database {_describe(engine)} has schema revision {current}, but this version of Wayline "
            f"needs revision {head}: {UPGRADE_HINT}"
        )
    raise InvalidState(
        f"The database {_describe(engine)} has schema revision {current}, which this version of Wayline does "
        "not know (was it made by a newer Wayline?); upgrade Wayline"
    )


def _refuse_foreign(engine: sa.Engine, tables: list[str]) -> InvalidState:
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return InvalidState(
        f"The database {_describe(engine)} has tables ({shown}) but no Wayline schema version: it is not a "
        "Wayline database (an MLflow database?); point Wayline at an empty database"
    )


def _upgrade_locked(conn: sa.Connection, migrations_dir: Path) -> None:
    try:
        command.upgrade(alembic_config(conn, migrations_dir), "head")
    except CommandError as exc:
        raise InvalidState(f"Cannot upgrade the database schema: {exc}") from exc


def ensure_schema(engine: sa.Engine, migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """The check made when a store opens: create a new database, accept one at head, refuse anything else."""
    with transaction(engine) as conn:
        current = _current(conn)
    if current is not None:
        _check_revision(engine, current, migrations_dir)
        return
    with _locked(engine) as conn:
        current = _current(conn)  # another process may have created it meanwhile
        if current is None:
            tables = _foreign_tables(conn)
            if tables:
                raise _refuse_foreign(engine, tables)
            _upgrade_locked(conn, migrations_dir)
            return
    _check_revision(engine, current, migrations_dir)


def upgrade(engine_or_url: sa.Engine | str, migrations_dir: Path = MIGRATIONS_DIR) -> str:
    """Migrate the database to the head revision (``wayline db upgrade``); returns the revision reached.

    A new empty database is created; a database that is not a Wayline database, or whose revision this
    version does not know, is refused with InvalidState.
    """
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        with _locked(engine) as conn:
            current = _current(conn)
            if current is None and (tables := _foreign_tables(conn)):
                raise _refuse_foreign(engine, tables)
            if current is not None and current not in _scripts(migrations_dir)[1]:
                _check_revision(engine, current, migrations_dir)
            _upgrade_locked(conn, migrations_dir)
            reached = _current(conn)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()
    return reached or head_revision(migrations_dir)


__all__ = [
    "MIGRATIONS_DIR",
    "UPGRADE_HINT",
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "upgrade",
]
