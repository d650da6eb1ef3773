"""The engine of a SQL store that sits beside the tracking store: its own, or the tracking store's.

The registry, webhook and governance stores live in the tracking store's database. A server hands them the
tracking store's engine (one connection pool per process); a script can open one on a URI instead, and then
the store makes its own engine, checks the schema, and disposes of the engine when closed.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

import sqlalchemy as sa

from wayline.errors import InvalidParameterValue
from wayline.store.sql.engine import dispose, make_engine
from wayline.store.sql.migrate import ensure_schema

S = TypeVar("S", bound="SharedEngineStore")


class SharedEngineStore:
    """Base of the stores opened with ``db_uri`` (their own engine) or ``engine`` (shared, left open)."""

    def __init__(self, db_uri: str | None = None, *, engine: sa.Engine | None = None) -> None:
        name = type(self).__name__
        self._owns_engine = engine is None
        if engine is not None:
            if db_uri is not None:
                raise InvalidParameterValue(f"{name} takes 'db_uri' or 'engine', not both")
            self._engine = engine
            return
        if db_uri is None:
            raise InvalidParameterValue(f"{name} needs 'db_uri' or 'engine'")
        self._engine = make_engine(db_uri)
        try:
            ensure_schema(self._engine)
        except BaseException:
            dispose(self._engine)
            raise

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release the connection pool when the store made it; a shared engine stays open."""
        if self._owns_engine:
            dispose(self._engine)

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._engine.url.render_as_string(hide_password=True)!r})"
