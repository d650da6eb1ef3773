"""Transition requests: create, read, list, and decide (approve, reject, cancel).

A decision is one conditional UPDATE (``... WHERE status = 'PENDING'``): of two concurrent decisions on one
request exactly one changes the row (PostgreSQL re-checks the condition after the first commits; SQLite's
writers are queued), the other finds it decided and gets InvalidState. Approving then makes the requested
stage change or alias through the registry's own modules, in the same transaction, so the request, the change
and their history events are committed together or not at all.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wayline.entities.governance import RequestKind, RequestStatus, TransitionRequest
from wayline.entities.registry import Stage
from wayline.errors import InvalidState, ResourceNotFound
from wayline.store.governance import (
    LIST_MAX,
    REQUEST_APPROVED,
    REQUEST_CANCELLED,
    REQUEST_REJECTED,
    TRANSITION_REQUESTED,
)
from wayline.store.sql import model_aliases, model_versions, registered_models
from wayline.store.sql import registry_history as history
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.schema_governance import transition_requests as _r

rm = t.registered_models
_FROM = _r.join(rm, rm.c.model_key == _r.c.model_key)
_COLUMNS = (rm.c.name, *[column for column in _r.c if column.name != "model_key"], _r.c.model_key)
_DECISION_KINDS = {
    RequestStatus.APPROVED: REQUEST_APPROVED,
    RequestStatus.REJECTED: REQUEST_REJECTED,
    RequestStatus.CANCELLED: REQUEST_CANCELLED,
}


def not_found(request_id: int) -> ResourceNotFound:
    return ResourceNotFound(f"Transition request with ID {request_id} not found")


def target_value(kind: RequestKind, target: str, version: int) -> str:
    """How history events spell a request's target: the stage, or ``alias@version``."""
    return history.alias_value(target, version) if kind is RequestKind.ALIAS else target


def _of(row: sa.Row[Any]) -> TransitionRequest:
    return TransitionRequest(
        id=row.request_id,
        name=row.name,
        version=row.version,
        kind=RequestKind(row.kind),
        target=row.target,
        archive_existing_versions=bool(row.archive_existing_versions),
        requested_by=row.requested_by,
        comment=row.comment,
        status=RequestStatus(row.status),
        created=row.creation_time,
        decided_by=row.decided_by,
        decision_comment=row.decision_comment,
        decided=row.decision_time,
    )


def create(
    conn: sa.Connection,
    name: str,
    version: int,
    *,
    kind: RequestKind,
    target: str,
    archive_existing_versions: bool,
    requested_by: str,
    comment: str,
) -> TransitionRequest:
    key, _stage = model_versions.require(conn, name, version)
    now = now_ms()
    request_id = conn.execute(
        _r.insert()
        .values(
            model_key=key,
            version=version,
            kind=kind.value,
            target=target,
            archive_existing_versions=archive_existing_versions,
            requested_by=requested_by,
            comment=comment,
            status=RequestStatus.PENDING.value,
            creation_time=now,
            decided_by="",
            decision_comment="",
            decision_time=0,
        )
        .returning(_r.c.request_id)
    ).scalar_one()
    change = history.Change(
        TRANSITION_REQUESTED,
        version,
        from_value=str(request_id),
        to_value=target_value(kind, target, version),
        comment=comment,
    )
    history.record(conn, key, [change], actor=requested_by, timestamp=now)
    return get(conn, request_id)


def _row(conn: sa.Connection, request_id: int) -> sa.Row[Any]:
    row = conn.execute(sa.select(*_COLUMNS).select_from(_FROM).where(_r.c.request_id == request_id)).first()
    if row is None:
        raise not_found(request_id)
    return row


def get(conn: sa.Connection, request_id: int) -> TransitionRequest:
    return _of(_row(conn, request_id))


def list_requests(
    conn: sa.Connection,
    *,
    name: str | None,
    version: int | None,
    status: RequestStatus | None,
    max_results: int = LIST_MAX,
) -> list[TransitionRequest]:
    query = sa.select(*_COLUMNS).select_from(_FROM)
    if name is not None:
        key = registered_models.key_of(conn, name)
        query = query.where(_r.c.model_key == key)
        if version is not None:
            query = query.where(_r.c.version == version)
    if status is not None:
        query = query.where(_r.c.status == status.value)
    rows = conn.execute(query.order_by(_r.c.request_id).limit(max_results))
    return [_of(row) for row in rows]


def decide(
    conn: sa.Connection, request_id: int, status: RequestStatus, *, decided_by: str, comment: str
) -> TransitionRequest:
    """Move the PENDING request to ``status``; approving makes its change. InvalidState when decided."""
    if status is RequestStatus.PENDING:
        raise InvalidState("A transition request cannot be moved back to PENDING")
    now = now_ms()
    result = conn.execute(
        _r.update()
        .where(_r.c.request_id == request_id, _r.c.status == RequestStatus.PENDING.value)
        .values(status=status.value, decided_by=decided_by, decision_comment=comment, decision_time=now)
    )
    if result.rowcount == 0:
        current = get(conn, request_id)
        raise InvalidState(
            f"Transition request {request_id} is {current.status.value}; only a PENDING request is decided"
        )
    row = _row(conn, request_id)
    request = _of(row)
    if status is RequestStatus.APPROVED:
        _perform(conn, request, actor=decided_by, comment=comment or request.comment)
    change = history.Change(
        _DECISION_KINDS[status],
        request.version,
        from_value=str(request_id),
        to_value=target_value(request.kind, request.target, request.version),
        comment=comment,
    )
    history.record(conn, row.model_key, [change], actor=decided_by, timestamp=now)
    return request


def _perform(conn: sa.Connection, request: TransitionRequest, *, actor: str, comment: str) -> None:
    """The change an approved request asks for, recorded as the registry records it."""
    if request.kind is RequestKind.STAGE:
        model_versions.transition(
            conn,
            request.name,
            request.version,
            Stage(request.target),
            archive_existing_versions=request.archive_existing_versions,
            actor=actor,
            comment=comment,
        )
    else:
        model_aliases.set_alias(
            conn, request.name, request.target, request.version, actor=actor, comment=comment
        )


__all__ = ["create", "decide", "get", "list_requests", "not_found", "target_value"]
