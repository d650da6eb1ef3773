"""Enforcing a model's signature on the data and params given to ``predict`` (MLflow's behaviour).

* Column schema: the input becomes a pandas DataFrame with the schema's columns, in its order.
  A missing required column is an error naming it; optional columns may be absent; extra columns
  are dropped with a logged warning. Each column is checked and safely cast
  (:func:`wayline.models.enforce_value.enforce_column`).
* Tensor schema: a numpy array (unnamed) or a dict of arrays (named), shape checked (-1 matches
  any size) and dtype checked, with safe casts (int32 -> int64, float32 -> float64, ...).
* Params: unknown params are ignored with a logged warning, declared ones checked and converted,
  missing ones filled with their default.

Every failure raises :class:`wayline.errors.InvalidParameterValue` naming the column, tensor or
param and the expected and given types.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.enforce_value import enforce_column, enforce_param_value, enforce_value, ints_fit_float
from wayline.models.signature import ColSpec, ParamSchema, Schema, TensorSpec, _clean_dtype
from wayline.models.signature_types import AnyType, DataType

logger = logging.getLogger(__name__)


def enforce_input(data: Any, schema: Schema | None) -> Any:
    """``data`` checked against ``schema`` and converted to what the model expects.

    Returns a DataFrame for a column schema, an ndarray (unnamed) or a dict of ndarrays (named) for
    a tensor schema, and ``data`` itself when there is no schema.
    """
    if schema is None:
        return data
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(_to_frame(data, schema), schema)


# --- columns -------------------------------------------------------------------------------------


def _to_frame(data: Any, schema: Schema) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    try:
        if isinstance(data, dict):
            return _dict_to_frame(data, schema)
        if (
            isinstance(data, np.ndarray)
            and schema.has_input_names()
            and len(schema.required_input_names()) == 1
        ):
            return pd.DataFrame({schema.required_input_names()[0]: list(data) if data.ndim > 1 else data})
        if isinstance(data, (list, tuple, np.ndarray)):
            return pd.DataFrame(list(data) if isinstance(data, tuple) else data)
        if np.isscalar(data) or data is None:
            return pd.DataFrame([data])
    except (TypeError, ValueError) as e:
        raise InvalidParameterValue(
            f"The model has a column-based signature; the input cannot be turned into a table: {e}"
        ) from None
    raise InvalidParameterValue(
        "The model has a column-based signature: expected a pandas DataFrame, a dict of columns, a list "
        f"of records or a numpy array; got {type(data).__name__}"
    )


def _dict_to_frame(data: dict[Any, Any], schema: Schema) -> pd.DataFrame:
    """A dict is one record when its values are scalars (or cells of list/dict columns), else columns."""
    types = {c.name: c.type for c in schema.inputs if isinstance(c, ColSpec)}

    def is_column(key: Any, value: Any) -> bool:
        if not isinstance(types.get(key, DataType.string), DataType):
            return False  # an array/object/map column: the value is one cell
        return isinstance(value, (list, tuple, np.ndarray, pd.Series))

    if not any(is_column(k, v) for k, v in data.items()):
        return pd.DataFrame([data])
    columns = {k: (list(v) if isinstance(v, np.ndarray) and v.ndim > 1 else v) for k, v in data.items()}
    return pd.DataFrame(columns)


def _enforce_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    specs = [c for c in schema.inputs if isinstance(c, ColSpec)]
    if not schema.has_input_names():
        if len(frame.columns) < len(specs):
            raise InvalidParameterValue(
                f"The model's signature declares {len(specs)} unnamed input columns but the input has "
                f"{len(frame.columns)}"
            )
        picked = {
            frame.columns[i]: _column(frame.columns[i], frame.iloc[:, i], spec)
            for i, spec in enumerate(specs)
        }
        return pd.DataFrame(picked, index=frame.index)
    by_name = {str(c): c for c in frame.columns}
    missing = [c.name for c in specs if c.required and c.name not in by_name]
    if missing:
        extra = sorted(set(by_name) - {c.name for c in specs})
        note = f"; the input has columns not in the signature: {extra}" if extra else ""
        raise InvalidParameterValue(
            f"The input is missing column(s) {missing} required by the model signature{note}"
        )
    if extra := [n for n in by_name if n not in {c.name for c in specs}]:
        logger.warning("Ignoring input columns not in the model signature: %s", extra)
    out: dict[str, pd.Series[Any]] = {}
    for spec in specs:
        if spec.name in by_name:
            assert spec.name is not None
            out[spec.name] = _column(spec.name, frame[by_name[spec.name]], spec)
    return pd.DataFrame(out, index=frame.index)


def _column(name: object, values: pd.Series[Any], spec: ColSpec) -> pd.Series[Any]:
    if isinstance(values, pd.DataFrame):
        raise InvalidParameterValue(f"The input has several columns named '{name}'")
    if isinstance(spec.type, DataType):
        return enforce_column(name, values, spec.type)
    if isinstance(spec.type, AnyType):
        return values
    cells = [enforce_value(v, spec.type, field=str(name), required=spec.required) for v in values]
    return pd.Series(cells, index=values.index, name=values.name, dtype=object)


# --- tensors -------------------------------------------------------------------------------------


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs = [t for t in schema.inputs if isinstance(t, TensorSpec)]
    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {c: data[c] for c in data.columns}
        if not isinstance(data, Mapping):
            if len(specs) == 1 and isinstance(data, (np.ndarray, list)):
                data = {specs[0].name: data}
            else:
                raise InvalidParameterValue(
                    "The model has a signature of named tensors: expected a dict of arrays (or a DataFrame) "
                    f"with keys {[t.name for t in specs]}; got {type(data).__name__}"
                )
        missing = [t.name for t in specs if t.name not in data]
        if missing:
            raise InvalidParameterValue(
                f"The input is missing tensor(s) {missing} required by the model signature"
            )
        if extra := sorted(str(k) for k in data if k not in {t.name for t in specs}):
            logger.warning("Ignoring input tensors not in the model signature: %s", extra)
        return {t.name: _tensor(t.name, data[t.name], t) for t in specs}
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InvalidParameterValue("The input DataFrame is empty")
        if len(data.columns) == 1:
            return _tensor(None, data.iloc[:, 0], spec)
        return _tensor(None, data.to_numpy(), spec)
    if isinstance(data, Mapping):
        raise InvalidParameterValue(
            "The model has a signature of one unnamed tensor: expected an array, got a dict"
        )
    return _tensor(None, data, spec)


def _tensor(name: str | None, values: Any, spec: TensorSpec) -> Any:
    what = f"tensor '{name}'" if name else "the input tensor"
    if isinstance(values, pd.Series):
        values = _series_to_array(what, values, spec)
    elif _is_sparse(values):
        return _check_tensor(what, values, values.data.dtype, spec, sparse=True)
    elif not isinstance(values, np.ndarray):
        values = _list_to_array(what, values, spec)
    return _check_tensor(what, values, values.dtype, spec)


def _list_to_array(what: str, values: Any, spec: TensorSpec) -> np.ndarray[Any, Any]:
    """Plain (JSON) lists take the signature's numeric dtype when no value changes on the way."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as e:
        raise InvalidParameterValue(f"Cannot convert {what} to a {spec.dtype} array: {e}") from None
    expected = spec.numpy_dtype
    if array.dtype.kind in "biuf" and expected.kind in "iuf" and array.dtype != expected:
        cast = array.astype(expected)
        if expected.kind == "f" or np.array_equal(cast, array):
            return cast
    return array


def _check_tensor(
    what: str, values: Any, dtype: np.dtype[Any], spec: TensorSpec, *, sparse: bool = False
) -> Any:
    expected = spec.numpy_dtype
    if spec.shape == (-1,) and expected == np.dtype(object):
        return values  # any ragged 1-D object array
    ragged = len(values.shape) == 1 and dtype == np.dtype(object) and -1 in spec.shape[1:]
    shape_ok = len(spec.shape) == len(values.shape) and all(
        e in (-1, a) for e, a in zip(spec.shape, values.shape, strict=True)
    )
    if not ragged and not shape_ok:
        raise InvalidParameterValue(
            f"Shape of {what} {tuple(values.shape)} does not match the signature's shape {spec.shape}"
        )
    if dtype == expected or (dtype.char in "US" and dtype.char == expected.char):
        return values
    if not sparse and dtype.kind in "biuf" and expected.kind in "biuf":
        if dtype.kind in "iu" and expected.kind == "f":
            safe = ints_fit_float(values, dtype.itemsize, expected)
        else:
            safe = bool(np.can_cast(dtype, expected, casting="safe"))
        if safe:
            return values.astype(expected)
    raise InvalidParameterValue(
        f"dtype of {what} is {_clean_dtype(dtype)}, the signature expects {spec.dtype}; "
        "it cannot be converted safely"
    )


def _series_to_array(what: str, series: pd.Series[Any], spec: TensorSpec) -> np.ndarray[Any, Any]:
    """A DataFrame column of scalars, lists or arrays as a tensor (MLflow's reshaping rules)."""
    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        raise InvalidParameterValue(
            f"For DataFrame input the first axis of {what} must be -1 and the others fixed; the signature "
            f"has shape {spec.shape}"
        )
    first = series.iloc[0] if len(series) else None
    if np.isscalar(first) or first is None:
        if spec.shape not in ((-1,), (-1, 1)):
            raise InvalidParameterValue(
                f"The DataFrame column for {what} holds scalars, so its shape must be (-1,) or (-1, 1); "
                f"the signature has {spec.shape}"
            )
        scalars: np.ndarray[Any, Any] = series.to_numpy().reshape(spec.shape)
        return scalars
    try:
        stacked = np.vstack(series.tolist())
        if isinstance(first, list):
            stacked = stacked.astype(spec.numpy_dtype)
        array = stacked.reshape(spec.shape)
    except (TypeError, ValueError):
        raise InvalidParameterValue(
            f"The DataFrame column for {what} cannot be reshaped to {spec.shape} of {spec.dtype}: "
            "make every row the same length"
        ) from None
    if len(array) != len(series):
        raise InvalidParameterValue(f"The DataFrame column for {what} cannot be reshaped to {spec.shape}")
    result: np.ndarray[Any, Any] = array
    return result


def _is_sparse(data: object) -> bool:
    return type(data).__module__.startswith("scipy.sparse") and hasattr(data, "data")


# --- params --------------------------------------------------------------------------------------


def enforce_params(params: Mapping[str, Any] | None, schema: ParamSchema | None) -> dict[str, Any] | None:
    """The params to pass to the model: checked, converted, with defaults for the ones not given.

    Without a params schema, given params are ignored with a warning (as MLflow does) and ``{}`` is
    returned; ``None`` stays ``None``.
    """
    if schema is None:
        if not params:
            return None if params is None else {}
        logger.warning(
            "The model signature declares no params; ignoring the given params %s", sorted(map(str, params))
        )
        return {}
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise invalid_value("params", params, "expected a dict of parameter names to values")
    given = {str(k): v for k, v in params.items()}
    known = {p.name for p in schema.params}
    if unknown := sorted(set(given) - known):
        logger.warning(
            "Ignoring params not in the model signature: %s (it declares %s)", unknown, sorted(known)
        )
    out: dict[str, Any] = {}
    for spec in schema.params:
        out[spec.name] = enforce_param_value(spec, given[spec.name]) if spec.name in given else spec.default
    return out
