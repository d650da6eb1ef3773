"""The model-registry store protocol: registered models, model versions, tags, aliases and stages.

``SqlRegistryStore`` implements it on SQLite and PostgreSQL (the same database as the tracking store);
``RestRegistryStore`` over the MLflow REST API. Services validate every argument before calling a store
(names, versions, sizes, stages, filters, the version's source); a store enforces what needs the stored
state, atomically: names are unique (``ResourceAlreadyExists``), models and versions exist
(``ResourceNotFound``), version numbers are allocated without gaps or reuse under concurrent writers, and a
stage or alias change is recorded in the model's history in the same transaction.

Names are matched exactly (case-sensitive). Versions are integers on this side; the wire spells them as
strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from wayline.entities import Page
from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegistryEvent,
    RegistryOrder,
    Stage,
)

#: MLflow's default and largest page sizes of the registry searches.
SEARCH_REGISTERED_MODELS_DEFAULT = 100
SEARCH_REGISTERED_MODELS_MAX = 1000
SEARCH_MODEL_VERSIONS_DEFAULT = 10000
SEARCH_MODEL_VERSIONS_MAX = 200000


@runtime_checkable
class RegistryStore(Protocol):
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
        """ResourceAlreadyExists when the name is taken."""
        ...

    def get_registered_model(self, name: str) -> RegisteredModel:
        """With tags, aliases and latest versions per stage; ResourceNotFound when missing."""
        ...

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        protected: bool | None = None,
    ) -> RegisteredModel:
        """Changes what is not None and bumps ``last_updated_timestamp``."""
        ...

    def rename_registered_model(self, name: str, new_name: str, *, actor: str = "") -> RegisteredModel:
        """Versions, tags, aliases and history follow the model. ResourceAlreadyExists when ``new_name`` is
        taken."""
        ...

    def delete_registered_model(self, name: str) -> None:
        """Deletes the model with its versions, tags, aliases and history."""
        ...

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Filter: ``name`` (=, !=, LIKE, ILIKE) and ``tags.<key>`` (=, !=, LIKE, ILIKE) joined with AND.
        Order: ``name``, ``creation_timestamp``, ``last_updated_timestamp`` (default ``name ASC``); ties by
        name."""
        ...

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """ResourceNotFound when the model is missing; deleting a missing tag changes nothing (MLflow)."""
        ...

    def get_latest_versions(self, name: str, stages: Sequence[Stage] = ()) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty) that has one, in stage order."""
        ...

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
        """The next version number of the model (one more than the largest ever created), stage ``None``."""
        ...

    def get_model_version(self, name: str, version: int) -> ModelVersion: ...

    def update_model_version(self, name: str, version: int, *, description: str) -> ModelVersion: ...

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
        """Moves the version; with ``archive_existing_versions`` (only for Staging and Production), the other
        versions in that stage move to Archived, each change recorded in the history."""
        ...

    def delete_model_version(self, name: str, version: int, *, actor: str = "") -> None:
        """Deletes the version, its tags and the aliases that point at it."""
        ...

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Filter: ``name`` (=, !=, LIKE, ILIKE), ``version_number`` (=, !=, <, <=, >, >=), ``run_id`` (=, !=,
        IN), ``source_path`` (=, !=, LIKE, ILIKE), ``current_stage`` (=, !=), ``tags.<key>`` joined with AND.
        Order: ``name``, ``version_number``, ``creation_timestamp``, ``last_updated_timestamp`` (default
        ``name ASC, version_number DESC``)."""
        ...

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None: ...

    # -- aliases ---------------------------------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: int, *, actor: str = "", comment: str = ""
    ) -> None:
        """Points the alias at the version (moving it if it pointed elsewhere); the version must exist."""
        ...

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str = "") -> None:
        """ResourceNotFound when the model is missing; a missing alias changes nothing (MLflow)."""
        ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """ResourceNotFound when the model or the alias is missing."""
        ...

    # -- history ---------------------------------------------------------------------------------------------
    def model_history(
        self, name: str, *, version: int | None = None, until: int | None = None
    ) -> list[RegistryEvent]:
        """The model's recorded events, oldest first; ``version`` keeps one version's events, ``until`` (ms)
        those at or before that time."""
        ...

    def close(self) -> None: ...


__all__ = [
    "SEARCH_MODEL_VERSIONS_DEFAULT",
    "SEARCH_MODEL_VERSIONS_MAX",
    "SEARCH_REGISTERED_MODELS_DEFAULT",
    "SEARCH_REGISTERED_MODELS_MAX",
    "RegistryEvent",
    "RegistryStore",
]
