"""The registry store over HTTP: every :class:`RegistryStore` method as one MLflow registry REST call.

``RestRegistryStore("http://tracking.internal:5000")`` talks to a Wayline server or an MLflow server, with the
verbs MLflow's own client uses: GET with a query string for ``get``, ``search`` and alias lookups, PATCH for
updates, DELETE (with a JSON body) for deletions, POST for the rest. Versions travel as strings. Two calls
need Wayline's own routes and fail on an MLflow server (``ENDPOINT_NOT_FOUND``): the model's history
(``GET /api/2.0/wayline/registered-models/history``) and changing a model's owner or protected flag
(``PATCH /api/2.0/wayline/registered-models/update``).

The acting user of a change is the one the server authenticates, so the ``actor`` arguments are not sent;
comments on stage and alias changes are sent as an extra ``comment`` field, which MLflow's server ignores.
Retries, credentials, TLS and timeouts are the transport's (:mod:`wayline.transport`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import Page
from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegistryOrder,
    Stage,
)
from wayline.store.registry import (
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    RegistryEvent,
)
from wayline.transport import HttpConfig, HttpTransport
from wayline.wire import (
    model_version_from_json,
    page_from_json,
    registered_model_from_json,
    registry_event_from_json,
)

API = "/api/2.0/mlflow"
WAYLINE_API = "/api/2.0/wayline"


def _without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]] | None:
    return [{"key": k, "value": v} for k, v in tags.items()] if tags else None


def _orders(order_by: Sequence[RegistryOrder]) -> list[str] | None:
    return [f"{o.column} {'ASC' if o.ascending else 'DESC'}" for o in order_by] or None


class RestRegistryStore:
    """A :class:`~wayline.store.registry.RegistryStore` on a tracking server's registry REST API."""

    def __init__(self, tracking_uri: str, *, config: HttpConfig | None = None) -> None:
        self._transport = HttpTransport(tracking_uri, config=config)
        self.tracking_uri = self._transport.base_url

    def __repr__(self) -> str:
        return f"RestRegistryStore({self.tracking_uri!r})"

    @property
    def transport(self) -> HttpTransport:
        return self._transport

    def close(self) -> None:
        self._transport.close()

    def _call(self, method: str, route: str, body: Mapping[str, Any], *, api: str = API) -> dict[str, Any]:
        payload = _without_none(body)
        if method == "GET":
            return self._transport.call(method, api + route, params=payload)
        return self._transport.call(method, api + route, body=payload)

    def _model(self, answer: Mapping[str, Any]) -> RegisteredModel:
        return registered_model_from_json(answer.get("registered_model") or {})

    def _version(self, answer: Mapping[str, Any]) -> ModelVersion:
        return model_version_from_json(answer.get("model_version") or {})

    # -- registered models -----------------------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        owner: str = "",
        actor: str = "",
    ) -> RegisteredModel:
        """MLflow's create route; an owner is then set through Wayline's update route."""
        body = {"name": name, "tags": _tags(tags), "description": description or None}
        model = self._model(self._call("POST", "/registered-models/create", body))
        if owner and model.owner != owner:
            model = self.update_registered_model(name, owner=owner)
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model(self._call("GET", "/registered-models/get", {"name": name}))

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        protected: bool | None = None,
    ) -> RegisteredModel:
        """MLflow's route when only the description changes (it works on MLflow servers), Wayline's else."""
        if owner is None and protected is None:
            answer = self._call(
                "PATCH", "/registered-models/update", {"name": name, "description": description}
            )
            return self._model(answer)
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "owner": owner,
            "protected": protected,
        }
        answer = self._call("PATCH", "/registered-models/update", body, api=WAYLINE_API)
        return self._model(answer)

    def rename_registered_model(self, name: str, new_name: str, *, actor: str = "") -> RegisteredModel:
        body = {"name": name, "new_name": new_name}
        return self._model(self._call("POST", "/registered-models/rename", body))

    def delete_registered_model(self, name: str) -> None:
        self._call("DELETE", "/registered-models/delete", {"name": name})

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        answer = self._call(
            "GET",
            "/registered-models/search",
            {
                "filter": filter_string or None,
                "max_results": max_results,
                "order_by": _orders(order_by),
                "page_token": page_token or None,
            },
        )
        return page_from_json(answer, "registered_models", registered_model_from_json)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._call("POST", "/registered-models/set-tag", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", "/registered-models/delete-tag", {"name": name, "key": key})

    def get_latest_versions(self, name: str, stages: Sequence[Stage] = ()) -> list[ModelVersion]:
        body = {"name": name, "stages": [Stage.parse(s).value for s in stages] or None}
        answer = self._call("POST", "/registered-models/get-latest-versions", body)
        return [model_version_from_json(v) for v in answer.get("model_versions") or ()]

    # -- model versions --------------------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str = "",
        tags: Mapping[str, str] | None = None,
        run_link: str = "",
        description: str = "",
        model_id: str = "",
        user_id: str = "",
        status: ModelVersionStatus = ModelVersionStatus.READY,
    ) -> ModelVersion:
        """The server decides the user (the authenticated one) and the status; they are not sent."""
        body = {
            "name": name,
            "source": source,
            "run_id": run_id or None,
            "tags": _tags(tags),
            "run_link": run_link or None,
            "description": description or None,
            "model_id": model_id or None,
        }
        return self._version(self._call("POST", "/model-versions/create", body))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        body = {"name": name, "version": str(version)}
        return self._version(self._call("GET", "/model-versions/get", body))

    def get_model_version_download_uri(self, name: str, version: int) -> str:
        """Where the server says the version's files are (MLflow's ``get-download-uri``)."""
        body = {"name": name, "version": str(version)}
        return str(self._call("GET", "/model-versions/get-download-uri", body).get("artifact_uri", ""))

    def update_model_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description}
        return self._version(self._call("PATCH", "/model-versions/update", body))

    def transition_model_version_stage(
        self,
        name: str,
        version: int,
        stage: Stage,
        *,
        archive_existing_versions: bool = False,
        actor: str = "",
        comment: str = "",
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": Stage.parse(stage).value,
            "archive_existing_versions": bool(archive_existing_versions),
            "comment": comment or None,
        }
        return self._version(self._call("POST", "/model-versions/transition-stage", body))

    def delete_model_version(self, name: str, version: int, *, actor: str = "") -> None:
        self._call("DELETE", "/model-versions/delete", {"name": name, "version": str(version)})

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        answer = self._call(
            "GET",
            "/model-versions/search",
            {
                "filter": filter_string or None,
                "max_results": max_results,
                "order_by": _orders(order_by),
                "page_token": page_token or None,
            },
        )
        return page_from_json(answer, "model_versions", model_version_from_json)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._call("POST", "/model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._call("DELETE", "/model-versions/delete-tag", body)

    # -- aliases ---------------------------------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: int, *, actor: str = "", comment: str = ""
    ) -> None:
        body = {"name": name, "alias": alias, "version": str(version), "comment": comment or None}
        self._call("POST", "/registered-models/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str = "") -> None:
        self._call("DELETE", "/registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._version(self._call("GET", "/registered-models/alias", {"name": name, "alias": alias}))

    # -- history ---------------------------------------------------------------------------------------------
    def model_history(
        self, name: str, *, version: int | None = None, until: int | None = None
    ) -> list[RegistryEvent]:
        params = {
            "name": name,
            "version": None if version is None else str(version),
            "until": until,
        }
        answer = self._call("GET", "/registered-models/history", params, api=WAYLINE_API)
        return [registry_event_from_json(e) for e in answer.get("events") or ()]


__all__ = ["RestRegistryStore"]
