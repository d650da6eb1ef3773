"""Model URIs in ``WaylineClient``: registering a model from a URI, resolving ``models:/`` URIs, downloading.

``models:/churn/3`` names version 3, ``models:/churn@champion`` the version the alias points at,
``models:/churn/Production`` the newest version in that stage and ``models:/churn/latest`` the largest version
number; each may be followed by a path inside the version's files. The registry gives the version's download
URI, and that URI's artifact repository serves the files. A download URI that is itself a ``runs:/`` or
``models:/`` URI is refused, never followed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from wayline.artifacts.path import join_path, uri_scheme
from wayline.artifacts.repository import ArtifactRepository
from wayline.artifacts.resolve import (
    INDIRECT_SCHEMES,
    ModelUri,
    get_artifact_repository,
    is_model_uri,
    join_artifact_uri,
    parse_model_uri,
)
from wayline.client.arguments import string_map
from wayline.client.registry import RegistryClient
from wayline.entities import FileInfo
from wayline.entities.registry import ModelVersion, Stage
from wayline.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceNotFound, invalid_value
from wayline.services.model_source import parse_runs_uri
from wayline.store.logged_model import LoggedModelStore

#: The file that marks a directory as a packaged model.
MLMODEL_FILE = "MLmodel"


class DownloadProgress(Protocol):
    """What :meth:`ModelClient.download_model` reports: the files to fetch, then each one fetched."""

    def start(self, files: Sequence[FileInfo]) -> None: ...

    def advance(self, file: FileInfo) -> None: ...


class ModelClient(RegistryClient):
    """The registry client plus model URIs; ``WaylineClient`` is one."""

    def register_model(
        self, model_uri: str, name: str, tags: Mapping[str, Any] | None = None
    ) -> ModelVersion:
        """Register the model at ``model_uri`` as a new version of ``name`` (created when missing).

        ``runs:/<run_id>/<path>`` becomes the run's artifact location joined with ``path`` (or, when that
        holds no ``MLmodel`` and the run logged a model of that name, the logged model's location);
        a ``models:/`` URI of another version is kept as the source (stored as ``models:/<name>/<version>``,
        with that version's run); any other URI is taken as the source.
        """
        if not isinstance(model_uri, str) or not model_uri:
            raise invalid_value("model_uri", model_uri, "must be a non-empty string")
        checked_tags = string_map(tags, "tags")
        source, run_id, model_id = self._registration_source(model_uri)
        with contextlib.suppress(ResourceAlreadyExists):
            self.registry.create_registered_model(name)
        return self.create_model_version(
            name, source, run_id=run_id or None, tags=checked_tags, model_id=model_id or None
        )

    def _registration_source(self, model_uri: str) -> tuple[str, str, str]:
        """``(source, run_id, model_id)`` of a model URI."""
        scheme = uri_scheme(model_uri, field="model_uri")
        if scheme == "models":
            parse_model_uri(model_uri)  # the registry stores it as models:/<name>/<version>
            return model_uri, "", ""
        if scheme != "runs":
            return model_uri, "", ""
        run_id, path = parse_runs_uri(model_uri, field="model_uri")
        run = self._service.get_run(run_id)
        source = join_artifact_uri(run.info.artifact_uri, path)
        store = self._service.store
        if path and isinstance(store, LoggedModelStore) and run.outputs.model_outputs:
            repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=self._tracking_uri)
            listed = {f.path for f in repo.list_artifacts(path)}
            if join_path(path, MLMODEL_FILE) not in listed:
                for output in sorted(run.outputs.model_outputs, key=lambda o: -o.step):
                    logged = store.get_logged_model(output.model_id)
                    if logged.name == path:
                        return logged.artifact_location, run_id, logged.model_id
        return source, run.info.run_id, ""

    def resolve_model_uri(self, model_uri: str) -> ModelVersion:
        """The version a ``models:/`` URI names: by number, alias, stage (its newest version) or ``latest``
        (the largest version number)."""
        return self._resolve(parse_model_uri(model_uri))

    def _resolve(self, parsed: ModelUri) -> ModelVersion:
        if parsed.model_id is not None:
            raise invalid_value(
                "model_uri", f"models:/{parsed.model_id}", "names a logged model, not a registered version"
            )
        registry = self.registry
        if parsed.version is not None:
            return registry.get_model_version(parsed.name, parsed.version)
        if parsed.alias is not None:
            return registry.get_model_version_by_alias(parsed.name, parsed.alias)
        stages: list[Stage] = [parsed.stage] if parsed.stage is not None else []
        versions = registry.get_latest_versions(parsed.name, stages)
        if not versions:
            where = f" in stage '{parsed.stage.value}'" if parsed.stage is not None else ""
            raise ResourceNotFound(f"Registered model '{parsed.name}' has no version{where}")
        return max(versions, key=lambda v: v.version)

    def _model_location(self, model_uri: str) -> tuple[ModelVersion, str, str]:
        """``(version, its download URI, path inside it)`` of a ``models:/`` URI."""
        parsed = parse_model_uri(model_uri)
        version = self._resolve(parsed)
        uri = self.get_model_version_download_uri(version.name, version.version)
        if uri_scheme(uri, field="download_uri") in INDIRECT_SCHEMES:
            raise InvalidParameterValue(
                f"Model version '{version.name}' {version.version} has the download URI {uri!r}, "
                "which is not a place (runs:/ and models:/ URIs are not followed)"
            )
        return version, uri, parsed.path

    def get_model_download_uri(self, model_uri: str) -> str:
        """Where the files of the version a ``models:/`` URI names are (with its sub-path, if any)."""
        _, uri, path = self._model_location(model_uri)
        return join_artifact_uri(uri, path)

    def download_model(
        self,
        model_uri: str,
        dst_path: str | os.PathLike[str] | None = None,
        *,
        progress: DownloadProgress | None = None,
    ) -> str:
        """Copy the files a ``models:/`` URI names into ``dst_path`` (a new private temporary directory when
        None) and return the local path of what was copied (``dst_path`` itself for a whole version)."""
        if not is_model_uri(model_uri):
            raise invalid_value("model_uri", model_uri, "expected a models:/ URI")
        if dst_path is not None and not isinstance(dst_path, (str, os.PathLike)):
            raise invalid_value("dst_path", dst_path, "must be a path")
        _, uri, path = self._model_location(model_uri)
        repo = get_artifact_repository(uri, tracking_uri=self._tracking_uri)
        destination = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="wayline-"))
        if progress is None:
            return str(repo.download_artifacts(path, destination))
        files = _walk(repo, path) or ([FileInfo(path, False, None)] if path else [])
        progress.start(files)
        destination.mkdir(parents=True, exist_ok=True)
        for info in files:
            repo.download_artifacts(info.path, destination)
            progress.advance(info)
        return str(destination.joinpath(*path.split("/")) if path else destination)


def _walk(repo: ArtifactRepository, path: str) -> list[FileInfo]:
    """Every file below ``path``, depth first, in listing order."""
    files: list[FileInfo] = []
    for info in repo.list_artifacts(path or None):
        if info.is_dir:
            files.extend(_walk(repo, info.path))
        else:
            files.append(info)
    return files


__all__ = ["MLMODEL_FILE", "DownloadProgress", "ModelClient"]
