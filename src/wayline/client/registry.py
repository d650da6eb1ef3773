"""The model-registry half of ``WaylineClient``, with MlflowClient's method names and argument order.

Every call goes through :class:`RegistryService` (opened on first use, on the same database or server as the
tracking store, and closed with the client), which validates its input: bad arguments raise
:class:`InvalidParameterValue` naming the field and change nothing. Changes are recorded in the model's
history with the acting user: ``WAYLINE_USER`` (else the login name) on an embedded store, the authenticated
user on a server. Registering from ``runs:/`` URIs and resolving ``models:/`` URIs are in
:mod:`wayline.client.model_uri`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wayline.client.arguments import string_map
from wayline.client.context import current_user
from wayline.entities import Page
from wayline.entities.registry import ModelVersion, RegisteredModel
from wayline.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceNotFound,
    invalid_value,
)
from wayline.services import registry_validation as rv
from wayline.services.logged_models import validate_model_id
from wayline.services.model_source import checked_source_scheme
from wayline.services.tracking import TrackingService
from wayline.store.registry import (
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    RegistryEvent,
)
from wayline.store.resolve import locate, open_registry_store
from wayline.store.rest_registry import RestRegistryStore

if TYPE_CHECKING:
    from wayline.services.registry import RegistryService

_lock = threading.Lock()


def _text(value: object, field: str) -> str:
    """An optional string argument (None is "")."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_value(field, value, "must be a string")
    return value


def _until_ms(until: object) -> int | None:
    if until is None:
        return None
    if isinstance(until, datetime):
        return int(until.timestamp() * 1000)
    if isinstance(until, int) and not isinstance(until, bool):
        return until
    raise invalid_value("until", until, "must be milliseconds since the epoch or a datetime")


class RegistryClient:
    """Mixed into ``WaylineClient``: registered models, versions, aliases, stages and history."""

    _tracking_uri: str
    _service: TrackingService
    _closed: bool
    _registry_service: RegistryService | None = None

    @property
    def registry(self) -> RegistryService:
        """The registry service, opened on first use on the tracking URI's database or server."""
        with _lock:
            if getattr(self, "_closed", False):
                raise InvalidState("The client is closed")
            if self._registry_service is None:
                from wayline.services.registry import RegistryService

                location = locate(self._tracking_uri)
                roots = (location.default_artifact_root,) if location.default_artifact_root else ()
                from wayline.client.governance import env_approvers

                self._registry_service = RegistryService(
                    open_registry_store(self._tracking_uri),
                    self._service,
                    default_actor=current_user(),
                    artifact_roots=roots,
                    approvers=env_approvers(),
                )
            return self._registry_service

    def _close_registry(self) -> None:
        with _lock:
            service, self._registry_service = self._registry_service, None
        if service is not None:
            service.close()

    # -- registered models -----------------------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        owner: str | None = None,
    ) -> RegisteredModel:
        return self.registry.create_registered_model(
            name,
            tags=string_map(tags, "tags"),
            description=_text(description, "description"),
            owner=_text(owner, "owner"),
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.registry.rename_registered_model(name, new_name)

    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        *,
        owner: str | None = None,
        protected: bool | None = None,
    ) -> RegisteredModel:
        """Change what is given: the description (MLflow's), the owner and the protected flag (Wayline's)."""
        if protected is not None and not isinstance(protected, bool):
            raise invalid_value("protected", protected, "must be True or False")
        return self.registry.update_registered_model(
            name, description=description, owner=owner, protected=protected
        )

    def delete_registered_model(self, name: str) -> None:
        self.registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self.registry.search_registered_models(
            filter_string=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or ()),
            page_token=page_token or None,
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.registry.set_registered_model_tag(name, key, string_map({key: value}, "value")[key])

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry.delete_registered_model_tag(name, key)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when None) that has one."""
        if isinstance(stages, str):
            stages = [stages]
        return self.registry.get_latest_versions(name, list(stages or ()))

    # -- model versions --------------------------------------------------------------------------------------
    def create_model_version(  # noqa: PLR0917 (MlflowClient's signature)
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` whose files are at ``source`` (inside a known artifact store).

        On a server, where the source may point is the server's to decide (it knows its artifact stores):
        the arguments are checked here, the source only for a clean spelling, and the server applies the
        rule. An embedded registry applies it here.
        """
        registry = self.registry
        if not isinstance(registry.store, RestRegistryStore):
            return registry.create_model_version(
                name,
                source,
                run_id=_text(run_id, "run_id"),
                tags=string_map(tags, "tags"),
                run_link=_text(run_link, "run_link"),
                description=_text(description, "description"),
                model_id=_text(model_id, "model_id"),
            )
        run = _text(run_id, "run_id")
        model = _text(model_id, "model_id")
        name = rv.validate_name(name)
        checked_source_scheme(source)
        return registry.store.create_model_version(
            name,
            source,
            run_id=rv.validate_run_id(run) if run else "",
            tags=rv.validate_tags(string_map(tags, "tags")),
            run_link=rv.validate_run_link(_text(run_link, "run_link")),
            description=rv.validate_description(_text(description, "description")),
            model_id=validate_model_id(model) if model else "",
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.registry.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        if description is None:
            raise InvalidParameterValue("Missing value for required parameter 'description'")
        return self.registry.update_model_version(
            name, version, description=_text(description, "description")
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        self.registry.delete_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self.registry.search_model_versions(
            filter_string=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or ()),
            page_token=page_token or None,
        )

    def _version_or_stage(self, name: str, version: int | str | None, stage: str | None) -> int | str:
        """MlflowClient's tag methods take a version or a stage (the stage's newest version)."""
        if version is not None and stage is not None:
            raise InvalidParameterValue("Give a version or a stage for parameter 'version', not both")
        if version is not None:
            return version
        if stage is None:
            raise InvalidParameterValue("Missing value for required parameter 'version'")
        latest = self.registry.get_latest_versions(name, [stage])
        if not latest:
            raise ResourceNotFound(f"Registered model '{name}' has no version in stage '{stage}'")
        return latest[0].version

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        key = _text(key, "key")
        number = self._version_or_stage(name, version, stage)
        self.registry.set_model_version_tag(name, number, key, string_map({key: value}, "value")[key])

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        number = self._version_or_stage(name, version, stage)
        self.registry.delete_model_version_tag(name, number, _text(key, "key"))

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        comment: str | None = None,
    ) -> ModelVersion:
        """Move the version to ``stage`` (None, Staging, Production, Archived; any case); with
        ``archive_existing_versions`` the others in that stage move to Archived."""
        if not isinstance(archive_existing_versions, bool):
            raise invalid_value(
                "archive_existing_versions", archive_existing_versions, "must be True or False"
            )
        return self.registry.transition_model_version_stage(
            name,
            version,
            stage,
            archive_existing_versions=archive_existing_versions,
            comment=_text(comment, "comment"),
        )

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's files are; a server is asked (it can resolve what this client cannot see,
        such as logged models), an embedded registry resolves the version's source itself."""
        registry = self.registry
        if isinstance(registry.store, RestRegistryStore):
            number = registry.get_model_version(name, version).version
            return registry.store.get_model_version_download_uri(name, number)
        return registry.get_model_version_download_uri(name, version)

    # -- aliases ---------------------------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        self.registry.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.registry.get_model_version_by_alias(name, alias)

    # -- history ---------------------------------------------------------------------------------------------
    def get_model_history(
        self, name: str, version: int | str | None = None, until: int | datetime | None = None
    ) -> list[RegistryEvent]:
        """The model's stage and alias changes (and more), oldest first; ``until`` (ms or a datetime) keeps
        those up to that moment, so the last ``stage_changed`` event of a version says where it was then."""
        return self.registry.model_history(name, version=version, until=_until_ms(until))


__all__ = ["RegistryClient"]
