"""From an artifact URI to the repository that serves it."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

from wayline.artifacts.local import LocalArtifactRepository
from wayline.artifacts.path import safe_relative_path, uri_scheme
from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import InvalidParameterValue, invalid_value

_LOCAL_SCHEMES = frozenset({"", "file"})


def get_artifact_repository(uri: str) -> ArtifactRepository:
    """The repository for ``uri``: a plain path or a ``file:`` URI gives a :class:`LocalArtifactRepository`.

    Other schemes (S3, HTTP) are refused until their repositories exist.
    """
    scheme = uri_scheme(uri, field="artifact_uri")
    if scheme in _LOCAL_SCHEMES:
        return LocalArtifactRepository(uri)
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
