"""How many PostgreSQL connections one process may hold, and how long a request waits for one.

Each process (a server worker, a script) holds one engine per database, and its pool keeps ``size``
connections open once they are made and opens up to ``max_overflow`` more under load, closing those when they
come back. A request that finds all of them in use waits up to ``timeout_s`` seconds for one, then fails with
a 503 (``TEMPORARILY_UNAVAILABLE``, which clients retry). Beside the pool, one-statement writes keep up to
:data:`AUTOCOMMIT_POOL_SIZE` connections of their own (:mod:`~wayline.store.sql.autocommit_pool`).

A server of ``W`` workers may thus hold ``W × (size + max_overflow + 4)`` connections per host, and PostgreSQL
refuses connections beyond its ``max_connections`` (100 by default, a few of them reserved for superusers):
:func:`connection_budget` reads what the database allows, so that a server can warn at startup.

The limits come from :class:`PoolLimits`: the server's flags, else the environment (``WAYLINE_DB_POOL_SIZE``,
``WAYLINE_DB_MAX_OVERFLOW``, ``WAYLINE_DB_POOL_TIMEOUT``; MLflow's ``MLFLOW_SQLALCHEMYSTORE_POOL_SIZE`` and
``MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW`` are honoured too), else the defaults: 10, 5 and 30 s. A larger pool
beats a larger overflow (an overflow connection is closed when it comes back; measured in ``docs/server.md``),
and 4 workers at the defaults hold at most 76 connections, within the 97 a default PostgreSQL allows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wayline.errors import invalid_value

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

#: Connections the one-statement writes of one engine keep beside its pool, in use or idle (the server's run
#: on each worker's event loop, one at a time; more are used only by threads writing at the same moment).
AUTOCOMMIT_POOL_SIZE = 4

#: Where each limit comes from in the environment, the first name set winning.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "size": ("WAYLINE_DB_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"),
    "max_overflow": ("WAYLINE_DB_MAX_OVERFLOW", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"),
    "timeout_s": ("WAYLINE_DB_POOL_TIMEOUT",),
}
#: The largest value each limit accepts.
MAXIMA = {"size": 1000, "max_overflow": 1000, "timeout_s": 3600}
#: The smallest value each limit accepts.
MINIMA = {"size": 1, "max_overflow": 0, "timeout_s": 1}


@dataclass(frozen=True)
class PoolLimits:
    """The connection pool of a PostgreSQL engine (SQLite engines ignore it)."""

    #: Connections kept open once made.
    size: int = 10
    #: Connections opened beyond ``size`` under load, closed when they come back.
    max_overflow: int = 5
    #: Seconds a request waits for a free connection before it fails with a 503.
    timeout_s: int = 30

    def checked(self, *, names: Mapping[str, str] | None = None) -> PoolLimits:
        """These limits, or ``InvalidParameterValue`` naming the first one out of range (``names`` maps a
        limit to the name the caller knows it by: a flag, an environment variable)."""
        for limit, low in MINIMA.items():
            value = getattr(self, limit)
            high = MAXIMA[limit]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                field = (names or {}).get(limit, limit)
                raise invalid_value(field, value, f"must be an integer between {low} and {high}")
        return self

    @property
    def per_process(self) -> int:
        """The most connections one process holds to one database: the pool, its overflow and the
        one-statement writes' own."""
        return self.size + self.max_overflow + AUTOCOMMIT_POOL_SIZE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PoolLimits:
        """The limits set in the environment (see the module), the defaults for the others."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        names: dict[str, str] = {}
        for limit, candidates in ENV_NAMES.items():
            for name in candidates:
                raw = env.get(name, "").strip()
                if not raw:
                    continue
                try:
                    values[limit] = int(raw)
                except ValueError:
                    raise invalid_value(name, raw, "must be an integer") from None
                names[limit] = name
                break
        return cls(**values).checked(names=names)


@dataclass(frozen=True)
class ConnectionBudget:
    """What a PostgreSQL server allows: ``max_connections`` less the slots reserved for superusers, and how
    many connections other clients hold now (other servers, scripts, this process's other pooled ones)."""

    max_connections: int
    reserved: int
    others: int

    @property
    def free(self) -> int:
        """Connections ordinary users may still open, beside the one that asked."""
        return self.max_connections - self.reserved - self.others

    def shortfall(self, limits: PoolLimits, processes: int) -> str | None:
        """Why ``processes`` processes pooling by ``limits`` may be refused connections; None if they fit."""
        need = processes * limits.per_process
        if need <= self.free:
            return None
        allowed = self.max_connections - self.reserved
        return (
            f"{processes} worker(s) may open up to {need} PostgreSQL connections ({limits.size} pooled"
            f" + {limits.max_overflow} overflow + {AUTOCOMMIT_POOL_SIZE} for one-statement writes each),"
            f" but the database allows {allowed} (max_connections {self.max_connections} less"
            f" {self.reserved} reserved) and other clients hold {self.others}: under load, requests may"
            " fail with 503s. Lower --db-pool-size or --db-max-overflow, or raise max_connections"
        )


def connection_budget(engine: sa.Engine) -> ConnectionBudget | None:
    """The connection budget of ``engine``'s PostgreSQL server; None for SQLite, or when the server does not
    say (a connection pooler in front of it may not answer these queries)."""
    if engine.dialect.name != "postgresql":
        return None
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT current_setting('max_connections')::int,"
                " current_setting('superuser_reserved_connections')::int"
                " + coalesce(current_setting('reserved_connections', true)::int, 0),"
                " (SELECT count(*) FROM pg_stat_activity"
                "   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int"
            ).one()
    except SQLAlchemyError as exc:
        log.info("could not read the database's connection limit: %s", exc)
        return None
    return ConnectionBudget(max_connections=row[0], reserved=row[1], others=row[2])


__all__ = ["AUTOCOMMIT_POOL_SIZE", "ENV_NAMES", "ConnectionBudget", "PoolLimits", "connection_budget"]
