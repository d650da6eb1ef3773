"""An artifact store in an S3 bucket (or any S3-compatible store: MinIO, Ceph, moto), with plain boto3.

``s3://bucket/prefix``: every artifact path ``p`` (checked by :func:`safe_relative_path`) is the object key
``prefix/p``. The endpoint comes from ``WAYLINE_S3_ENDPOINT_URL``, then ``MLFLOW_S3_ENDPOINT_URL`` (AWS when
neither is set); ``WAYLINE_S3_IGNORE_TLS`` / ``MLFLOW_S3_IGNORE_TLS`` turn certificate checks off; credentials
and region come from boto3's usual chain (environment, profile, instance role).

Nothing is held in memory whole: files go up with boto3's managed transfer (multipart above
:data:`MULTIPART_THRESHOLD`), streams in parts of :data:`PART_SIZE` (an unfinished upload is aborted), and
:meth:`S3ArtifactRepository.open` streams the object body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast
from urllib.parse import urlsplit

from wayline.artifacts.multipart import (
    MAX_UPLOAD_PARTS,
    PRESIGNED_URL_TTL_SECONDS,
    MultipartUpload,
    PartCredential,
    PresignedUrl,
    UploadedPart,
    attachment_disposition,
)
from wayline.artifacts.path import join_path, safe_file_path, safe_relative_path, uri_scheme
from wayline.artifacts.s3_client import ObjectReader, s3_client, s3_errors
from wayline.artifacts.transfer import content_type, download_target, plan_dir_upload, plan_file_upload
from wayline.entities import FileInfo
from wayline.errors import InternalError, InvalidParameterValue, ResourceNotFound, invalid_value

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

#: Size of the parts of :meth:`S3ArtifactRepository.write_stream` (parts grow past 1000 of them).
PART_SIZE = 8 * 1024 * 1024
#: Files at least this large are uploaded in parts by boto3's managed transfer.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
#: Keys per ``delete_objects`` call (S3's maximum).
DELETE_BATCH = 1000

_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")


class S3ArtifactRepository:
    """Artifacts under ``s3://bucket/prefix`` (the prefix may be empty)."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri
        self.bucket, self.prefix = _parse_root(root_uri)

    def __repr__(self) -> str:
        return f"S3ArtifactRepository({self.root_uri!r})"

    # -- writing ----------------------------------------------------------------------------------------
    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        """Upload one local file into the directory ``artifact_path`` (the root when None)."""
        self._upload_file(*plan_file_upload(local_file, artifact_path))

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Upload a local directory's contents, recursively; every name is checked before any upload."""
        for file, rel in plan_dir_upload(local_dir, artifact_path).files:
            self._upload_file(file, rel)

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` as the object ``artifact_file``."""
        rel = safe_file_path(artifact_file)
        with s3_errors(rel):
            self._client().put_object(
                Bucket=self.bucket, Key=self._key(rel), Body=data, ContentType=content_type(rel)
            )

    def write_stream(self, artifact_file: str, stream: BinaryIO) -> int:
        """Write ``stream`` to ``artifact_file``; return the bytes written.

        A stream shorter than :data:`PART_SIZE` is one ``put_object``; a longer one is a multipart upload
        of bounded parts, aborted if anything fails, so the object appears only once complete.
        """
        rel = safe_file_path(artifact_file)
        key = self._key(rel)
        client = self._client()
        data = _read_part(stream, PART_SIZE)
        if len(data) < PART_SIZE:
            with s3_errors(rel):
                client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(rel))
            return len(data)
        with s3_errors(rel):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type(rel)
            )["UploadId"]
        try:
            parts: list[CompletedPartTypeDef] = []
            written = 0
            number = 1
            while data:
                if number > MAX_UPLOAD_PARTS:
                    raise invalid_value("artifact_file", artifact_file, "stream too large for one object")
                with s3_errors(rel):
                    etag = client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                    )["ETag"]
                parts.append({"ETag": etag, "PartNumber": number})
                written += len(data)
                number += 1
                data = _read_part(stream, _part_size(number))
            with s3_errors(rel):
                client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            with suppress(Exception):
                client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return written

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree; everything under the root when None. Missing is fine."""
        rel = safe_relative_path(artifact_path, field="artifact_path")
        key = self._key(rel)
        keys: Iterator[str] = self._keys_below(rel)
        client = self._client()
        batch: list[str] = [key] if rel else []
        for each in keys:
            batch.append(each)
            if len(batch) == DELETE_BATCH:
                self._delete_batch(client, batch, rel)
                batch = []
        if batch:
            self._delete_batch(client, batch, rel)

    # -- reading ----------------------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path``, sorted by path; ``[]`` for a file or a missing path."""
        rel = safe_relative_path(path, field="path")
        prefix = self._dir_prefix(rel)
        infos: list[FileInfo] = []
        paginator = self._client().get_paginator("list_objects_v2")
        with s3_errors(rel):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common.get("Prefix", "")[len(prefix) :].removesuffix("/")
                    if _is_visible(name):
                        infos.append(FileInfo(path=join_path(rel, name), is_dir=True))
                for item in page.get("Contents", []):
                    name = item.get("Key", "")[len(prefix) :]
                    if _is_visible(name):
                        size = item.get("Size")
                        infos.append(FileInfo(path=join_path(rel, name), is_dir=False, file_size=size))
        return sorted(infos, key=lambda info: info.path)

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> Path:
        """Download a file or a directory to ``dst_path / artifact_path`` and return that local path.

        Without ``dst_path`` the copy goes to a new temporary directory readable by the current user only.
        """
        rel = safe_relative_path(artifact_path, field="artifact_path")
        is_file = bool(rel) and self._exists(rel)
        below = [] if is_file else list(self._keys_below(rel))
        if rel and not is_file and not below:
            raise ResourceNotFound(f"No artifact found at path '{rel}'")
        local = download_target(dst_path, rel)[1]
        client = self._client()
        if is_file:
            local.parent.mkdir(parents=True, exist_ok=True)
            with s3_errors(rel):
                client.download_file(self.bucket, self._key(rel), str(local))
            return local
        local.mkdir(parents=True, exist_ok=True)
        prefix = self._dir_prefix(rel)
        for key in below:
            sub = key[len(prefix) :]
            target = local.joinpath(*sub.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            with s3_errors(join_path(rel, sub)):
                client.download_file(self.bucket, key, str(target))
        return local

    def open(self, artifact_file: str) -> BinaryIO:
        """Stream the object ``artifact_file``; the caller closes it. ``size`` holds its length."""
        rel = safe_file_path(artifact_file)
        try:
            with s3_errors(rel):
                response = self._client().get_object(Bucket=self.bucket, Key=self._key(rel))
        except ResourceNotFound:
            if next(self._keys_below(rel), None) is not None:
                raise invalid_value("artifact_file", artifact_file, "is a directory, not a file") from None
            raise
        return cast(BinaryIO, ObjectReader(response["Body"], response.get("ContentLength")))

    # -- presigned URLs (see wayline.artifacts.multipart) -----------------------------------------------
    def create_multipart_upload(
        self, artifact_file: str, num_parts: int, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> MultipartUpload:
        """Start a multipart upload of ``artifact_file`` and presign a PUT URL for each of its parts."""
        rel = safe_file_path(artifact_file)
        if not isinstance(num_parts, int) or not 1 <= num_parts <= MAX_UPLOAD_PARTS:
            raise invalid_value("num_parts", num_parts, f"must be between 1 and {MAX_UPLOAD_PARTS}")
        key = self._key(rel)
        client = self._client()
        with s3_errors(rel):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type(rel)
            )["UploadId"]
            credentials = tuple(
                PartCredential(
                    url=client.generate_presigned_url(
                        "upload_part",
                        Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
                        ExpiresIn=expires_in,
                    ),
                    part_number=n,
                )
                for n in range(1, num_parts + 1)
            )
        return MultipartUpload(upload_id=upload_id, credentials=credentials)

    def complete_multipart_upload(
        self, artifact_file: str, upload_id: str, parts: list[UploadedPart]
    ) -> None:
        """Assemble the uploaded ``parts`` (any order) into the object ``artifact_file``."""
        rel = safe_file_path(artifact_file)
        _check_upload_id(upload_id)
        if not parts:
            raise invalid_value("parts", parts, "must list at least one uploaded part")
        ordered = sorted(parts, key=lambda part: part.part_number)
        with s3_errors(rel, upload_id=upload_id):
            self._client().complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._key(rel),
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"ETag": p.etag, "PartNumber": p.part_number} for p in ordered]},
            )

    def abort_multipart_upload(self, artifact_file: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and the parts uploaded so far."""
        rel = safe_file_path(artifact_file)
        _check_upload_id(upload_id)
        with s3_errors(rel, upload_id=upload_id):
            self._client().abort_multipart_upload(Bucket=self.bucket, Key=self._key(rel), UploadId=upload_id)

    def presigned_download_url(
        self, artifact_file: str, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> PresignedUrl:
        """A GET URL that downloads ``artifact_file`` as an attachment, with the object's size."""
        rel = safe_file_path(artifact_file)
        key = self._key(rel)
        client = self._client()
        with s3_errors(rel):
            size = client.head_object(Bucket=self.bucket, Key=key).get("ContentLength")
            url = client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": attachment_disposition(rel.rsplit("/", 1)[-1]),
                },
                ExpiresIn=expires_in,
            )
        return PresignedUrl(url=url, headers={}, file_size=size)

    def presigned_upload_url(
        self, artifact_file: str, *, expires_in: int = PRESIGNED_URL_TTL_SECONDS
    ) -> PresignedUrl:
        """A single PUT URL for ``artifact_file``; the client must send the returned headers."""
        rel = safe_file_path(artifact_file)
        media_type = content_type(rel)
        with s3_errors(rel):
            url = self._client().generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": self._key(rel), "ContentType": media_type},
                ExpiresIn=expires_in,
            )
        return PresignedUrl(url=url, headers={"Content-Type": media_type})

    # -- helpers ----------------------------------------------------------------------------------------
    def _client(self) -> S3Client:
        return s3_client()

    def _key(self, rel: str) -> str:
        if not rel:
            return self.prefix
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _dir_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return f"{key}/" if key else ""

    def _exists(self, rel: str) -> bool:
        try:
            with s3_errors(rel):
                self._client().head_object(Bucket=self.bucket, Key=self._key(rel))
        except ResourceNotFound:
            return False
        return True

    def _keys_below(self, rel: str) -> Iterator[str]:
        """Every addressable object key below the directory ``rel`` (all of them for the root)."""
        prefix = self._dir_prefix(rel)
        paginator = self._client().get_paginator("list_objects_v2")
        with s3_errors(rel):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    key = item.get("Key", "")
                    if _is_visible(key[len(prefix) :]):
                        yield key

    def _delete_batch(self, client: S3Client, keys: list[str], rel: str) -> None:
        with s3_errors(rel):
            response = client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise InternalError(f"S3 could not delete {len(errors)} object(s); first: {first.get('Code')}")

    def _upload_file(self, source: Path, rel: str) -> None:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE)
        with s3_errors(rel):
            self._client().upload_file(
                str(source),
                self.bucket,
                self._key(rel),
                ExtraArgs={"ContentType": content_type(rel)},
                Config=config,
            )


def _parse_root(root_uri: str) -> tuple[str, str]:
    if uri_scheme(root_uri) != "s3":
        raise invalid_value("artifact_uri", root_uri, "not an s3:// URI")
    parts = urlsplit(root_uri)
    if parts.query or parts.fragment or "?" in root_uri or "#" in root_uri:
        raise invalid_value("artifact_uri", root_uri, "s3:// URIs must not have a query or a fragment")
    if not _BUCKET.match(parts.netloc):
        raise invalid_value("artifact_uri", root_uri, "s3:// URIs need a valid bucket name")
    return parts.netloc, safe_relative_path(parts.path.lstrip("/"), field="artifact_uri")


def _check_upload_id(upload_id: str) -> None:
    if not isinstance(upload_id, str) or not upload_id or len(upload_id) > 1024:
        raise invalid_value("upload_id", upload_id, "must be the id returned when the upload was created")


def _part_size(number: int) -> int:
    """Parts grow by :data:`PART_SIZE` every 1000 parts, so 10000 parts hold about 440 GiB."""
    return PART_SIZE * (1 + (number - 1) // 1000)


def _read_part(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the stream."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _is_visible(name: str) -> bool:
    """Whether a key's remainder is an addressable artifact path (``a//b``, ``..`` and markers are not)."""
    if not name:
        return False
    try:
        return safe_relative_path(name) == name
    except InvalidParameterValue:
        return False


__all__ = ["MULTIPART_THRESHOLD", "PART_SIZE", "S3ArtifactRepository"]
