"""The ASGI entry point uvicorn's worker processes import: the app built from ``WAYLINE_*`` variables."""

from __future__ import annotations

from fastapi import FastAPI

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory wayline.server.asgi:app_from_env``."""
    return create_app(ServerSettings.from_env())
