"""The server's log: Wayline's own records on stderr, beside uvicorn's, at the server's log level.

An internal error's traceback, a database that is unavailable, a webhook delivery that failed: the server's
operator must see them. ``wayline`` commands otherwise show library records only with ``WAYLINE_DEBUG=1``
(:mod:`wayline.cli.main`), and a one-worker server runs in the command's own process, so each worker
process of the server replaces that with a plain stderr handler when it builds its app
(:func:`wayline.server.asgi.app_from_env`).
"""

from __future__ import annotations

import logging
import sys

#: uvicorn's level names that the standard library does not know.
_LEVELS = {"trace": logging.DEBUG}
_FORMAT = "%(levelname)s:     %(name)s: %(message)s"  # uvicorn's column for the message


def log_to_stderr(level: str) -> None:
    """Wayline's records at ``level`` (a uvicorn level name) and above go to stderr, and only there."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger = logging.getLogger("wayline")
    logger.handlers = [handler]
    logger.setLevel(_LEVELS.get(level.lower(), level.upper()))
    logger.propagate = False


__all__ = ["log_to_stderr"]
