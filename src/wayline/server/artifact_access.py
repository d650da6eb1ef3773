"""Which store serves an artifact URI recorded on a run (or a logged model), as the server sees it.

* ``mlflow-artifacts:/<path>`` (and ``http(s)://.../api/2.0/mlflow-artifacts/artifacts/<path>``) name
  ``<path>`` inside the proxied artifacts destination (``ctx.artifacts``);
* any other URI (a folder, ``file:``, ``s3://``) is opened with :func:`get_artifact_repository`, but only
  when it lies inside an artifact store this server is configured with (its default artifact root, the
  backend store's default root, or the artifacts destination). Experiment artifact locations are chosen by
  clients, so this keeps a run from exposing ``/etc`` or another bucket through the server
  (``shared/SECURITY.md`` section 1). The server never fetches ``http(s)`` URIs itself.

The run and logged-model listing routes answer alike: :func:`listing_path` checks what to list and
:func:`listing_json` lists it, with paths relative to the listed URI.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from wayline.artifacts.local import LocalArtifactRepository
from wayline.artifacts.path import join_path, safe_relative_path, uri_scheme
from wayline.artifacts.repository import ArtifactRepository
from wayline.artifacts.resolve import get_artifact_repository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, NotImplementedFeature, PermissionDenied, invalid_value
from wayline.server.context import PROXY_SCHEME, ServerContext
from wayline.wire import file_info_to_json

#: Where the proxied path starts in an ``http(s)`` artifact URI.
PROXY_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"
_LOCAL = frozenset({"", "file"})


def destination(ctx: ServerContext) -> ArtifactRepository:
    """The proxied artifact store; NOT_IMPLEMENTED when this server does not serve artifacts."""
    if ctx.artifacts is None:
        raise NotImplementedFeature(
            "This server does not serve artifacts: start it with --serve-artifacts "
            "(or WAYLINE_SERVE_ARTIFACTS=true) to use the mlflow-artifacts routes"
        )
    return ctx.artifacts


def is_proxied(artifact_uri: str) -> bool:
    """Whether ``artifact_uri`` names proxied artifacts (stored in the artifacts destination)."""
    scheme = uri_scheme(artifact_uri, field="artifact_uri")
    return scheme == PROXY_SCHEME or (scheme in ("http", "https") and PROXY_ANCHOR in artifact_uri)


def artifact_store(ctx: ServerContext, artifact_uri: str) -> tuple[ArtifactRepository, str]:
    """The repository holding ``artifact_uri`` and the path of that URI's root inside it."""
    scheme = uri_scheme(artifact_uri, field="artifact_uri")
    if scheme == PROXY_SCHEME:
        return destination(ctx), _proxied_path(artifact_uri, urlsplit(artifact_uri).path)
    if scheme in ("http", "https"):
        if PROXY_ANCHOR not in artifact_uri:
            raise PermissionDenied("This server does not fetch artifacts from other HTTP servers")
        tail = urlsplit(artifact_uri).path.split(PROXY_ANCHOR, 1)[-1]
        return destination(ctx), _proxied_path(artifact_uri, tail)
    if not any(_inside(artifact_uri, root) for root in known_roots(ctx)):
        raise PermissionDenied("The artifact location is outside the artifact stores this server serves")
    return get_artifact_repository(artifact_uri), ""


def file_path(artifact_path: str, field: str = "artifact_path") -> str:
    """A safe relative path naming a file: not the root, not ending with a separator."""
    rel = safe_relative_path(artifact_path, field=field)
    if not rel or artifact_path.endswith(("/", "\\")):
        raise invalid_value(field, artifact_path, "must name a file (not a directory or the artifact root)")
    return rel


def listing_path(path: str | None, page_token: str | None, *, field: str) -> str:
    """The safe relative path of a directory to list; listings come in one page: a page token is refused."""
    if page_token:
        raise invalid_value("page_token", page_token, "listings come in one page: no token was issued")
    return safe_relative_path(path, field=field)


def listing_json(ctx: ServerContext, artifact_uri: str, rel: str) -> dict[str, object]:
    """MLflow's listing of the directory ``rel`` below ``artifact_uri``: ``root_uri`` and its direct children
    (``files``, omitted when there are none) with paths relative to ``artifact_uri``."""
    store, base = artifact_store(ctx, artifact_uri)
    cut = len(base) + 1 if base else 0
    files = [
        file_info_to_json(FileInfo(path=info.path[cut:], is_dir=info.is_dir, file_size=info.file_size))
        for info in store.list_artifacts(join_path(base, rel) or None)
    ]
    out: dict[str, object] = {"root_uri": artifact_uri}
    if files:
        out["files"] = files
    return out


def known_roots(ctx: ServerContext) -> list[str]:
    """The artifact stores this server was configured with."""
    from wayline.store.resolve import locate

    settings = ctx.settings
    roots = [locate(settings.backend_store_uri).default_artifact_root]
    if settings.default_artifact_root:
        roots.append(settings.default_artifact_root)
    if settings.serve_artifacts:
        roots.append(settings.resolved_artifacts_destination)
    return [root for root in roots if uri_scheme(root, field="artifact_root") != PROXY_SCHEME]


def _proxied_path(artifact_uri: str, path: str) -> str:
    try:
        return safe_relative_path(path.lstrip("/"), field="artifact_uri")
    except InvalidParameterValue:
        raise PermissionDenied("The artifact location is outside the artifacts destination") from None


def _inside(uri: str, root: str) -> bool:
    """Whether ``uri`` is ``root`` or below it: real paths for local stores, key prefixes for others."""
    scheme, root_scheme = uri_scheme(uri, field="artifact_uri"), uri_scheme(root, field="artifact_root")
    if scheme in _LOCAL and root_scheme in _LOCAL:
        real = os.path.realpath(LocalArtifactRepository(uri).root)
        real_root = os.path.realpath(LocalArtifactRepository(root).root)
        return real == real_root or os.path.commonpath([real, real_root]) == real_root
    if scheme != root_scheme:
        return False
    parts, root_parts = urlsplit(uri), urlsplit(root)
    if parts.netloc != root_parts.netloc or parts.query or parts.fragment or "?" in uri or "#" in uri:
        return False
    try:
        path = safe_relative_path(parts.path.lstrip("/"), field="artifact_uri")
        root_path = safe_relative_path(root_parts.path.lstrip("/"), field="artifact_root")
    except InvalidParameterValue:
        return False
    return not root_path or path == root_path or path.startswith(root_path + "/")


__all__ = [
    "PROXY_ANCHOR",
    "artifact_store",
    "destination",
    "file_path",
    "is_proxied",
    "known_roots",
    "listing_json",
    "listing_path",
]
