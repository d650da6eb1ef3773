"""From an artifact URI to the repository that serves it, and the parts of a ``models:/`` URI.

A ``models:/`` URI names a registered model version, not a place: :func:`parse_model_uri` splits it, the
registry (``WaylineClient.resolve_model_uri``) finds the version and its download URI, and that URI goes to
:func:`get_artifact_repository` like any other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from wayline.artifacts.local import LocalArtifactRepository
from wayline.artifacts.path import safe_relative_path, uri_scheme
from wayline.artifacts.repository import ArtifactRepository
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, invalid_value

_LOCAL_SCHEMES = frozenset({"", "file"})
#: Schemes that name registry or run entries rather than places; never valid where a place is expected.
INDIRECT_SCHEMES = frozenset({"models", "runs"})
_MODEL_URI_FORMS = (
    "expected models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or "
    "models:/<name>@<alias>, optionally followed by /<path inside the model>, or models:/<logged model id>"
)


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


@dataclass(frozen=True)
class ModelUri:
    """The parts of a ``models:/`` URI: a registered model's name and one of version, alias, stage or
    latest, or an MLflow 3 logged model's id (``models:/<model id>``, ``name`` empty)."""

    name: str = ""
    version: int | None = None
    alias: str | None = None
    stage: Stage | None = None
    latest: bool = False
    #: A safe relative path inside the version's files ("" for all of them).
    path: str = ""
    model_id: str | None = None


def is_model_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri[:7].lower() == "models:"


def parse_model_uri(uri: str, *, field: str = "model_uri") -> ModelUri:
    """Split ``models:/name/3``, ``models:/name/Production``, ``models:/name/latest`` and
    ``models:/name@champion``, each optionally followed by ``/sub/path``, and ``models:/<logged model id>``.

    Names and aliases are taken literally; the sub-path must be a safe relative path. Raises
    :class:`InvalidParameterValue` naming ``field``.
    """
    if uri_scheme(uri, field=field) != "models":
        raise invalid_value(field, uri, _MODEL_URI_FORMS)
    parts = urlsplit(uri)
    if parts.netloc:
        raise invalid_value(field, uri, "registry profiles (models://profile/...) are not supported")
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise invalid_value(field, uri, "must not have a query or a fragment")
    segments = parts.path.lstrip("/").split("/")
    head, rest = segments[0], segments[1:]
    if "@" in head:
        name, alias = head.rsplit("@", 1)
        if not name or not alias:
            raise invalid_value(field, uri, _MODEL_URI_FORMS)
        return ModelUri(name, alias=alias, path=safe_relative_path("/".join(rest), field=field))
    if head and not rest and head == head.strip():
        return ModelUri(model_id=head)
    if not head or not rest or not rest[0]:
        raise invalid_value(field, uri, _MODEL_URI_FORMS)
    selector, path = rest[0], safe_relative_path("/".join(rest[1:]), field=field)
    if selector.isascii() and selector.isdigit():
        return ModelUri(head, version=int(selector), path=path)
    if selector.lower() == "latest":
        return ModelUri(head, latest=True, path=path)
    try:
        stage = Stage.parse(selector)
    except InvalidParameterValue:
        raise invalid_value(field, uri, _MODEL_URI_FORMS) from None
    return ModelUri(head, stage=stage, path=path)


__all__ = [
    "INDIRECT_SCHEMES",
    "ModelUri",
    "get_artifact_repository",
    "is_model_uri",
    "join_artifact_uri",
    "parse_model_uri",
]
