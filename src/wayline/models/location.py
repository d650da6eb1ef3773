"""From a model URI to a local model directory.

============================================  ==========================================================
URI                                           where the files come from
============================================  ==========================================================
``/path/to/model``, ``file:///path/to/model``  used in place, nothing is copied
``runs:/<run_id>/<path>``                      the run's artifacts at ``path``; when they hold no
                                               ``MLmodel``, the MLflow 3 logged model named ``path``
                                               that the run produced
``models:/<name>/<version>``, ``@<alias>``,    the registered version's files (``models:/name/Production``
``/<stage>``, ``/latest``                      is the stage's newest version)
``models:/<model_id>``                         the logged model's files
``s3://``, ``mlflow-artifacts:/``, ``http(s)``  downloaded from that artifact store
============================================  ==========================================================

Downloads go to ``dst_path`` or to a new private (0700) temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from wayline.artifacts.path import join_path, uri_scheme
from wayline.artifacts.resolve import get_artifact_repository, parse_model_uri
from wayline.client.client import WaylineClient
from wayline.errors import InvalidParameterValue, ResourceNotFound, invalid_value
from wayline.models.logged import logged_models
from wayline.models.mlmodel import MLMODEL_FILE
from wayline.services.model_source import parse_runs_uri

#: Schemes of artifact stores a model URI may point into directly.
STORE_SCHEMES = frozenset({"s3", "mlflow-artifacts", "http", "https"})


def _destination(dst_path: str | os.PathLike[str] | None) -> Path:
    if dst_path is None:
        return Path(tempfile.mkdtemp(prefix="wayline-model-"))
    if not isinstance(dst_path, (str, os.PathLike)):
        raise invalid_value("dst_path", dst_path, "must be a path")
    target = Path(dst_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def _local(model_uri: str, scheme: str) -> Path:
    if scheme == "file":
        parts = urlsplit(model_uri)
        if parts.netloc not in ("", "localhost"):
            raise invalid_value("model_uri", model_uri, "file: URIs must name a local path")
        path = Path(url2pathname(unquote(parts.path)))
    else:
        path = Path(model_uri).expanduser()
    if path.is_file() and path.name == MLMODEL_FILE:
        path = path.parent
    if not path.exists():
        raise ResourceNotFound(f"No model at '{path}'")
    return path


@contextlib.contextmanager
def client_for(tracking_uri: str | None) -> Iterator[WaylineClient]:
    """The fluent API's client when ``tracking_uri`` is None (kept open), else a new one (closed after)."""
    if tracking_uri is None:
        from wayline.client.active import get_client

        yield get_client()
        return
    with WaylineClient(tracking_uri) as client:
        yield client


def _download(uri: str, path: str, dst: Path, tracking_uri: str | None) -> Path:
    repo = get_artifact_repository(uri, tracking_uri=tracking_uri)
    return Path(repo.download_artifacts(path, dst))


def _runs(model_uri: str, client: WaylineClient, dst: Path) -> Path:
    run_id, path = parse_runs_uri(model_uri, field="model_uri")
    run = client.get_run(run_id)
    repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=client.tracking_uri)
    if path:
        try:
            listed = {f.path for f in repo.list_artifacts(path)}
        except ResourceNotFound:
            listed = set()
        if join_path(path, MLMODEL_FILE) in listed:
            return Path(repo.download_artifacts(path, dst))
        name, _, rest = path.partition("/")
        access = logged_models(client)
        logged = access.find(run, name) if access is not None else None
        if logged is not None:
            return _download(logged.artifact_location, rest, dst, client.tracking_uri)
        raise ResourceNotFound(
            f"The run {run_id} has no model at '{path}': no {MLMODEL_FILE} there and no logged model "
            f"named '{name}'"
        )
    return Path(repo.download_artifacts("", dst))


def _models(model_uri: str, client: WaylineClient, dst: Path) -> Path:
    parsed = parse_model_uri(model_uri)
    if parsed.model_id is None:
        return Path(client.download_model(model_uri, dst))
    access = logged_models(client)
    if access is None:
        raise InvalidParameterValue(
            f"Invalid value '{model_uri}' for parameter 'model_uri': the tracking store at "
            f"{client.tracking_uri} keeps no logged models"
        )
    logged = access.get(parsed.model_id)
    return _download(logged.artifact_location, "", dst, client.tracking_uri)


def local_model_dir(
    model_uri: str,
    *,
    tracking_uri: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
) -> Path:
    """The local directory of the model ``model_uri`` names, downloading it when it is not local."""
    if not isinstance(model_uri, (str, os.PathLike)) or not str(model_uri):
        raise invalid_value("model_uri", model_uri, "must be a non-empty string")
    model_uri = os.fspath(model_uri)
    if tracking_uri is not None and not isinstance(tracking_uri, str):
        raise invalid_value("tracking_uri", tracking_uri, "must be a string")
    scheme = "" if os.path.isabs(model_uri) else uri_scheme(model_uri, field="model_uri")
    if scheme in ("", "file"):
        return _local(model_uri, scheme)
    if scheme in STORE_SCHEMES:
        if scheme == "mlflow-artifacts" and tracking_uri is None:
            from wayline.client.active import get_tracking_uri

            tracking_uri = get_tracking_uri()
        dst = _destination(dst_path)
        try:
            return _download(model_uri, "", dst, tracking_uri)
        except BaseException:
            if dst_path is None:
                shutil.rmtree(dst, ignore_errors=True)
            raise
    if scheme not in ("runs", "models"):
        raise invalid_value(
            "model_uri",
            model_uri,
            "expected a path, file:, runs:/, models:/, s3://, mlflow-artifacts:/ or http(s)",
        )
    dst = _destination(dst_path)
    try:
        with client_for(tracking_uri) as client:
            if scheme == "runs":
                return _runs(model_uri, client, dst)
            return _models(model_uri, client, dst)
    except BaseException:
        if dst_path is None:
            shutil.rmtree(dst, ignore_errors=True)
        raise


__all__ = ["STORE_SCHEMES", "client_for", "local_model_dir"]
