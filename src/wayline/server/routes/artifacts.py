"""Routes: a run's artifacts as the tracking API and the UI see them.

Listing (``/api/2.0/mlflow/artifacts/list``), the UI's download (``/get-artifact``) and upload
(``/ajax-api/2.0/mlflow/upload-artifact``), and presigned URLs for runs whose artifacts live directly in an
object store. Which store holds a run's artifacts is decided by :mod:`wayline.server.artifact_access`.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from wayline.artifacts.multipart import MultipartArtifactRepository, supports_multipart
from wayline.artifacts.path import join_path
from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import InvalidParameterValue, NotImplementedFeature, invalid_value
from wayline.server.artifact_access import artifact_store, file_path, is_proxied, listing_json, listing_path
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api, context_of, json_response
from wayline.server.messages.artifacts import (
    CreatePresignedDownloadUrl,
    CreatePresignedDownloadUrlResponse,
    CreatePresignedUploadUrl,
    CreatePresignedUploadUrlResponse,
    ListArtifacts,
    ListArtifactsResponse,
)
from wayline.server.messages.common import missing, required_run_id
from wayline.server.streaming import file_response, receive_body
from wayline.server.threads import in_thread

api = Api("artifacts")

#: Largest file the UI may upload (MLflow's limit).
MAX_UI_UPLOAD_BYTES = 10 * 1024 * 1024
#: Bounds on the lifetime of presigned URLs (cloud providers cap them at 7 days).
MAX_EXPIRATION_SECONDS = 604_800
DEFAULT_DOWNLOAD_EXPIRATION = 300
DEFAULT_UPLOAD_EXPIRATION = 900


def run_artifact_file(ctx: ServerContext, run_id: str, rel: str) -> tuple[ArtifactRepository, str]:
    """The store holding the run's artifact ``rel`` and the path of that artifact in it."""
    run = ctx.tracking.get_run(run_id)
    store, base = artifact_store(ctx, run.info.artifact_uri)
    return store, join_path(base, rel)


@api.rpc(
    "GET",
    "/artifacts/list",
    request=ListArtifacts,
    response=ListArtifactsResponse,
    summary="List the direct children of a directory of a run's artifacts",
)
def list_artifacts(ctx: ServerContext, msg: ListArtifacts) -> dict[str, object]:
    run_id = required_run_id(msg.run_id, msg.run_uuid)
    rel = listing_path(msg.path, msg.page_token, field="path")
    return listing_json(ctx, ctx.tracking.get_run(run_id).info.artifact_uri, rel)


@api.raw("GET", "/get-artifact", prefixes=("",), summary="Download a run's artifact file (?run_id=&path=)")
async def get_artifact(request: Request) -> Response:
    ctx = context_of(request)
    query = request.query_params
    run_id = required_run_id(query.get("run_id"), query.get("run_uuid"))
    if "path" not in query:
        raise missing("path")
    rel = file_path(query["path"], field="path")
    store, target = await in_thread(run_artifact_file, ctx, run_id, rel)
    stream = await in_thread(store.open, target)
    return file_response(stream, rel.rsplit("/", 1)[-1])


@api.raw(
    "POST",
    "/upload-artifact",
    prefixes=("/ajax-api/2.0/mlflow",),
    summary="Upload a small run artifact from the UI (?run_uuid=&path=, the body is the file, <= 10 MiB)",
)
async def upload_artifact(request: Request) -> Response:
    ctx = context_of(request)
    query = request.query_params
    run_id = query.get("run_uuid") or query.get("run_id")
    if not run_id:
        raise InvalidParameterValue("Request must specify run_uuid.")
    if not query.get("path"):
        raise InvalidParameterValue("Request must specify path.")
    rel = file_path(query["path"], field="path")
    if request.headers.get("content-length") == "0":
        raise InvalidParameterValue("Request must specify data.")
    store, target = await in_thread(run_artifact_file, ctx, run_id, rel)
    await receive_body(request, lambda stream: store.write_stream(target, stream), limit=MAX_UI_UPLOAD_BYTES)
    return json_response({})


def _expiration(value: int | None, default: int) -> int:
    expiration = default if value is None else value
    if not 1 <= expiration <= MAX_EXPIRATION_SECONDS:
        raise invalid_value("expiration", value, f"must be between 1 and {MAX_EXPIRATION_SECONDS} seconds")
    return expiration


#: MLflow's refusals of presigned URLs: for proxied artifacts (``{scheme}`` filled in), for other stores.
_DOWNLOAD_REFUSALS = (
    "Presigned download is not supported for runs with proxied artifact storage (artifact URI scheme: "
    "{scheme}). This endpoint requires a run with a direct cloud storage artifact URI.",
    "Presigned download is not supported for the current artifact repository",
)
_UPLOAD_REFUSALS = (
    "Presigned upload is not supported for proxied artifact storage (artifact URI scheme: {scheme}). "
    "This endpoint requires a direct cloud storage artifact URI.",
    "Presigned upload is not supported for the current artifact repository",
)


def _object_store_file(
    ctx: ServerContext, run_id: str, rel: str, refusals: tuple[str, str]
) -> tuple[MultipartArtifactRepository, str]:
    """The object store holding the run's artifacts directly and the path of its artifact ``rel`` there;
    refused for proxied artifacts and for stores that cannot presign URLs."""
    artifact_uri = ctx.tracking.get_run(run_id).info.artifact_uri
    if is_proxied(artifact_uri):
        raise InvalidParameterValue(refusals[0].format(scheme=artifact_uri.split(":", 1)[0]))
    store, base = artifact_store(ctx, artifact_uri)
    if not supports_multipart(store):
        raise NotImplementedFeature(refusals[1])
    return store, join_path(base, rel)


@api.rpc(
    "POST",
    "/artifacts/presigned-download-url",
    request=CreatePresignedDownloadUrl,
    response=CreatePresignedDownloadUrlResponse,
    summary="A presigned URL to download a run's artifact straight from its object store",
)
def presigned_download_url(ctx: ServerContext, msg: CreatePresignedDownloadUrl) -> dict[str, object]:
    rel = file_path(msg.path, field="path")
    expiration = _expiration(msg.expiration, DEFAULT_DOWNLOAD_EXPIRATION)
    store, target = _object_store_file(ctx, msg.run_id, rel, _DOWNLOAD_REFUSALS)
    presigned = store.presigned_download_url(target, expires_in=expiration)
    out: dict[str, object] = {"presigned_url": presigned.url, "headers": dict(presigned.headers)}
    if presigned.file_size is not None:
        out["file_size"] = presigned.file_size
    return out


@api.rpc(
    "POST",
    "/artifacts/presigned-upload-url",
    request=CreatePresignedUploadUrl,
    response=CreatePresignedUploadUrlResponse,
    summary="A presigned URL to upload a run's artifact straight to its object store",
)
def presigned_upload_url(ctx: ServerContext, msg: CreatePresignedUploadUrl) -> dict[str, object]:
    if bool(msg.run_id) == bool(msg.model_id):
        raise InvalidParameterValue("Exactly one of run_id and model_id must be provided.")
    rel = file_path(msg.path, field="path")
    expiration = _expiration(msg.expiration, DEFAULT_UPLOAD_EXPIRATION)
    if not msg.run_id:
        raise NotImplementedFeature("Presigned upload is not supported for logged model artifacts")
    store, target = _object_store_file(ctx, msg.run_id, rel, _UPLOAD_REFUSALS)
    presigned = store.presigned_upload_url(target, expires_in=expiration)
    return {"presigned_url": presigned.url, "headers": dict(presigned.headers)}
