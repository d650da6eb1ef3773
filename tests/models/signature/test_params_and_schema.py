"""enforce_params, and the validation of hand-made or hostile signature JSON."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayline.errors import InvalidParameterValue
from wayline.models.enforce import enforce_params
from wayline.models.signature import (
    ColSpec,
    DataType,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    infer_signature,
)
from wayline.models.signature_infer import infer_param_schema

PARAMS = ParamSchema(
    [
        ParamSpec("alpha", DataType.double, 0.5),
        ParamSpec("n", DataType.long, 3),
        ParamSpec("names", DataType.string, ["a"], (-1,)),
        ParamSpec("when", DataType.datetime, dt.datetime(2020, 1, 1)),
        ParamSpec("flag", DataType.boolean, False),
    ]
)


def test_defaults_fill_missing_params() -> None:
    assert enforce_params(None, PARAMS) == {
        "alpha": 0.5,
        "n": 3,
        "names": ["a"],
        "when": dt.datetime(2020, 1, 1),
        "flag": False,
    }


def test_given_params_are_converted() -> None:
    out = enforce_params(
        {"alpha": 2, "n": np.int32(7), "names": np.array(["x", "y"]), "when": "2021-02-03"}, PARAMS
    )
    assert out is not None
    assert out["alpha"] == 2.0
    assert type(out["alpha"]) is float
    assert type(out["n"]) is int
    assert out["names"] == ["x", "y"]
    assert out["when"] == dt.date(2021, 2, 3)


def test_unknown_params_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wayline.models.enforce"):
        out = enforce_params({"alpha": 1.0, "bogus": 2}, PARAMS)
    assert out is not None
    assert "bogus" not in out
    assert "bogus" in caplog.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"alpha": "x"}, "parameter 'alpha': expected double, got str"),
        ({"n": 1.5}, "parameter 'n': expected long, got float"),
        ({"n": True}, "parameter 'n': expected long, got bool"),
        ({"flag": 1}, "parameter 'flag': expected boolean, got int"),
        ({"names": "a"}, "parameter 'names': expected a 1-D list of string"),
        ({"names": [["a"]]}, "parameter 'names': expected a 1-D list of string"),
        ({"names": ["a", 1]}, "parameter 'names': expected string, got int"),
        ({"when": "not a date"}, "parameter 'when': expected a datetime"),
    ],
)
def test_wrong_param_types_name_the_param(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        enforce_params(params, PARAMS)


def test_params_without_a_schema_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    assert enforce_params(None, None) is None
    assert enforce_params({}, None) == {}
    with caplog.at_level(logging.WARNING, logger="wayline.models.enforce"):
        assert enforce_params({"x": 1}, None) == {}
    assert "declares no params" in caplog.text


def test_params_must_be_a_dict() -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'params'"):
        enforce_params(["alpha"], PARAMS)  # type: ignore[arg-type]


def test_param_spec_defaults_are_checked() -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'k': expected long, got str"):
        ParamSpec("k", DataType.long, "three")
    with pytest.raises(InvalidParameterValue, match="binary parameters are not supported"):
        ParamSpec("b", DataType.binary, b"x")
    with pytest.raises(InvalidParameterValue, match=r"params\.k\.shape"):
        ParamSpec("k", DataType.long, [1], (2,))


def test_param_inference_refuses_nested_lists() -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'grid'"):
        infer_param_schema({"grid": [[1, 2]]})


@settings(max_examples=50, deadline=None)
@given(
    value=st.one_of(
        st.integers(-(2**62), 2**62),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.text(max_size=10),
        st.lists(st.integers(-1000, 1000), min_size=1, max_size=4),
        st.lists(st.text(max_size=5), min_size=1, max_size=4),
    )
)
def test_an_inferred_param_accepts_its_own_value_and_survives_json(value: Any) -> None:
    schema = infer_param_schema({"p": value})
    assert enforce_params({"p": value}, schema) == {"p": value}
    assert ParamSchema.from_json(schema.to_json()) == schema


# --- schema validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "at least one input"),
        ([ColSpec(DataType.long, "a"), TensorSpec("float64", (-1,), "b")], "not a mix"),
        ([ColSpec(DataType.long, "a"), ColSpec(DataType.long)], "all named or all unnamed"),
        ([TensorSpec("float64", (-1,)), TensorSpec("float64", (-1,))], "needs a name for each"),
        ([ColSpec(DataType.long, required=False)], "Unnamed inputs cannot be optional"),
        ([ColSpec(DataType.long, "a"), ColSpec(DataType.double, "a")], "Duplicated input names"),
    ],
)
def test_invalid_schemas(specs: list[Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        Schema(specs)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ("not json", "signature"),
        ('{"type": "long"}', "signature"),
        ('[{"name": "a"}]', "signature[0]"),
        ('[{"type": "decimal", "name": "a"}]', "signature[0]"),
        ('[{"type": "long", "name": "a", "required": "yes"}]', "signature[0].required"),
        ('[{"type": "array", "name": "a"}]', "signature[0].items"),
        ('[{"type": "object", "name": "o", "properties": []}]', "signature[0].properties"),
        ('[{"type": "tensor", "tensor-spec": {"dtype": "float64"}}]', "signature[0].tensor-spec"),
        ('[{"type": "tensor", "tensor-spec": {"dtype": "nope", "shape": [-1]}}]', "tensor-spec.dtype"),
        ('[{"type": "tensor", "tensor-spec": {"dtype": "<U5", "shape": [-1]}}]', "tensor-spec.dtype"),
        ('[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": ["x"]}}]', "tensor-spec.shape"),
    ],
)
def test_malformed_signature_json_names_the_field(inputs: str, field: str) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(f"parameter '{field}'")):
        ModelSignature.from_dict({"inputs": inputs})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ('[{"name": "a", "type": "long"}]', "params"),
        ('[{"name": "a", "type": "binary", "default": "x"}]', "params.a.type"),
        ('[{"name": "a", "type": "long", "default": "x"}]', "a"),
        ('[{"name": "a", "type": "long", "default": 1, "shape": [3]}]', "params.a.shape"),
    ],
)
def test_malformed_params_json_names_the_field(params: str, field: str) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(f"parameter '{field}'")):
        ModelSignature.from_dict({"params": params})


def test_signature_needs_something() -> None:
    with pytest.raises(InvalidParameterValue, match="at least one"):
        ModelSignature(None)
    with pytest.raises(InvalidParameterValue, match=r"signature\.inputs"):
        ModelSignature("inputs")  # type: ignore[arg-type]


def test_mlflow_legacy_dtype_key_and_decoded_lists_are_read() -> None:
    sig = ModelSignature.from_dict(
        {
            "inputs": [{"type": "long", "name": "a"}],
            "params": '[{"name": "k", "dtype": "double", "default": 1}]',
        }
    )
    assert sig.inputs == Schema([ColSpec(DataType.long, "a")])
    assert sig.params == ParamSchema([ParamSpec("k", DataType.double, 1.0)])


def test_to_dict_is_json_strings_or_none() -> None:
    sig = infer_signature(np.zeros((2, 3), dtype="float32"))
    d = sig.to_dict()
    assert d["outputs"] is None
    assert d["params"] is None
    assert json.loads(d["inputs"] or "") == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    ]


def test_schema_helpers() -> None:
    schema = Schema([ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b", required=False)])
    assert schema.has_input_names()
    assert not schema.is_tensor_spec()
    assert schema.input_names() == ["a", "b"]
    assert schema.required_input_names() == ["a"]
    assert schema.optional_input_names() == ["b"]
    assert len(schema) == 2
    assert repr(schema) == "Schema(['a': long (required), 'b': string (optional)])"
    unnamed = Schema([TensorSpec("str", (-1,))])
    assert unnamed.input_names() == [0]
    assert unnamed.input_types() == ["str"]
