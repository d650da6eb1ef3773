"""A few PostgreSQL driver connections kept in autocommit mode, for one-statement writes.

:mod:`~wayline.store.sql.one_statement` runs a write that is one statement (a single-point ``log-metric``, a
``log-parameter``, a ``set-tag``) on a driver connection in autocommit mode. Taken from the engine's pool,
such a connection costs a checkout (the pool's queue and checkout event), switching autocommit on, and at
checkin the pool's reset (a rollback call), its checkin events and switching autocommit off again. Under
callgrind, a single-point ``log_batch`` in the store ran ~412,000 instructions that way, against ~330,000
on a connection of this pool (``docs/storage.md``). This pool keeps such connections aside and
in autocommit mode: a checkout takes the one returned last, a checkin puts it back.

It keeps the rules of the engine's pool (:mod:`~wayline.store.sql.engine`):

- a connection is made by the engine (``Engine.raw_connection``, then detached from its pool), so its connect
  arguments and events apply;
- one that sat idle ``ping_after`` seconds or more is pinged before use, and replaced if the ping fails;
- one older than ``recycle_after`` seconds is replaced;
- after a lost connection, :meth:`AutocommitPool.dispose` closes the idle ones (they may be lost too), and a
  connection in use then is closed when it comes back;
- a connection that comes back in any state but idle (a statement cut short) is closed, not kept.

At most ``size`` connections are open at once, in use or idle. When all are in use, :meth:`checkout` says
so (None) and the caller uses the engine's pool instead: a write never waits here, and the connections a
process holds stay bounded.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wayline.store.pool_limits import AUTOCOMMIT_POOL_SIZE


@dataclass(eq=False)
class Held:
    """A connection of the pool: the driver connection, when it was made and when it last came back."""

    driver: Any
    made: float
    returned: float
    generation: int


class AutocommitPool:
    """Driver connections of one engine in autocommit mode (see the module)."""

    def __init__(self, *, ping_after: float, recycle_after: float, size: int = AUTOCOMMIT_POOL_SIZE) -> None:
        self.ping_after = ping_after
        self.recycle_after = recycle_after
        self.size = size
        self._idle: list[Held] = []  # returned last at the end
        self._open = 0
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        """Connections open now, in use or idle."""
        return self._open

    def checkout(self, engine: sa.Engine) -> Held | None:
        """A connection in autocommit mode, or None when ``size`` connections are in use."""
        with self._lock:
            if self._idle:
                held: Held | None = self._idle.pop()
            elif self._open < self.size:
                held = None
                self._open += 1
            else:
                return None
        try:
            if held is not None and not self._usable(engine, held):
                _close(held.driver)
                held = None
            return held if held is not None else self._connect(engine)
        except BaseException:
            self._release()
            raise

    def checkin(self, held: Held) -> None:
        """Give back a connection from :meth:`checkout`: kept if it is idle and made since the last
        :meth:`dispose`, closed otherwise."""
        held.returned = time.monotonic()
        try:
            idle = not held.driver.closed and held.driver.info.transaction_status.name == "IDLE"
        except Exception:  # a broken connection
            idle = False
        with self._lock:
            if idle and held.generation == self._generation:
                self._idle.append(held)
                return
        self.discard(held)

    def discard(self, held: Held) -> None:
        """Close a connection from :meth:`checkout` instead of giving it back (it is lost)."""
        _close(held.driver)
        self._release()

    def dispose(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._generation += 1
        for held in idle:
            _close(held.driver)

    def _release(self) -> None:
        with self._lock:
            self._open -= 1

    def _usable(self, engine: sa.Engine, held: Held) -> bool:
        now = time.monotonic()
        if now - held.made >= self.recycle_after:
            return False
        if now - held.returned < self.ping_after:
            return True
        try:
            engine.dialect.do_ping(held.driver)
        except engine.dialect.loaded_dbapi.Error:
            return False
        return True

    def _connect(self, engine: sa.Engine) -> Held:
        pooled = engine.raw_connection()
        driver: Any = pooled.driver_connection
        pooled.detach()  # the engine's pool no longer counts, resets or closes it
        try:
            driver.autocommit = True
        except BaseException:
            _close(driver)
            raise
        now = time.monotonic()
        return Held(driver, made=now, returned=now, generation=self._generation)


def _close(driver: Any) -> None:
    with contextlib.suppress(Exception):  # a lost connection may fail to close cleanly
        driver.close()


__all__ = ["AutocommitPool", "Held"]
