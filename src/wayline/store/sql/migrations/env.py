"""Alembic environment: runs with the connection that :mod:`wayline.store.sql.migrate` hands over.

No ``alembic.ini`` is needed; ``migrate.py`` builds the configuration in code. Run from the alembic CLI, the
URL comes from ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context

from wayline.store.sql.engine import make_engine, transaction
from wayline.store.sql.schema import metadata

VERSION_TABLE = "wayline_alembic_version"


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url to migrate")
    engine = make_engine(url)
    try:
        with transaction(engine, write=True) as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
