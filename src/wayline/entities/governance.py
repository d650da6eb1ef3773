"""Registry governance: comments on model versions, transition requests and the registry's past state.

A transition request asks for a model version's stage change (``kind`` STAGE, ``target`` a Stage value) or
an alias to point at it (``kind`` ALIAS, ``target`` the alias). An approver approves it (the change is made
then) or rejects it; its requester may cancel it. Only PENDING requests are decided.
:class:`RegistryState` is a registered model's stages and aliases at a past instant, replayed from its
history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from wayline.entities.choice import parse_choice
from wayline.entities.registry import Stage


class RequestStatus(str, Enum):
    """A transition request's state; every state but PENDING is final."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"

    @classmethod
    def parse(cls, value: object, *, field: str = "status") -> RequestStatus:
        return parse_choice(cls, value, field)


class RequestKind(str, Enum):
    """What a transition request asks for: a stage change or an alias."""

    STAGE = "STAGE"
    ALIAS = "ALIAS"

    @classmethod
    def parse(cls, value: object, *, field: str = "kind") -> RequestKind:
        return parse_choice(cls, value, field)


@dataclass(frozen=True)
class ModelComment:
    """A comment on a model version; only its author edits or deletes it. Timestamps in milliseconds."""

    id: int
    name: str
    version: int
    author: str
    text: str
    created: int
    updated: int


@dataclass(frozen=True)
class TransitionRequest:
    """A request to move a version to a stage or point an alias at it, and its decision."""

    id: int
    name: str
    version: int
    kind: RequestKind
    #: A Stage value (``Production``) for STAGE requests, the alias for ALIAS requests.
    target: str
    archive_existing_versions: bool
    requested_by: str
    comment: str
    status: RequestStatus
    created: int
    decided_by: str = ""
    decision_comment: str = ""
    #: When the request was approved, rejected or cancelled (0 while PENDING).
    decided: int = 0


@dataclass(frozen=True)
class RegistryState:
    """Which stage each version of a model was in, and where each alias pointed, at ``timestamp``."""

    name: str
    timestamp: int
    #: Every version that existed at ``timestamp``, with its stage then.
    stages: Mapping[int, Stage] = field(default_factory=dict)
    #: alias -> version at ``timestamp``.
    aliases: Mapping[str, int] = field(default_factory=dict)
