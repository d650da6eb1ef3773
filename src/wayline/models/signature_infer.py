"""Inferring a signature from example data, with MLflow's rules so both tools infer the same thing.

* pandas DataFrame / Series, list of dicts, dict of scalars or lists, scalars, lists -> columns
  (:class:`~wayline.models.signature.ColSpec`); a column with missing values is optional.
* numpy array, scipy sparse matrix -> one tensor; dict of numpy arrays -> named tensors
  (:class:`~wayline.models.signature.TensorSpec`), with -1 for the first (batch) axis.
* params: scalars, 1-D lists (shape ``(-1,)``) and dicts, the example value becoming the default.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.signature import (
    ColSpec,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    _clean_dtype,
)
from wayline.models.signature_types import (
    AnyType,
    Array,
    ColType,
    DataType,
    Object,
    Property,
    merge_types,
)

logger = logging.getLogger(__name__)

_SCALAR_TYPES: dict[type, DataType] = {
    bool: DataType.boolean,
    np.bool_: DataType.boolean,
    int: DataType.long,
    np.int64: DataType.long,
    np.int32: DataType.integer,
    float: DataType.double,
    np.float64: DataType.double,
    np.float32: DataType.float,
    str: DataType.string,
    np.str_: DataType.string,
    bytes: DataType.binary,
    np.bytes_: DataType.binary,
    bytearray: DataType.binary,
}


def numpy_data_type(dtype: Any) -> DataType:
    """The column type of a numpy dtype or pandas extension dtype (MLflow's mapping)."""
    kind, size = dtype.kind, getattr(dtype, "itemsize", 8)
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    elif kind == "f":
        if size <= 4:
            return DataType.float
        if size <= 8:
            return DataType.double
    elif kind == "U":
        return DataType.string
    elif kind == "S":
        return DataType.binary
    elif kind == "M":
        return DataType.datetime
    raise InvalidParameterValue(f"Unsupported data type {dtype} for a signature column")


def _is_missing(x: object) -> bool:
    if isinstance(x, float):
        return bool(np.isnan(x))
    return x is None or x is pd.NA or x is pd.NaT


def _infer_scalar(value: object) -> DataType:
    found = _SCALAR_TYPES.get(type(value))
    if found is not None:
        return found
    if isinstance(value, (dt.date, np.datetime64)):
        return DataType.datetime
    if isinstance(value, np.generic):
        return numpy_data_type(value.dtype)
    raise invalid_value("input_example", value, f"type {type(value).__name__} has no signature type")


def infer_type(value: Any) -> ColType | None:
    """The type of one JSON-like value; None for an empty numpy array (undetermined)."""
    if _is_missing(value) or (isinstance(value, (list, dict)) and not value):
        return AnyType()
    if isinstance(value, dict):
        props = []
        for k, v in value.items():
            t = infer_type(v)
            if t is None:
                raise invalid_value(f"input_example.{k}", v, "an empty numpy array has no type")
            props.append(Property(str(k), t, not isinstance(t, AnyType)))
        return Object(tuple(props))
    if isinstance(value, (list, np.ndarray)):
        return _infer_array(value)
    return _infer_scalar(value)


def _infer_array(values: list[Any] | np.ndarray[Any, Any]) -> Array | None:
    result: ColType | None = None
    for item in values:
        t = infer_type(item)
        if t is None:
            continue
        if result is None:
            result = t
        elif isinstance(result, DataType):
            if not isinstance(t, AnyType) and t != result:
                raise InvalidParameterValue(
                    f"Values of several types in one list or column: {result.value} and {t!r}"
                )
        else:
            result = merge_types(result, t)
    return None if result is None else Array(result)


def _colspec_type(value: Any) -> ColType:
    t = infer_type(value)
    if t is None:
        raise invalid_value("input_example", value, "an empty numpy array has no type")
    return t


def _infer_required(value: Any) -> bool:
    if isinstance(value, (list, pd.Series)):
        return not any(_is_missing(x) for x in value)
    return not _is_missing(value)


def _pandas_column_type(col: pd.Series[Any]) -> ColType:
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind != "O":
        return numpy_data_type(col.dtype)
    try:
        t = _colspec_type(col.to_list())
        return t.dtype if isinstance(t, Array) else t
    except InvalidParameterValue:
        if pd.api.types.is_string_dtype(col):
            return DataType.string
        raise


def _name(name: object) -> str | None:
    return None if name is None else str(name)


def _tensor(array: Any, name: str | None = None) -> TensorSpec:
    dtype = array.data.dtype if _is_sparse(array) else array.dtype
    shape = list(array.shape)
    if not shape:
        raise invalid_value("input_example", array, "a 0-d array has no batch axis")
    shape[0] = -1
    return TensorSpec(_clean_dtype(dtype), tuple(shape), name)


def _is_sparse(data: object) -> bool:
    return type(data).__module__.startswith("scipy.sparse") and hasattr(data, "data")


def infer_schema(data: Any) -> Schema:
    """The schema of an example; InvalidParameterValue for data that has none."""
    if isinstance(data, list) and not data:
        return Schema([ColSpec(DataType.string)])
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        columns: dict[str, list[Any]] = {}
        for row in data:
            for k, v in row.items():
                columns.setdefault(k, []).append(v)
        return Schema(
            [
                ColSpec(
                    _array_item(_colspec_type(values)), str(k), all(row.get(k) is not None for row in data)
                )
                for k, values in columns.items()
            ]
        )
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor(v, str(k)) for k, v in data.items()])
        if not data or not all(isinstance(k, str) for k in data):
            raise invalid_value("input_example", data, "dictionary keys must be strings")
        return Schema([ColSpec(_colspec_type(v), k, _infer_required(v)) for k, v in data.items()])
    if isinstance(data, pd.Series):
        return Schema([ColSpec(_pandas_column_type(data), _name(data.name), _infer_required(data))])
    if isinstance(data, pd.DataFrame):
        if data.columns.empty:
            raise invalid_value("input_example", data, "a DataFrame without columns has no schema")
        return Schema(
            [
                ColSpec(_pandas_column_type(data.iloc[:, i]), _name(col), _infer_required(data.iloc[:, i]))
                for i, col in enumerate(data.columns)
            ]
        )
    if isinstance(data, np.ndarray) or _is_sparse(data):
        return Schema([_tensor(data)])
    if isinstance(data, list):
        return Schema([ColSpec(_array_item(_colspec_type(data)))])
    try:
        return Schema([ColSpec(_colspec_type(data))])
    except InvalidParameterValue as e:
        raise InvalidParameterValue(
            "Cannot infer a schema: expected a pandas DataFrame or Series, a numpy array, a dict of numpy "
            f"arrays, a list of dicts, a dict, a list or a scalar; got {type(data).__name__} ({e})"
        ) from None


def _array_item(t: ColType) -> ColType:
    return t.dtype if isinstance(t, Array) else t


def _param_type_and_shape(name: str, value: Any) -> tuple[DataType | Object, tuple[int, ...] | None]:
    if isinstance(value, (list, np.ndarray)):
        if _depth(value) != 1:
            raise invalid_value(name, value, "parameters are scalars, 1-D lists or dicts")
        if len(value) and all(isinstance(v, (dt.date, np.datetime64)) for v in value):
            return DataType.datetime, (-1,)
        return numpy_data_type(np.asarray(value).dtype), (-1,)
    if isinstance(value, (dt.date, np.datetime64)):
        return DataType.datetime, None
    if isinstance(value, dict):
        t = infer_schema({"value": value}).inputs[0]
        assert isinstance(t, ColSpec)
        assert isinstance(t.type, Object)
        return t.type, None
    if np.isscalar(value):
        return numpy_data_type(np.asarray(value).dtype), None
    raise invalid_value(name, value, "parameters are scalars, 1-D lists or dicts")


def _depth(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.ndim)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def infer_param_schema(params: Mapping[str, Any]) -> ParamSchema:
    """A ParamSchema whose defaults are the given values."""
    if not isinstance(params, Mapping):
        raise invalid_value("params", params, "expected a dict of parameter names to values")
    specs = []
    for name, value in params.items():
        dtype, shape = _param_type_and_shape(str(name), value)
        specs.append(ParamSpec(str(name), dtype, copy.deepcopy(value), shape))
    return ParamSchema(specs)


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """A signature for a model that takes ``model_input`` (and ``params``) and returns ``model_output``.

    As in MLflow, data whose schema cannot be inferred gets a column of type ``any`` (with a
    logged warning) instead of an error; bad params raise.
    """
    schemas: dict[str, Schema | None] = {}
    for key, data in (("inputs", model_input), ("outputs", model_output)):
        schemas[key] = None if data is None else _infer_or_any(key, data)
    param_schema = infer_param_schema(params) if params else None
    return ModelSignature(schemas["inputs"], schemas["outputs"], param_schema)


def _infer_or_any(key: str, data: Any) -> Schema:
    try:
        schema = infer_schema(data)
    except InvalidParameterValue as e:
        logger.warning("Cannot infer the schema of the %s (%s); using a column of type 'any'", key, e)
        return Schema([ColSpec(AnyType())])
    if not schema.is_tensor_spec() and any(
        t in (DataType.integer, DataType.long) for t in schema.input_types()
    ):
        logger.info(
            "The %s schema has integer columns: integers cannot hold missing values; declare such "
            "columns as double if missing values may occur at inference time",
            key,
        )
    return schema
