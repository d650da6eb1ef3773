"""Requests and responses of Wayline's governance routes (comments on model versions, transition requests,
the registry's state at a time), under ``/api/2.0/wayline``.

Ids and versions travel as strings (numbers are accepted); values are checked by the governance service, so
that errors name the field the client sent. Responses are encoded by :mod:`wayline.wire.governance`; the
response models here document them.
"""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import Shape
from wayline.server.messages.registry import ModelVersionJson


# -- comments ------------------------------------------------------------------------------------------------
class AddComment(WireModel):
    name: str
    version: str
    comment: str


class UpdateComment(WireModel):
    id: str
    comment: str


class CommentId(WireModel):
    id: str


class ListComments(WireModel):
    name: str
    version: str


class CommentJson(Shape):
    id: str
    name: str
    version: str
    author: str
    comment: str
    creation_timestamp: int
    last_updated_timestamp: int


class CommentResponse(Shape):
    comment: CommentJson


class CommentsResponse(Shape):
    comments: list[CommentJson] = Field(default_factory=list, description="oldest first")


# -- transition requests -------------------------------------------------------------------------------------
class CreateTransitionRequest(WireModel):
    name: str
    version: str
    stage: str | None = Field(default=None, description="the stage asked for (or give alias)")
    alias: str | None = Field(default=None, description="the alias to point at the version (or give stage)")
    archive_existing_versions: bool = Field(
        default=False,
        description="stage requests to Staging or Production: archive the stage's other versions",
    )
    comment: str | None = None


class RequestId(WireModel):
    id: str


class DecideRequest(WireModel):
    id: str
    comment: str | None = None


class ListTransitionRequests(WireModel):
    name: str | None = None
    version: str | None = Field(default=None, description="with name: one version's requests")
    status: str | None = Field(default=None, description="PENDING, APPROVED, REJECTED or CANCELLED")


class TransitionRequestJson(Shape):
    id: str
    name: str
    version: str
    kind: str = Field(description="STAGE or ALIAS")
    stage: str | None = Field(default=None, description="STAGE requests")
    alias: str | None = Field(default=None, description="ALIAS requests")
    archive_existing_versions: bool
    requested_by: str
    comment: str
    status: str = Field(description="PENDING, APPROVED, REJECTED or CANCELLED")
    creation_timestamp: int
    decided_by: str = Field(description='"" while PENDING')
    decision_comment: str
    decision_timestamp: int = Field(description="0 while PENDING")


class TransitionRequestResponse(Shape):
    request: TransitionRequestJson


class TransitionRequestsResponse(Shape):
    requests: list[TransitionRequestJson] = Field(default_factory=list, description="oldest first")


class ApproveResponse(Shape):
    request: TransitionRequestJson
    model_version: ModelVersionJson = Field(description="the version after the change")


# -- the registry's state at a time --------------------------------------------------------------------------
class RegistryStateAt(WireModel):
    name: str
    timestamp: str = Field(description="milliseconds since the epoch")


class VersionStateJson(Shape):
    version: str
    current_stage: str
    aliases: list[str] = Field(default_factory=list)


class RegistryStateResponse(Shape):
    name: str
    timestamp: int
    versions: list[VersionStateJson] = Field(
        default_factory=list, description="every version then, by number"
    )


__all__ = [
    "AddComment",
    "ApproveResponse",
    "CommentId",
    "CommentResponse",
    "CommentsResponse",
    "CreateTransitionRequest",
    "DecideRequest",
    "ListComments",
    "ListTransitionRequests",
    "RegistryStateAt",
    "RegistryStateResponse",
    "RequestId",
    "TransitionRequestResponse",
    "TransitionRequestsResponse",
    "UpdateComment",
]
