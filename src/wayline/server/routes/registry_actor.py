"""Route: who acts on the registry for this request, and whether they approve transition requests
(``GET /api/2.0/wayline/registry/acting-user``).

The web UI sends no credentials by default, so it acts as the server's ``default_user``; it asks here to
show approve, reject, cancel and edit buttons only to those the governance service would let through.
The service still decides each call; this answer is a hint for the UI, not a permission.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from wayline.server.actor import current_actor
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.common import Shape
from wayline.services.registry_validation import validate_person

api = Api("registry governance (Wayline)", prefixes=WAYLINE_PREFIXES)


class ActingUserResponse(Shape):
    user: str = Field(description="the acting user: the HTTP Basic user name, else the server's default_user")
    approver: bool = Field(description="whether this user approves and rejects transition requests")
    allow_self_approval: bool = Field(description="whether a requester may approve their own request")


@api.rpc(
    "GET",
    "/registry/acting-user",
    response=ActingUserResponse,
    summary="The user this request acts as, and whether they approve transition requests",
)
def acting_user(ctx: ServerContext, _: None) -> dict[str, Any]:
    registry = ctx.registry_service()
    actor = current_actor()
    user = registry.default_actor if actor is None else validate_person(actor, field="actor")
    return {
        "user": user,
        "approver": registry.is_approver(user),
        "allow_self_approval": ctx.governance_service().allow_self_approval,
    }


__all__ = ["api"]
