"""wayline.data dataset descriptions and log_input."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import wayline
from wayline import data
from wayline.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("source", "source_type", "stored"),
    [
        ("data/train.csv", "local", {"uri": "data/train.csv"}),
        ("file:///srv/train.csv", "local", {"uri": "file:///srv/train.csv"}),
        ("s3://bucket/train.parquet", "s3", {"uri": "s3://bucket/train.parquet"}),
        ("gs://bucket/x", "gcs", {"uri": "gs://bucket/x"}),
        ("https://example.com/x.csv", "http", {"url": "https://example.com/x.csv"}),
        ("hf://datasets/imdb", "hugging_face", {"uri": "hf://datasets/imdb"}),
        ("delta://table", "delta", {"uri": "delta://table"}),
    ],
)
def test_dataset_source_types(source: str, source_type: str, stored: dict[str, str]) -> None:
    ds = data.dataset("train", source)
    assert ds.source_type == source_type
    assert json.loads(ds.source) == stored
    assert len(ds.digest) == data.DIGEST_LENGTH


def test_dataset_digest_schema_and_profile() -> None:
    one = data.dataset("train", "s3://b/x", schema={"cols": ["a"]})
    assert one == data.dataset("train", "s3://b/x", schema={"cols": ["a"]})
    assert one.digest != data.dataset("train", "s3://b/y", schema={"cols": ["a"]}).digest
    assert json.loads(one.schema or "") == {"cols": ["a"]}
    given = data.dataset("train", "s3://b/x", digest="d1", source_type="custom", profile={"rows": 3})
    assert (given.digest, given.source_type, given.profile) == ("d1", "custom", '{"rows": 3}')


def test_dataset_made_in_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/srv/job.py"])
    ds = data.dataset("generated", None)
    assert ds.source_type == "code"
    assert json.loads(ds.source) == {"tags": {"mlflow.source.name": "/srv/job.py"}}


def test_from_pandas() -> None:
    df = pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype=np.int64),
            "i32": np.array([1, 2, 3], dtype=np.int32),
            "f": [0.5, 1.5, 2.5],
            "f32": np.array([1, 2, 3], dtype=np.float32),
            "b": [True, False, True],
            "s": ["a", "b", "c"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    ds = data.from_pandas(df, source="s3://bucket/train.parquet", name="train")
    assert ds.name == "train"
    assert ds.source_type == "s3"
    schema = json.loads(ds.schema or "")
    assert [(c["name"], c["type"]) for c in schema["mlflow_colspec"]] == [
        ("i", "long"),
        ("i32", "integer"),
        ("f", "double"),
        ("f32", "float"),
        ("b", "boolean"),
        ("s", "string"),
        ("t", "datetime"),
    ]
    assert json.loads(ds.profile or "") == {"num_rows": 3, "num_elements": 21}
    assert len(ds.digest) == 8
    assert data.from_pandas(df.copy(), source="s3://bucket/train.parquet").digest == ds.digest
    changed = df.copy()
    changed.loc[0, "f"] = 9.0
    assert data.from_pandas(changed, source="s3://bucket/train.parquet").digest != ds.digest
    lists = pd.DataFrame({"x": [[1], [2]]})
    assert len(data.from_pandas(lists).digest) == 8
    assert data.from_pandas(df).name == "dataset"


def test_bad_dataset_arguments() -> None:
    with pytest.raises(InvalidParameterValue, match="'name'"):
        data.dataset("", "x")
    with pytest.raises(InvalidParameterValue, match="'source'"):
        data.dataset("n", 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="'digest'"):
        data.dataset("n", "x", digest="")
    with pytest.raises(InvalidParameterValue, match="'schema'"):
        data.dataset("n", "x", schema={"bad": object()})
    with pytest.raises(InvalidParameterValue, match="'df'"):
        data.from_pandas([1, 2])


def test_log_input() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0]})
    train = data.from_pandas(df, source="s3://b/train.parquet", name="train")
    with wayline.start_run() as run:
        wayline.log_input(train, context="training", tags={"split": "a"})
        wayline.log_input(data.dataset("eval", "s3://b/eval.parquet"))
    inputs = wayline.get_run(run.run_id).inputs.dataset_inputs
    by_name = {i.dataset.name: i for i in inputs}
    assert by_name["train"].dataset == train
    assert by_name["train"].context == "training"
    assert {(t.key, t.value) for t in by_name["train"].tags} == {
        ("mlflow.data.context", "training"),
        ("split", "a"),
    }
    assert by_name["eval"].context is None
