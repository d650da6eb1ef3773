"""Requests and responses of the artifact routes: the run-side ones (``/api/2.0/mlflow/artifacts/...``) and
the proxy (``/api/2.0/mlflow-artifacts/...``), in MLflow's field names.

``artifact_path`` fields come from the URL path; paths are validated by the handlers (every spelling of
``shared/SECURITY.md`` section 1), not here, so that the error names the field the client sent.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from wayline.server.endpoint import WireModel


# -- proxy ----------------------------------------------------------------------------------------------
class ListProxiedArtifacts(WireModel):
    path: str | None = Field(None, description="Directory to list, relative to the artifact root")


class ProxiedArtifactPath(WireModel):
    artifact_path: str = ""


class CreateMultipartUpload(WireModel):
    artifact_path: str = ""
    path: str = Field(description="The file being uploaded; only its last path component is used")
    num_parts: int = Field(1, description="How many part URLs to presign (1 to 10000)")


class UploadedPartModel(WireModel):
    part_number: int
    etag: str = ""
    url: str | None = None


class CompleteMultipartUpload(WireModel):
    artifact_path: str = ""
    path: str
    upload_id: str
    parts: list[UploadedPartModel]


class AbortMultipartUpload(WireModel):
    artifact_path: str = ""
    path: str
    upload_id: str


class FileInfoModel(BaseModel):
    path: str
    is_dir: bool
    file_size: int | None = None


class ListProxiedArtifactsResponse(BaseModel):
    files: list[FileInfoModel] = Field(
        default_factory=list, description="Direct children by name; omitted when empty"
    )


class PartCredentialModel(BaseModel):
    url: str
    part_number: int
    headers: dict[str, str] = Field(default_factory=dict)


class CreateMultipartUploadResponse(BaseModel):
    upload_id: str
    credentials: list[PartCredentialModel]


class PresignedDownloadResponse(BaseModel):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    file_size: int | None = None


# -- run artifacts ----------------------------------------------------------------------------------------
class ListArtifacts(WireModel):
    run_id: str | None = None
    run_uuid: str | None = Field(None, description="Deprecated spelling of run_id")
    path: str | None = Field(None, description="Directory to list, relative to the run's artifact root")
    page_token: str | None = Field(None, description="Refused when set: listings come in one page")


class ListArtifactsResponse(BaseModel):
    root_uri: str
    files: list[FileInfoModel] = Field(
        default_factory=list, description="Paths relative to root_uri; omitted when empty"
    )


class CreatePresignedDownloadUrl(WireModel):
    run_id: str
    path: str
    expiration: int | None = Field(None, description="Seconds the URL stays valid (1 to 604800)")


class CreatePresignedDownloadUrlResponse(BaseModel):
    presigned_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    file_size: int | None = None


class CreatePresignedUploadUrl(WireModel):
    run_id: str | None = None
    model_id: str | None = None
    path: str
    expiration: int | None = Field(None, description="Seconds the URL stays valid (1 to 604800)")


class CreatePresignedUploadUrlResponse(BaseModel):
    presigned_url: str
    headers: dict[str, str] = Field(default_factory=dict)


__all__ = [
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CreateMultipartUpload",
    "CreateMultipartUploadResponse",
    "CreatePresignedDownloadUrl",
    "CreatePresignedDownloadUrlResponse",
    "CreatePresignedUploadUrl",
    "CreatePresignedUploadUrlResponse",
    "FileInfoModel",
    "ListArtifacts",
    "ListArtifactsResponse",
    "ListProxiedArtifacts",
    "ListProxiedArtifactsResponse",
    "PartCredentialModel",
    "PresignedDownloadResponse",
    "ProxiedArtifactPath",
    "UploadedPartModel",
]
