"""The governance store protocol: comments on model versions, transition requests and their decisions, and a
registered model's state at a past time.

Services validate input and check permissions before calling a store; a store enforces what needs the stored
state: the model and version exist, only a PENDING request is decided (an atomic check, so that of two
concurrent decisions exactly one wins), and each change is written to the model's history in the same
transaction. Approving a request makes the change it asks for in that transaction too.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wayline.entities.governance import (
    ModelComment,
    RegistryState,
    RequestKind,
    RequestStatus,
    TransitionRequest,
)

#: Kinds of the registry history events governance records (beside the registry's own).
TRANSITION_REQUESTED = "transition_requested"
REQUEST_APPROVED = "request_approved"
REQUEST_REJECTED = "request_rejected"
REQUEST_CANCELLED = "request_cancelled"
COMMENT_ADDED = "comment_added"

#: The most comments or requests one listing returns.
LIST_MAX = 10000


@runtime_checkable
class GovernanceStore(Protocol):
    # -- comments --------------------------------------------------------------------------------------------
    def add_comment(self, name: str, version: int, *, author: str, text: str) -> ModelComment:
        """ResourceNotFound when the version is missing; records ``comment_added``."""
        ...

    def get_comment(self, comment_id: int) -> ModelComment: ...

    def update_comment(self, comment_id: int, *, text: str) -> ModelComment: ...

    def delete_comment(self, comment_id: int) -> None: ...

    def list_comments(self, name: str, version: int) -> list[ModelComment]:
        """Oldest first; ResourceNotFound when the version is missing."""
        ...

    # -- transition requests ---------------------------------------------------------------------------------
    def create_request(
        self,
        name: str,
        version: int,
        *,
        kind: RequestKind,
        target: str,
        archive_existing_versions: bool,
        requested_by: str,
        comment: str,
    ) -> TransitionRequest:
        """A PENDING request; records ``transition_requested``."""
        ...

    def get_request(self, request_id: int) -> TransitionRequest: ...

    def list_requests(
        self,
        *,
        name: str | None = None,
        version: int | None = None,
        status: RequestStatus | None = None,
        max_results: int = LIST_MAX,
    ) -> list[TransitionRequest]:
        """Oldest first."""
        ...

    def decide_request(
        self, request_id: int, status: RequestStatus, *, decided_by: str, comment: str
    ) -> TransitionRequest:
        """Move a PENDING request to ``status`` (APPROVED, REJECTED or CANCELLED) and record it; APPROVED also
        makes the change it asks for. InvalidState when the request is no longer PENDING."""
        ...

    # -- history ---------------------------------------------------------------------------------------------
    def registry_state(self, name: str, timestamp: int) -> RegistryState:
        """The model's stages and aliases at ``timestamp`` (ms), replayed from its history."""
        ...

    def close(self) -> None: ...


__all__ = [
    "COMMENT_ADDED",
    "LIST_MAX",
    "REQUEST_APPROVED",
    "REQUEST_CANCELLED",
    "REQUEST_REJECTED",
    "TRANSITION_REQUESTED",
    "GovernanceStore",
]
