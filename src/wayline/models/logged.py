"""MLflow 3 logged models, as seen from a :class:`WaylineClient`, embedded or over REST.

An embedded client's store keeps logged models itself (:class:`LoggedModelStore`), reached through the
validating :class:`LoggedModelService`. ``WaylineClient`` has no logged-model methods over REST yet, so for
a client on a tracking server this module sends MLflow's logged-model routes through the REST store's
transport (the same routes an unchanged ``mlflow`` client uses). A store that keeps no logged models gives
``None`` from :func:`logged_models`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from wayline.client.client import WaylineClient
from wayline.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, Param, Run
from wayline.errors import ErrorCode, ResourceNotFound, WaylineError
from wayline.services.logged_models import LoggedModelService, validate_model_id
from wayline.store.logged_model import LoggedModelStore
from wayline.store.rest import API, RestTrackingStore
from wayline.wire.logged_model import logged_model_from_json


class LoggedModels(Protocol):
    """What the models package needs of logged models."""

    def create(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None,
        model_type: str | None,
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> LoggedModel: ...

    def get(self, model_id: str) -> LoggedModel: ...

    def find(self, run: Run, name: str) -> LoggedModel | None: ...

    def log_output(self, run_id: str, model_id: str, step: int) -> None: ...

    def finalize(self, model_id: str, *, ready: bool) -> None: ...


def _filter_name(name: str) -> str:
    return "name = '" + name.replace("'", "''") + "'"


class _Embedded:
    def __init__(self, store: LoggedModelStore) -> None:
        self._service = LoggedModelService(store)

    def create(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None,
        model_type: str | None,
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> LoggedModel:
        return self._service.create_logged_model(
            experiment_id,
            name=name,
            source_run_id=source_run_id,
            model_type=model_type,
            params=[Param(k, v) for k, v in params.items()],
            tags=dict(tags),
        )

    def get(self, model_id: str) -> LoggedModel:
        return self._service.get_logged_model(model_id)

    def find(self, run: Run, name: str) -> LoggedModel | None:
        """The run's newest output model named ``name`` (latest step, then latest creation)."""
        steps = {o.model_id: o.step for o in run.outputs.model_outputs}
        named = [m for m in (self._service.get_logged_model(i) for i in steps) if m.name == name]
        if named:
            return max(named, key=lambda m: (steps[m.model_id], m.creation_timestamp))
        page = self._service.search_logged_models([run.info.experiment_id], filter_string=_filter_name(name))
        return _of_run(page.items, run.info.run_id)

    def log_output(self, run_id: str, model_id: str, step: int) -> None:
        self._service.log_outputs(run_id, [LoggedModelOutput(model_id, step)])

    def finalize(self, model_id: str, *, ready: bool) -> None:
        status = LoggedModelStatus.READY if ready else LoggedModelStatus.FAILED
        self._service.finalize_logged_model(model_id, status)


def _of_run(models: list[LoggedModel] | Any, run_id: str) -> LoggedModel | None:
    mine = [m for m in models if m.source_run_id == run_id]
    return max(mine, key=lambda m: m.creation_timestamp) if mine else None


class _Remote:
    """MLflow's logged-model routes on a tracking server."""

    def __init__(self, store: RestTrackingStore) -> None:
        self._transport = store.transport

    def _call(self, method: str, route: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._transport.call(method, API + route, body=body)

    def create(
        self,
        experiment_id: str,
        *,
        name: str,
        source_run_id: str | None,
        model_type: str | None,
        params: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> LoggedModel:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "name": name,
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        if source_run_id:
            body["source_run_id"] = source_run_id
        if model_type:
            body["model_type"] = model_type
        return logged_model_from_json(self._call("POST", "/logged-models", body).get("model") or {})

    def get(self, model_id: str) -> LoggedModel:
        model_id = validate_model_id(model_id)
        return logged_model_from_json(self._call("GET", f"/logged-models/{model_id}").get("model") or {})

    def find(self, run: Run, name: str) -> LoggedModel | None:
        body = {"experiment_ids": [run.info.experiment_id], "filter": _filter_name(name), "max_results": 100}
        answer = self._call("POST", "/logged-models/search", body)
        models = [logged_model_from_json(m) for m in answer.get("models") or ()]
        return _of_run(models, run.info.run_id)

    def log_output(self, run_id: str, model_id: str, step: int) -> None:
        self._call(
            "POST", "/runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": step}]}
        )

    def finalize(self, model_id: str, *, ready: bool) -> None:
        status = LoggedModelStatus.READY if ready else LoggedModelStatus.FAILED
        self._call("PATCH", f"/logged-models/{validate_model_id(model_id)}", {"status": status.wire})


def logged_models(client: WaylineClient) -> LoggedModels | None:
    """Logged-model access for ``client``'s store, or None when it keeps no logged models."""
    store = client.service.store
    if isinstance(store, LoggedModelStore):
        return _Embedded(store)
    if isinstance(store, RestTrackingStore):
        return _Remote(store)
    return None


def unsupported(exc: WaylineError) -> bool:
    """Whether an error says the server has no logged-model routes (an older MLflow server)."""
    if isinstance(exc, ResourceNotFound) and "logged" not in exc.message.lower():
        return exc.error_code is ErrorCode.ENDPOINT_NOT_FOUND
    return exc.error_code in (ErrorCode.ENDPOINT_NOT_FOUND, ErrorCode.NOT_IMPLEMENTED)


__all__ = ["LoggedModels", "logged_models", "unsupported"]
