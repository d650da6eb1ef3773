"""Who is acting: the request's authenticated user name, for the history and, later, permission checks.

Wayline has no users yet: the name of the request's HTTP Basic credentials is taken as given (None without
them), and services fall back to the server's ``default_user``. Every RPC endpoint sets it for the duration
of its handler (:func:`acting_as`), so a handler reads it with :func:`current_actor` wherever it runs (on
the event loop or on a request thread, which runs in a copy of the context: ``server.threads``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.requests import Request

_ACTOR: ContextVar[str | None] = ContextVar("wayline_actor", default=None)


def basic_user(request: Request) -> str | None:
    """The user name of the request's HTTP Basic credentials; None without (or with malformed) ones."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def current_actor() -> str | None:
    """The acting user of the request being handled (None: the service's default user)."""
    return _ACTOR.get()


@contextmanager
def acting_as(request: Request) -> Iterator[None]:
    token = _ACTOR.set(basic_user(request))
    try:
        yield
    finally:
        _ACTOR.reset(token)
