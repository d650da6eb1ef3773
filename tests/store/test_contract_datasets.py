"""Dataset inputs: deduplication per experiment, idempotent inputs, input tags, get_run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from wayline.entities import Dataset, DatasetInput, InputTag
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql import schema as t

CONTEXT = "mlflow.data.context"


def _input(name: str, digest: str, context: str | None = None, **extra: str) -> DatasetInput:
    tags = (InputTag(CONTEXT, context),) if context else ()
    return DatasetInput(Dataset(name, digest, "local", f"/data/{name}", **extra), tags)


def _count(store: SqlTrackingStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_log_and_get(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    train = _input("train", "d1", "training", schema='{"a": "int"}', profile='{"rows": 3}')
    store.log_inputs(run_id, [train, _input("eval", "d2", "evaluation")])
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["train", "eval"]
    assert inputs[0] == train
    assert inputs[0].context == "training"
    assert inputs[1].context == "evaluation"


def test_same_dataset_is_stored_once_per_experiment(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    first, second = new_run(), new_run()
    store.log_inputs(first, [_input("train", "d1", "training")])
    store.log_inputs(second, [_input("train", "d1", "training"), _input("train", "d1", "training")])
    store.log_inputs(first, [_input("train", "d1", "training")])  # already an input: no-op
    assert _count(store, t.datasets) == 1
    assert _count(store, t.inputs) == 2
    assert _count(store, t.input_tags) == 2
    # A new digest is a new dataset; another experiment gets its own copy.
    store.log_inputs(first, [_input("train", "d2")])
    other = new_run(store.create_experiment("other"))
    store.log_inputs(other, [_input("train", "d1")])
    assert _count(store, t.datasets) == 3
    assert [i.dataset.digest for i in store.get_run(first).inputs.dataset_inputs] == ["d1", "d2"]
    assert store.get_run(other).inputs.dataset_inputs[0].tags == ()


def test_errors(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    with pytest.raises(ResourceNotFound):
        store.log_inputs("0" * 32, [_input("x", "d")])
    run_id = new_run()
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.log_inputs(run_id, [_input("x", "d")])
    store.restore_run(run_id)
    store.log_inputs(run_id, [])
    assert store.get_run(run_id).inputs.dataset_inputs == ()
