"""From a tracking URI to a store: the embedded folder layout, SQL URLs, and HTTP servers.

=====================================  ===============================================================
tracking URI                           what it opens
=====================================  ===============================================================
``./wayline-data`` (default), a path,  the embedded store: ``<dir>/wayline.db`` (SQLite) and the artifact
``file:///abs/dir``                    root ``<dir>/artifacts``
``sqlite:///path/to.db``               that SQLite file; artifacts under ``<db dir>/artifacts``
``postgresql://user@host/db``          PostgreSQL; artifacts under ``WAYLINE_ARTIFACT_ROOT``
``http(s)://host[/prefix]``            a Wayline or MLflow server (:class:`RestTrackingStore`)
=====================================  ===============================================================

``WAYLINE_ARTIFACT_ROOT`` overrides the default artifact root for every SQL backend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from wayline.errors import InvalidParameterValue
from wayline.store.registry import RegistryStore
from wayline.store.tracking import TrackingStore

DEFAULT_TRACKING_URI = "./wayline-data"
EMBEDDED_DB_NAME = "wayline.db"
TRACKING_URI_ENV = ("WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")
ARTIFACT_ROOT_ENV = "WAYLINE_ARTIFACT_ROOT"


def tracking_uri_from_env() -> str:
    """``WAYLINE_TRACKING_URI``, then ``MLFLOW_TRACKING_URI``, then ``./wayline-data``."""
    for name in TRACKING_URI_ENV:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return DEFAULT_TRACKING_URI


@dataclass(frozen=True)
class StoreLocation:
    """Where a tracking URI points: the SQLAlchemy database URL and the default artifact root."""

    kind: str  # "sql" or "rest"
    db_url: str
    default_artifact_root: str


def locate(uri: str) -> StoreLocation:
    """Resolve a tracking URI without opening anything."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidParameterValue("Invalid value '' for parameter 'tracking_uri': must not be empty")
    uri = uri.strip()
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    env_root = os.environ.get(ARTIFACT_ROOT_ENV, "").strip() or None
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        folder = Path(unquote(parts.path) if scheme == "file" else uri).expanduser().resolve()
        return StoreLocation(
            "sql", f"sqlite:///{folder / EMBEDDED_DB_NAME}", env_root or str(folder / "artifacts")
        )
    if scheme == "sqlite":
        db_path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else ""
        if not db_path or db_path == ":memory:":
            raise InvalidParameterValue(
                f"Invalid value {uri!r} for parameter 'tracking_uri': expected sqlite:///path/to/file.db"
            )
        folder = Path(db_path).expanduser().resolve().parent
        return StoreLocation("sql", uri, env_root or str(folder / "artifacts"))
    if scheme.startswith(("postgresql", "postgres")):
        root = env_root or str(Path(DEFAULT_TRACKING_URI).resolve() / "artifacts")
        return StoreLocation("sql", uri, root)
    if scheme in ("http", "https"):
        return StoreLocation("rest", uri, "")
    raise InvalidParameterValue(
        f"Invalid value {uri!r} for parameter 'tracking_uri': unsupported scheme '{scheme}' "
        "(use a folder, sqlite:///, postgresql:// or http(s)://)"
    )


def open_tracking_store(uri: str) -> TrackingStore:
    """Open the store a tracking URI names; the caller closes it (``store.close()``) when done."""
    location = locate(uri)
    if location.kind == "rest":
        from wayline.store.rest import RestTrackingStore

        return RestTrackingStore(uri.strip())
    from wayline.store.sql import SqlTrackingStore

    return SqlTrackingStore(location.db_url, location.default_artifact_root)


def open_registry_store(uri: str) -> RegistryStore:
    """Open the model registry a tracking URI names (the same database or server as its tracking store); the
    caller closes it."""
    location = locate(uri)
    if location.kind == "rest":
        from wayline.store.rest_registry import RestRegistryStore

        return RestRegistryStore(uri.strip())
    from wayline.store.sql import SqlRegistryStore

    return SqlRegistryStore(location.db_url, default_artifact_root=location.default_artifact_root)
