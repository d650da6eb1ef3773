"""``SqlRegistryStore``: the :class:`~wayline.store.registry.RegistryStore` on SQLite and PostgreSQL.

Each method is one transaction (writes take SQLite's write queue and lock up front, see ``engine``). The work
is done by one module per concept: ``registered_models``, ``model_versions``, ``model_aliases``,
``registry_history``, ``registry_search`` (with ``registry_filter``) and ``registry_load``. The registry lives
in the same database as the tracking store and can share its engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from wayline.entities import Page
from wayline.entities.registry import ModelVersion, ModelVersionStatus, RegisteredModel, RegistryOrder, Stage
from wayline.store.registry import (
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_MODEL_VERSIONS_MAX,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX,
    RegistryEvent,
)
from wayline.store.sql import (
    model_aliases,
    model_versions,
    registered_models,
    registry_history,
    registry_search,
)
from wayline.store.sql.engine import transaction
from wayline.store.sql.keyset import check_max_results
from wayline.store.sql.shared_engine import SharedEngineStore
from wayline.store.sql.statistics import REGISTRY_TABLES, StatisticsKeeper


class SqlRegistryStore(SharedEngineStore):
    """Model-registry metadata in a SQL database.

    Give either ``db_uri`` (the store makes its own engine, checks the schema, and :meth:`close` disposes of
    it) or ``engine`` (shared, typically the tracking store's; :meth:`close` leaves it open).
    ``default_artifact_root`` is kept for callers that resolve version sources; the store does not use it.
    """

    def __init__(
        self,
        db_uri: str | None = None,
        *,
        engine: sa.Engine | None = None,
        default_artifact_root: str = "",
    ) -> None:
        self.default_artifact_root = default_artifact_root
        super().__init__(db_uri, engine=engine)
        #: PostgreSQL statistics gathered early while the registry fills (see ``statistics``).
        self.statistics = StatisticsKeeper(self._engine, REGISTRY_TABLES)

    def close(self) -> None:
        self.statistics.wait()
        super().close()

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
        with transaction(self._engine, write=True) as conn:
            model = registered_models.create(
                conn, name, tags=dict(tags or {}), description=description, owner=owner, actor=actor
            )
        self.statistics.wrote()
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        with transaction(self._engine) as conn:
            return registered_models.get(conn, name)

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        protected: bool | None = None,
    ) -> RegisteredModel:
        with transaction(self._engine, write=True) as conn:
            return registered_models.update(
                conn, name, description=description, owner=owner, protected=protected
            )

    def rename_registered_model(self, name: str, new_name: str, *, actor: str = "") -> RegisteredModel:
        with transaction(self._engine, write=True) as conn:
            return registered_models.rename(conn, name, new_name, actor=actor)

    def delete_registered_model(self, name: str) -> None:
        with transaction(self._engine, write=True) as conn:
            registered_models.delete(conn, name)

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        size = check_max_results(max_results, SEARCH_REGISTERED_MODELS_MAX)
        with transaction(self._engine) as conn:
            return registry_search.search_models(
                conn,
                filter_string=filter_string,
                max_results=size,
                order_by=order_by,
                page_token_text=page_token,
            )

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        with transaction(self._engine, write=True) as conn:
            registered_models.set_tag(conn, name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with transaction(self._engine, write=True) as conn:
            registered_models.delete_tag(conn, name, key)

    def get_latest_versions(self, name: str, stages: Sequence[Stage] = ()) -> list[ModelVersion]:
        with transaction(self._engine) as conn:
            return model_versions.get_latest(conn, name, [Stage.parse(stage) for stage in stages])

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
        with transaction(self._engine, write=True) as conn:
            version = model_versions.create(
                conn,
                name,
                source,
                run_id=run_id,
                tags=dict(tags or {}),
                run_link=run_link,
                description=description,
                model_id=model_id,
                user_id=user_id,
                status=ModelVersionStatus.parse(status),
            )
        self.statistics.wrote()
        return version

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with transaction(self._engine) as conn:
            return model_versions.get(conn, name, version)

    def update_model_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        with transaction(self._engine, write=True) as conn:
            return model_versions.update(conn, name, version, description=description)

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
        target = Stage.parse(stage)
        with transaction(self._engine, write=True) as conn:
            return model_versions.transition(
                conn,
                name,
                version,
                target,
                archive_existing_versions=archive_existing_versions,
                actor=actor,
                comment=comment,
            )

    def delete_model_version(self, name: str, version: int, *, actor: str = "") -> None:
        with transaction(self._engine, write=True) as conn:
            model_versions.delete(conn, name, version, actor=actor)

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by: Sequence[RegistryOrder] = (),
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        size = check_max_results(max_results, SEARCH_MODEL_VERSIONS_MAX)
        with transaction(self._engine) as conn:
            return registry_search.search_versions(
                conn,
                filter_string=filter_string,
                max_results=size,
                order_by=order_by,
                page_token_text=page_token,
            )

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        with transaction(self._engine, write=True) as conn:
            model_versions.set_tag(conn, name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        with transaction(self._engine, write=True) as conn:
            model_versions.delete_tag(conn, name, version, key)

    # -- aliases ---------------------------------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: int, *, actor: str = "", comment: str = ""
    ) -> None:
        with transaction(self._engine, write=True) as conn:
            model_aliases.set_alias(conn, name, alias, version, actor=actor, comment=comment)

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str = "") -> None:
        with transaction(self._engine, write=True) as conn:
            model_aliases.delete_alias(conn, name, alias, actor=actor)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with transaction(self._engine) as conn:
            return model_aliases.get_by_alias(conn, name, alias)

    # -- history ---------------------------------------------------------------------------------------------
    def model_history(
        self, name: str, *, version: int | None = None, until: int | None = None
    ) -> list[RegistryEvent]:
        with transaction(self._engine) as conn:
            key = registered_models.key_of(conn, name)
            if version is not None and version not in model_versions.STORABLE:
                return []
            return registry_history.history(conn, key, name, version=version, until=until)


__all__ = ["SqlRegistryStore"]
