"""The registry's governance service: comments on model versions, transition requests and their decisions,
and the registry's state at a past time.

The rules, whoever calls: a comment is edited or deleted by its author only; a transition request asks for
exactly one of a stage or an alias; only approvers (``approvers``, user or group names; none configured:
everyone) approve or reject, a requester does not approve their own request unless ``allow_self_approval``,
only the requester cancels, and only a PENDING request is decided (an approval makes the change in the same
transaction, see :mod:`wayline.store.governance`). Direct stage and alias changes on protected models are
checked by :class:`~wayline.services.registry.RegistryService`. After each committed mutation the service
reports an event (``transition_request.*``, ``model_version_comment.*``, and the change an approval makes).
"""

from __future__ import annotations

from collections.abc import Mapping

from wayline.entities.governance import (
    ModelComment,
    RegistryState,
    RequestKind,
    RequestStatus,
    TransitionRequest,
)
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, InvalidState, PermissionDenied, invalid_value
from wayline.services import registry_validation as rv
from wayline.services import validation as v
from wayline.services.events import EventSink
from wayline.services.registry import RegistryService
from wayline.store.governance import GovernanceStore


def _id(value: object, field: str) -> int:
    """A comment or request id: a positive integer, given as an int or a string of digits."""
    return rv.validate_version(value, field=field)


def _text(text: object) -> str:
    checked = rv.validate_comment(text, field="comment")
    if not checked.strip():
        raise rv.missing("comment")
    return checked


class GovernanceService:
    """Validated, permission-checked access to a :class:`GovernanceStore` beside ``registry``."""

    def __init__(
        self,
        registry: RegistryService,
        store: GovernanceStore,
        *,
        allow_self_approval: bool = False,
        events: EventSink | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.allow_self_approval = allow_self_approval
        self.events = events

    def close(self) -> None:
        self.store.close()

    def _actor(self, actor: str | None) -> str:
        return self.registry.default_actor if actor is None else rv.validate_person(actor, field="actor")

    def _require_approver(self, actor: str, what: str) -> None:
        if not self.registry.is_approver(actor):
            raise PermissionDenied(f"Only approvers may {what} transition requests; '{actor}' is not one")

    def _emit(self, entity: str, action: str, data: Mapping[str, object]) -> None:
        if self.events is not None:
            self.events.emit(entity, action, data)

    # -- comments --------------------------------------------------------------------------------------------
    def add_comment(
        self, name: str, version: int | str, text: str, *, actor: str | None = None
    ) -> ModelComment:
        name, number, text = rv.validate_name(name), rv.validate_version(version), _text(text)
        comment = self.store.add_comment(name, number, author=self._actor(actor), text=text)
        self._emit_comment("created", comment)
        return comment

    def _own_comment(self, comment_id: int | str, actor: str | None, what: str) -> ModelComment:
        number, acting = _id(comment_id, "id"), self._actor(actor)
        comment = self.store.get_comment(number)
        if comment.author != acting:
            raise PermissionDenied(f"Only the author of comment {number} ('{comment.author}') may {what} it")
        return comment

    def update_comment(self, comment_id: int | str, text: str, *, actor: str | None = None) -> ModelComment:
        text = _text(text)
        comment = self.store.update_comment(self._own_comment(comment_id, actor, "edit").id, text=text)
        self._emit_comment("updated", comment)
        return comment

    def delete_comment(self, comment_id: int | str, *, actor: str | None = None) -> None:
        comment = self._own_comment(comment_id, actor, "delete")
        self.store.delete_comment(comment.id)
        self._emit(
            "model_version_comment",
            "deleted",
            {
                "name": comment.name,
                "version": str(comment.version),
                "comment_id": str(comment.id),
                "author": comment.author,
            },
        )

    def list_comments(self, name: str, version: int | str) -> list[ModelComment]:
        """The version's comments, oldest first."""
        return self.store.list_comments(rv.validate_name(name), rv.validate_version(version))

    def _emit_comment(self, action: str, comment: ModelComment) -> None:
        self._emit(
            "model_version_comment",
            action,
            {
                "name": comment.name,
                "version": str(comment.version),
                "comment_id": str(comment.id),
                "author": comment.author,
                "text": comment.text,
            },
        )

    # -- transition requests ---------------------------------------------------------------------------------
    def request_transition(
        self,
        name: str,
        version: int | str,
        *,
        stage: Stage | str | None = None,
        alias: str | None = None,
        archive_existing_versions: bool = False,
        comment: str = "",
        actor: str | None = None,
    ) -> TransitionRequest:
        """Ask for the version to move to ``stage`` or for ``alias`` to point at it (exactly one of them)."""
        name, number = rv.validate_name(name), rv.validate_version(version)
        if (stage is None) == (alias is None):
            raise InvalidParameterValue("A transition request names exactly one of 'stage' and 'alias'")
        if not isinstance(archive_existing_versions, bool):
            raise invalid_value(
                "archive_existing_versions", archive_existing_versions, "must be true or false"
            )
        if stage is not None:
            kind, target = RequestKind.STAGE, rv.validate_stage(stage).value
            if archive_existing_versions and target not in (Stage.STAGING.value, Stage.PRODUCTION.value):
                raise invalid_value(
                    "archive_existing_versions",
                    archive_existing_versions,
                    f"only a move to Staging or Production archives the other versions, not to {target}",
                )
        else:
            kind, target = RequestKind.ALIAS, rv.validate_alias(alias, settable=True)
            if archive_existing_versions:
                raise invalid_value("archive_existing_versions", True, "applies to stage requests only")
        request = self.store.create_request(
            name,
            number,
            kind=kind,
            target=target,
            archive_existing_versions=archive_existing_versions,
            requested_by=self._actor(actor),
            comment=rv.validate_comment(comment),
        )
        self._emit("transition_request", "created", {**_request_data(request), "comment": request.comment})
        return request

    def _pending(self, request_id: int | str) -> TransitionRequest:
        request = self.store.get_request(_id(request_id, "id"))
        if request.status is not RequestStatus.PENDING:
            raise InvalidState(
                f"Transition request {request.id} is {request.status.value}; "
                "only a PENDING request is decided"
            )
        return request

    def approve_request(
        self, request_id: int | str, *, comment: str = "", actor: str | None = None
    ) -> TransitionRequest:
        """Approve the request and make the change it asks for, in one transaction."""
        comment, acting = rv.validate_comment(comment), self._actor(actor)
        self._require_approver(acting, "approve")
        request = self._pending(request_id)
        if request.requested_by == acting and not self.allow_self_approval:
            raise PermissionDenied(
                f"'{acting}' asked for transition request {request.id} and may not approve it"
            )
        before = self.registry.get_model_version(request.name, request.version).current_stage
        decided = self.store.decide_request(
            request.id, RequestStatus.APPROVED, decided_by=acting, comment=comment
        )
        self._emit_decision("approved", decided)
        change = comment or request.comment
        if decided.kind is RequestKind.STAGE:
            self._emit(
                "model_version_stage",
                "updated",
                {
                    "name": decided.name,
                    "version": str(decided.version),
                    "from_stage": before.value,
                    "to_stage": decided.target,
                    "archive_existing_versions": decided.archive_existing_versions,
                    "actor": acting,
                    "comment": change,
                },
            )
        else:
            self._emit(
                "model_version_alias",
                "created",
                {"name": decided.name, "alias": decided.target, "version": str(decided.version)},
            )
        return decided

    def reject_request(
        self, request_id: int | str, *, comment: str = "", actor: str | None = None
    ) -> TransitionRequest:
        comment, acting = rv.validate_comment(comment), self._actor(actor)
        self._require_approver(acting, "reject")
        request = self._pending(request_id)
        decided = self.store.decide_request(
            request.id, RequestStatus.REJECTED, decided_by=acting, comment=comment
        )
        self._emit_decision("rejected", decided)
        return decided

    def cancel_request(self, request_id: int | str, *, actor: str | None = None) -> TransitionRequest:
        """Withdraw a PENDING request; its requester only."""
        acting = self._actor(actor)
        request = self._pending(request_id)
        if request.requested_by != acting:
            raise PermissionDenied(
                f"Only the requester of transition request {request.id} "
                f"('{request.requested_by}') may cancel it"
            )
        return self.store.decide_request(request.id, RequestStatus.CANCELLED, decided_by=acting, comment="")

    def get_request(self, request_id: int | str) -> TransitionRequest:
        return self.store.get_request(_id(request_id, "id"))

    def list_requests(
        self,
        *,
        name: str | None = None,
        version: int | str | None = None,
        status: RequestStatus | str | None = None,
    ) -> list[TransitionRequest]:
        """Requests oldest first, optionally of one model (and version) and in one status."""
        checked_name = None if name is None else rv.validate_name(name)
        number = None if version is None else rv.validate_version(version)
        if number is not None and checked_name is None:
            raise InvalidParameterValue("'version' is given with 'name'")
        checked_status = None if status is None else RequestStatus.parse(status)
        return self.store.list_requests(name=checked_name, version=number, status=checked_status)

    def _emit_decision(self, action: str, request: TransitionRequest) -> None:
        self._emit(
            "transition_request",
            action,
            {**_request_data(request), "decided_by": request.decided_by, "comment": request.decision_comment},
        )

    # -- history ---------------------------------------------------------------------------------------------
    def registry_state(self, name: str, timestamp: int | str) -> RegistryState:
        """Each version's stage of ``name`` and each alias's version at ``timestamp`` (ms)."""
        when = timestamp
        if isinstance(when, str) and when.strip().lstrip("-").isdigit():
            when = int(when.strip())
        return self.store.registry_state(rv.validate_name(name), v.validate_int64(when, field="timestamp"))


def _request_data(request: TransitionRequest) -> dict[str, object]:
    return {
        "name": request.name,
        "version": str(request.version),
        "request_id": str(request.id),
        "kind": request.kind.value.lower(),
        "target": request.target,
        "requested_by": request.requested_by,
    }


__all__ = ["GovernanceService"]
