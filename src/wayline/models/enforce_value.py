"""Checking and safely casting single columns, JSON-like cells and parameter values to a signature type.

Safe casts only: a value is converted when no information is lost (int32 -> int64, float32 ->
float64, integers into a double column when every value is exactly representable, any datetime64
precision -> datetime64[ns]); anything else (float -> int, double -> float, strings in a numeric
column) raises :class:`~wayline.errors.InvalidParameterValue` naming the column or parameter and the
expected and given types.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.signature_types import AnyType, Array, ColType, DataType, Map, Object, type_name

if TYPE_CHECKING:
    from wayline.models.signature import ParamSpec

#: Integers up to 2**bits are exact in a float with that many mantissa bits.
_MANTISSA_BITS = {np.dtype("float64"): 53, np.dtype("float32"): 24}


def _mismatch(name: object, given: object, t: DataType, hint: str = "") -> InvalidParameterValue:
    expected = t.value if t in (DataType.string, DataType.binary) else f"{t.value} ({t.to_numpy()})"
    return InvalidParameterValue(
        f"Incompatible input types for column '{name}': expected {expected}, "
        f"got {given}; it cannot be converted safely.{hint}"
    )


def enforce_column(name: object, values: pd.Series[Any], t: DataType) -> pd.Series[Any]:
    """``values`` as a column of type ``t``; InvalidParameterValue naming ``name`` if that is not safe."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if values.dtype == object and t not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    src = values.dtype
    is_text = _is_object(src) or isinstance(src, pd.StringDtype)
    if t in (DataType.string, DataType.binary) and is_text:
        return values
    target = t.to_numpy()
    if src == target or (t == DataType.binary and src.kind == "S"):
        return values
    if t == DataType.datetime and (src.kind == "M" or is_text):
        try:
            return values.astype(np.dtype("datetime64[ns]"))
        except (TypeError, ValueError) as e:
            hint = " Use timezone-naive datetimes." if src.kind == "M" else f" ({e})"
            raise _mismatch(name, src, t, hint) from None
    if t == DataType.boolean and _is_object(src):
        if all(v is None or isinstance(v, (bool, np.bool_)) for v in values):
            return values  # booleans with missing values stay as they are (None is not False)
        raise _mismatch(name, _value_types(values), t)
    kind, size = src.kind, getattr(src, "itemsize", 0)
    if kind == target.kind:
        safe = size <= target.itemsize
    elif kind == "u" and target.kind == "i":
        safe = size < target.itemsize
    elif kind in "iu" and target.kind == "f":
        safe = ints_fit_float(values.dropna().to_numpy(), size, target)
    else:
        safe = False
    if not safe:
        hint = ""
        if kind == "f" and target.kind == "i" and values.hasnans:
            hint = (
                " Hint: integer columns cannot hold missing values, so they arrive as floats;"
                " declare the column as double if it may have missing values."
            )
        given = _value_types(values) if _is_object(src) else str(src)
        raise _mismatch(name, given, t, hint)
    try:
        return values.astype(target)
    except (TypeError, ValueError):
        raise _mismatch(name, f"{src} with missing values", t) from None


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def ints_fit_float(values: Any, itemsize: int, target: np.dtype[Any]) -> bool:
    """Whether integers of ``itemsize`` bytes (or these particular values) are exact in float ``target``."""
    bits = _MANTISSA_BITS.get(target, 0)
    if itemsize * 8 < bits:
        return True
    array = np.asarray(values)
    return bool(array.size == 0 or np.max(np.abs(array.astype("float64"))) <= 2**bits)


def _value_types(values: pd.Series[Any]) -> str:
    kinds = sorted({type(v).__name__ for v in values if v is not None})
    return "values of type " + "/".join(kinds) if kinds else "only missing values"


def _is_missing(value: object) -> bool:
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or value is pd.NaT


def enforce_value(value: Any, t: ColType, *, field: str, required: bool = True) -> Any:
    """One JSON-like cell checked against ``t``; InvalidParameterValue naming ``field`` on a mismatch."""
    if isinstance(t, AnyType):
        return value
    if isinstance(t, DataType):
        if not required and _is_missing(value):
            return None
        if not (np.isscalar(value) or isinstance(value, dt.date)):
            raise _cell_error(field, value, t)
        try:
            return enforce_column(field, pd.Series([value]), t).iloc[0]
        except InvalidParameterValue:
            raise _cell_error(field, value, t) from None
    if isinstance(t, Array):
        if (not required or isinstance(t.dtype, AnyType)) and (value is None or _empty(value)):
            return value
        if not isinstance(value, (list, np.ndarray)):
            raise _cell_error(field, value, t)
        if isinstance(t.dtype, DataType) and len(value) > 0:
            out = enforce_column(field, pd.Series(list(value)), t.dtype).to_numpy(dtype=t.dtype.to_numpy())
            return out.tolist() if isinstance(value, list) else out
        items = [
            enforce_value(v, t.dtype, field=f"{field}[{i}]", required=required) for i, v in enumerate(value)
        ]
        return items if isinstance(value, list) else np.array(items)
    if isinstance(t, Map):
        if (not required or isinstance(t.value_type, AnyType)) and (value is None or value == {}):
            return value
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _cell_error(field, value, t)
        return {
            k: enforce_value(v, t.value_type, field=f"{field}.{k}", required=required)
            for k, v in value.items()
        }
    return _enforce_object(value, t, field=field, required=required)


def _enforce_object(value: Any, t: Object, *, field: str, required: bool) -> Any:
    if not required and (value is None or value == {}):
        return value
    if not isinstance(value, dict):
        raise _cell_error(field, value, t)
    props = {p.name: p for p in t.properties}
    if missing := sorted(n for n, p in props.items() if p.required and n not in value):
        raise InvalidParameterValue(f"Column '{field}' is missing required properties {missing}")
    if unknown := sorted(str(k) for k in value if k not in props):
        raise InvalidParameterValue(f"Column '{field}' has properties not in the signature: {unknown}")
    return {
        k: enforce_value(v, props[k].dtype, field=f"{field}.{k}", required=props[k].required)
        for k, v in value.items()
    }


def _empty(value: object) -> bool:
    return isinstance(value, (list, np.ndarray)) and len(value) == 0


def _cell_error(field: str, value: object, t: ColType) -> InvalidParameterValue:
    return invalid_value(field, value, f"expected {type_name(t)}, got {type(value).__name__}")


# Exact value types accepted for each parameter type, and the narrower ones converted to it (MLflow's table).
_PARAM_TYPES: dict[DataType, tuple[type, ...]] = {
    DataType.boolean: (bool, np.bool_),
    DataType.integer: (int, np.int32),
    DataType.long: (int, np.int64, np.int32),
    DataType.float: (float, np.float32, int, np.int32, np.int64),
    DataType.double: (float, np.float64, np.float32, int, np.int32, np.int64),
    DataType.string: (str, np.str_),
}


def enforce_param_value(spec: ParamSpec, value: Any) -> Any:
    """``value`` checked against ``spec`` and converted to plain Python types."""
    if spec.shape == (-1,):
        try:
            one_d = isinstance(value, (list, tuple, np.ndarray)) and np.asarray(value).ndim == 1
        except ValueError:
            one_d = False
        if not one_d:
            raise invalid_value(spec.name, value, f"expected a 1-D list of {type_name(spec.dtype)}")
        return [_param_scalar(spec, v) for v in value]
    if isinstance(spec.dtype, Object):
        enforce_value(copy.deepcopy(value), spec.dtype, field=spec.name)
        return value
    return _param_scalar(spec, value)


def _param_scalar(spec: ParamSpec, value: Any) -> Any:
    t = spec.dtype
    if value is None or not isinstance(t, DataType):
        return value
    if t == DataType.datetime:
        try:
            converted = np.datetime64(value).item()
        except (TypeError, ValueError):
            converted = None
        if not isinstance(converted, dt.date):
            raise invalid_value(spec.name, value, "expected a datetime (or an ISO 8601 string)")
        return converted
    allowed = _PARAM_TYPES.get(t, ())
    if type(value) not in allowed:
        raise invalid_value(spec.name, value, f"expected {t.value}, got {type(value).__name__}")
    return t.to_python()(value)
