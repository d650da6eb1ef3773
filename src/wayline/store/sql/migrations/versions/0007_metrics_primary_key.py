"""Metric points are unique: the primary key ``(run_id, key, step, timestamp, value, is_nan)``.

A point identical to a stored one is no longer stored again (MLflow's SQL store has the same key), so a
retried ``log_batch`` adds nothing. The key replaces the covering index of revision 0006 and keeps its
order. On SQLite the table is rebuilt WITHOUT ROWID (the key's b-tree holds the rows: one structure per
point instead of a table and an index, about half the file); on PostgreSQL the key's unique index replaces
the old index. Duplicates already stored are dropped first, keeping one of each.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")
_INDEX = "ix_metrics_run_key_step_timestamp"


def _sqlite_table(name: str, *extra: sa.schema.SchemaItem, with_rowid: bool = True) -> None:
    """The metrics table's columns, as revision 0001 made them on SQLite."""
    op.create_table(
        name,
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        *extra,
        sqlite_with_rowid=with_rowid,
    )


def upgrade() -> None:
    columns = ", ".join(_COLUMNS)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table(
            "metrics_keyed", sa.PrimaryKeyConstraint(*_COLUMNS, name="pk_metrics"), with_rowid=False
        )
        op.execute(f"INSERT OR IGNORE INTO metrics_keyed ({columns}) SELECT {columns} FROM metrics")
        op.execute("DROP TABLE metrics")
        op.execute("ALTER TABLE metrics_keyed RENAME TO metrics")
        return
    same = " AND ".join(f"a.{c} = b.{c}" for c in _COLUMNS)
    op.execute(f"DELETE FROM metrics a USING metrics b WHERE a.ctid > b.ctid AND {same}")
    op.create_primary_key("pk_metrics", "metrics", list(_COLUMNS))
    op.drop_index(_INDEX, table_name="metrics")


def downgrade() -> None:
    columns = ", ".join(_COLUMNS)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table("metrics_plain")
        op.execute(f"INSERT INTO metrics_plain ({columns}) SELECT {columns} FROM metrics")
        op.execute("DROP TABLE metrics")
        op.execute("ALTER TABLE metrics_plain RENAME TO metrics")
        op.create_index(_INDEX, "metrics", list(_COLUMNS))
        return
    op.create_index(_INDEX, "metrics", list(_COLUMNS))
    op.drop_constraint("pk_metrics", "metrics", type_="primary")
