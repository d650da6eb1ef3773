"""The initial tracking schema: experiments, runs, params, tags, metrics, latest metrics, datasets, inputs.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the helpers in schema.py: a migration never changes once released.
_PG_INDEXED_PREFIX = 200


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _key_value_index(table: str, tail: list[str]) -> None:
    """``(key, value, ...)`` on SQLite; ``(key, substr(value, 1, 200), ...)`` on PostgreSQL (btree entries
    must fit in a third of a page; values may be 8000 characters long)."""
    if op.get_bind().dialect.name == "postgresql":
        prefix = f"substr(value, 1, {_PG_INDEXED_PREFIX})"
        op.create_index(f"ix_{table}_key_prefix", table, ["key", sa.text(prefix), *tail])
        # Values depend on their key (p1 is 'x' for a quarter of the runs, and no other key is): without
        # these statistics the planner multiplies the two frequencies and underestimates `key = k AND
        # prefix = v` tenfold.
        op.execute(f"CREATE STATISTICS st_{table}_key_prefix (mcv) ON key, ({prefix}) FROM {table}")
    else:
        op.create_index(f"ix_{table}_key_value", table, ["key", "value", *tail])


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE", name=f"fk_{table}_run")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", _text(500), nullable=False),
        sa.Column("artifact_location", _text(), nullable=False),
        sa.Column("lifecycle_stage", _text(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_experiments_creation_time", "experiments", ["creation_time"])

    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, primary_key=True),
        sa.Column("key", _text(250), primary_key=True),
        sa.Column("value", _text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_experiment_tags_experiment",
        ),
    )

    op.create_table(
        "runs",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _text(250), nullable=False),
        sa.Column("user_id", _text(256), nullable=False),
        sa.Column("status", _text(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", _text(20), nullable=False),
        sa.Column("artifact_uri", _text(), nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE", name="fk_runs_experiment"
        ),
    )
    op.create_index(
        "ix_runs_experiment_stage_start",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time", "run_id"],
    )

    for table in ("params", "tags"):
        op.create_table(
            table,
            sa.Column("run_id", _text(32), primary_key=True),
            sa.Column("key", _text(250), primary_key=True),
            sa.Column("value", _text(), nullable=False),
            _run_fk(table),
        )
        _key_value_index(table, ["run_id"])

    op.create_table(
        "metrics",
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("key", _text(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
    )
    op.create_index("ix_metrics_run_key_step_timestamp", "metrics", ["run_id", "key", "step", "timestamp"])

    op.create_table(
        "latest_metrics",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("key", _text(250), primary_key=True),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        _run_fk("latest_metrics"),
    )
    op.create_index("ix_latest_metrics_key_nan_value", "latest_metrics", ["key", "is_nan", "value", "run_id"])

    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _text(500), nullable=False),
        sa.Column("digest", _text(36), nullable=False),
        sa.Column("source_type", _text(36), nullable=False),
        sa.Column("source", _text(), nullable=False),
        sa.Column("schema", _text(), nullable=True),
        sa.Column("profile", _text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            ondelete="CASCADE",
            name="fk_datasets_experiment",
        ),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
    )

    op.create_table(
        "inputs",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("dataset_id", sa.Integer, primary_key=True),
        _run_fk("inputs"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.dataset_id"], ondelete="CASCADE", name="fk_inputs_dataset"
        ),
    )
    op.create_index("ix_inputs_dataset_id", "inputs", ["dataset_id"])

    op.create_table(
        "input_tags",
        sa.Column("run_id", _text(32), primary_key=True),
        sa.Column("dataset_id", sa.Integer, primary_key=True),
        sa.Column("key", _text(255), primary_key=True),
        sa.Column("value", _text(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "dataset_id"],
            ["inputs.run_id", "inputs.dataset_id"],
            ondelete="CASCADE",
            name="fk_input_tags_input",
        ),
    )
    _key_value_index("input_tags", [])


def downgrade() -> None:
    for table in (
        "input_tags",
        "inputs",
        "datasets",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
