"""From an artifact URI to the repository that serves it."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from wayline.artifacts.local import LocalArtifactRepository
from wayline.artifacts.path import safe_relative_path, uri_scheme
from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import InvalidParameterValue, invalid_value

_LOCAL_SCHEMES = frozenset({"", "file"})


def get_artifact_repository(uri: str, *, tracking_uri: str | None = None) -> ArtifactRepository:
    """The repository for ``uri``.

    ==================================  ===========================================================
    artifact URI                        repository
    ==================================  ===========================================================
    a plain path, ``file:``             :class:`LocalArtifactRepository`
    ``s3://bucket/prefix``              ``S3ArtifactRepository`` (boto3; endpoint from
                                        ``WAYLINE_S3_ENDPOINT_URL`` or ``MLFLOW_S3_ENDPOINT_URL``)
    ``mlflow-artifacts:/path``          ``HttpArtifactRepository`` through the tracking server named by
                                        ``tracking_uri`` (which must be ``http(s)://``)
    ``http(s)://host/path``             ``HttpArtifactRepository`` on that URL
    ==================================  ===========================================================
    """
    scheme = uri_scheme(uri, field="artifact_uri")
    if scheme in _LOCAL_SCHEMES:
        return LocalArtifactRepository(uri)
    if scheme == "s3":
        from wayline.artifacts.s3 import S3ArtifactRepository

        return S3ArtifactRepository(uri)
    if scheme in ("mlflow-artifacts", "http", "https"):
        from wayline.artifacts.http import HttpArtifactRepository

        return HttpArtifactRepository(uri, tracking_uri=tracking_uri)
    raise InvalidParameterValue(f"unsupported artifact URI scheme '{scheme}' for parameter 'artifact_uri'")


def join_artifact_uri(base: str, path: str) -> str:
    """``base`` with the safe relative ``path`` appended (``base`` itself when ``path`` names the root).

    Plain paths and URIs of other schemes get ``path`` as is; ``file:`` URIs get it percent-encoded, since
    their path is percent-decoded when read back. A ``base`` with a query or a fragment is refused.
    """
    rel = safe_relative_path(path, field="artifact_path")
    scheme = uri_scheme(base, field="artifact_uri")
    if not scheme:
        separators = "/\\" if os.name == "nt" else "/"
        return f"{base.rstrip(separators)}/{rel}" if rel else base
    parts = urlsplit(base)
    if parts.query or parts.fragment or "?" in base or "#" in base:
        raise invalid_value("artifact_uri", base, "artifact URIs must not have a query or a fragment")
    if not rel:
        return base
    tail = quote(rel, safe="/") if scheme == "file" else rel
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{tail}"))


__all__ = ["get_artifact_repository", "join_artifact_uri"]
