"""The model registry: registered models, model versions, their tags, aliases, and the registry's history.

Revision ID: 0003
Revises: 0002
Create Date: 2024-08-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the helpers in schema.py: a migration never changes once released.
_PG_INDEXED_PREFIX = 200


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _key_value_index(table: str, owner: list[str]) -> None:
    """``(key, value, *owner)`` on SQLite; ``(key, substr(value, 1, 200), *owner)`` on PostgreSQL."""
    if op.get_bind().dialect.name == "postgresql":
        prefix = f"substr(value, 1, {_PG_INDEXED_PREFIX})"
        op.create_index(f"ix_{table}_key_prefix", table, ["key", sa.text(prefix), *owner])
    else:
        op.create_index(f"ix_{table}_key_value", table, ["key", "value", *owner])


def _registered_model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_key"],
        ["registered_models.model_key"],
        ondelete="CASCADE",
        name=f"fk_{table}_registered_model",
    )


def _model_version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name=f"fk_{table}_model_version",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("model_key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", _text(256), nullable=False),
        sa.Column("description", _text(), nullable=False),
        sa.Column("owner", _text(256), nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_registered_models_creation_time", "registered_models", ["creation_time", "name"])
    op.create_index(
        "ix_registered_models_last_updated_time", "registered_models", ["last_updated_time", "name"]
    )

    op.create_table(
        "registered_model_tags",
        sa.Column("model_key", sa.Integer, primary_key=True),
        sa.Column("key", _text(250), primary_key=True),
        sa.Column("value", _text(5000), nullable=False),
        _registered_model_fk("registered_model_tags"),
    )
    _key_value_index("registered_model_tags", ["model_key"])

    op.create_table(
        "model_versions",
        sa.Column("model_key", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("current_stage", _text(20), nullable=False),
        sa.Column("description", _text(), nullable=False),
        sa.Column("user_id", _text(256), nullable=False),
        sa.Column("source", _text(), nullable=False),
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("run_link", _text(), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("status_message", _text(), nullable=False),
        sa.Column("model_id", _text(64), nullable=False),
        _registered_model_fk("model_versions"),
    )
    op.create_index(
        "ix_model_versions_model_stage_version",
        "model_versions",
        ["model_key", "current_stage", "version"],
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_index("ix_model_versions_creation_time", "model_versions", ["creation_time"])
    op.create_index("ix_model_versions_last_updated_time", "model_versions", ["last_updated_time"])

    op.create_table(
        "model_version_tags",
        sa.Column("model_key", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("key", _text(250), primary_key=True),
        sa.Column("value", _text(5000), nullable=False),
        _model_version_fk("model_version_tags"),
    )
    _key_value_index("model_version_tags", ["model_key", "version"])

    op.create_table(
        "registered_model_aliases",
        sa.Column("model_key", sa.Integer, primary_key=True),
        sa.Column("alias", _text(256), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        _model_version_fk("registered_model_aliases"),
    )
    op.create_index(
        "ix_registered_model_aliases_version", "registered_model_aliases", ["model_key", "version"]
    )

    op.create_table(
        "registry_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_key", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", _text(64), nullable=False),
        sa.Column("actor", _text(256), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("from_value", _text(), nullable=False),
        sa.Column("to_value", _text(), nullable=False),
        sa.Column("comment", _text(), nullable=False),
        _registered_model_fk("registry_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_registry_events_model_event", "registry_events", ["model_key", "event_id"])
    op.create_index(
        "ix_registry_events_model_version_event", "registry_events", ["model_key", "version", "event_id"]
    )


def downgrade() -> None:
    for table in (
        "registry_events",
        "registered_model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
