"""Governance: comments on model versions, and transition requests with their decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2024-10-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copy of the helper in schema.py: a migration never changes once released.
def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_version_comments",
        sa.Column("comment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_key", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("author", _text(256), nullable=False),
        sa.Column("text", _text(), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_key", "version"],
            ["model_versions.model_key", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_version_comments_model_version",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_model_version_comments_version", "model_version_comments", ["model_key", "version", "comment_id"]
    )

    op.create_table(
        "transition_requests",
        sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_key", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", _text(20), nullable=False),
        sa.Column("target", _text(256), nullable=False),
        sa.Column("archive_existing_versions", sa.Boolean, nullable=False),
        sa.Column("requested_by", _text(256), nullable=False),
        sa.Column("comment", _text(), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("decided_by", _text(256), nullable=False),
        sa.Column("decision_comment", _text(), nullable=False),
        sa.Column("decision_time", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_key"],
            ["registered_models.model_key"],
            ondelete="CASCADE",
            name="fk_transition_requests_registered_model",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_transition_requests_version", "transition_requests", ["model_key", "version", "request_id"]
    )
    op.create_index("ix_transition_requests_status", "transition_requests", ["status", "request_id"])


def downgrade() -> None:
    for table in ("transition_requests", "model_version_comments"):
        op.drop_table(table)
