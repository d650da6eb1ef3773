"""Routes: Wayline's registry governance under ``/api/2.0/wayline``: comments on model versions, transition
requests and their decisions, and a registered model's state at a time.

Each mutation passes the acting user to the governance service (:func:`wayline.server.actor.current_actor`:
the request's HTTP Basic user name, else the server's ``default_user``), which checks who may do what.
"""

from __future__ import annotations

from typing import Any

from wayline.server.actor import current_actor
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.common import Empty
from wayline.server.messages.governance import (
    AddComment,
    ApproveResponse,
    CommentId,
    CommentResponse,
    CommentsResponse,
    CreateTransitionRequest,
    DecideRequest,
    ListComments,
    ListTransitionRequests,
    RegistryStateAt,
    RegistryStateResponse,
    RequestId,
    TransitionRequestResponse,
    TransitionRequestsResponse,
    UpdateComment,
)
from wayline.wire.governance import comment_to_json, registry_state_to_json, request_to_json
from wayline.wire.registry import model_version_to_json

Json = dict[str, Any]

api = Api("registry governance (Wayline)", prefixes=WAYLINE_PREFIXES)


# -- comments ------------------------------------------------------------------------------------------------
@api.rpc(
    "POST",
    "/model-versions/comments",
    request=AddComment,
    response=CommentResponse,
    summary="Comment on a model version",
)
def add_comment(ctx: ServerContext, msg: AddComment) -> Json:
    comment = ctx.governance_service().add_comment(msg.name, msg.version, msg.comment, actor=current_actor())
    return {"comment": comment_to_json(comment)}


@api.rpc(
    "PATCH",
    "/model-versions/comments",
    request=UpdateComment,
    response=CommentResponse,
    summary="Edit a comment (its author only)",
)
def update_comment(ctx: ServerContext, msg: UpdateComment) -> Json:
    comment = ctx.governance_service().update_comment(msg.id, msg.comment, actor=current_actor())
    return {"comment": comment_to_json(comment)}


@api.rpc(
    "DELETE",
    "/model-versions/comments",
    request=CommentId,
    response=Empty,
    summary="Delete a comment (its author only)",
)
def delete_comment(ctx: ServerContext, msg: CommentId) -> Json:
    ctx.governance_service().delete_comment(msg.id, actor=current_actor())
    return {}


@api.rpc(
    "GET",
    "/model-versions/comments",
    request=ListComments,
    response=CommentsResponse,
    summary="A model version's comments, oldest first",
)
def list_comments(ctx: ServerContext, msg: ListComments) -> Json:
    comments = ctx.governance_service().list_comments(msg.name, msg.version)
    return {"comments": [comment_to_json(c) for c in comments]}


# -- transition requests -------------------------------------------------------------------------------------
@api.rpc(
    "POST",
    "/transition-requests",
    request=CreateTransitionRequest,
    response=TransitionRequestResponse,
    summary="Ask for a model version to move to a stage, or for an alias to point at it",
)
def create_request(ctx: ServerContext, msg: CreateTransitionRequest) -> Json:
    request = ctx.governance_service().request_transition(
        msg.name,
        msg.version,
        stage=msg.stage,
        alias=msg.alias,
        archive_existing_versions=msg.archive_existing_versions,
        comment=msg.comment or "",
        actor=current_actor(),
    )
    return {"request": request_to_json(request)}


@api.rpc(
    "GET",
    "/transition-requests",
    request=ListTransitionRequests,
    response=TransitionRequestsResponse,
    summary="Transition requests, oldest first, by model, version and status",
)
def list_requests(ctx: ServerContext, msg: ListTransitionRequests) -> Json:
    requests = ctx.governance_service().list_requests(name=msg.name, version=msg.version, status=msg.status)
    return {"requests": [request_to_json(r) for r in requests]}


@api.rpc(
    "GET",
    "/transition-requests/get",
    request=RequestId,
    response=TransitionRequestResponse,
    summary="A transition request",
)
def get_request(ctx: ServerContext, msg: RequestId) -> Json:
    return {"request": request_to_json(ctx.governance_service().get_request(msg.id))}


@api.rpc(
    "POST",
    "/transition-requests/approve",
    request=DecideRequest,
    response=ApproveResponse,
    summary="Approve a pending request (approvers only) and make the change it asks for",
)
def approve_request(ctx: ServerContext, msg: DecideRequest) -> Json:
    governance = ctx.governance_service()
    request = governance.approve_request(msg.id, comment=msg.comment or "", actor=current_actor())
    version = governance.registry.get_model_version(request.name, request.version)
    return {"request": request_to_json(request), "model_version": model_version_to_json(version)}


@api.rpc(
    "POST",
    "/transition-requests/reject",
    request=DecideRequest,
    response=TransitionRequestResponse,
    summary="Reject a pending request (approvers only)",
)
def reject_request(ctx: ServerContext, msg: DecideRequest) -> Json:
    request = ctx.governance_service().reject_request(
        msg.id, comment=msg.comment or "", actor=current_actor()
    )
    return {"request": request_to_json(request)}


@api.rpc(
    "POST",
    "/transition-requests/cancel",
    request=RequestId,
    response=TransitionRequestResponse,
    summary="Withdraw a pending request (its requester only)",
)
def cancel_request(ctx: ServerContext, msg: RequestId) -> Json:
    return {
        "request": request_to_json(ctx.governance_service().cancel_request(msg.id, actor=current_actor()))
    }


# -- the registry's state at a time --------------------------------------------------------------------------
@api.rpc(
    "GET",
    "/registered-models/state-at",
    request=RegistryStateAt,
    response=RegistryStateResponse,
    summary="Which stage each version was in and where each alias pointed at a time (ms)",
)
def registry_state_at(ctx: ServerContext, msg: RegistryStateAt) -> Json:
    return registry_state_to_json(ctx.governance_service().registry_state(msg.name, msg.timestamp))


__all__ = ["api"]
