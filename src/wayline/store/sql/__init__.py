"""The SQL stores: SQLAlchemy Core on SQLite and PostgreSQL, with Alembic migrations.

See ``docs/storage.md`` for the schema, the indexes and the hot paths.
"""

from wayline.store.sql.engine import make_engine
from wayline.store.sql.migrate import current_revision, head_revision, upgrade
from wayline.store.sql.registry import SqlRegistryStore
from wayline.store.sql.tracking import SqlTrackingStore

__all__ = [
    "SqlRegistryStore",
    "SqlTrackingStore",
    "current_revision",
    "head_revision",
    "make_engine",
    "upgrade",
]
