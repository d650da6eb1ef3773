"""Dataset inputs of runs.

Datasets are stored once per experiment, identified by ``(name, digest)``: logging a dataset that the
experiment already has reuses the stored one (its source, schema and profile are not changed). A run uses a
dataset once: logging the same dataset to the same run again is a no-op, input tags included (MLflow's
behaviour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import Dataset, DatasetInput, InputTag
from wayline.store.sql import schema as t
from wayline.store.sql.bound_members import in_run_ids
from wayline.store.sql.upsert import insert_ignore

_CHUNK = 1000


def log_inputs(conn: sa.Connection, run_id: str, experiment_id: int, inputs: Sequence[DatasetInput]) -> None:
    wanted: dict[tuple[str, str], DatasetInput] = {}
    for item in inputs:
        wanted.setdefault((item.dataset.name, item.dataset.digest), item)
    if not wanted:
        return
    d = t.datasets
    conn.execute(
        insert_ignore(conn.dialect.name, d, ["experiment_id", "name", "digest"]),
        [
            {
                "experiment_id": experiment_id,
                "name": item.dataset.name,
                "digest": item.dataset.digest,
                "source_type": item.dataset.source_type,
                "source": item.dataset.source,
                "schema": item.dataset.schema,
                "profile": item.dataset.profile,
            }
            for item in wanted.values()
        ],
    )
    names = sorted({name for name, _ in wanted})
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(names), _CHUNK):
        query = sa.select(d.c.dataset_id, d.c.name, d.c.digest).where(
            d.c.experiment_id == experiment_id, d.c.name.in_(names[start : start + _CHUNK])
        )
        for row in conn.execute(query):
            if (row.name, row.digest) in wanted:
                ids[(row.name, row.digest)] = row.dataset_id
    used = {
        row.dataset_id
        for row in conn.execute(sa.select(t.inputs.c.dataset_id).where(t.inputs.c.run_id == run_id))
    }
    new = [(ids[key], item) for key, item in wanted.items() if ids[key] not in used]
    if not new:
        return
    conn.execute(t.inputs.insert(), [{"run_id": run_id, "dataset_id": dataset_id} for dataset_id, _ in new])
    tag_rows = [
        {"run_id": run_id, "dataset_id": dataset_id, "key": key, "value": value}
        for dataset_id, item in new
        for key, value in {tag.key: tag.value for tag in item.tags}.items()
    ]
    if tag_rows:
        conn.execute(t.input_tags.insert(), tag_rows)


def _dataset_of(row: Any) -> Dataset:
    return Dataset(
        name=row.name,
        digest=row.digest,
        source_type=row.source_type,
        source=row.source,
        schema=row.schema,
        profile=row.profile,
    )


# Built once (their compiled forms are cached), for a bound list of run ids.
_INPUTS_OF_RUNS = (
    sa.select(t.inputs.c.run_id, t.datasets)
    .join(t.datasets, t.datasets.c.dataset_id == t.inputs.c.dataset_id)
    .where(in_run_ids(t.inputs.c.run_id))
    .order_by(t.inputs.c.run_id, t.datasets.c.dataset_id)
)
_INPUT_TAGS_OF_RUNS = (
    sa.select(t.input_tags)
    .where(in_run_ids(t.input_tags.c.run_id))
    .order_by(t.input_tags.c.run_id, t.input_tags.c.dataset_id, t.input_tags.c.key)
)


def load_inputs(conn: sa.Connection, run_ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
    """The dataset inputs of each run (runs without inputs are absent), oldest dataset first."""
    out: dict[str, list[DatasetInput]] = {}
    for start in range(0, len(run_ids), _CHUNK):
        ids = {"ids": list(run_ids[start : start + _CHUNK])}
        found = list(conn.execute(_INPUTS_OF_RUNS, ids))
        if not found:  # most pages of runs have no inputs: skip the tags query
            continue
        tags: dict[tuple[str, int], list[InputTag]] = {}
        for row in conn.execute(_INPUT_TAGS_OF_RUNS, ids):
            tags.setdefault((row.run_id, row.dataset_id), []).append(InputTag(row.key, row.value))
        for row in found:
            item = DatasetInput(_dataset_of(row), tuple(tags.get((row.run_id, row.dataset_id), ())))
            out.setdefault(row.run_id, []).append(item)
    return out


__all__ = ["load_inputs", "log_inputs"]
