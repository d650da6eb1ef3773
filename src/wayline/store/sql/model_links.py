"""Links between runs and logged models: the models a run produced (at a step) and the models it used.

Kept apart from ``logged_models`` so that ``runs.load`` can read them without importing the model store.
Writing a link that exists is a no-op.
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


def load(
    conn: sa.Connection, run_ids: Sequence[str]
) -> tuple[dict[str, list[LoggedModelInput]], dict[str, list[LoggedModelOutput]]]:
    """The model inputs and outputs of each run (runs without any are absent), ordered by step and id."""
    inputs: dict[str, list[LoggedModelInput]] = {}
    outputs: dict[str, list[LoggedModelOutput]] = {}
    mi, mo = t.run_model_inputs, t.run_model_outputs
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start : start + _CHUNK]
        used = sa.select(mi.c.run_id, mi.c.model_id).where(mi.c.run_id.in_(chunk)).order_by(mi.c.model_id)
        for run_id, model_id in conn.execute(used):
            inputs.setdefault(run_id, []).append(LoggedModelInput(model_id))
        produced = (
            sa.select(mo.c.run_id, mo.c.model_id, mo.c.step)
            .where(mo.c.run_id.in_(chunk))
            .order_by(mo.c.step, mo.c.model_id)
        )
        for run_id, model_id, step in conn.execute(produced):
            outputs.setdefault(run_id, []).append(LoggedModelOutput(model_id, step))
    return inputs, outputs


__all__ = ["add_inputs", "add_outputs", "load"]
