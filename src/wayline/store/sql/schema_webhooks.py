"""The webhook tables, on the one ``metadata`` of :mod:`wayline.store.sql.schema` (migration 0004 mirrors
them; ``schema.py`` imports this module last so that they are part of it).

* ``webhooks``: one row per webhook; deleting sets ``deleted_time`` (the delivery log keeps its webhook).
  Listed newest first, by ``(creation_time, webhook_id)``.
* ``webhook_events``: the subscription, one row per event with its ``position`` in the list given;
  ``(entity, action, webhook_id)`` finds the webhooks of an event when it fires.
* ``webhook_deliveries``: one row per event sent to a webhook, updated at every attempt; read newest
  first, overall or per webhook.
"""

from __future__ import annotations

import sqlalchemy as sa

from wayline.store.sql.schema import bytewise_text, metadata


def _webhook_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("webhooks.webhook_id", ondelete="CASCADE", name=f"fk_{table}_webhook")


webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("webhook_id", bytewise_text(36), primary_key=True),
    sa.Column("name", bytewise_text(256), nullable=False),
    sa.Column("description", bytewise_text(), nullable=True),
    sa.Column("url", bytewise_text(), nullable=False),
    sa.Column("secret", bytewise_text(), nullable=True),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    sa.Index("ix_webhooks_creation_time", "creation_time", "webhook_id"),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("webhook_id", bytewise_text(36), _webhook_fk("webhook_events"), primary_key=True),
    sa.Column("entity", bytewise_text(64), primary_key=True),
    sa.Column("action", bytewise_text(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_webhook_events_event", "entity", "action", "webhook_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("delivery_id", bytewise_text(36), primary_key=True),
    sa.Column("webhook_id", bytewise_text(36), _webhook_fk("webhook_deliveries"), nullable=False),
    sa.Column("entity", bytewise_text(64), nullable=False),
    sa.Column("action", bytewise_text(64), nullable=False),
    sa.Column("payload", bytewise_text(), nullable=False),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("test", sa.Boolean, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_attempt_time", sa.BigInteger, nullable=True),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("error", bytewise_text(), nullable=True),
    sa.Index("ix_webhook_deliveries_created", "creation_time", "delivery_id"),
    sa.Index("ix_webhook_deliveries_webhook_created", "webhook_id", "creation_time", "delivery_id"),
)


__all__ = ["webhook_deliveries", "webhook_events", "webhooks"]
