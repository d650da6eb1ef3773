"""Signatures round-trip with the real mlflow package in both directions."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.models import infer_signature as mlflow_infer_signature
from mlflow.models.signature import ModelSignature as MlflowSignature
from mlflow.types import utils as mlflow_type_utils
from mlflow.types.schema import Array as MArray
from mlflow.types.schema import ColSpec as MColSpec
from mlflow.types.schema import Map as MMap
from mlflow.types.schema import Object as MObject
from mlflow.types.schema import ParamSchema as MParamSchema
from mlflow.types.schema import ParamSpec as MParamSpec
from mlflow.types.schema import Property as MProperty
from mlflow.types.schema import Schema as MSchema
from mlflow.types.schema import TensorSpec as MTensorSpec
from pandas.errors import Pandas4Warning

from wayline.models.signature import ModelSignature, infer_signature


def _mlflow_infer(data: Any, output: Any = None, params: dict[str, Any] | None = None) -> MlflowSignature:
    # MLflow warns about integer columns on every inference; that hint is expected here.
    # MLflow probes lists and scalars for a Spark Connect DataFrame by importing pyspark.sql.connect,
    # which calls sys.exit() inside pytest-xdist workers (their __main__ has no __file__), so that
    # probe (not Wayline code) is answered directly: none of these examples is a Spark DataFrame.
    with (
        warnings.catch_warnings(),
        mock.patch.object(mlflow_type_utils, "_is_spark_df", return_value=False),
    ):
        warnings.filterwarnings(
            "ignore", message="Hint: Inferred schema contains integer", category=UserWarning
        )
        # MLflow reads Series.values of tz-aware columns, which pandas 3.1 deprecates.
        warnings.filterwarnings("ignore", message="Series.values returning", category=Pandas4Warning)
        return mlflow_infer_signature(data, output, params)


EXAMPLES: dict[str, Any] = {
    "dataframe": pd.DataFrame(
        {
            "long": [1, 2],
            "double": [1.0, 2.0],
            "string": ["x", "y"],
            "bool": [True, False],
            "int32": np.array([1, 2], dtype="int32"),
            "float32": np.array([1, 2], dtype="float32"),
            "bytes": [b"a", b"b"],
            "when": pd.to_datetime(["2020-01-01", "2020-01-02"]),
            "small": np.array([1, 2], dtype="int8"),
        }
    ),
    "nullable": pd.DataFrame(
        {
            "a": pd.array([1, None], dtype="Int64"),
            "b": pd.array([1, None], dtype="Int32"),
            "c": pd.array([1.0, None], dtype="Float64"),
            "d": pd.array([True, None], dtype="boolean"),
            "e": pd.array(["x", None], dtype="string"),
            "f": [1.0, np.nan],
            "g": ["x", None],
        }
    ),
    "object_strings": pd.DataFrame({"s": pd.Series(["a", "b"], dtype=object)}),
    "categorical": pd.DataFrame({"c": pd.Categorical(["a", "b"])}),
    "tz_datetime": pd.DataFrame({"t": pd.to_datetime(["2020-01-01"]).tz_localize("UTC")}),
    "datetime_objects": pd.DataFrame({"t": [dt.datetime(2020, 1, 1)]}),
    "list_column": pd.DataFrame({"a": [[1, 2], [3]]}),
    "all_missing": pd.DataFrame({"a": [None, None]}),
    "series": pd.Series([1, 2, 3]),
    "named_series": pd.Series([1.0, 2.0], name="x"),
    "array_2d": np.ones((3, 4)),
    "array_1d": np.arange(3),
    "array_3d_float32": np.ones((2, 3, 4), dtype="float32"),
    "array_str": np.array(["a", "b"]),
    "array_bytes": np.array([b"a"]),
    "array_object": np.array(["a", "b"], dtype=object),
    "dict_of_arrays": {"x": np.ones((2, 3)), "y": np.arange(2, dtype="int32")},
    "records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    "records_missing_key": [{"a": 1, "b": "x"}, {"a": 2}],
    "records_with_lists": [{"a": [1, 2], "o": {"k": "v"}}, {"a": [3], "o": {"k": "w", "z": 1.5}}],
    "dict_of_scalars": {"a": 1, "b": "x", "c": 1.5, "d": True, "n": None},
    "dict_of_lists": {"a": [1, 2], "b": ["x", "y"]},
    "nested_dict": {"a": {"b": 1, "c": [1.0, 2.0]}},
    "list_of_longs": [1, 2, 3],
    "list_of_strings": ["a", "b"],
    "empty_list": [],
    "string": "hello",
    "integer": 5,
    "mixed_object_column": pd.DataFrame({"a": [1, "x"]}),  # MLflow falls back to 'any'
}

PARAMS: dict[str, Any] = {
    "long": 1,
    "double": 0.5,
    "float32": np.float32(1.5),
    "string": "x",
    "bool": True,
    "longs": [1, 2],
    "strings": ["x", "y"],
    "doubles": np.array([1.0, 2.0]),
    "when": dt.datetime(2020, 1, 1, 12, 30),
    "dates": [dt.datetime(2020, 1, 1), dt.datetime(2021, 1, 1)],
    "config": {"k": 1, "name": "n"},
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_inferred_signature_is_mlflows(name: str) -> None:
    data = EXAMPLES[name]
    ours = infer_signature(data)
    theirs = _mlflow_infer(data)
    written = ours.to_dict()
    assert MlflowSignature.from_dict(written) == theirs
    assert written == theirs.to_dict()
    assert ModelSignature.from_dict(theirs.to_dict()) == ours


def test_inferred_params_and_outputs_are_mlflows() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0]})
    out = np.array([0, 1])
    ours = infer_signature(df, out, PARAMS)
    theirs = _mlflow_infer(df, out, PARAMS)
    assert ours.to_dict() == theirs.to_dict()
    assert MlflowSignature.from_dict(ours.to_dict()) == theirs
    back = ModelSignature.from_dict(theirs.to_dict())
    assert back == ours
    assert back.params is not None
    defaults = {p.name: p.default for p in back.params.params}
    assert defaults["when"] == dt.datetime(2020, 1, 1, 12, 30)
    assert defaults["doubles"] == [1.0, 2.0]
    assert type(defaults["float32"]) is float


def test_integer_column_names_are_read_as_strings() -> None:
    """MLflow writes a DataFrame's integer column names as JSON numbers; Wayline reads them as strings."""
    theirs = _mlflow_infer(pd.DataFrame(np.ones((2, 2))))
    ours = ModelSignature.from_dict(theirs.to_dict())
    assert ours.inputs is not None
    assert ours.inputs.input_names() == ["0", "1"]
    assert ours == infer_signature(pd.DataFrame(np.ones((2, 2))))


def _mlflow_hand_made() -> MlflowSignature:
    inputs = MSchema(
        [
            MColSpec("double", "x"),
            MColSpec("string", "opt", required=False),
            MColSpec(MArray("long"), "ids"),
            MColSpec(MArray(MArray("string")), "nested"),
            MColSpec(
                MObject([MProperty("b", "boolean"), MProperty("a", MArray("double"), required=False)]),
                "obj",
            ),
            MColSpec(MMap("long"), "counts"),
            MColSpec(MMap(MArray("string")), "tags", required=False),
        ]
    )
    outputs = MSchema(
        [MTensorSpec(np.dtype("float32"), (-1, 2), "probs"), MTensorSpec(np.dtype("str"), (-1,), "label")]
    )
    params = MParamSchema(
        [
            MParamSpec("k", "long", 3),
            MParamSpec("names", "string", ["a"], (-1,)),
            MParamSpec("t", "datetime", dt.datetime(2021, 5, 1)),
            MParamSpec("none_default", "double", None),
        ]
    )
    return MlflowSignature(inputs, outputs, params)


def test_hand_made_mlflow_signature_round_trips() -> None:
    theirs = _mlflow_hand_made()
    ours = ModelSignature.from_dict(theirs.to_dict())
    assert ours.to_dict() == theirs.to_dict()
    assert MlflowSignature.from_dict(ours.to_dict()) == theirs
    assert ours.outputs is not None
    assert ours.outputs.is_tensor_spec()
    assert ours.outputs.input_names() == ["probs", "label"]


def test_mlflow_reads_the_mlmodel_yaml_block() -> None:
    """The dict goes into MLmodel YAML; MLflow's Model reads it back."""
    import yaml
    from mlflow.models import Model

    ours = ModelSignature.from_dict(_mlflow_hand_made().to_dict())
    text = yaml.safe_dump({"flavors": {}, "signature": ours.to_dict()})
    model = Model.from_dict(yaml.safe_load(text))
    assert model.signature == _mlflow_hand_made()


_column = st.sampled_from(["long", "double", "bool", "string", "float32", "int32"])


def _frame(kinds: list[str], rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i, kind in enumerate(kinds):
        values: Any = {
            "long": rng.integers(-100, 100, rows),
            "double": rng.normal(size=rows),
            "bool": rng.integers(0, 2, rows).astype(bool),
            "string": [f"s{v}" for v in rng.integers(0, 9, rows)],
            "float32": rng.normal(size=rows).astype("float32"),
            "int32": rng.integers(0, 9, rows).astype("int32"),
        }[kind]
        cols[f"c{i}_{kind}"] = values
    return pd.DataFrame(cols)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(_column, min_size=1, max_size=5), rows=st.integers(1, 5), seed=st.integers(0, 1000))
def test_random_frames_infer_like_mlflow(kinds: list[str], rows: int, seed: int) -> None:
    df = _frame(kinds, rows, seed)
    ours = infer_signature(df)
    assert ours.to_dict() == _mlflow_infer(df).to_dict()
    assert ModelSignature.from_dict(json.loads(json.dumps(ours.to_dict()))) == ours


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    dtype=st.sampled_from(["float32", "float64", "int32", "int64", "uint8", "bool"]),
)
def test_random_arrays_infer_like_mlflow(shape: list[int], dtype: str) -> None:
    array = np.zeros(shape, dtype=dtype)
    assert infer_signature(array).to_dict() == _mlflow_infer(array).to_dict()
    named = {"t": array}
    assert infer_signature(named).to_dict() == _mlflow_infer(named).to_dict()
