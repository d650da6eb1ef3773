"""The API routes of an app, including those of the routers it includes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def all_routes(app: FastAPI) -> list[APIRoute]:
    """The app's API routes, also inside the routers it includes (FastAPI keeps those as included routers)."""
    found: list[APIRoute] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
                assert not prefix, "routers are included without a prefix"
            elif hasattr(route, "original_router"):
                context = getattr(route, "include_context", None)
                walk(route.original_router.routes, prefix + str(getattr(context, "prefix", "") or ""))

    walk(list(app.routes), "")
    return found
