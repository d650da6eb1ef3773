"""A page of runs is loaded with one statement for all their data: each run gets its own metrics, params,
tags, dataset inputs and logged-model links, each part in its documented order."""

from __future__ import annotations

import math
from collections.abc import Callable

from wayline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunTag,
)
from wayline.store.sql import SqlTrackingStore


def _dataset(name: str) -> DatasetInput:
    return DatasetInput(Dataset(name, f"d-{name}", "local", f"/data/{name}"), (InputTag("k", name),))


def test_each_run_of_a_page_gets_its_own_data_in_order(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    models = sorted(store.create_logged_model(experiment_id).model_id for _ in range(3))
    new_run(name="bare")  # nothing but its name tag
    full = new_run(name="full")
    store.log_batch(
        full,
        metrics=[
            Metric("zeta", 1.5, 10, 3),
            Metric("alpha", math.nan, 11, 4),
            Metric("mid", -math.inf, 12, 0),
        ],
        params=[Param("p2", "two"), Param("p10", "ten"), Param("p1", "one")],
        tags=[RunTag("z", "last"), RunTag("a", "first")],
    )
    store.log_inputs(full, [_dataset("train"), _dataset("eval")])
    store.log_model_inputs(full, [LoggedModelInput(models[2]), LoggedModelInput(models[0])])
    store.log_outputs(
        full,
        [LoggedModelOutput(models[1], 7), LoggedModelOutput(models[2], 7), LoggedModelOutput(models[0], 9)],
    )
    other = new_run(name="other")
    store.log_batch(other, metrics=[Metric("alpha", 2.0, 1, 0)], params=[Param("p1", "uno")])
    store.log_outputs(other, [LoggedModelOutput(models[0], 0)])

    page = {run.info.run_name: run for run in store.search_runs([experiment_id])}
    assert set(page) == {"bare", "full", "other"}
    for name, run in page.items():  # a page and a single run are loaded alike
        assert store.get_run(run.info.run_id) == run, name

    run: Run = page["full"]
    assert [(m.key, m.step, m.timestamp) for m in run.data.metrics] == [
        ("alpha", 4, 11),
        ("mid", 0, 12),
        ("zeta", 3, 10),
    ]
    assert math.isnan(run.data.metrics[0].value)
    assert run.data.metrics[1].value == -math.inf
    assert list(run.data.params.items()) == [("p1", "one"), ("p10", "ten"), ("p2", "two")]
    assert list(run.data.tags) == ["a", "mlflow.runName", "z"]
    assert [(d.dataset.name, d.tags) for d in run.inputs.dataset_inputs] == [
        ("train", (InputTag("k", "train"),)),
        ("eval", (InputTag("k", "eval"),)),
    ]
    assert run.inputs.model_inputs == (LoggedModelInput(models[0]), LoggedModelInput(models[2]))
    assert run.outputs.model_outputs == (
        LoggedModelOutput(models[1], 7),
        LoggedModelOutput(models[2], 7),
        LoggedModelOutput(models[0], 9),
    )

    assert page["other"].data.metric_values == {"alpha": 2.0}
    assert page["other"].data.params == {"p1": "uno"}
    assert page["other"].inputs.dataset_inputs == ()
    assert page["other"].inputs.model_inputs == ()
    assert page["other"].outputs.model_outputs == (LoggedModelOutput(models[0], 0),)

    bare_run = page["bare"]
    assert bare_run.data.metrics == ()
    assert bare_run.data.params == {}
    assert bare_run.data.tags == {"mlflow.runName": "bare"}
    assert bare_run.inputs.dataset_inputs == ()
    assert bare_run.outputs.model_outputs == ()


#: Values a JSON object must carry exactly: text that looks like JSON (SQLite's JSON functions would embed a
#: value of the JSON subtype as it is), every escape, control characters, characters outside the BMP, and
#: the longest values allowed.
_AWKWARD_TEXTS = [
    '{"a": 1}',
    "[1, 2]",
    "null",
    "true",
    "1.0000000000000002",
    "",
    ' "quoted" ',
    "back\\slash \\u0041 \\n",
    "line\nbreak\ttab\rreturn",
    "bell\x07 escape\x1b unit\x1f del\x7f",
    "snow \u2603, astral \U0001f600, rtl \u202e",
    "x" * 6000,
]


def test_params_and_tags_come_back_exactly_whatever_their_text(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    run_id = new_run(name="awkward")
    params = {f"p{i:02d}": text for i, text in enumerate(_AWKWARD_TEXTS)}
    tags = {f"t {i:02d}/x.y-z": text for i, text in enumerate([*_AWKWARD_TEXTS, "y" * 8000])}
    store.log_batch(
        run_id,
        params=[Param(key, value) for key, value in params.items()],
        tags=[RunTag(key, value) for key, value in tags.items()],
    )
    (found,) = store.search_runs([experiment_id])
    assert found.data.params == params
    assert list(found.data.params) == sorted(params)
    assert found.data.tags == {**tags, "mlflow.runName": "awkward"}
    assert list(found.data.tags) == sorted([*tags, "mlflow.runName"])
    assert store.get_run(run_id) == found
