"""How a route is declared: a request model, a sync handler and the paths it answers on.

A handler is ``fn(ctx, msg) -> dict | Response``: it receives the :class:`ServerContext` and the validated
request model, calls a service, and returns the JSON-ready response body. It runs on a request thread
(:mod:`~wayline.server.threads`; stores block). Decoding is done here once for every route, so every route
answers bad input the same way:

* GET (and query-string DELETE) routes read the query string; list fields take repeated keys;
* other methods read a JSON object body (``{}`` when empty), capped at ``settings.max_body_mib``;
* path parameters are merged into the message;
* malformed JSON is ``MALFORMED_REQUEST``, a wrong type or a missing field is ``INVALID_PARAMETER_VALUE``
  naming the field, all with HTTP 400 and MLflow's envelope.

Each route registers under every prefix it is given (MLflow's ``/api/2.0/mlflow`` and its ``/ajax-api``
twin by default), and its models are collected for the OpenAPI document.
"""

from __future__ import annotations

import logging
import re
import types
import typing
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError

from wayline.errors import ErrorCode, InvalidParameterValue, WaylineError, invalid_value
from wayline.server.actor import acting_as
from wayline.server.context import ServerContext
from wayline.server.threads import in_thread

logger = logging.getLogger("wayline.server")

REF_TEMPLATE = "#/components/schemas/{model}"
MLFLOW_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
WAYLINE_PREFIXES = ("/api/2.0/wayline",)

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[ServerContext, Any], Any]


class WireModel(BaseModel):
    """Base of request models: unknown fields are ignored (MLflow clients send extras) and numbers are
    accepted where strings are expected."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status_code: int = 200) -> Response:
    return JsonResponse(content, status_code=status_code)


def error_response(error: WaylineError) -> Response:
    return JsonResponse(error.to_dict(), status_code=error.http_status)


def failure_response(exc: Exception) -> Response:
    """The answer to a request whose handler raised ``exc``: a Wayline error as its envelope and status
    (logged when it is a server fault), anything else as ``INTERNAL_ERROR`` with the traceback in the log."""
    if isinstance(exc, WaylineError):
        if exc.http_status >= 500 and exc.error_code is not ErrorCode.NOT_IMPLEMENTED:
            logger.error("request failed: %s", exc.message, exc_info=exc)
        return error_response(exc)
    logger.error("unhandled error", exc_info=exc)
    return error_response(WaylineError("internal error", error_code=ErrorCode.INTERNAL_ERROR))


def context_of(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.context
    return ctx


class Api:
    """A group of routes (one resource) and the models they document."""

    def __init__(self, tag: str, prefixes: Sequence[str] = MLFLOW_PREFIXES) -> None:
        self.tag = tag
        self.prefixes = tuple(prefixes)
        self.router = APIRouter(tags=[tag])
        self.models: list[type[BaseModel]] = []
        #: ``(method, path) -> endpoint`` of the routes without path parameters, for the fast path.
        self.exact_routes: dict[tuple[str, str], Callable[[Request], Any]] = {}

    def rpc(
        self,
        method: str,
        path: str,
        *,
        request: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        summary: str,
        prefixes: Sequence[str] | None = None,
        methods: Sequence[str] = (),
        query: bool | None = None,
        body_decoder: Callable[[bytes], Any] | None = None,
        inline: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register ``fn`` for ``method`` (plus ``methods``) at ``<prefix><path>`` for every prefix.

        ``query`` forces reading the query string (True) or the body (False); by default GET reads the query.
        ``body_decoder`` replaces ``request.model_validate_json`` for a JSON body on a hot path (it must raise
        the same errors); ``request`` still documents the body. ``inline`` runs the handler on the event loop
        instead of a request thread: for handlers of bounded, small cost (one run's writes and reads), where
        the hop to a thread and back (~0.1 ms) is a large part of the request.
        """
        all_methods = [method.upper(), *(m.upper() for m in methods)]
        for model in (request, response):
            if model is not None and model not in self.models:
                self.models.append(model)

        def decorate(fn: Handler) -> Handler:
            for verb in all_methods:
                from_query = (verb == "GET") if query is None else query
                endpoint = _make_endpoint(
                    fn, request, from_query=from_query, body_decoder=body_decoder, inline=inline
                )
                for prefix in prefixes or self.prefixes:
                    if "{" not in path:
                        self.exact_routes[(verb, prefix + path)] = endpoint
                    self.router.add_api_route(
                        prefix + path,
                        endpoint,
                        methods=[verb],
                        summary=summary,
                        operation_id=_operation_id(verb, prefix + path),
                        include_in_schema=True,
                        openapi_extra=_openapi_extra(request, response, from_query=from_query, path=path),
                        response_class=JsonResponse,
                    )
            return fn

        return decorate

    def raw(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        prefixes: Sequence[str] | None = None,
        openapi_extra: dict[str, Any] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a FastAPI endpoint as is (streaming artifact routes) under every prefix."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            for prefix in prefixes or self.prefixes:
                self.router.add_api_route(
                    prefix + path,
                    fn,
                    methods=[method.upper()],
                    summary=summary,
                    operation_id=_operation_id(method, prefix + path),
                    openapi_extra=openapi_extra,
                )
            return fn

        return decorate


def _operation_id(method: str, path: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in path).strip("_")
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    return f"{method.lower()}_{cleaned}"


def _make_endpoint(
    fn: Handler,
    model: type[BaseModel] | None,
    *,
    from_query: bool,
    body_decoder: Callable[[bytes], Any] | None = None,
    inline: bool = False,
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ctx = context_of(request)
        if model is None:
            msg: Any = None
        elif from_query:
            msg = decode(model, _query_dict(request, model))
        else:
            body = await read_body(request, ctx.settings.max_body_mib * 1024 * 1024)
            if body_decoder is not None:
                msg = body_decoder(body)
            else:
                msg = decode_json(model, body, dict(request.path_params))
        with acting_as(request):
            result = fn(ctx, msg) if inline else await in_thread(fn, ctx, msg)
        if isinstance(result, Response):
            return result
        return JsonResponse({} if result is None else result)

    endpoint.__name__ = getattr(fn, "__name__", "endpoint")
    endpoint.__doc__ = fn.__doc__
    return endpoint


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 400 when it exceeds ``limit`` bytes (checked while it streams)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> WaylineError:
    return WaylineError(
        f"Request body exceeds the server's limit of {limit // (1024 * 1024)} MiB",
        error_code=ErrorCode.BAD_REQUEST,
    )


def _query_dict(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    params = request.query_params
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key not in params:
            continue
        data[key] = params.getlist(key) if _is_list(field.annotation) else params[key]
    data.update(request.path_params)
    return data


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, Sequence):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False


def decode(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def json_object(body: bytes) -> dict[str, Any]:
    """A request body as a JSON object (empty means ``{}``); anything else is MALFORMED_REQUEST."""
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed(str(exc)) from None
    if not isinstance(data, dict):
        raise malformed("the body must be a JSON object")
    return data


def decode_json(model: type[M], body: bytes, extra: dict[str, Any] | None = None) -> M:
    """Validate a JSON body (empty means ``{}``) into ``model``, merging ``extra`` (path parameters)."""
    if not body.strip():
        return decode(model, dict(extra or {}))
    if extra:
        return decode(model, {**json_object(body), **extra})
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise validation_error(exc) from None


def malformed(why: str) -> WaylineError:
    return WaylineError(f"Malformed request body: {why}", error_code=ErrorCode.MALFORMED_REQUEST)


def validation_error(exc: ValidationError) -> WaylineError:
    """The first problem of a pydantic error, in MLflow's wording, naming the field."""
    first = exc.errors(include_url=False)[0]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return malformed(str(first.get("msg", "invalid JSON")))
    loc = first.get("loc", ())
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        return malformed("the body must be a JSON object")
    field = _field_name(loc)
    if kind == "missing":
        return InvalidParameterValue(f"Missing value for required parameter '{field}'.")
    return invalid_value(field, first.get("input"), str(first.get("msg", "is not valid")))


def _field_name(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part in ("json-or-python", "lax-or-strict"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


@cache
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schemas of a model's fields (computed once per model, however many paths it serves)."""
    properties: dict[str, Any] = model.model_json_schema(ref_template=REF_TEMPLATE).get("properties", {})
    return properties


def _openapi_extra(
    request: type[BaseModel] | None, response: type[BaseModel] | None, *, from_query: bool, path: str
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    _path_names = [name.split(":")[0] for name in re.findall(r"{([^}]+)}", path)]
    path_params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in _path_names
    ]
    if path_params:
        extra["parameters"] = path_params
    if request is not None:
        if from_query:
            properties = _properties(request)
            extra["parameters"] = path_params + [
                {
                    "name": field.alias or name,
                    "in": "query",
                    "required": field.is_required(),
                    "description": field.description or "",
                    "schema": properties.get(field.alias or name, {}),
                }
                for name, field in request.model_fields.items()
                if name not in _path_names
            ]
        else:
            extra["requestBody"] = {
                "required": False,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{request.__name__}"}}
                },
            }
    if response is not None:
        extra["responses"] = {
            "200": {
                "description": "Success",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{response.__name__}"}}
                },
            }
        }
    extra["x-error-envelope"] = True
    return extra
