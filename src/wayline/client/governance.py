"""The governance half of ``WaylineClient``: comments on versions, transition requests and their decisions,
and the registry's state at a moment.

On an embedded store (a folder, SQLite or PostgreSQL) the calls go to :class:`GovernanceService` in process,
on the registry's database and :class:`RegistryService`, so the same rules hold as on a server: approvers
come from ``WAYLINE_REGISTRY_APPROVERS`` (and ``WAYLINE_ALLOW_SELF_APPROVAL``), the acting user is
``WAYLINE_USER`` (else the login name). On a server (``http(s)://``) each call is one request to Wayline's
routes under ``/api/2.0/wayline`` (:class:`HttpGovernance`), on the registry's connection pool; the server
authenticates the acting user and applies the rules. Either way, a refused call raises the matching
:class:`~wayline.errors.WaylineError` and changes nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from wayline.client.registry import RegistryClient
from wayline.entities.governance import ModelComment, RegistryState, RequestStatus, TransitionRequest
from wayline.errors import InvalidState, invalid_value
from wayline.flags import is_true
from wayline.services import registry_validation as rv
from wayline.store.rest_registry import RestRegistryStore
from wayline.transport import HttpTransport
from wayline.wire.governance import comment_from_json, registry_state_from_json, request_from_json

if TYPE_CHECKING:
    from wayline.services.governance import GovernanceService
    from wayline.services.registry import RegistryService

WAYLINE_API = "/api/2.0/wayline"
APPROVERS_ENV = "WAYLINE_REGISTRY_APPROVERS"
SELF_APPROVAL_ENV = "WAYLINE_ALLOW_SELF_APPROVAL"

_lock = threading.Lock()


class Governance(Protocol):
    """What the client needs of governance: :class:`GovernanceService` or :class:`HttpGovernance`."""

    def add_comment(self, name: str, version: int | str, text: str) -> ModelComment: ...
    def update_comment(self, comment_id: int | str, text: str) -> ModelComment: ...
    def delete_comment(self, comment_id: int | str) -> None: ...
    def list_comments(self, name: str, version: int | str) -> list[ModelComment]: ...
    def request_transition(
        self,
        name: str,
        version: int | str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        archive_existing_versions: bool = False,
        comment: str = "",
    ) -> TransitionRequest: ...
    def approve_request(self, request_id: int | str, *, comment: str = "") -> TransitionRequest: ...
    def reject_request(self, request_id: int | str, *, comment: str = "") -> TransitionRequest: ...
    def cancel_request(self, request_id: int | str) -> TransitionRequest: ...
    def get_request(self, request_id: int | str) -> TransitionRequest: ...
    def list_requests(
        self,
        *,
        name: str | None = None,
        version: int | str | None = None,
        status: RequestStatus | str | None = None,
    ) -> list[TransitionRequest]: ...
    def registry_state(self, name: str, timestamp: int) -> RegistryState: ...
    def close(self) -> None: ...


def _text(value: object, field: str) -> str:
    """An optional string argument (None is "")."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_value(field, value, "must be a string")
    return value


def _id(value: object, field: str) -> str:
    """A comment or request id as it travels: digits (an int or a string of digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid_value(field, value, "must be a positive integer")
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise invalid_value(field, value, "must be a positive integer")
    return text


def _status(value: RequestStatus | str | None) -> str | None:
    return None if value is None else RequestStatus.parse(value).value


def at_ms(at: object) -> int:
    """A moment as milliseconds since the epoch: an int as given, a datetime (naive: local time)."""
    if isinstance(at, datetime):
        return int(at.timestamp() * 1000)
    if isinstance(at, int) and not isinstance(at, bool) and at >= 0:
        return at
    raise invalid_value("at", at, "must be milliseconds since the epoch or a datetime")


def _env_flag(name: str) -> bool:
    return is_true(os.environ.get(name))


def env_approvers() -> tuple[str, ...]:
    """``WAYLINE_REGISTRY_APPROVERS``: user or group names separated by commas (empty: everyone)."""
    return rv.names_in(os.environ.get(APPROVERS_ENV, ""))


class HttpGovernance:
    """Governance over HTTP: each method one call to Wayline's routes, decoded with its wire codec."""

    def __init__(self, transport: HttpTransport) -> None:
        self._transport = transport

    def close(self) -> None:
        """Nothing to release: the transport is the registry store's, closed with it."""

    def _call(self, method: str, route: str, body: Mapping[str, Any]) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        if method == "GET":
            return self._transport.call(method, WAYLINE_API + route, params=payload)
        return self._transport.call(method, WAYLINE_API + route, body=payload)

    @staticmethod
    def _comment(answer: Mapping[str, Any]) -> ModelComment:
        return comment_from_json(answer.get("comment") or {})

    @staticmethod
    def _request(answer: Mapping[str, Any]) -> TransitionRequest:
        return request_from_json(answer.get("request") or {})

    def add_comment(self, name: str, version: int | str, text: str) -> ModelComment:
        body = {"name": name, "version": str(version), "comment": text}
        return self._comment(self._call("POST", "/model-versions/comments", body))

    def update_comment(self, comment_id: int | str, text: str) -> ModelComment:
        body = {"id": _id(comment_id, "id"), "comment": text}
        return self._comment(self._call("PATCH", "/model-versions/comments", body))

    def delete_comment(self, comment_id: int | str) -> None:
        self._call("DELETE", "/model-versions/comments", {"id": _id(comment_id, "id")})

    def list_comments(self, name: str, version: int | str) -> list[ModelComment]:
        answer = self._call("GET", "/model-versions/comments", {"name": name, "version": str(version)})
        return [self._comment({"comment": c}) for c in answer.get("comments") or []]

    def request_transition(
        self,
        name: str,
        version: int | str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        archive_existing_versions: bool = False,
        comment: str = "",
    ) -> TransitionRequest:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "alias": alias,
            "archive_existing_versions": archive_existing_versions,
            "comment": comment,
        }
        return self._request(self._call("POST", "/transition-requests", body))

    def approve_request(self, request_id: int | str, *, comment: str = "") -> TransitionRequest:
        body = {"id": _id(request_id, "id"), "comment": comment}
        return self._request(self._call("POST", "/transition-requests/approve", body))

    def reject_request(self, request_id: int | str, *, comment: str = "") -> TransitionRequest:
        body = {"id": _id(request_id, "id"), "comment": comment}
        return self._request(self._call("POST", "/transition-requests/reject", body))

    def cancel_request(self, request_id: int | str) -> TransitionRequest:
        body = {"id": _id(request_id, "id")}
        return self._request(self._call("POST", "/transition-requests/cancel", body))

    def get_request(self, request_id: int | str) -> TransitionRequest:
        return self._request(self._call("GET", "/transition-requests/get", {"id": _id(request_id, "id")}))

    def list_requests(
        self,
        *,
        name: str | None = None,
        version: int | str | None = None,
        status: RequestStatus | str | None = None,
    ) -> list[TransitionRequest]:
        params = {
            "name": name,
            "version": None if version is None else str(version),
            "status": _status(status),
        }
        answer = self._call("GET", "/transition-requests", params)
        return [self._request({"request": r}) for r in answer.get("requests") or []]

    def registry_state(self, name: str, timestamp: int) -> RegistryState:
        answer = self._call("GET", "/registered-models/state-at", {"name": name, "timestamp": timestamp})
        return registry_state_from_json(answer)


class GovernanceClient(RegistryClient):
    """Mixed into ``WaylineClient``: comments, transition requests and decisions, the state at a moment."""

    _governance: Governance | None = None

    @property
    def governance(self) -> Governance:
        """The governance backend, opened on first use beside the registry (same database or server)."""
        registry = self.registry
        with _lock:
            if getattr(self, "_closed", False):
                raise InvalidState("The client is closed")
            if self._governance is None:
                if isinstance(registry.store, RestRegistryStore):
                    self._governance = HttpGovernance(registry.store.transport)
                else:
                    self._governance = _embedded(registry)
            return self._governance

    def _close_governance(self) -> None:
        with _lock:
            governance, self._governance = self._governance, None
        if governance is not None:
            governance.close()

    # -- comments --------------------------------------------------------------------------------------------
    def add_comment(self, name: str, version: int | str, text: str) -> ModelComment:
        return self.governance.add_comment(name, version, _text(text, "text"))

    def update_comment(self, comment_id: int | str, text: str) -> ModelComment:
        return self.governance.update_comment(comment_id, _text(text, "text"))

    def delete_comment(self, comment_id: int | str) -> None:
        self.governance.delete_comment(comment_id)

    def list_comments(self, name: str, version: int | str) -> list[ModelComment]:
        """The version's comments, oldest first."""
        return self.governance.list_comments(name, version)

    # -- transition requests ---------------------------------------------------------------------------------
    def request_transition(
        self,
        name: str,
        version: int | str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        comment: str = "",
        archive_existing_versions: bool = False,
    ) -> TransitionRequest:
        """Ask an approver to move the version to ``stage`` or to point ``alias`` at it (exactly one)."""
        if not isinstance(archive_existing_versions, bool):
            raise invalid_value(
                "archive_existing_versions", archive_existing_versions, "must be True or False"
            )
        return self.governance.request_transition(
            name,
            version,
            stage=None if stage is None else _text(stage, "stage"),
            alias=None if alias is None else _text(alias, "alias"),
            archive_existing_versions=archive_existing_versions,
            comment=_text(comment, "comment"),
        )

    def approve_request(self, request_id: int | str, comment: str = "") -> TransitionRequest:
        """Approve a pending request, which performs the change it asks for."""
        return self.governance.approve_request(request_id, comment=_text(comment, "comment"))

    def reject_request(self, request_id: int | str, comment: str = "") -> TransitionRequest:
        return self.governance.reject_request(request_id, comment=_text(comment, "comment"))

    def cancel_request(self, request_id: int | str) -> TransitionRequest:
        """Withdraw one's own pending request."""
        return self.governance.cancel_request(request_id)

    def get_request(self, request_id: int | str) -> TransitionRequest:
        return self.governance.get_request(request_id)

    def list_requests(
        self,
        name: str | None = None,
        *,
        version: int | str | None = None,
        status: RequestStatus | str | None = None,
    ) -> list[TransitionRequest]:
        """Requests, optionally of one model (and version) and in one status."""
        if name is None and version is not None:
            raise invalid_value("version", version, "needs a model name")
        return self.governance.list_requests(
            name=None if name is None else _text(name, "name"), version=version, status=status
        )

    # -- history ---------------------------------------------------------------------------------------------
    def get_registry_state(self, name: str, at: int | datetime) -> RegistryState:
        """Which stage each version was in and where each alias pointed at ``at`` (ms or a datetime)."""
        return self.governance.registry_state(name, at_ms(at))


def _embedded(registry: RegistryService) -> GovernanceService:
    """:class:`GovernanceService` on the registry's database (its engine shared, not owned)."""
    from wayline.services.governance import GovernanceService
    from wayline.store.sql import SqlRegistryStore
    from wayline.store.sql.governance import SqlGovernanceStore

    if not isinstance(registry.store, SqlRegistryStore):
        raise InvalidState(f"Governance needs a SQL registry or a server, not {registry.store!r}")
    return GovernanceService(
        registry,
        SqlGovernanceStore(engine=registry.store.engine),
        allow_self_approval=_env_flag(SELF_APPROVAL_ENV),
    )


__all__ = ["GovernanceClient", "HttpGovernance", "at_ms", "env_approvers"]
