"""boto3 plumbing of the S3 artifact store: one cached client per endpoint and identity, boto3's errors as
Wayline errors, and a binary file object over an object's body."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from wayline.artifacts.transfer import BodyReader
from wayline.errors import (
    InternalError,
    InvalidParameterValue,
    PermissionDenied,
    ResourceNotFound,
    TemporarilyUnavailable,
    WaylineError,
)
from wayline.flags import is_true

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client

_ENDPOINT_ENV = ("WAYLINE_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
_IGNORE_TLS_ENV = ("WAYLINE_S3_IGNORE_TLS", "MLFLOW_S3_IGNORE_TLS")
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
_REFUSED = frozenset(
    {
        "InvalidPart",
        "InvalidPartOrder",
        "EntityTooSmall",
        "InvalidArgument",
        "MalformedXML",
        "KeyTooLongError",
    }
)
#: S3 is overloaded or failing, or the request timed out: worth retrying (boto3 already did, a few times).
_BUSY = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"})
_DENIED = frozenset({"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"})


def s3_client() -> S3Client:
    """The client for the endpoint and credentials the environment names now (read at every call)."""
    return _client_for(
        _first_env(_ENDPOINT_ENV),
        is_true(_first_env(_IGNORE_TLS_ENV)),
        os.environ.get("AWS_ACCESS_KEY_ID", ""),
        os.environ.get("AWS_PROFILE", ""),
        os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "")),
    )


class ObjectReader(BodyReader):
    """A readable binary file over an S3 object body; ``size`` is the object's length when known."""

    def __init__(self, body: StreamingBody, size: int | None) -> None:
        super().__init__(body.read, body.close)
        self.size = size


@functools.lru_cache(maxsize=8)
def _client_for(endpoint: str, ignore_tls: bool, *_identity: str) -> S3Client:
    """One client per endpoint and identity (boto3 clients are thread-safe; making one is slow)."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint or None, verify=not ignore_tls, config=config)


def _first_env(names: tuple[str, ...]) -> str:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return ""


@contextmanager
def s3_errors(path: str, *, upload_id: str | None = None) -> Iterator[None]:
    """Turn boto3's errors into Wayline errors; messages name the artifact path, never credentials."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except ClientError as exc:
        raise _client_error(exc, path, upload_id) from None
    except NoCredentialsError:
        raise InternalError(
            "No S3 credentials found for the s3:// artifact store (boto3 reads AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, a profile or an instance role)"
        ) from None
    except BotoCoreError as exc:
        raise TemporarilyUnavailable(f"The S3 artifact store is unreachable ({type(exc).__name__})") from None


def _client_error(exc: Any, path: str, upload_id: str | None) -> WaylineError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    if code == "NoSuchUpload":
        return ResourceNotFound(f"No multipart upload with id '{upload_id}' for artifact '{path}'")
    if code == "NoSuchBucket":
        return InternalError("The artifact store's S3 bucket does not exist")
    if code in _NOT_FOUND:
        return ResourceNotFound(f"No artifact found at path '{path}'")
    if code in _REFUSED:
        return InvalidParameterValue(f"S3 refused the request for artifact '{path}' ({code}): {message}")
    if code in _DENIED:
        return PermissionDenied(f"S3 denied access to artifact '{path}' ({code})")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _BUSY or (isinstance(status, int) and status >= 500):
        return TemporarilyUnavailable(f"The S3 artifact store failed or is busy ({code}); try again")
    return InternalError(f"S3 error {code} for artifact '{path}'")


__all__ = ["ObjectReader", "s3_client", "s3_errors"]
