"""Links between runs and logged models: the models a run produced (at a step) and the models it used.

Kept apart from ``logged_models``, which is the model store; ``runs.load`` reads the links with the rest of
a page's data. Writing a link that exists is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from wayline.entities import LoggedModelInput, LoggedModelOutput
from wayline.store.sql import schema as t
from wayline.store.sql.upsert import insert_ignore

_CHUNK = 1000


def add_outputs(conn: sa.Connection, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
    rows = {(m.model_id, m.step): {"run_id": run_id, "model_id": m.model_id, "step": m.step} for m in models}
    if rows:
        stmt = insert_ignore(conn.dialect.name, t.run_model_outputs, ["run_id", "model_id", "step"])
        conn.execute(stmt, list(rows.values()))


def add_inputs(conn: sa.Connection, run_id: str, models: Sequence[LoggedModelInput]) -> None:
    rows = {m.model_id: {"run_id": run_id, "model_id": m.model_id} for m in models}
    if rows:
        stmt = insert_ignore(conn.dialect.name, t.run_model_inputs, ["run_id", "model_id"])
        conn.execute(stmt, list(rows.values()))


__all__ = ["add_inputs", "add_outputs"]
