"""Each latest metric, param and tag row carries its run's experiment, and the value indexes start with it.

A search is scoped to experiments, and one ordered by a metric, param or tag walks that key's value index in
order. The index was ``(key, ...)``: on a server where fifty experiments share the key (``loss``,
``rmse``), a search of one experiment read fifty entries of others' runs for each of its own. With
``(experiment_id, key, ...)`` it reads only its own. A run never moves to another experiment, so the copy
never goes stale. Every row has its run (the foreign keys are enforced on both backends), so every row gets
an experiment.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_INDEXED_PREFIX = 200
_KEY_VALUE_TABLES = ("params", "tags")
_METRIC_INDEX = ("key", "is_nan", "value", "run_id")


def _value_columns(dialect: str) -> list[str | sa.TextClause]:
    if dialect == "postgresql":
        return ["key", sa.text(f"substr(value, 1, {_PG_INDEXED_PREFIX})"), "run_id"]
    return ["key", "value", "run_id"]


def _value_index(table: str, dialect: str, *, experiment: bool) -> str:
    kind = "prefix" if dialect == "postgresql" else "value"
    return f"ix_{table}_experiment_key_{kind}" if experiment else f"ix_{table}_key_{kind}"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in (*_KEY_VALUE_TABLES, "latest_metrics"):
        op.add_column(table, sa.Column("experiment_id", sa.Integer, nullable=True))
        op.execute(
            f"UPDATE {table} SET experiment_id = "
            f"(SELECT runs.experiment_id FROM runs WHERE runs.run_id = {table}.run_id)"
        )
    for table in _KEY_VALUE_TABLES:
        op.drop_index(_value_index(table, dialect, experiment=False), table_name=table)
    op.drop_index("ix_latest_metrics_key_nan_value", table_name="latest_metrics")
    for table in (*_KEY_VALUE_TABLES, "latest_metrics"):
        # PostgreSQL: SET NOT NULL; SQLite: the table is rebuilt (it cannot add the constraint in place).
        with op.batch_alter_table(table) as batch:
            batch.alter_column("experiment_id", existing_type=sa.Integer, nullable=False)
    for table in _KEY_VALUE_TABLES:
        columns = ["experiment_id", *_value_columns(dialect)]
        op.create_index(_value_index(table, dialect, experiment=True), table, columns)
    op.create_index(
        "ix_latest_metrics_experiment_key_nan_value", "latest_metrics", ["experiment_id", *_METRIC_INDEX]
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _KEY_VALUE_TABLES:
        op.drop_index(_value_index(table, dialect, experiment=True), table_name=table)
    op.drop_index("ix_latest_metrics_experiment_key_nan_value", table_name="latest_metrics")
    for table in (*_KEY_VALUE_TABLES, "latest_metrics"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("experiment_id")
    for table in _KEY_VALUE_TABLES:
        op.create_index(_value_index(table, dialect, experiment=False), table, _value_columns(dialect))
    op.create_index("ix_latest_metrics_key_nan_value", "latest_metrics", list(_METRIC_INDEX))
