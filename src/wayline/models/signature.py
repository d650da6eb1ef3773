"""Model signatures: what a model takes (inputs, params) and returns (outputs).

The JSON written here is MLflow's, byte for byte in structure, so an ``MLmodel`` file written by
Wayline is read by ``mlflow.models.ModelSignature.from_dict`` and the other way round::

    signature:
      inputs: '[{"type": "double", "name": "x", "required": true}]'
      outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
      params: '[{"name": "alpha", "default": 0.5, "shape": null, "type": "double"}]'

A :class:`Schema` is either column based (a list of :class:`ColSpec`, for tables) or tensor based (a
list of :class:`TensorSpec`, for numpy arrays), never both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.signature_types import (
    AnyType,
    Array,
    ColType,
    DataType,
    Map,
    Object,
    Property,
    data_type,
    type_from_dict,
    type_to_dict,
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "infer_schema",
    "infer_signature",
]


@dataclass(frozen=True)
class ColSpec:
    """One column: its type, optional name, and whether it must be present."""

    type: ColType
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    def __repr__(self) -> str:
        flag = "required" if self.required else "optional"
        return f"{self.type!r} ({flag})" if self.name is None else f"{self.name!r}: {self.type!r} ({flag})"


def _clean_dtype(dtype: np.dtype[Any]) -> str:
    """numpy's name for a dtype without the size of flexible types ('<U5' -> 'str')."""
    if dtype.char == "U":
        return "str"
    if dtype.char == "S":
        return "bytes"
    return str(dtype.name)


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: numpy dtype name ('float32', 'str', 'object'...) and shape, -1 for a free axis."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        try:
            parsed = np.dtype(self.dtype)
        except TypeError:
            raise invalid_value("tensor-spec.dtype", self.dtype, "not a numpy dtype") from None
        if parsed.char in "US" and _clean_dtype(parsed) != self.dtype:
            raise invalid_value(
                "tensor-spec.dtype", self.dtype, "flexible dtypes take no size ('str', 'bytes')"
            )
        object.__setattr__(self, "dtype", _clean_dtype(parsed))
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in self.shape):
            raise invalid_value("tensor-spec.shape", self.shape, "expected a list of integers >= -1")
        object.__setattr__(self, "shape", tuple(self.shape))

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(self.dtype)

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return spec if self.name is None else {"name": self.name, **spec}

    def __repr__(self) -> str:
        text = f"Tensor({self.dtype!r}, {self.shape!r})"
        return text if self.name is None else f"{self.name!r}: {text}"


InputSpec = ColSpec | TensorSpec


class Schema:
    """The inputs or outputs of a model: all ColSpec or all TensorSpec, all named or all unnamed."""

    def __init__(self, inputs: Sequence[ColSpec] | Sequence[TensorSpec]) -> None:
        items: list[Any] = list(inputs)
        if not items:
            raise InvalidParameterValue("A schema needs at least one input")
        if not (all(isinstance(x, ColSpec) for x in items) or all(isinstance(x, TensorSpec) for x in items)):
            raise InvalidParameterValue("A schema is either all ColSpec or all TensorSpec, not a mix")
        named = [x.name is not None for x in items]
        if any(named) and not all(named):
            raise InvalidParameterValue(
                f"A schema's inputs are either all named or all unnamed; got {[x.name for x in items]}"
            )
        if not any(named) and len(items) > 1 and isinstance(items[0], TensorSpec):
            raise InvalidParameterValue("A schema with several tensors needs a name for each")
        if not any(named) and not all(x.required for x in items):
            raise InvalidParameterValue("Unnamed inputs cannot be optional")
        names = [x.name for x in items if x.name is not None]
        if len(set(names)) != len(names):
            raise InvalidParameterValue(f"Duplicated input names in schema: {names}")
        self._items: list[InputSpec] = items

    @property
    def inputs(self) -> list[ColSpec] | list[TensorSpec]:
        """The column or tensor specs, in order."""
        return cast("list[ColSpec] | list[TensorSpec]", self._items)

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[InputSpec]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and list(self.inputs) == list(other.inputs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Schema({self.inputs!r})"

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """Names, or positions for an unnamed schema."""
        return [x.name if x.name is not None else i for i, x in enumerate(self._items)]

    def required_input_names(self) -> list[str | int]:
        return [x.name if x.name is not None else i for i, x in enumerate(self._items) if x.required]

    def optional_input_names(self) -> list[str | int]:
        return [x.name if x.name is not None else i for i, x in enumerate(self._items) if not x.required]

    def input_types(self) -> list[ColType | str]:
        return [x.type if isinstance(x, ColSpec) else x.dtype for x in self._items]

    def to_dict(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self._items]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Schema:
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as e:
            raise invalid_value("signature", text, f"not valid JSON ({e})") from None
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: object) -> Schema:
        if not isinstance(raw, list):
            raise invalid_value("signature", raw, "expected a JSON list of column or tensor specs")
        specs: list[Any] = [_spec_from_dict(item, i) for i, item in enumerate(raw)]
        return cls(specs)


def _spec_from_dict(item: object, index: int) -> InputSpec:
    field = f"signature[{index}]"
    if not isinstance(item, Mapping) or "type" not in item:
        raise invalid_value(field, item, "expected an object with a 'type' key")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        name = str(name)  # MLflow writes the integer column names of a DataFrame as JSON numbers
    if item["type"] == "tensor":
        info = item.get("tensor-spec")
        if not isinstance(info, Mapping) or not isinstance(info.get("shape"), list):
            raise invalid_value(f"{field}.tensor-spec", info, "expected {'dtype': ..., 'shape': [...]}")
        return TensorSpec(str(info.get("dtype")), tuple(info["shape"]), name)
    required = item.get("required", True)
    if not isinstance(required, bool):
        raise invalid_value(f"{field}.required", required, "expected a boolean")
    return ColSpec(type_from_dict(item, field=field), name, required)


@dataclass(frozen=True)
class ParamSpec:
    """An inference parameter: name, type, default and shape (None for a scalar, (-1,) for a list)."""

    name: str
    dtype: DataType | Object
    default: Any
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.dtype, str):
            object.__setattr__(self, "dtype", data_type(self.dtype, field=f"params.{self.name}.type"))
        if self.dtype == DataType.binary:
            raise invalid_value(f"params.{self.name}.type", "binary", "binary parameters are not supported")
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(self.shape))
            if self.shape != (-1,):
                raise invalid_value(
                    f"params.{self.name}.shape", self.shape, "expected null (a scalar) or [-1] (a list)"
                )
        from wayline.models.enforce_value import enforce_param_value

        object.__setattr__(self, "default", enforce_param_value(self, self.default))

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.dtype == DataType.datetime and default is not None:
            default = [v.isoformat() for v in default] if self.shape else default.isoformat()
        d: dict[str, Any] = {
            "name": self.name,
            "default": default,
            "shape": list(self.shape) if self.shape is not None else None,
        }
        d.update(type_to_dict(self.dtype))
        return d

    @classmethod
    def from_dict(cls, raw: object) -> ParamSpec:
        if not isinstance(raw, Mapping) or "name" not in raw or "default" not in raw:
            raise invalid_value("params", raw, "expected an object with 'name', 'type' and 'default'")
        kind = raw.get("type") or raw.get("dtype")  # MLflow accepts both keys
        field = f"params.{raw['name']}.type"
        dtype = type_from_dict({**raw, "type": kind}, field=field)
        if not isinstance(dtype, (DataType, Object)):
            raise invalid_value(field, kind, "expected a scalar type or an object")
        shape = raw.get("shape")
        if shape is not None and not isinstance(shape, (list, tuple)):
            raise invalid_value(f"params.{raw['name']}.shape", shape, "expected null or [-1]")
        return cls(str(raw["name"]), dtype, raw["default"], tuple(shape) if shape is not None else None)


class ParamSchema:
    """The parameters a model accepts at inference time."""

    def __init__(self, params: Sequence[ParamSpec]) -> None:
        self.params = list(params)
        names = [p.name for p in self.params]
        if dups := sorted({n for n in names if names.count(n) > 1}):
            raise InvalidParameterValue(f"Duplicated parameters found in schema: {dups}")

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ParamSchema({self.params!r})"

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> ParamSchema:
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as e:
            raise invalid_value("signature.params", text, f"not valid JSON ({e})") from None
        if not isinstance(raw, list):
            raise invalid_value("signature.params", raw, "expected a JSON list of parameter specs")
        return cls([ParamSpec.from_dict(x) for x in raw])


@dataclass
class ModelSignature:
    """Inputs, outputs and params of a model; ``to_dict`` gives the ``signature`` block of an MLmodel."""

    inputs: Schema | None
    outputs: Schema | None = None
    params: ParamSchema | None = None

    def __post_init__(self) -> None:
        for field, value, kind in (
            ("inputs", self.inputs, Schema),
            ("outputs", self.outputs, Schema),
            ("params", self.params, ParamSchema),
        ):
            if value is not None and not isinstance(value, kind):
                raise invalid_value(f"signature.{field}", value, f"expected a {kind.__name__} or None")
        if self.inputs is None and self.outputs is None and self.params is None:
            raise InvalidParameterValue("A signature needs at least one of inputs, outputs or params")

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's form: each part a JSON string, or None."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelSignature:
        """Read MLflow's form (JSON strings); lists already decoded are accepted too."""
        if not isinstance(d, Mapping):
            raise invalid_value("signature", d, "expected a mapping with inputs, outputs and params")

        def schema(key: str) -> Schema | None:
            raw = d.get(key)
            if not raw:
                return None
            return Schema.from_json(raw) if isinstance(raw, (str, bytes)) else Schema.from_dict(raw)

        raw_params = d.get("params")
        params = None
        if raw_params:
            if isinstance(raw_params, (str, bytes)):
                params = ParamSchema.from_json(raw_params)
            else:
                params = ParamSchema.from_json(json.dumps(raw_params, default=str))
        return cls(schema("inputs"), schema("outputs"), params)


def infer_schema(data: Any) -> Schema:
    """The schema of ``data`` (see :func:`wayline.models.signature_infer.infer_schema`)."""
    from wayline.models.signature_infer import infer_schema as infer

    return infer(data)


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """A signature inferred from an input example, the model's output on it, and inference params."""
    from wayline.models.signature_infer import infer_signature as infer

    return infer(model_input, model_output, params)
