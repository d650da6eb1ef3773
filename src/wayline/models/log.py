"""``log_model``: save a model and record it on the active run, the way MLflow 3 does.

1. the model is created as an MLflow 3 *logged model* (``PENDING``) in the run's experiment, with the given
   params and the run's params, the given tags and the client's context tags;
2. it is linked to the run as an output at ``step``;
3. the flavor saves the model into a private temporary directory; the MLmodel records ``run_id``,
   ``model_id`` and the model's artifact location;
4. the files are uploaded to the logged model's artifact location and the model is finalized ``READY``
   (``UPLOAD_FAILED`` when the upload fails);
5. with ``registered_model_name``, a version of that registered model is created from the files.

``runs:/<run_id>/<name>`` and ``models:/<model_id>`` then load the model. On a tracking store without logged
models (an MLflow 2 server), the files go to the run's artifacts under ``<name>/`` and the MLmodel is recorded
with ``runs/log-model``, as MLflow 2 did.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wayline.artifacts.resolve import get_artifact_repository, join_artifact_uri
from wayline.client import context
from wayline.client.active import get_client, run_id_for_logging
from wayline.client.arguments import string_map
from wayline.client.client import WaylineClient
from wayline.entities import Run
from wayline.errors import ResourceAlreadyExists, WaylineError, invalid_value
from wayline.models.logged import LoggedModels, logged_models, unsupported
from wayline.models.mlmodel import MLModel
from wayline.models.package import SAVE_KEYS, SaveOptions
from wayline.services import validation as v
from wayline.services.logged_models import validate_model_name

if TYPE_CHECKING:
    from wayline.models.signature import ModelSignature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` logged; ``model_uri`` loads it back."""

    model_uri: str
    model_id: str | None
    run_id: str
    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None
    metadata: dict[str, Any] | None
    utc_time_created: str
    registered_model_version: int | None
    name: str = ""
    model_uuid: str = ""
    saved_input_example_info: dict[str, Any] | None = None


def _register(
    client: WaylineClient,
    name: str,
    source: str,
    *,
    run_id: str,
    model_id: str | None,
    tags: Mapping[str, str],
) -> int:
    with contextlib.suppress(ResourceAlreadyExists):
        client.create_registered_model(name)
    version = client.create_model_version(name, source, run_id=run_id, tags=tags or None, model_id=model_id)
    logger.info("Registered model '%s' version %s", name, version.version)
    return int(version.version)


def _as_logged_model(
    access: LoggedModels,
    client: WaylineClient,
    run: Run,
    save: Callable[[Path], MLModel],
    *,
    name: str,
    params: Mapping[str, str],
    tags: Mapping[str, str],
    model_type: str | None,
    step: int,
    workdir: Path,
) -> tuple[MLModel, str, str]:
    """Steps 1-4 of the module docstring; ``(mlmodel, model_id, artifact location)``."""
    run_id = run.info.run_id
    all_params = {**params, **run.data.params}
    all_tags = {**context.system_tags(), **tags}
    logged = access.create(
        run.info.experiment_id,
        name=name,
        source_run_id=run_id,
        model_type=model_type,
        params=all_params,
        tags=all_tags,
    )
    ready = False
    try:
        access.log_output(run_id, logged.model_id, step)
        local = workdir / "model"
        mlmodel = save(local)
        mlmodel.run_id = run_id
        mlmodel.model_id = logged.model_id
        mlmodel.artifact_path = logged.artifact_location
        mlmodel.save(local)
        repo = get_artifact_repository(logged.artifact_location, tracking_uri=client.tracking_uri)
        repo.log_artifacts(local, None)
        ready = True
    finally:
        try:
            access.finalize(logged.model_id, ready=ready)
        except WaylineError:
            if ready:
                raise
            logger.warning("Could not mark the logged model %s as failed", logged.model_id)
    return mlmodel, logged.model_id, logged.artifact_location


def _as_run_artifacts(
    client: WaylineClient, run: Run, save: Callable[[Path], MLModel], *, name: str, workdir: Path
) -> MLModel:
    """MLflow 2's way: the files under ``<name>/`` in the run's artifacts, the MLmodel on the run."""
    local = workdir / "model"
    mlmodel = save(local)
    mlmodel.run_id = run.info.run_id
    mlmodel.artifact_path = name
    mlmodel.save(local)
    client.log_artifacts(run.info.run_id, local, name)
    client.service.log_model(run.info.run_id, mlmodel.to_json())
    return mlmodel


class LogOptions(SaveOptions, total=False):
    """What every flavor's ``log_model`` takes besides the model, its name and the flavor's own options."""

    registered_model_name: str | None
    params: Mapping[str, Any] | None
    tags: Mapping[str, Any] | None
    model_type: str | None
    step: int
    run_id: str | None


_LOG_KEYS = SAVE_KEYS | frozenset(LogOptions.__annotations__)


def log_flavor_model(
    save: Callable[[Path, SaveOptions], MLModel], name: str, options: LogOptions
) -> ModelInfo:
    """The body of every flavor's ``log_model``: ``save(target, <the save options>)`` into a temporary
    directory, then :func:`log_model` with the rest of ``options``."""
    unknown = set(options) - _LOG_KEYS
    if unknown:
        raise TypeError(f"log_model() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    saving: SaveOptions = {k: v for k, v in options.items() if k in SAVE_KEYS}  # type: ignore[assignment]
    logging_options: dict[str, Any] = {k: v for k, v in options.items() if k not in SAVE_KEYS}
    return log_model(lambda target: save(target, saving), name=name, **logging_options)


def log_model(
    save: Callable[[Path], MLModel],
    *,
    name: str,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Save a model with ``save(path)`` (a flavor's ``save_model``) and log it to the run ``run_id`` (the
    active run by default, started when none is active); see the module docstring."""
    if not callable(save):
        raise invalid_value("save", save, "must be a function that saves the model into a directory")
    name = validate_model_name(name)
    if registered_model_name is not None and (
        not isinstance(registered_model_name, str) or not registered_model_name.strip()
    ):
        raise invalid_value("registered_model_name", registered_model_name, "must be a non-empty string")
    if model_type is not None and not isinstance(model_type, str):
        raise invalid_value("model_type", model_type, "must be a string")
    if isinstance(step, bool) or not isinstance(step, int):
        raise invalid_value("step", step, "must be an integer")
    checked_params = string_map(params, "params")
    checked_tags = string_map(tags, "tags")
    client = get_client()
    run_id = v.validate_run_id(run_id) if run_id is not None else run_id_for_logging()
    run = client.get_run(run_id)
    access = logged_models(client)
    model_id: str | None = None
    with tempfile.TemporaryDirectory(prefix="wayline-log-model-") as tmp:
        mlmodel: MLModel | None = None
        if access is not None:
            try:
                mlmodel, model_id, source = _as_logged_model(
                    access,
                    client,
                    run,
                    save,
                    name=name,
                    params=checked_params,
                    tags=checked_tags,
                    model_type=model_type,
                    step=step,
                    workdir=Path(tmp),
                )
            except WaylineError as exc:
                if not unsupported(exc):
                    raise
                logger.info("The tracking server keeps no logged models; logging to the run's artifacts")
        if mlmodel is None:
            mlmodel = _as_run_artifacts(client, run, save, name=name, workdir=Path(tmp))
            source = join_artifact_uri(run.info.artifact_uri, name)
    version = None
    if registered_model_name is not None:
        version = _register(
            client, registered_model_name, source, run_id=run_id, model_id=model_id, tags=checked_tags
        )
    return ModelInfo(
        model_uri=f"models:/{model_id}" if model_id else f"runs:/{run_id}/{name}",
        model_id=model_id,
        run_id=run_id,
        artifact_path=mlmodel.artifact_path or name,
        flavors=mlmodel.flavors,
        signature=mlmodel.signature,
        metadata=mlmodel.metadata,
        utc_time_created=mlmodel.utc_time_created,
        registered_model_version=version,
        name=name,
        model_uuid=mlmodel.model_uuid,
        saved_input_example_info=mlmodel.saved_input_example_info,
    )


__all__ = ["LogOptions", "ModelInfo", "SaveOptions", "log_flavor_model", "log_model"]
