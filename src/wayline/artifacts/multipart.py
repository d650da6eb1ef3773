"""Direct-to-store transfers: multipart uploads with presigned part URLs, and presigned downloads.

Only object stores offer these (the S3 repository does; a local folder does not). The proxy routes check
:func:`supports_multipart` and answer MLflow's "not supported" error otherwise, which makes MLflow clients
fall back to a plain streamed PUT or GET through the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeGuard, runtime_checkable
from urllib.parse import quote

#: S3's bounds on the number of parts of one multipart upload.
MAX_UPLOAD_PARTS = 10_000
#: Lifetime of presigned URLs handed out by the server, in seconds (MLflow's default for downloads).
PRESIGNED_URL_TTL_SECONDS = 300


@dataclass(frozen=True)
class PartCredential:
    """Where the client PUTs part ``part_number`` of a multipart upload, and the headers it must send."""

    url: str
    part_number: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MultipartUpload:
    """A started multipart upload: its id and one presigned URL per part."""

    upload_id: str
    credentials: tuple[PartCredential, ...]


@dataclass(frozen=True)
class UploadedPart:
    """A part the client uploaded: its number and the ETag the store answered."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class PresignedUrl:
    """A URL that grants one operation on one object without further credentials."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    file_size: int | None = None


@runtime_checkable
class MultipartArtifactRepository(Protocol):
    """An artifact store that can hand out presigned URLs. Every path is relative to its root."""

    def create_multipart_upload(
        self, artifact_file: str, num_parts: int, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> MultipartUpload:
        """Start a multipart upload of ``artifact_file`` with ``num_parts`` presigned part URLs."""
        ...

    def complete_multipart_upload(
        self, artifact_file: str, upload_id: str, parts: list[UploadedPart]
    ) -> None:
        """Assemble the uploaded parts into ``artifact_file``."""
        ...

    def abort_multipart_upload(self, artifact_file: str, upload_id: str) -> None:
        """Drop an unfinished upload and its parts."""
        ...

    def presigned_download_url(
        self, artifact_file: str, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> PresignedUrl:
        """A GET URL for ``artifact_file`` (ResourceNotFound when missing), with its size."""
        ...

    def presigned_upload_url(
        self, artifact_file: str, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> PresignedUrl:
        """A single PUT URL for ``artifact_file`` and the headers the client must send with it."""
        ...


def attachment_disposition(filename: str) -> str:
    """A ``Content-Disposition: attachment`` value for ``filename`` (RFC 6266, non-ASCII per RFC 5987)."""
    ascii_only = (ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    fallback = "".join(ascii_only) or "download"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def supports_multipart(repository: object) -> TypeGuard[MultipartArtifactRepository]:
    """Whether ``repository`` can hand out presigned URLs (multipart uploads, direct downloads)."""
    return isinstance(repository, MultipartArtifactRepository)


__all__ = [
    "MAX_UPLOAD_PARTS",
    "PRESIGNED_URL_TTL_SECONDS",
    "MultipartArtifactRepository",
    "MultipartUpload",
    "PartCredential",
    "PresignedUrl",
    "UploadedPart",
    "attachment_disposition",
    "supports_multipart",
]
