"""The model registry's entities: registered models, their versions, aliases and stages.

A registered model is a named catalogue entry (unique name, description, owner, tags). Its model versions
are numbered 1, 2, 3... in creation order (numbers are never reused, even after a delete); each points at
the files of one model (``source``), usually produced by a run. Aliases (``champion``) name one version
each; stages (``None``, ``Staging``, ``Production``, ``Archived``) are MLflow's older, deprecated way of
saying the same and are kept for MLflow clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from wayline.entities.choice import parse_choice


class Stage(str, Enum):
    """A model version's stage. Values are MLflow's spellings; :meth:`parse` is case-insensitive."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: object, *, field: str = "stage") -> Stage:
        return parse_choice(cls, value, field)


class ModelVersionStatus(str, Enum):
    """A model version's registration state (MLflow's names). Wayline registers synchronously, so versions
    are created ``READY``; the other states exist for MLflow clients and imported data."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    @classmethod
    def parse(cls, value: object, *, field: str = "status") -> ModelVersionStatus:
        return parse_choice(cls, value, field)


@dataclass(frozen=True)
class RegisteredModelAlias:
    alias: str
    version: int


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: Stage = Stage.NONE
    description: str = ""
    user_id: str = ""
    source: str = ""
    run_id: str = ""
    run_link: str = ""
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_message: str = ""
    #: The MLflow 3 logged model the version was made from ("" when none).
    model_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The aliases that point at this version, sorted.
    aliases: Sequence[str] = ()


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    #: The user or group responsible for the model (Wayline's; "" when unset).
    owner: str = ""
    #: When set, only approvers may change the model's stages and aliases directly (Wayline's).
    protected: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    #: Sorted by alias.
    aliases: Sequence[RegisteredModelAlias] = ()
    #: The newest version in each stage that has one, in stage order (MLflow's ``latest_versions``).
    latest_versions: Sequence[ModelVersion] = ()


@dataclass(frozen=True)
class RegistryOrder:
    """One ``order_by`` clause of a registry search: a column and a direction."""

    column: str
    ascending: bool = True


@dataclass(frozen=True)
class RegistryEvent:
    """One entry of a registered model's history: what changed, who changed it, when, from what to what."""

    id: int
    name: str
    #: 0 for model-level events (created, renamed, ...).
    version: int
    #: ``model_created``, ``version_created``, ``stage_changed``, ``alias_set``, ``alias_deleted``,
    #: ``version_deleted``, ``model_renamed`` (more kinds are added by governance).
    kind: str
    actor: str
    timestamp: int
    from_value: str = ""
    to_value: str = ""
    comment: str = ""
