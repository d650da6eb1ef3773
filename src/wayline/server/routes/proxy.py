"""Routes: the artifact proxy (``/api/2.0/mlflow-artifacts/...``), MLflow's ``--serve-artifacts`` surface.

Every path is relative to the artifacts destination (``ctx.artifacts``); clients of runs send
``<experiment_id>/<run_id>/artifacts/<path>``. Uploads and downloads stream (:mod:`wayline.server.streaming`).
Multipart uploads and presigned downloads need an object store (S3); elsewhere they answer MLflow's
``NOT_IMPLEMENTED`` error, on which MLflow clients fall back to a plain PUT or GET through the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from wayline.artifacts.multipart import MultipartArtifactRepository, UploadedPart, supports_multipart
from wayline.artifacts.path import safe_relative_path
from wayline.entities import FileInfo
from wayline.errors import NotImplementedFeature, invalid_value
from wayline.server.artifact_access import destination, file_path
from wayline.server.context import ServerContext
from wayline.server.endpoint import (
    ARTIFACT_PREFIXES,
    REF_TEMPLATE,
    Api,
    WireModel,
    context_of,
    decode_json,
    json_response,
    read_body,
)
from wayline.server.messages.artifacts import (
    AbortMultipartUpload,
    CompleteMultipartUpload,
    CreateMultipartUpload,
    CreateMultipartUploadResponse,
    ListProxiedArtifacts,
    ListProxiedArtifactsResponse,
    PresignedDownloadResponse,
    ProxiedArtifactPath,
)
from wayline.server.streaming import file_response, receive_body
from wayline.server.threads import in_thread
from wayline.wire import file_info_to_json

api = Api("artifacts-proxy", prefixes=ARTIFACT_PREFIXES)

#: MLflow clients match these messages to fall back to proxied transfers.
MULTIPART_UPLOAD_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
MULTIPART_DOWNLOAD_UNSUPPORTED = "Multipart download is not supported for the current artifact repository"

_PATH_PARAMETER = {"name": "artifact_path", "in": "path", "required": True, "schema": {"type": "string"}}
_PATH_DOC = {"parameters": [_PATH_PARAMETER]}


# -- listing and deleting -------------------------------------------------------------------------------
@api.rpc(
    "GET",
    "/artifacts",
    request=ListProxiedArtifacts,
    response=ListProxiedArtifactsResponse,
    summary="List the direct children of a directory of the artifact store (names, not paths)",
)
def list_artifacts(ctx: ServerContext, msg: ListProxiedArtifacts) -> dict[str, object]:
    rel = safe_relative_path(msg.path, field="path")
    infos = destination(ctx).list_artifacts(rel or None)
    files = [file_info_to_json(_named(info)) for info in infos]
    return {"files": files} if files else {}


def _named(info: FileInfo) -> FileInfo:
    return FileInfo(path=info.path.rsplit("/", 1)[-1], is_dir=info.is_dir, file_size=info.file_size)


@api.raw(
    "DELETE",
    "/artifacts/{artifact_path:path}",
    summary="Delete an artifact file or directory (missing paths are not an error)",
    openapi_extra=_PATH_DOC,
)
async def delete_artifact(request: Request, artifact_path: str) -> Response:
    ctx = context_of(request)
    _no_query(request)
    rel = safe_relative_path(artifact_path, field="artifact_path")
    if not rel:
        raise invalid_value("artifact_path", artifact_path, "must name a file or directory, not the root")
    await in_thread(destination(ctx).delete_artifacts, rel)
    return json_response({})


# -- streaming upload and download ----------------------------------------------------------------------
@api.raw(
    "GET",
    "/artifacts/{artifact_path:path}",
    summary="Download one artifact file, streamed",
    openapi_extra=_PATH_DOC,
)
async def download_artifact(request: Request, artifact_path: str) -> Response:
    ctx = context_of(request)
    _no_query(request)
    rel = file_path(artifact_path)
    store = destination(ctx)
    stream = await in_thread(store.open, rel)
    return file_response(stream, rel.rsplit("/", 1)[-1])


@api.raw(
    "PUT",
    "/artifacts/{artifact_path:path}",
    summary="Upload one artifact file: the request body is the file, streamed to the store",
    openapi_extra={
        **_PATH_DOC,
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        },
    },
)
async def upload_artifact(request: Request, artifact_path: str) -> Response:
    ctx = context_of(request)
    _no_query(request)
    rel = file_path(artifact_path)
    store = destination(ctx)
    await receive_body(request, lambda stream: store.write_stream(rel, stream))
    return json_response({})


def _no_query(request: Request) -> None:
    """Routes whose URL ends with an artifact path take no query: ``a?b`` must not quietly mean ``a``."""
    if request.url.query:
        raise invalid_value(
            "artifact_path", f"{request.url.path}?{request.url.query}", "must not contain '?'"
        )


# -- multipart uploads and presigned downloads ------------------------------------------------------------
def _multipart_store(ctx: ServerContext) -> MultipartArtifactRepository:
    store = destination(ctx)
    if not supports_multipart(store):
        raise NotImplementedFeature(MULTIPART_UPLOAD_UNSUPPORTED)
    return store


_SEPARATORS = re.compile(r"[\\/]")


def _upload_target(artifact_path: str, path: str) -> str:
    """``artifact_path/<file name>``: MLflow clients send their local file's path as ``path``."""
    directory = safe_relative_path(artifact_path, field="artifact_path")
    name = _SEPARATORS.split(path)[-1] if isinstance(path, str) else path
    if not name or safe_relative_path(name, field="path") != name:
        raise invalid_value("path", path, "must end with a file name")
    return f"{directory}/{name}" if directory else name


def _path_route(
    method: str,
    path: str,
    *,
    model: type[WireModel],
    summary: str,
    response: type[BaseModel] | None = None,
) -> Callable[[Callable[[ServerContext, Any], dict[str, object]]], Callable[..., Any]]:
    """Register ``fn(ctx, msg)`` like :meth:`Api.rpc`, but refusing any query string: the artifact path
    ends the URL, so ``a?b`` must not quietly mean ``a``. POST routes read a JSON body."""
    api.models.extend(m for m in (model, response) if m is not None and m not in api.models)
    extra: dict[str, Any] = {"parameters": [_PATH_PARAMETER]}
    if method == "POST":
        schema = {"$ref": REF_TEMPLATE.format(model=model.__name__)}
        extra["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    if response is not None:
        schema = {"$ref": REF_TEMPLATE.format(model=response.__name__)}
        extra["responses"] = {
            "200": {"description": "Success", "content": {"application/json": {"schema": schema}}}
        }

    def decorate(fn: Callable[[ServerContext, Any], dict[str, object]]) -> Callable[..., Any]:
        async def endpoint(request: Request, artifact_path: str) -> Response:
            _no_query(request)
            ctx = context_of(request)
            body = (
                b"" if method == "GET" else await read_body(request, ctx.settings.max_body_mib * 1024 * 1024)
            )
            msg = decode_json(model, body, {"artifact_path": artifact_path})
            return json_response(await in_thread(fn, ctx, msg))

        endpoint.__name__ = fn.__name__
        api.raw(method, path, summary=summary, openapi_extra=extra)(endpoint)
        return fn

    return decorate


@_path_route(
    "POST",
    "/mpu/create/{artifact_path:path}",
    model=CreateMultipartUpload,
    response=CreateMultipartUploadResponse,
    summary="Start a multipart upload of <artifact_path>/<file name of path>; returns presigned part URLs",
)
def create_multipart_upload(ctx: ServerContext, msg: CreateMultipartUpload) -> dict[str, object]:
    target = _upload_target(msg.artifact_path, msg.path)
    upload = _multipart_store(ctx).create_multipart_upload(target, msg.num_parts)
    return {
        "upload_id": upload.upload_id,
        "credentials": [
            {"url": c.url, "part_number": c.part_number, "headers": dict(c.headers)}
            for c in upload.credentials
        ],
    }


@_path_route(
    "POST",
    "/mpu/complete/{artifact_path:path}",
    model=CompleteMultipartUpload,
    summary="Complete a multipart upload from its parts' numbers and ETags",
)
def complete_multipart_upload(ctx: ServerContext, msg: CompleteMultipartUpload) -> dict[str, object]:
    target = _upload_target(msg.artifact_path, msg.path)
    store = _multipart_store(ctx)
    parts = [UploadedPart(part_number=p.part_number, etag=p.etag) for p in msg.parts]
    store.complete_multipart_upload(target, msg.upload_id, parts)
    return {}


@_path_route(
    "POST",
    "/mpu/abort/{artifact_path:path}",
    model=AbortMultipartUpload,
    summary="Abort a multipart upload and drop its parts",
)
def abort_multipart_upload(ctx: ServerContext, msg: AbortMultipartUpload) -> dict[str, object]:
    target = _upload_target(msg.artifact_path, msg.path)
    _multipart_store(ctx).abort_multipart_upload(target, msg.upload_id)
    return {}


@_path_route(
    "GET",
    "/presigned/{artifact_path:path}",
    model=ProxiedArtifactPath,
    response=PresignedDownloadResponse,
    summary="A presigned URL to download an artifact file straight from the object store",
)
def presigned_download(ctx: ServerContext, msg: ProxiedArtifactPath) -> dict[str, object]:
    rel = file_path(msg.artifact_path)
    store = destination(ctx)
    if not supports_multipart(store):
        raise NotImplementedFeature(MULTIPART_DOWNLOAD_UNSUPPORTED)
    presigned = store.presigned_download_url(rel)
    out: dict[str, object] = {"url": presigned.url, "headers": dict(presigned.headers)}
    if presigned.file_size is not None:
        out["file_size"] = presigned.file_size
    return out
