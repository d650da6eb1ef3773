"""Logged models (MLflow 3): models, their params, tags and metrics, and the runs that produce or use them.

Revision ID: 0002
Revises: 0001
Create Date: 2024-07-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies of the helpers in schema.py: a migration never changes once released.
def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"], ["logged_models.model_id"], ondelete="CASCADE", name=f"fk_{table}_model"
    )


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE", name=f"fk_{table}_run")


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", _text(64), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _text(500), nullable=False),
        sa.Column("artifact_location", _text(), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("status_message", _text(), nullable=True),
        sa.Column("lifecycle_stage", _text(20), nullable=False),
        sa.Column("model_type", _text(500), nullable=True),
        sa.Column("source_run_id", _text(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_logged_models_experiment",
        ),
    )
    op.create_index(
        "ix_logged_models_experiment_stage_created",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_time", "model_id"],
    )
    op.create_index("ix_logged_models_experiment_name", "logged_models", ["experiment_id", "name"])
    op.create_index("ix_logged_models_source_run", "logged_models", ["source_run_id"])

    for table in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            table,
            sa.Column("model_id", _text(64), primary_key=True),
            sa.Column("key", _text(250), primary_key=True),
            sa.Column("value", _text(), nullable=False),
            _model_fk(table),
        )
        op.create_index(f"ix_{table}_key_model", table, ["key", "model_id"])

    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", _text(64), primary_key=True),
        sa.Column("key", _text(250), primary_key=True),
        sa.Column("step", sa.BigInteger, primary_key=True),
        sa.Column("timestamp", sa.BigInteger, primary_key=True),
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("dataset_name", _text(500), primary_key=True),
        sa.Column("dataset_digest", _text(36), primary_key=True),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        _model_fk("logged_model_metrics"),
        _run_fk("logged_model_metrics"),
    )
    op.create_index("ix_logged_model_metrics_key_model", "logged_model_metrics", ["key", "model_id"])

    op.create_table(
        "run_model_outputs",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("model_id", _text(64), primary_key=True),
        sa.Column("step", sa.BigInteger, primary_key=True),
        _run_fk("run_model_outputs"),
        _model_fk("run_model_outputs"),
    )
    op.create_index("ix_run_model_outputs_model_id", "run_model_outputs", ["model_id"])

    op.create_table(
        "run_model_inputs",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("model_id", _text(64), primary_key=True),
        _run_fk("run_model_inputs"),
        _model_fk("run_model_inputs"),
    )
    op.create_index("ix_run_model_inputs_model_id", "run_model_inputs", ["model_id"])


def downgrade() -> None:
    for table in (
        "run_model_inputs",
        "run_model_outputs",
        "logged_model_metrics",
        "logged_model_tags",
        "logged_model_params",
        "logged_models",
    ):
        op.drop_table(table)
