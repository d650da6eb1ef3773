"""Webhooks: the webhooks, the events they subscribe to, and the log of their deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2024-09-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copy of the helper in schema.py: a migration never changes once released.
def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _webhook_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["webhook_id"], ["webhooks.webhook_id"], ondelete="CASCADE", name=f"fk_{table}_webhook"
    )


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", _text(36), primary_key=True),
        sa.Column("name", _text(256), nullable=False),
        sa.Column("description", _text(), nullable=True),
        sa.Column("url", _text(), nullable=False),
        sa.Column("secret", _text(), nullable=True),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_webhooks_creation_time", "webhooks", ["creation_time", "webhook_id"])

    op.create_table(
        "webhook_events",
        sa.Column("webhook_id", _text(36), primary_key=True),
        sa.Column("entity", _text(64), primary_key=True),
        sa.Column("action", _text(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        _webhook_fk("webhook_events"),
    )
    op.create_index("ix_webhook_events_event", "webhook_events", ["entity", "action", "webhook_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", _text(36), primary_key=True),
        sa.Column("webhook_id", _text(36), nullable=False),
        sa.Column("entity", _text(64), nullable=False),
        sa.Column("action", _text(64), nullable=False),
        sa.Column("payload", _text(), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("test", sa.Boolean, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_attempt_time", sa.BigInteger, nullable=True),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("error", _text(), nullable=True),
        _webhook_fk("webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_created", "webhook_deliveries", ["creation_time", "delivery_id"])
    op.create_index(
        "ix_webhook_deliveries_webhook_created",
        "webhook_deliveries",
        ["webhook_id", "creation_time", "delivery_id"],
    )


def downgrade() -> None:
    for table in ("webhook_deliveries", "webhook_events", "webhooks"):
        op.drop_table(table)
