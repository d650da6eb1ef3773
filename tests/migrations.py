"""Moving a test database to a given schema revision, for the migration tests."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from wayline.store.sql.engine import transaction
from wayline.store.sql.migrate import alembic_config


def migrate(engine: sa.Engine, action: str, revision: str) -> None:
    """``action`` is ``"upgrade"`` or ``"downgrade"``; the move runs in one write transaction."""
    with transaction(engine, write=True) as conn:
        getattr(command, action)(alembic_config(conn), revision)


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())
