"""The model-registry service: the rules that hold whoever calls (server routes, the embedded client, CLI).

Every argument is checked before the store sees it (:mod:`~wayline.services.registry_validation`), a new
version's ``source`` must lie inside a known artifact store (:mod:`~wayline.services.model_source`), so a bad
request changes nothing. The methods have the names of the :class:`~wayline.store.registry.RegistryStore`
methods and take raw caller values: versions as ``int`` or numeric ``str``, stages as ``str`` or
:class:`Stage`, tags as a mapping or ``(key, value)`` pairs, ``order_by`` as clauses like ``"name DESC"``.
Mutations take the acting user (``actor``, None: the service's ``default_actor``), which the store records in
the model's history; every mutation resolves it first, so that permission checks can be added in one place
(:meth:`RegistryService._actor`). On a protected model, only approvers change stages and aliases directly
(:meth:`RegistryService._require_direct_change`); others ask through a transition request. After each
committed mutation the service reports an event to its :class:`~wayline.services.events.EventSink`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from wayline.artifacts.resolve import parse_model_uri
from wayline.entities import Page
from wayline.entities.registry import ModelVersion, RegisteredModel, Stage
from wayline.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceNotFound,
    SearchSyntaxError,
    invalid_value,
)
from wayline.services import registry_validation as rv
from wayline.services import validation as v
from wayline.services.events import EventSink
from wayline.services.logged_models import validate_model_id
from wayline.services.model_source import VersionSources
from wayline.services.tracking import TrackingService
from wayline.store.registry import (
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_MODEL_VERSIONS_MAX,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX,
    RegistryEvent,
    RegistryStore,
)

Tags = Mapping[str, str] | Sequence[tuple[str, str]]
T = TypeVar("T", RegisteredModel, ModelVersion)


class RegistryService:
    """Validated access to a :class:`RegistryStore`; ``tracking`` resolves runs and logged models (sources
    naming them are refused without it), ``artifact_roots`` are the artifact stores sources may point into.
    ``approvers`` (user or group names; empty: everyone) may change a protected model's stages and aliases
    directly and decide transition requests; ``events`` receives an event after each committed mutation."""

    def __init__(
        self,
        store: RegistryStore,
        tracking: TrackingService | None = None,
        *,
        default_actor: str = "",
        artifact_roots: Sequence[str] = (),
        approvers: Sequence[str] = (),
        events: EventSink | None = None,
    ) -> None:
        self.store = store
        self.approvers = tuple(rv.validate_person(a, field="approvers") for a in approvers)
        self.events = events
        self.tracking = tracking
        self.default_actor = rv.validate_person(default_actor, field="default_actor")
        self.artifact_roots = tuple(artifact_roots)
        self.sources = VersionSources(tracking, self.artifact_roots, self.resolve_model_uri)

    def close(self) -> None:
        self.store.close()

    def _actor(self, actor: str | None) -> str:
        return self.default_actor if actor is None else rv.validate_person(actor, field="actor")

    def is_approver(self, actor: str) -> bool:
        """Whether ``actor`` approves: one of ``approvers``, or anyone when none are configured. (Until users
        and groups exist, a group name in ``approvers`` matches a user of that name.)"""
        return not self.approvers or actor in self.approvers

    def _require_direct_change(self, name: str, actor: str, what: str) -> None:
        """PermissionDenied when ``name`` is protected and ``actor`` is no approver: the one check guarding
        direct stage and alias changes (and what would bypass them) on protected models."""
        if self.is_approver(actor) or not self.store.get_registered_model(name).protected:
            return
        raise PermissionDenied(
            f"Registered model '{name}' is protected: only approvers may {what}; "
            "ask for it with a transition request instead"
        )

    def _emit(self, entity: str, action: str, data: Mapping[str, object]) -> None:
        if self.events is not None:
            self.events.emit(entity, action, data)

    # -- registered models -----------------------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        *,
        tags: Tags = (),
        description: str = "",
        owner: str = "",
        actor: str | None = None,
    ) -> RegisteredModel:
        model = self.store.create_registered_model(
            rv.validate_name(name),
            tags=rv.validate_tags(tags),
            description=rv.validate_description(description),
            owner=rv.validate_person(owner, field="owner"),
            actor=self._actor(actor),
        )
        self._emit(
            "registered_model",
            "created",
            {"name": model.name, "tags": dict(model.tags), "description": model.description},
        )
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(rv.validate_name(name))

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        protected: bool | None = None,
        actor: str | None = None,
    ) -> RegisteredModel:
        """Changes what is not None."""
        name = rv.validate_name(name)
        if protected is not None and not isinstance(protected, bool):
            raise invalid_value("protected", protected, "must be true or false")
        acting = self._actor(actor)
        if protected is False:
            self._require_direct_change(name, acting, "unprotect it")
        return self.store.update_registered_model(
            name,
            description=None if description is None else rv.validate_description(description),
            owner=None if owner is None else rv.validate_person(owner, field="owner"),
            protected=protected,
        )

    def rename_registered_model(
        self, name: str, new_name: str, *, actor: str | None = None
    ) -> RegisteredModel:
        name, new_name = rv.validate_name(name), rv.validate_name(new_name, field="new_name")
        return self.store.rename_registered_model(name, new_name, actor=self._actor(actor))

    def delete_registered_model(self, name: str, *, actor: str | None = None) -> None:
        name = rv.validate_name(name)
        self._require_direct_change(name, self._actor(actor), "delete it")
        self.store.delete_registered_model(name)

    def search_registered_models(
        self,
        *,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Filter on ``name`` and ``tags.<key>``; order by ``name``, ``creation_timestamp``,
        ``last_updated_timestamp`` (``timestamp``); 1 to 1000 a page (100 by default)."""
        size = SEARCH_REGISTERED_MODELS_DEFAULT if max_results is None else max_results
        size = v.validate_max_results(size, maximum=SEARCH_REGISTERED_MODELS_MAX)
        orders = rv.validate_order_by(order_by, rv.MODEL_ORDER_COLUMNS)
        text, no_prompts = rv.split_prompt_exclusion(_filter(filter_string))
        try:
            page = self.store.search_registered_models(
                filter_string=text, max_results=size, order_by=orders, page_token=_page_token(page_token)
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string, filter_field="filter") from None
        return _without_prompts(page) if no_prompts else page

    def set_registered_model_tag(self, name: str, key: str, value: str, *, actor: str | None = None) -> None:
        name, key, value = rv.validate_name(name), rv.validate_tag_key(key), rv.validate_tag_value(value)
        self._actor(actor)
        self.store.set_registered_model_tag(name, key, value)
        self._emit("registered_model_tag", "set", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str, *, actor: str | None = None) -> None:
        name, key = rv.validate_name(name), rv.validate_tag_key(key)
        self._actor(actor)
        self.store.delete_registered_model_tag(name, key)
        self._emit("registered_model_tag", "deleted", {"name": name, "key": key})

    def get_latest_versions(
        self, name: str, stages: Sequence[Stage | str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when empty) that has one."""
        name = rv.validate_name(name)
        return self.store.get_latest_versions(name, rv.validate_stages(stages))

    # -- model versions --------------------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str = "",
        tags: Tags = (),
        run_link: str = "",
        description: str = "",
        model_id: str = "",
        actor: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` whose files are at ``source``, which must be one of:
        ``runs:/<run>/<path>`` (an existing run), ``models:/<logged model id>`` (an existing logged model),
        ``models:/<name>/<version>`` (or ``@alias``, ``/<stage>``, ``/latest``: another registered version,
        stored as ``models:/<name>/<version>``), or a URI inside one of the artifact roots or inside the
        artifact root of the given run or logged model. ``run_id`` and ``model_id`` must agree with it."""
        name = rv.validate_name(name)
        run_id = rv.validate_run_id(run_id) if run_id else ""
        model_id = validate_model_id(model_id) if model_id else ""
        checked_tags = rv.validate_tags(tags)
        run_link = rv.validate_run_link(run_link)
        description = rv.validate_description(description)
        actor = self._actor(actor)
        if not isinstance(source, str):
            raise invalid_value("source", source, "must be a string")
        if not source.strip():
            raise rv.missing("source")
        lineage = self.sources.lineage(source, run_id, model_id)
        version = self.store.create_model_version(
            name,
            lineage.source,
            run_id=lineage.run_id,
            tags=checked_tags,
            run_link=run_link,
            description=description,
            model_id=lineage.model_id,
            user_id=actor,
        )
        if lineage.model_id:
            self.sources.link_logged_model(lineage.model_id, version)
        self._emit(
            "model_version",
            "created",
            {
                "name": version.name,
                "version": str(version.version),
                "source": version.source,
                "run_id": version.run_id or None,
                "tags": dict(version.tags),
                "description": version.description or None,
            },
        )
        return version

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.store.get_model_version(rv.validate_name(name), rv.validate_version(version))

    def update_model_version(
        self, name: str, version: int | str, *, description: str, actor: str | None = None
    ) -> ModelVersion:
        name, number = rv.validate_name(name), rv.validate_version(version)
        description = rv.validate_description(description)
        self._actor(actor)
        return self.store.update_model_version(name, number, description=description)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: Stage | str,
        *,
        archive_existing_versions: bool = False,
        comment: str = "",
        actor: str | None = None,
    ) -> ModelVersion:
        """Moves the version to ``stage``; ``archive_existing_versions`` (only when moving to Staging or
        Production) archives the model's other versions in that stage."""
        name, number, target = rv.validate_name(name), rv.validate_version(version), rv.validate_stage(stage)
        if not isinstance(archive_existing_versions, bool):
            raise invalid_value(
                "archive_existing_versions", archive_existing_versions, "must be true or false"
            )
        if archive_existing_versions and target not in (Stage.STAGING, Stage.PRODUCTION):
            raise invalid_value(
                "archive_existing_versions",
                archive_existing_versions,
                f"only a move to Staging or Production archives the other versions, not to {target.value}",
            )
        comment, acting = rv.validate_comment(comment), self._actor(actor)
        self._require_direct_change(name, acting, "change its stages directly")
        before = self.store.get_model_version(name, number).current_stage
        moved = self.store.transition_model_version_stage(
            name,
            number,
            target,
            archive_existing_versions=archive_existing_versions,
            actor=acting,
            comment=comment,
        )
        self._emit(
            "model_version_stage",
            "updated",
            {
                "name": name,
                "version": str(number),
                "from_stage": before.value,
                "to_stage": moved.current_stage.value,
                "archive_existing_versions": archive_existing_versions,
                "actor": acting,
                "comment": comment,
            },
        )
        return moved

    def delete_model_version(self, name: str, version: int | str, *, actor: str | None = None) -> None:
        name, number = rv.validate_name(name), rv.validate_version(version)
        acting = self._actor(actor)
        self._require_direct_change(name, acting, "delete its versions")
        self.store.delete_model_version(name, number, actor=acting)

    def search_model_versions(
        self,
        *,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Filter on ``name``, ``version_number``, ``run_id``, ``source_path``, ``current_stage`` and
        ``tags.<key>``; order by ``name``, ``version_number``, ``creation_timestamp``,
        ``last_updated_timestamp``; 1 to 200000 a page (10000 by default)."""
        size = SEARCH_MODEL_VERSIONS_DEFAULT if max_results is None else max_results
        size = v.validate_max_results(size, maximum=SEARCH_MODEL_VERSIONS_MAX)
        orders = rv.validate_order_by(order_by, rv.VERSION_ORDER_COLUMNS)
        text, no_prompts = rv.split_prompt_exclusion(_filter(filter_string))
        try:
            page = self.store.search_model_versions(
                filter_string=text, max_results=size, order_by=orders, page_token=_page_token(page_token)
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string, filter_field="filter") from None
        return _without_prompts(page) if no_prompts else page

    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str, *, actor: str | None = None
    ) -> None:
        name, number = rv.validate_name(name), rv.validate_version(version)
        key, value = rv.validate_tag_key(key), rv.validate_tag_value(value)
        self._actor(actor)
        self.store.set_model_version_tag(name, number, key, value)
        self._emit(
            "model_version_tag", "set", {"name": name, "version": str(number), "key": key, "value": value}
        )

    def delete_model_version_tag(
        self, name: str, version: int | str, key: str, *, actor: str | None = None
    ) -> None:
        name, number, key = rv.validate_name(name), rv.validate_version(version), rv.validate_tag_key(key)
        self._actor(actor)
        self.store.delete_model_version_tag(name, number, key)
        self._emit("model_version_tag", "deleted", {"name": name, "version": str(number), "key": key})

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's files can be downloaded from: a ``runs:/`` source resolved to the run's
        artifact URI, a logged model's artifact location, another version's download URI, or the source."""
        return self.sources.download_uri(self.get_model_version(name, version).source)

    # -- aliases ---------------------------------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str, *, comment: str = "", actor: str | None = None
    ) -> None:
        name, alias = rv.validate_name(name), rv.validate_alias(alias, settable=True)
        number, comment = rv.validate_version(version), rv.validate_comment(comment)
        acting = self._actor(actor)
        self._require_direct_change(name, acting, "set its aliases directly")
        self.store.set_registered_model_alias(name, alias, number, actor=acting, comment=comment)
        self._emit("model_version_alias", "created", {"name": name, "alias": alias, "version": str(number)})

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str | None = None) -> None:
        name, alias = rv.validate_name(name), rv.validate_alias(alias)
        acting = self._actor(actor)
        self._require_direct_change(name, acting, "delete its aliases directly")
        self.store.delete_registered_model_alias(name, alias, actor=acting)
        self._emit("model_version_alias", "deleted", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at (``latest``, unless set, is the largest version). As in MLflow, a
        missing model is RESOURCE_DOES_NOT_EXIST, a missing alias of a model INVALID_PARAMETER_VALUE."""
        name, alias = rv.validate_name(name), rv.validate_alias(alias)
        try:
            return self.store.get_model_version_by_alias(name, alias)
        except ResourceNotFound:
            if alias.lower() == rv.LATEST_ALIAS:
                raise
            self.store.get_registered_model(name)
            raise InvalidParameterValue(f"Registered model alias {alias} not found.") from None

    # -- model URIs and history ------------------------------------------------------------------------------
    def resolve_model_uri(self, uri: str) -> ModelVersion:
        """The version ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``models:/<name>/<stage>``
        (the newest in that stage) or ``models:/<name>/latest`` (the largest) names."""
        parsed = parse_model_uri(uri, field="uri")
        if parsed.model_id is not None:
            raise invalid_value(
                "uri", uri, "names a logged model (models:/<model id>), not a registered version"
            )
        name = rv.validate_name(parsed.name, field="uri")
        if parsed.version is not None:
            return self.get_model_version(name, parsed.version)
        if parsed.alias is not None:
            return self.get_model_version_by_alias(name, rv.validate_alias(parsed.alias, field="uri"))
        latest = self.store.get_latest_versions(name, [parsed.stage] if parsed.stage else [])
        if not latest:
            where = f" in stage '{parsed.stage.value}'" if parsed.stage else ""
            raise ResourceNotFound(f"No versions of model with name '{name}'{where} found")
        return max(latest, key=lambda found: found.version)

    def model_history(
        self, name: str, *, version: int | str | None = None, until: int | None = None
    ) -> list[RegistryEvent]:
        """The model's recorded changes, oldest first; ``version`` keeps one version's, ``until`` (ms) those
        at or before that time ("which version was in Production on date D")."""
        name = rv.validate_name(name)
        number = None if version is None else rv.validate_version(version)
        limit = None if until is None else v.validate_int64(until, field="until")
        return self.store.model_history(name, version=number, until=limit)


def _filter(filter_string: object) -> str | None:
    if filter_string is None:
        return None
    if not isinstance(filter_string, str):
        raise invalid_value("filter", filter_string, "must be a string")
    return filter_string or None


def _without_prompts(page: Page[T]) -> Page[T]:
    """The page without MLflow's prompts (a page may then be shorter than asked; its token still leads on)."""
    kept = [item for item in page.items if getattr(item, "tags", {}).get(rv.PROMPT_TAG, "").lower() != "true"]
    return page if len(kept) == len(page.items) else Page(kept, page.next_page_token)


def _page_token(page_token: object) -> str | None:
    if page_token is None:
        return None
    if not isinstance(page_token, str):
        raise invalid_value("page_token", page_token, "must be a string")
    return page_token or None


__all__ = ["RegistryService"]
