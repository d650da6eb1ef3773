"""The FastAPI application: ``create_app(settings)`` wires settings, services and routes.

Nothing is built at import time: each worker process calls the factory once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from wayline import __version__
from wayline.artifacts.resolve import get_artifact_repository
from wayline.errors import ErrorCode, InvalidParameterValue, WaylineError, invalid_value
from wayline.server.context import PROXY_SCHEME, ServerContext
from wayline.server.endpoint import REF_TEMPLATE, Api, error_response, failure_response
from wayline.server.front import WaylineApp
from wayline.server.heap import settle_heap
from wayline.server.settings import ServerSettings
from wayline.server.telemetry import native_telemetry_wanted, telemetry_arguments
from wayline.services.tracking import TrackingService
from wayline.services.webhooks import WebhookService
from wayline.store.resolve import locate

logger = logging.getLogger("wayline.server")


def build_context(settings: ServerSettings) -> ServerContext:
    """Open the store and the proxied artifact store that ``settings`` name."""
    location = locate(settings.backend_store_uri)
    if location.kind != "sql":
        raise invalid_value(
            "backend_store_uri",
            settings.backend_store_uri,
            "must be a folder, sqlite:/// or postgresql:// URI",
        )
    if settings.serve_artifacts:
        root = f"{PROXY_SCHEME}:/"
    else:
        root = settings.default_artifact_root or location.default_artifact_root
    from wayline.server.artifact_access import known_roots
    from wayline.services.governance import GovernanceService
    from wayline.services.metric_series import MetricSeriesService
    from wayline.services.registry import RegistryService
    from wayline.services.run_groups import RunGroupService
    from wayline.store.sql import SqlRegistryStore, SqlTrackingStore
    from wayline.store.sql.governance import SqlGovernanceStore
    from wayline.store.sql.metric_series import SqlMetricSeriesStore
    from wayline.store.sql.run_groups import SqlRunGroupStore

    store = SqlTrackingStore(location.db_url, root, pool_limits=settings.pool_limits)
    artifacts = None
    if settings.serve_artifacts:
        artifacts = get_artifact_repository(settings.resolved_artifacts_destination)
    ctx = ServerContext(
        settings=settings,
        tracking=TrackingService(store),
        artifacts=artifacts,
        metric_series=MetricSeriesService(SqlMetricSeriesStore(engine=store.engine)),
        run_groups=RunGroupService(SqlRunGroupStore(engine=store.engine)),
    )
    proxied = [f"{PROXY_SCHEME}:/"] if settings.serve_artifacts else []
    try:
        ctx.webhooks = _webhook_service(settings, store.engine)
        events = ctx.webhooks.dispatcher
        ctx.registry = RegistryService(
            SqlRegistryStore(engine=store.engine, default_artifact_root=root),
            ctx.tracking,
            default_actor=settings.default_user,
            artifact_roots=[*proxied, *known_roots(ctx)],
            approvers=settings.approvers,
            events=events,
        )
        ctx.governance = GovernanceService(
            ctx.registry,
            SqlGovernanceStore(engine=store.engine),
            allow_self_approval=settings.allow_self_approval,
            events=events,
        )
    except BaseException:
        ctx.close()
        raise
    return ctx


def _webhook_service(settings: ServerSettings, engine: sa.Engine) -> WebhookService:
    """Webhooks in the tracking store's database (sharing its engine), delivered by this process."""
    from wayline.services.administrators import Administrators
    from wayline.services.webhook_delivery import WebhookDispatcher
    from wayline.store.sql.webhooks import SqlWebhookStore

    store = SqlWebhookStore(engine=engine)
    dispatcher = WebhookDispatcher(
        store,
        allow_private=settings.webhook_allow_private,
        max_attempts=settings.webhook_max_attempts,
        timeout_s=settings.webhook_timeout_s,
    )
    return WebhookService(
        store,
        dispatcher,
        admins=Administrators.from_setting(settings.admins),
        default_actor=settings.default_user,
    )


def create_app(settings: ServerSettings | None = None, *, context: ServerContext | None = None) -> WaylineApp:
    """The ASGI app for ``settings`` (from the environment when None)."""
    settings = settings or ServerSettings.from_env()
    ctx = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settle_heap()
        yield
        ctx.close()

    telemetry = native_telemetry_wanted()
    app = WaylineApp(
        title="Wayline tracking server",
        version=__version__,
        description=(
            "The MLflow REST API (tracking, proxied artifacts, logged models) served by Wayline. "
            'Every error is a JSON envelope `{"error_code": ..., "message": ...}`.'
        ),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        **telemetry_arguments(telemetry),
    )
    app.state.context = ctx
    apis = all_apis()
    exact_routes: dict[tuple[str, str], Any] = {}
    for api in apis:
        app.include_router(api.router)
        exact_routes.update(api.exact_routes)
    from wayline.server.ui import ui_router

    app.include_router(ui_router(settings))
    app.put_in_front(exact_routes, ahead_of_fastapi=not telemetry)
    _install_error_handlers(app)
    _install_openapi(app, apis)
    return app


def all_apis() -> list[Api]:
    from wayline.server.routes import APIS

    return list(APIS)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WaylineError)
    async def wayline_error(_: Request, exc: WaylineError) -> Response:
        return failure_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error = WaylineError(
                f"No route for {request.method} {request.url.path}", error_code=ErrorCode.ENDPOINT_NOT_FOUND
            )
        elif exc.status_code == 405:
            error = WaylineError(
                f"Method {request.method} is not allowed on {request.url.path}",
                error_code=ErrorCode.BAD_REQUEST,
            )
        else:
            error = WaylineError(str(exc.detail), error_code=ErrorCode.BAD_REQUEST)
        response = error_response(error)
        if exc.status_code in (404, 405):
            response.status_code = exc.status_code
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "header")]
        field = ".".join(loc) or "request"
        if first.get("type") == "missing":
            return error_response(InvalidParameterValue(f"Missing value for required parameter '{field}'."))
        return error_response(invalid_value(field, first.get("input"), str(first.get("msg", "is not valid"))))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> Response:
        return failure_response(exc)


def _install_openapi(app: FastAPI, apis: Sequence[Api]) -> None:
    """FastAPI's document plus the request and response models our routes decode by hand."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        models: list[type[BaseModel]] = []
        for api in apis:
            models.extend(m for m in api.models if m not in models)
        if models:
            _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
