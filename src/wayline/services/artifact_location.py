"""Which experiment artifact locations a server accepts from its clients (``shared/SECURITY.md`` section 1).

An experiment's ``artifact_location`` decides where its runs' artifacts are read and written, and the server's
own artifact routes follow it. A location chosen by a client must therefore never point into the server's
filesystem. :func:`validate_served_artifact_location` accepts a clean URI (no traversal in any spelling, no
query, fragment or path parameters, no nested ``runs:``/``models:`` URI) that is either an object-store URI
(``s3://bucket/...``) or lies inside one of the server's own artifact roots (``mlflow-artifacts:/...`` when it
proxies artifacts, or its default artifact root). Plain paths and ``file:`` URIs elsewhere are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from wayline.artifacts.path import safe_relative_path, uri_scheme
from wayline.errors import invalid_value
from wayline.services import limits

#: Object stores a client may name directly (the server reaches them with its own configured credentials).
OBJECT_STORE_SCHEMES = frozenset({"s3"})
_NESTED = ("runs:", "models:")


def validate_served_artifact_location(
    location: object, *, roots: Sequence[str], field: str = "artifact_location"
) -> str:
    """``location`` when a server may accept it (see the module docstring), else InvalidParameterValue."""
    if not isinstance(location, str):
        raise invalid_value(field, location, "must be a string")
    if len(location) > limits.MAX_ARTIFACT_LOCATION_LENGTH:
        raise invalid_value(
            field, location, f"longer than the limit of {limits.MAX_ARTIFACT_LOCATION_LENGTH} characters"
        )
    scheme = uri_scheme(location, field=field)
    if location.lower().startswith(_NESTED):
        raise invalid_value(field, location, "must not be a runs:/ or models:/ URI")
    parts = urlsplit(location)
    # Every spelling of the path part must be a clean relative path (this also refuses ';', '?', '#').
    safe_relative_path(_path_part(location, parts.scheme), field=field)
    if scheme in OBJECT_STORE_SCHEMES:
        if not parts.netloc:
            raise invalid_value(field, location, f"a {scheme}:// URI must name a bucket")
        return location
    for root in roots:
        if _inside(location, root):
            return location
    raise invalid_value(
        field,
        location,
        "must be inside the server's artifact store ("
        + ", ".join(repr(r) for r in roots)
        + ") or an s3:// URI; the server's own files are not an artifact location",
    )


def _path_part(location: str, scheme: str) -> str:
    """The part after ``scheme:`` and the authority, without its leading slashes."""
    rest = location[len(scheme) + 1 :] if scheme else location
    if rest.startswith("//"):
        rest = rest[2:]
        if scheme:
            rest = rest.partition("/")[2]
    return rest.lstrip("/\\")


def _inside(location: str, root: str) -> bool:
    """Whether ``location`` is ``root`` or below it (same scheme and authority, path prefix by segments)."""
    loc, base = urlsplit(location), urlsplit(root)
    if loc.scheme.lower() != base.scheme.lower() or loc.netloc != base.netloc:
        return False
    loc_segments = [s for s in loc.path.split("/") if s]
    base_segments = [s for s in base.path.split("/") if s]
    if base.path.startswith("/") != loc.path.startswith("/") and base_segments:
        return False
    return loc_segments[: len(base_segments)] == base_segments


__all__ = ["OBJECT_STORE_SCHEMES", "validate_served_artifact_location"]
