"""enforce_input: column and tensor signatures, safe casts, clear errors (checked against MLflow)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature as MlflowSignature
from mlflow.models.utils import _enforce_schema as mlflow_enforce_schema

from wayline.errors import InvalidParameterValue
from wayline.models.enforce import enforce_input
from wayline.models.signature import (
    Array,
    ColSpec,
    DataType,
    Map,
    ModelSignature,
    Object,
    Property,
    Schema,
    TensorSpec,
    infer_schema,
)

COLUMNS = Schema(
    [
        ColSpec(DataType.long, "a"),
        ColSpec(DataType.double, "b"),
        ColSpec(DataType.string, "c", required=False),
    ]
)


def test_no_schema_passes_data_through() -> None:
    data = object()
    assert enforce_input(data, None) is data


def test_columns_come_back_in_schema_order_with_safe_casts() -> None:
    df = pd.DataFrame(
        {
            "c": ["x", "y"],
            "b": np.array([1, 2], dtype="float32"),
            "a": np.array([1, 2], dtype="int32"),
        }
    )
    out = enforce_input(df, COLUMNS)
    assert list(out.columns) == ["a", "b", "c"]
    assert out["a"].dtype == np.int64
    assert out["b"].dtype == np.float64
    assert out["a"].tolist() == [1, 2]


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidParameterValue, match=r"missing column\(s\) \['a'\]"):
        enforce_input(pd.DataFrame({"b": [1.0]}), COLUMNS)


def test_optional_column_may_be_absent() -> None:
    out = enforce_input(pd.DataFrame({"a": [1], "b": [2.0]}), COLUMNS)
    assert list(out.columns) == ["a", "b"]


def test_extra_columns_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wayline.models.enforce"):
        out = enforce_input(pd.DataFrame({"a": [1], "b": [2.0], "zzz": [3]}), COLUMNS)
    assert "zzz" not in out.columns
    assert "zzz" in caplog.text


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("a", [1.5], r"column 'a': expected long \(int64\), got float64"),
        ("a", ["1"], r"column 'a': expected long \(int64\), got str"),
        ("b", ["1.0"], r"column 'b': expected double \(float64\), got str"),
        ("a", [True], r"column 'a': expected long \(int64\), got bool"),
        ("b", [2**60], r"column 'b': expected double \(float64\), got int64"),
        ("c", [5], r"column 'c': expected string, got int64"),
    ],
)
def test_unsafe_column_types_are_refused(column: str, values: list[Any], message: str) -> None:
    data: dict[str, Any] = {"a": [1], "b": [1.0], column: values}
    with pytest.raises(InvalidParameterValue, match=message):
        enforce_input(pd.DataFrame(data), COLUMNS)


def test_float_column_with_missing_values_gets_a_hint() -> None:
    with pytest.raises(InvalidParameterValue, match="integer columns cannot hold missing values"):
        enforce_input(pd.DataFrame({"a": [1.0, np.nan], "b": [1.0, 2.0]}), COLUMNS)


def test_integers_go_into_double_columns_when_exact() -> None:
    out = enforce_input(pd.DataFrame({"a": [1], "b": [2**53]}), COLUMNS)
    assert out["b"].dtype == np.float64
    assert out["b"].iloc[0] == 2**53


def test_nullable_pandas_columns() -> None:
    ok = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": pd.array([1.0, None], dtype="Float64")})
    out = enforce_input(ok, COLUMNS)
    assert out["a"].dtype == np.int64
    assert out["b"].dtype == np.float64
    assert np.isnan(out["b"].iloc[1])
    with pytest.raises(InvalidParameterValue, match=r"column 'a'.*Int64 with missing values"):
        enforce_input(pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1.0, 2.0]}), COLUMNS)


@pytest.mark.parametrize(
    "data",
    [
        {"a": [1, 2], "b": [1.0, 2.0]},
        [{"a": 1, "b": 1.0}, {"a": 2, "b": 2.0, "c": "x"}],
        pd.DataFrame({"a": [1, 2], "b": [1.0, 2.0]}),
    ],
    ids=["dict-of-lists", "records", "dataframe"],
)
def test_input_forms_become_a_dataframe(data: Any) -> None:
    out = enforce_input(data, COLUMNS)
    assert isinstance(out, pd.DataFrame)
    assert out["a"].tolist() == [1, 2]
    assert out["b"].tolist() == [1.0, 2.0]


def test_a_dict_of_scalars_is_one_record() -> None:
    out = enforce_input({"a": 3, "b": 0.5}, COLUMNS)
    assert out.to_dict("records") == [{"a": 3, "b": 0.5}]


def test_unnamed_columns_are_positional() -> None:
    schema = Schema([ColSpec(DataType.double), ColSpec(DataType.double)])
    out = enforce_input(np.ones((2, 2), dtype="float32"), schema)
    assert out.dtypes.tolist() == [np.float64, np.float64]
    with pytest.raises(InvalidParameterValue, match="declares 2 unnamed input columns but the input has 1"):
        enforce_input(np.ones((2, 1)), schema)


def test_datetime_columns() -> None:
    schema = Schema([ColSpec(DataType.datetime, "t")])
    seconds = pd.DataFrame({"t": pd.to_datetime(["2020-01-01"]).astype("datetime64[s]")})
    assert enforce_input(seconds, schema)["t"].dtype == np.dtype("datetime64[ns]")
    text = enforce_input(pd.DataFrame({"t": ["2020-01-02 03:04:05"]}), schema)
    assert text["t"].iloc[0] == pd.Timestamp("2020-01-02 03:04:05")
    with pytest.raises(InvalidParameterValue, match="column 't'"):
        enforce_input(pd.DataFrame({"t": ["yesterday"]}), schema)
    aware = pd.DataFrame({"t": pd.to_datetime(["2020-01-01"]).tz_localize("UTC")})
    with pytest.raises(InvalidParameterValue, match=r"column 't'.*timezone-naive"):
        enforce_input(aware, schema)


def test_binary_and_boolean_columns() -> None:
    schema = Schema([ColSpec(DataType.binary, "raw"), ColSpec(DataType.boolean, "flag", required=False)])
    out = enforce_input(pd.DataFrame({"raw": [b"a", b"b"], "flag": [True, None]}), schema)
    assert out["raw"].tolist() == [b"a", b"b"]
    assert out["flag"].tolist() == [True, None]
    with pytest.raises(InvalidParameterValue, match=r"column 'flag'.*values of type bool/str"):
        enforce_input(pd.DataFrame({"raw": [b"a", b"b"], "flag": [True, "no"]}), schema)


def test_array_object_and_map_columns() -> None:
    schema = Schema(
        [
            ColSpec(Array(DataType.double), "xs"),
            ColSpec(Object((Property("k", DataType.string), Property("n", DataType.long, False))), "o"),
            ColSpec(Map(DataType.long), "m"),
        ]
    )
    out = enforce_input({"xs": [1, 2], "o": {"k": "v"}, "m": {"a": 1}}, schema)
    assert out.to_dict("records") == [{"xs": [1.0, 2.0], "o": {"k": "v"}, "m": {"a": 1}}]
    with pytest.raises(InvalidParameterValue, match="column 'xs'"):
        enforce_input({"xs": [1, "x"], "o": {"k": "v"}, "m": {}}, schema)
    with pytest.raises(InvalidParameterValue, match=r"Column 'o' is missing required properties \['k'\]"):
        enforce_input({"xs": [1.0], "o": {"n": 1}, "m": {}}, schema)
    with pytest.raises(InvalidParameterValue, match=r"'o' has properties not in the signature: \['zz'\]"):
        enforce_input({"xs": [1.0], "o": {"k": "v", "zz": 1}, "m": {}}, schema)
    with pytest.raises(InvalidParameterValue, match=r"parameter 'm': expected Map\(str -> long\), got list"):
        enforce_input({"xs": [1.0], "o": {"k": "v"}, "m": [1]}, schema)


# --- tensors -------------------------------------------------------------------------------------

MATRIX = Schema([TensorSpec("float64", (-1, 3))])


def test_tensor_shape_and_dtype() -> None:
    out = enforce_input(np.ones((5, 3), dtype="float32"), MATRIX)
    assert out.dtype == np.float64
    assert out.shape == (5, 3)
    with pytest.raises(
        InvalidParameterValue, match=r"Shape of the input tensor \(2, 4\) does not match.*\(-1, 3\)"
    ):
        enforce_input(np.ones((2, 4)), MATRIX)
    with pytest.raises(
        InvalidParameterValue, match="dtype of the input tensor is str, the signature expects float64"
    ):
        enforce_input(np.array([["a", "b", "c"]]), MATRIX)


@pytest.mark.parametrize(
    ("given", "expected", "accepted"),
    [
        ("int32", "int64", True),
        ("float32", "float64", True),
        ("int32", "float64", True),
        ("int64", "int32", False),
        ("float64", "float32", False),
        ("float64", "int64", False),
        ("bool", "int64", True),
    ],
)
def test_tensor_casts_are_safe_only(given: str, expected: str, accepted: bool) -> None:
    schema = Schema([TensorSpec(expected, (-1,))])
    if accepted:
        assert enforce_input(np.ones(3, dtype=given), schema).dtype == np.dtype(expected)
    else:
        with pytest.raises(InvalidParameterValue, match=f"is {given}, the signature expects {expected}"):
            enforce_input(np.ones(3, dtype=given), schema)


def test_json_lists_take_the_tensor_dtype_when_no_value_changes() -> None:
    assert enforce_input([[1, 2.5, 3]], MATRIX).dtype == np.float64
    ints = Schema([TensorSpec("int32", (-1,))])
    assert enforce_input([1.0, 2.0], ints).dtype == np.int32
    with pytest.raises(InvalidParameterValue, match="expects int32"):
        enforce_input([1.5], ints)


def test_named_tensors() -> None:
    schema = Schema([TensorSpec("float32", (-1, 2), "x"), TensorSpec("int64", (-1,), "y")])
    out = enforce_input({"x": np.ones((2, 2), dtype="float32"), "y": np.arange(2, dtype="int32")}, schema)
    assert set(out) == {"x", "y"}
    assert out["y"].dtype == np.int64
    with pytest.raises(InvalidParameterValue, match=r"missing tensor\(s\) \['y'\]"):
        enforce_input({"x": np.ones((2, 2), dtype="float32")}, schema)
    with pytest.raises(InvalidParameterValue, match="tensor 'x'"):
        enforce_input({"x": np.ones((2, 3), dtype="float32"), "y": np.arange(2)}, schema)
    from_frame = enforce_input(pd.DataFrame({"x": [[1.0, 2.0], [3.0, 4.0]], "y": [1, 2]}), schema)
    assert from_frame["x"].dtype == np.float32
    assert from_frame["x"].shape == (2, 2)


def test_dataframe_into_an_unnamed_tensor() -> None:
    out = enforce_input(pd.DataFrame(np.ones((2, 3))), MATRIX)
    assert out.shape == (2, 3)
    with pytest.raises(InvalidParameterValue, match="empty"):
        enforce_input(pd.DataFrame(), MATRIX)


# --- parity with MLflow ---------------------------------------------------------------------------

PARITY: list[tuple[str, Any, Any, bool]] = [
    ("safe-int32", pd.DataFrame({"a": np.array([1], dtype="int32"), "b": [1.0]}), COLUMNS, True),
    ("missing-column", pd.DataFrame({"b": [1.0]}), COLUMNS, False),
    ("float-into-long", pd.DataFrame({"a": [1.5], "b": [1.0]}), COLUMNS, False),
    ("string-into-double", pd.DataFrame({"a": [1], "b": ["x"]}), COLUMNS, False),
    ("double-into-float", pd.DataFrame({"f": [1.5]}), Schema([ColSpec(DataType.float, "f")]), False),
    ("tensor-shape", np.ones((2, 4)), MATRIX, False),
    ("tensor-ok", np.ones((2, 3)), MATRIX, True),
    ("unnamed-count", np.ones((2, 1)), Schema([ColSpec(DataType.double), ColSpec(DataType.double)]), False),
]


@pytest.mark.parametrize(("data", "schema", "accepted"), [p[1:] for p in PARITY], ids=[p[0] for p in PARITY])
def test_accepts_and_refuses_like_mlflow(data: Any, schema: Schema, accepted: bool) -> None:
    theirs = MlflowSignature.from_dict(ModelSignature(schema).to_dict()).inputs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow_enforce_schema(data, theirs)
        mlflow_accepted = True
    except MlflowException:
        mlflow_accepted = False
    try:
        enforce_input(data, schema)
        ours = True
    except InvalidParameterValue:
        ours = False
    assert (ours, mlflow_accepted) == (accepted, accepted)


# --- properties ----------------------------------------------------------------------------------

_kinds = st.sampled_from(["int8", "int16", "int32", "int64", "float32", "float64", "bool"])


@settings(max_examples=40, deadline=None)
@given(kinds=st.lists(_kinds, min_size=1, max_size=4), rows=st.integers(1, 4))
def test_a_frame_always_satisfies_its_own_schema(kinds: list[str], rows: int) -> None:
    df = pd.DataFrame({f"c{i}": np.ones(rows, dtype=k) for i, k in enumerate(kinds)})
    schema = infer_schema(df)
    out = enforce_input(df, schema)
    assert list(out.columns) == list(df.columns)
    assert (out.to_numpy() == df.to_numpy()).all()
    assert Schema.from_json(schema.to_json()) == schema


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), batch=st.integers(1, 4))
def test_any_batch_size_matches_minus_one(shape: list[int], batch: int) -> None:
    schema = infer_schema(np.zeros(shape, dtype="float32"))
    out = enforce_input(np.zeros([batch, *shape[1:]], dtype="float32"), schema)
    assert out.shape == (batch, *shape[1:])
