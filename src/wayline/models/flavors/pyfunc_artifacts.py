"""The artifacts of a custom Python model: files or directories copied into ``artifacts/`` when saving.

Each artifact is given as a local path, a ``file:`` URI, ``runs:/<run_id>/<path>`` or an artifact store URI
(``s3://``, ``mlflow-artifacts:/``, ``http(s)://``). The MLmodel records, as MLflow does,
``artifacts: {name: {path: artifacts/<file>, uri: <as given>}}``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from wayline.errors import ResourceNotFound, invalid_value

ARTIFACTS_DIR = "artifacts"
#: Schemes downloaded from an artifact store.
_STORE_SCHEMES = ("s3", "mlflow-artifacts", "http", "https")


@dataclass(frozen=True)
class ArtifactSource:
    """One artifact to copy: its name, the URI as given, and the local path when it is local."""

    name: str
    uri: str
    local: Path | None


def _scheme(uri: str) -> str:
    if os.path.isabs(uri) or (
        "://" not in uri and not uri.startswith(("runs:", "file:", "mlflow-artifacts:"))
    ):
        return ""
    return uri.split(":", 1)[0].lower()


def resolve_artifacts(artifacts: Mapping[str, str | os.PathLike[str]] | None) -> list[ArtifactSource]:
    """Check ``artifacts`` (name -> path or URI); local paths must exist."""
    if artifacts is None:
        return []
    if not isinstance(artifacts, Mapping):
        raise invalid_value("artifacts", artifacts, "must be a mapping of name to local path or URI")
    sources: list[ArtifactSource] = []
    for name, value in artifacts.items():
        field = f"artifacts.{name}"
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
            raise invalid_value("artifacts", name, "artifact names must be plain non-empty names")
        if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
            raise invalid_value(field, value, "must be a local path or a URI")
        uri = os.fspath(value)
        scheme = _scheme(uri)
        if scheme in ("", "file"):
            path = Path(url2pathname(unquote(urlsplit(uri).path))) if scheme == "file" else Path(uri)
            if not path.exists():
                raise invalid_value(field, uri, "the file or directory does not exist")
            sources.append(ArtifactSource(name, uri, path))
        elif scheme == "runs" or scheme in _STORE_SCHEMES:
            sources.append(ArtifactSource(name, uri, None))
        else:
            raise invalid_value(
                field, uri, "expected a local path, file:, runs:/, s3://, mlflow-artifacts:/ or http(s)"
            )
    return sources


def _download(source: ArtifactSource, staging: Path) -> Path:
    from wayline.artifacts.resolve import get_artifact_repository

    if source.uri.startswith("runs:"):
        from wayline.models.location import client_for
        from wayline.services.model_source import parse_runs_uri

        run_id, path = parse_runs_uri(source.uri, field=f"artifacts.{source.name}")
        if not path:
            raise invalid_value(f"artifacts.{source.name}", source.uri, "must name a path inside the run")
        with client_for(None) as client:
            root = client.get_run(run_id).info.artifact_uri
            repo = get_artifact_repository(root, tracking_uri=client.tracking_uri)
            return Path(repo.download_artifacts(path, staging))
    parent, _, base = source.uri.rstrip("/").rpartition("/")
    if not base or not parent:
        raise invalid_value(f"artifacts.{source.name}", source.uri, "must name a file or directory")
    return Path(get_artifact_repository(parent).download_artifacts(base, staging))


def _copy(source: Path, destination: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, destination, symlinks=False)
    else:
        shutil.copy2(source, destination)


def copy_artifacts(model_dir: Path, sources: list[ArtifactSource]) -> dict[str, dict[str, Any]]:
    """Copy every artifact into ``model_dir/artifacts``; return the MLmodel's ``artifacts`` entry."""
    root = model_dir / ARTIFACTS_DIR
    root.mkdir()
    saved: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wayline-artifacts-") as tmp:
        for i, source in enumerate(sources):
            if source.local is not None:
                path = source.local
            else:
                staging = Path(tmp, str(i))
                staging.mkdir()
                path = _download(source, staging)
                if not path.exists():
                    raise ResourceNotFound(f"The artifact '{source.name}' ({source.uri}) was not found")
            relative = f"{ARTIFACTS_DIR}/{path.name}"
            n = 0
            while (model_dir / relative).exists():
                n += 1
                folder = source.name if n == 1 else f"{source.name}-{n}"
                if not (root / folder).exists():
                    (root / folder).mkdir()
                    relative = f"{ARTIFACTS_DIR}/{folder}/{path.name}"
            _copy(path, model_dir / relative)
            saved[source.name] = {"path": relative, "uri": source.uri}
    return saved


__all__ = ["ARTIFACTS_DIR", "ArtifactSource", "copy_artifacts", "resolve_artifacts"]
