"""The value types of a column-based signature, in MLflow's JSON vocabulary.

A column is a scalar :class:`DataType` (``long``, ``string``...) or, for JSON-like data, an
:class:`Array`, an :class:`Object` (named :class:`Property` items), a :class:`Map` (string keys) or
:class:`AnyType` (no check at all). Each type turns into the dict MLflow writes in an ``MLmodel``
file (``{"type": "array", "items": {"type": "long"}}``) and back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeAlias

import numpy as np

from wayline.errors import InvalidParameterValue, invalid_value

ARRAY_TYPE = "array"
OBJECT_TYPE = "object"
MAP_TYPE = "map"
ANY_TYPE = "any"


class DataType(str, Enum):
    """A scalar column type; the value is MLflow's name for it."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __repr__(self) -> str:
        return self.value

    def to_numpy(self) -> np.dtype[Any]:
        """The numpy dtype a column of this type is stored in."""
        return np.dtype(_NUMPY_NAMES[self])

    def to_pandas(self) -> np.dtype[Any]:
        """The pandas dtype of such a column (strings and bytes are ``object`` columns)."""
        if self in (DataType.string, DataType.binary):
            return np.dtype(object)
        return self.to_numpy()

    def to_python(self) -> type:
        """The Python type of one value (``int`` for integer and long)."""
        return _PYTHON_TYPES[self]


_NUMPY_NAMES: dict[DataType, str] = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}
_PYTHON_TYPES: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: dt.date,
}


def data_type(name: object, *, field: str = "type") -> DataType:
    """The DataType called ``name``; InvalidParameterValue naming ``field`` otherwise."""
    if isinstance(name, DataType):
        return name
    try:
        return DataType(name)
    except ValueError:
        allowed = ", ".join(t.value for t in DataType)
        raise invalid_value(field, name, f"expected one of {allowed}") from None


@dataclass(frozen=True)
class AnyType:
    """Any JSON value, including None; never checked."""

    def __repr__(self) -> str:
        return "Any"


@dataclass(frozen=True)
class Array:
    """A list whose items all have ``dtype``."""

    dtype: ColType

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


@dataclass(frozen=True)
class Property:
    """One named field of an :class:`Object`."""

    name: str
    dtype: ColType
    required: bool = True


@dataclass(frozen=True)
class Object:
    """A dict with named, typed properties (kept sorted by name, as MLflow does)."""

    properties: tuple[Property, ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.properties]
        if len(set(names)) != len(names):
            raise InvalidParameterValue(f"Duplicated property names in object type: {names}")
        object.__setattr__(self, "properties", tuple(sorted(self.properties, key=lambda p: p.name)))

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{p.name}: {p.dtype!r}" for p in self.properties) + "}"


@dataclass(frozen=True)
class Map:
    """A dict with string keys and values of ``value_type``."""

    value_type: ColType

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"


ColType: TypeAlias = "DataType | Array | Object | Map | AnyType"


def type_to_dict(t: ColType) -> dict[str, Any]:
    """MLflow's JSON form of a column type (without name/required)."""
    if isinstance(t, DataType):
        return {"type": t.value}
    if isinstance(t, Array):
        return {"type": ARRAY_TYPE, "items": type_to_dict(t.dtype)}
    if isinstance(t, Object):
        props: dict[str, Any] = {}
        for p in t.properties:
            props[p.name] = {**type_to_dict(p.dtype), "required": p.required}
        return {"type": OBJECT_TYPE, "properties": props}
    if isinstance(t, Map):
        return {"type": MAP_TYPE, "values": type_to_dict(t.value_type)}
    return {"type": ANY_TYPE}


def type_from_dict(d: object, *, field: str = "type") -> ColType:
    """Parse MLflow's JSON form of a column type; InvalidParameterValue naming ``field`` if malformed."""
    if not isinstance(d, Mapping) or "type" not in d:
        raise invalid_value(field, d, "expected an object with a 'type' key")
    kind = d["type"]
    if kind == ARRAY_TYPE:
        return Array(type_from_dict(d.get("items"), field=f"{field}.items"))
    if kind == MAP_TYPE:
        return Map(type_from_dict(d.get("values"), field=f"{field}.values"))
    if kind == ANY_TYPE:
        return AnyType()
    if kind == OBJECT_TYPE:
        raw = d.get("properties")
        if not isinstance(raw, Mapping):
            raise invalid_value(f"{field}.properties", raw, "expected an object of properties")
        props = []
        for name, spec in raw.items():
            sub = f"{field}.properties.{name}"
            required = spec.get("required", True) if isinstance(spec, Mapping) else True
            if not isinstance(required, bool):
                raise invalid_value(f"{sub}.required", required, "expected a boolean")
            props.append(Property(str(name), type_from_dict(spec, field=sub), required))
        return Object(tuple(props))
    return data_type(kind, field=field)


def type_name(t: ColType) -> str:
    """A short human name for error messages."""
    return t.value if isinstance(t, DataType) else repr(t)


class _MergeError(Exception):
    pass


def merge_types(a: ColType, b: ColType) -> ColType:
    """The type that covers values of both ``a`` and ``b`` (MLflow's rules); InvalidParameterValue if none."""
    try:
        return _merge(a, b)
    except _MergeError as e:
        raise InvalidParameterValue(f"Incompatible types in the data: {e}") from None


def _merge(a: ColType, b: ColType) -> ColType:
    if a == b:
        return a
    if isinstance(a, AnyType):
        return _optional(b)
    if isinstance(b, AnyType):
        return _optional(a)
    if isinstance(a, Array) and isinstance(b, Array):
        return Array(_merge(a.dtype, b.dtype))
    if isinstance(a, Map) and isinstance(b, Map):
        return Map(_merge(a.value_type, b.value_type))
    if isinstance(a, Object) and isinstance(b, Object):
        left = {p.name: p for p in a.properties}
        right = {p.name: p for p in b.properties}
        merged = []
        for name in left.keys() | right.keys():
            if name in left and name in right:
                pa, pb = left[name], right[name]
                merged.append(Property(name, _merge(pa.dtype, pb.dtype), pa.required and pb.required))
            else:
                p = left.get(name) or right[name]
                merged.append(Property(name, p.dtype, False))
        return Object(tuple(merged))
    raise _MergeError(f"{type_name(a)} and {type_name(b)}")


def _optional(t: ColType) -> ColType:
    """Merging with AnyType (a None value) makes an object's properties optional."""
    if isinstance(t, Object):
        return Object(tuple(Property(p.name, p.dtype, False) for p in t.properties))
    return t
