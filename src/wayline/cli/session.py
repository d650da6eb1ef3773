"""The state of one CLI invocation: the tracking URI, the store (opened lazily, once) and the consoles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import click
from rich.console import Console

from wayline.cli.output import make_console
from wayline.services.tracking import TrackingService
from wayline.store.resolve import open_tracking_store, tracking_uri_from_env
from wayline.store.tracking import TrackingStore

P = ParamSpec("P")
R = TypeVar("R")


class Session:
    """Opens the tracking store on first use; :meth:`close` (run by ``call_on_close``) releases it."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._store: TrackingStore | None = None
        self._service: TrackingService | None = None
        self._console: Console | None = None
        self._err_console: Console | None = None

    @property
    def service(self) -> TrackingService:
        if self._service is None:
            self._store = open_tracking_store(self.tracking_uri)
            self._service = TrackingService(self._store)
        return self._service

    @property
    def console(self) -> Console:
        """Rich console on stdout, for tables."""
        if self._console is None:
            self._console = make_console()
        return self._console

    @property
    def err_console(self) -> Console:
        """Rich console on stderr, for progress bars and notes (keeps stdout clean for ``--json``)."""
        if self._err_console is None:
            self._err_console = make_console(stderr=True)
        return self._err_console

    def close(self) -> None:
        store, self._store, self._service = self._store, None, None
        if store is not None:
            store.close()


def pass_session(func: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Decorator: call ``func`` with the invocation's :class:`Session` first."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = click.get_current_context()
        session = ctx.find_object(Session)
        if session is None:  # a command invoked without the root group
            session = Session(tracking_uri_from_env())
            ctx.obj = session
            ctx.call_on_close(session.close)
        return func(session, *args, **kwargs)

    return wrapper
