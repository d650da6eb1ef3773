"""``SqlWebhookStore``: the :class:`~wayline.store.webhook.WebhookStore` on SQLite and PostgreSQL.

Each method is one transaction. Webhooks live in the same database as the tracking store and the registry
and can share their engine. Listings are keyset-paged, newest first: ``(creation_time, id)`` descending.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import Page
from wayline.entities.webhook import (
    DeliveryStatus,
    Webhook,
    WebhookAction,
    WebhookDelivery,
    WebhookEntity,
    WebhookEvent,
    WebhookStatus,
)
from wayline.errors import ResourceNotFound
from wayline.store.sql import keyset, page_token
from wayline.store.sql.clock import now_ms
from wayline.store.sql.engine import transaction
from wayline.store.sql.schema_webhooks import webhook_deliveries, webhook_events, webhooks
from wayline.store.sql.shared_engine import SharedEngineStore
from wayline.store.webhook import (
    LIST_DELIVERIES_DEFAULT,
    LIST_DELIVERIES_MAX,
    LIST_WEBHOOKS_DEFAULT,
    LIST_WEBHOOKS_MAX,
)

_W, _E, _D = webhooks, webhook_events, webhook_deliveries


def _not_found(webhook_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Webhook with ID {webhook_id} not found.")


class SqlWebhookStore(SharedEngineStore):
    """Webhooks and their delivery log in a SQL database.

    Give either ``db_uri`` (the store makes its own engine, checks the schema, and :meth:`close` disposes of
    it) or ``engine`` (shared, typically the tracking store's; :meth:`close` leaves it open).
    """

    def __init__(self, db_uri: str | None = None, *, engine: sa.Engine | None = None) -> None:
        super().__init__(db_uri, engine=engine)

    # -- webhooks --------------------------------------------------------------------------------------------
    def create_webhook(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus = WebhookStatus.ACTIVE,
    ) -> Webhook:
        webhook_id = str(uuid.uuid4())
        now = now_ms()
        with transaction(self._engine, write=True) as conn:
            conn.execute(
                _W.insert().values(
                    webhook_id=webhook_id,
                    name=name,
                    description=description or None,
                    url=url,
                    secret=secret or None,
                    status=status.value,
                    creation_time=now,
                    last_updated_time=now,
                    deleted_time=None,
                )
            )
            _insert_events(conn, webhook_id, events)
            return _get(conn, webhook_id)

    def get_webhook(self, webhook_id: str) -> Webhook:
        with transaction(self._engine) as conn:
            return _get(conn, webhook_id)

    def list_webhooks(
        self, *, max_results: int = LIST_WEBHOOKS_DEFAULT, page_token: str | None = None
    ) -> Page[Webhook]:
        size = keyset.check_max_results(max_results, LIST_WEBHOOKS_MAX)
        query = sa.select(_W).where(_W.c.deleted_time.is_(None))
        with transaction(self._engine) as conn:
            rows, token = _page(
                conn,
                query,
                time_column=_W.c.creation_time,
                id_column=_W.c.webhook_id,
                kind="webhooks",
                scope="",
                size=size,
                token=page_token,
            )
            return Page(_load(conn, rows), token)

    def list_webhooks_by_event(self, event: WebhookEvent) -> list[Webhook]:
        query = (
            sa.select(_W)
            .join(_E, _E.c.webhook_id == _W.c.webhook_id)
            .where(
                _E.c.entity == event.entity.value,
                _E.c.action == event.action.value,
                _W.c.deleted_time.is_(None),
                _W.c.status == WebhookStatus.ACTIVE.value,
            )
            .order_by(_W.c.creation_time.desc(), _W.c.webhook_id.desc())
        )
        with transaction(self._engine) as conn:
            return _load(conn, list(conn.execute(query)))

    def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: WebhookStatus | None = None,
    ) -> Webhook:
        values: dict[str, Any] = {"last_updated_time": now_ms()}
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description or None
        if url is not None:
            values["url"] = url
        if secret is not None:
            values["secret"] = secret or None
        if status is not None:
            values["status"] = status.value
        with transaction(self._engine, write=True) as conn:
            _row(conn, webhook_id)
            conn.execute(_W.update().where(_W.c.webhook_id == webhook_id).values(**values))
            if events is not None:
                conn.execute(_E.delete().where(_E.c.webhook_id == webhook_id))
                _insert_events(conn, webhook_id, events)
            return _get(conn, webhook_id)

    def delete_webhook(self, webhook_id: str) -> None:
        now = now_ms()
        with transaction(self._engine, write=True) as conn:
            _row(conn, webhook_id)
            conn.execute(
                _W.update()
                .where(_W.c.webhook_id == webhook_id)
                .values(deleted_time=now, last_updated_time=now)
            )

    # -- deliveries ------------------------------------------------------------------------------------------
    def create_delivery(
        self, *, webhook_id: str, event: WebhookEvent, payload: str, test: bool = False
    ) -> WebhookDelivery:
        delivery_id = str(uuid.uuid4())
        with transaction(self._engine, write=True) as conn:
            _row(conn, webhook_id, allow_deleted=True)
            conn.execute(
                _D.insert().values(
                    delivery_id=delivery_id,
                    webhook_id=webhook_id,
                    entity=event.entity.value,
                    action=event.action.value,
                    payload=payload,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    test=test,
                    creation_time=now_ms(),
                    last_attempt_time=None,
                    response_status=None,
                    error=None,
                )
            )
            return _get_delivery(conn, delivery_id)

    def record_attempt(
        self,
        delivery_id: str,
        *,
        status: DeliveryStatus,
        response_status: int | None = None,
        error: str | None = None,
    ) -> WebhookDelivery:
        with transaction(self._engine, write=True) as conn:
            result = conn.execute(
                _D.update()
                .where(_D.c.delivery_id == delivery_id)
                .values(
                    attempts=_D.c.attempts + 1,
                    status=status.value,
                    response_status=response_status,
                    error=error,
                    last_attempt_time=now_ms(),
                )
            )
            if result.rowcount == 0:
                raise _delivery_not_found(delivery_id)
            return _get_delivery(conn, delivery_id)

    def get_delivery(self, delivery_id: str) -> WebhookDelivery:
        with transaction(self._engine) as conn:
            return _get_delivery(conn, delivery_id)

    def list_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        max_results: int = LIST_DELIVERIES_DEFAULT,
        page_token: str | None = None,
    ) -> Page[WebhookDelivery]:
        size = keyset.check_max_results(max_results, LIST_DELIVERIES_MAX)
        query = sa.select(_D)
        if webhook_id is not None:
            query = query.where(_D.c.webhook_id == webhook_id)
        with transaction(self._engine) as conn:
            if webhook_id is not None:
                _row(conn, webhook_id, allow_deleted=True)
            rows, token = _page(
                conn,
                query,
                time_column=_D.c.creation_time,
                id_column=_D.c.delivery_id,
                kind="deliveries",
                scope=webhook_id or "",
                size=size,
                token=page_token,
            )
            return Page([_delivery_of(row) for row in rows], token)


# -- rows ----------------------------------------------------------------------------------------------------
def _row(conn: sa.Connection, webhook_id: str, *, allow_deleted: bool = False) -> sa.Row[Any]:
    row = conn.execute(sa.select(_W).where(_W.c.webhook_id == webhook_id)).first()
    if row is None or (row.deleted_time is not None and not allow_deleted):
        raise _not_found(webhook_id)
    return row


def _get(conn: sa.Connection, webhook_id: str) -> Webhook:
    return _load(conn, [_row(conn, webhook_id)])[0]


def _insert_events(conn: sa.Connection, webhook_id: str, events: Sequence[WebhookEvent]) -> None:
    unique = list(dict.fromkeys(events))
    if unique:
        conn.execute(
            _E.insert(),
            [
                {"webhook_id": webhook_id, "entity": e.entity.value, "action": e.action.value, "position": i}
                for i, e in enumerate(unique)
            ],
        )


def _load(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[Webhook]:
    """Whole webhooks for ``rows`` of ``webhooks``: their events in one IN query."""
    ids = [row.webhook_id for row in rows]
    events: dict[str, list[WebhookEvent]] = {i: [] for i in ids}
    if ids:
        query = sa.select(_E).where(_E.c.webhook_id.in_(ids)).order_by(_E.c.webhook_id, _E.c.position)
        for row in conn.execute(query):
            events[row.webhook_id].append(WebhookEvent(WebhookEntity(row.entity), WebhookAction(row.action)))
    return [
        Webhook(
            webhook_id=row.webhook_id,
            name=row.name,
            url=row.url,
            events=tuple(events[row.webhook_id]),
            creation_timestamp=row.creation_time,
            last_updated_timestamp=row.last_updated_time,
            status=WebhookStatus(row.status),
            description=row.description,
            secret=row.secret,
        )
        for row in rows
    ]


def _delivery_not_found(delivery_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Webhook delivery with ID {delivery_id} not found.")


def _get_delivery(conn: sa.Connection, delivery_id: str) -> WebhookDelivery:
    row = conn.execute(sa.select(_D).where(_D.c.delivery_id == delivery_id)).first()
    if row is None:
        raise _delivery_not_found(delivery_id)
    return _delivery_of(row)


def _delivery_of(row: sa.Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=row.delivery_id,
        webhook_id=row.webhook_id,
        event=WebhookEvent(WebhookEntity(row.entity), WebhookAction(row.action)),
        payload=row.payload,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        creation_timestamp=row.creation_time,
        last_attempt_timestamp=row.last_attempt_time,
        response_status=row.response_status,
        error=row.error,
        test=bool(row.test),
    )


def _page(
    conn: sa.Connection,
    query: sa.Select[Any],
    *,
    time_column: sa.Column[Any],
    id_column: sa.Column[Any],
    kind: str,
    scope: str,
    size: int,
    token: str | None,
) -> tuple[list[sa.Row[Any]], str | None]:
    """One page of ``query`` newest first by ``(time_column, id_column)``, and the next page's token."""
    columns = [
        keyset.SortColumn(time_column, False, keyset.NUMBER),
        keyset.SortColumn(id_column, False, keyset.STRING),
    ]
    fingerprint = page_token.fingerprint(kind, scope)
    if token:
        values = page_token.decode(token, kind, fingerprint, [int, str])
        query = query.where(keyset.after(columns, values))
    rows = list(conn.execute(query.order_by(*keyset.order_by(columns)).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], page_token.encode(
        kind, fingerprint, [last._mapping[time_column.name], last._mapping[id_column.name]]
    )


__all__ = ["SqlWebhookStore"]
