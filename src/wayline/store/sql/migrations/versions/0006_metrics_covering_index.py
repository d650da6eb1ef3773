"""Metric history index covers the points: ``(run_id, key, step, timestamp, value, is_nan)``.

Histories and chart series read a run's points in ``(step, timestamp)`` order; with the value and NaN flag
in the index they are read from it alone, without a table lookup per point.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = ("run_id", "key", "step", "timestamp")
_NEW = ("run_id", "key", "step", "timestamp", "value", "is_nan")


def upgrade() -> None:
    op.drop_index("ix_metrics_run_key_step_timestamp", table_name="metrics")
    op.create_index("ix_metrics_run_key_step_timestamp", "metrics", list(_NEW))


def downgrade() -> None:
    op.drop_index("ix_metrics_run_key_step_timestamp", table_name="metrics")
    op.create_index("ix_metrics_run_key_step_timestamp", "metrics", list(_OLD))
