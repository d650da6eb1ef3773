"""Links between runs and logged models: the models a run produced (at a step) and the models it used.

Kept apart from ``logged_models`` so that ``runs.load`` can read them without importing the model store.
Writing a link that exists is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import LoggedModelInput, LoggedModelOutput
from wayline.store.sql import schema as t
from wayline.store.sql.bound_members import in_run_ids
from wayline.store.sql.plain import plain_rows
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


def _links_of_runs() -> sa.Select[Any]:
    """Both directions in one query, built once: ``(0, run, model, 0)`` for inputs and
    ``(1, run, model, step)`` for outputs, of a bound list of runs."""
    mi, mo = t.run_model_inputs, t.run_model_outputs
    used = sa.select(sa.literal(0).label("kind"), mi.c.run_id, mi.c.model_id, sa.literal(0).label("step"))
    produced = sa.select(sa.literal(1).label("kind"), mo.c.run_id, mo.c.model_id, mo.c.step)
    both = sa.union_all(used.where(in_run_ids(mi.c.run_id)), produced.where(in_run_ids(mo.c.run_id)))
    ordered = both.subquery()
    return sa.select(ordered).order_by(ordered.c.kind, ordered.c.step, ordered.c.model_id)


_LINKS_OF_RUNS = _links_of_runs()


def load(
    conn: sa.Connection, run_ids: Sequence[str]
) -> tuple[dict[str, list[LoggedModelInput]], dict[str, list[LoggedModelOutput]]]:
    """The model inputs and outputs of each run (runs without any are absent), ordered by step and id."""
    inputs: dict[str, list[LoggedModelInput]] = {}
    outputs: dict[str, list[LoggedModelOutput]] = {}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start : start + _CHUNK]
        for kind, run_id, model_id, step in plain_rows(conn, _LINKS_OF_RUNS, {"ids": list(chunk)}):
            if kind == 0:
                inputs.setdefault(run_id, []).append(LoggedModelInput(model_id))
            else:
                outputs.setdefault(run_id, []).append(LoggedModelOutput(model_id, step))
    return inputs, outputs


__all__ = ["add_inputs", "add_outputs", "load"]
