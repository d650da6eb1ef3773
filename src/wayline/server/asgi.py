"""The ASGI entry point uvicorn's worker processes import: the app built from ``WAYLINE_*`` variables."""

from __future__ import annotations

from fastapi import FastAPI

from wayline.server.app import create_app
from wayline.server.logs import log_to_stderr
from wayline.server.settings import ServerSettings


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory wayline.server.asgi:app_from_env``; Wayline's log records go to
    stderr at the server's log level (:mod:`wayline.server.logs`)."""
    settings = ServerSettings.from_env()
    log_to_stderr(settings.log_level)
    return create_app(settings)
