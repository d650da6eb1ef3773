"""A model's input example, in MLflow's file layout.

``input_example.json`` holds the example: a pandas DataFrame in ``split`` orient without the index
(``{"columns": [...], "data": [[...]]}``, no ``columns`` for a default column index), a numpy array as
nested lists, a dict of arrays as a dict of nested lists, anything else JSON-like as is. NaN becomes
``null``, bytes base64 text, times ISO text. An example given as ``(data, params)`` is stored as
``{"inputs": data, "params": params}``. ``serving_input_example.json`` is the same example as a scoring
request (``{"dataframe_split": ...}`` or ``{"inputs": ...}``, with ``"params"``). The MLmodel's
``saved_input_example_info`` names the files and the ``type`` (``dataframe``, ``ndarray``, ``json_object``,
``sparse_matrix_csr``, ``sparse_matrix_csc``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.trust import model_file

if TYPE_CHECKING:
    from wayline.models.mlmodel import MLModel

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"
#: Largest example file read back.
MAX_EXAMPLE_BYTES = 64 * 1024 * 1024
TYPES = ("dataframe", "ndarray", "json_object", "sparse_matrix_csr", "sparse_matrix_csc")


def _module(value: object) -> str:
    return type(value).__module__.split(".", 1)[0]


def _is_ndarray(value: object) -> bool:
    return _module(value) == "numpy" and type(value).__name__ == "ndarray"


def _is_dataframe(value: object) -> bool:
    return _module(value) == "pandas" and type(value).__name__ == "DataFrame"


def _is_sparse(value: object) -> str | None:
    if _module(value) != "scipy":
        return None
    name = type(value).__name__
    return {"csr_matrix": "sparse_matrix_csr", "csc_matrix": "sparse_matrix_csc"}.get(name)


def _json_default(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself, as MLflow's encoder writes it."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    module = _module(value)
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.datetime64):
            return str(np.datetime_as_string(value))
        if isinstance(value, np.generic):
            return value.item()
    if module == "pandas" and hasattr(value, "isoformat"):
        return value.isoformat()
    raise invalid_value("input_example", value, "holds a value that cannot be written as JSON")


def _no_nan(value: Any) -> Any:
    """NaN (not valid JSON) as None, through lists and dicts."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return value


def _array_lists(array: Any) -> Any:
    return _no_nan(array.tolist())


def _frame_split(frame: Any) -> dict[str, Any]:
    split = frame.to_dict(orient="split")
    del split["index"]
    if list(frame.columns) == list(range(len(frame.columns))):
        del split["columns"]
    split["data"] = _no_nan([list(row) for row in split["data"]])
    return dict(split)


def _contains_array(value: object) -> bool:
    if _is_ndarray(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_array(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_array(v) for v in value.values())
    return False


def _encode(data: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``(stored example, serving request, info fields)`` of the example data."""
    if isinstance(data, dict):
        arrays = [_is_ndarray(v) for v in data.values()]
        if any(arrays):
            if not all(arrays):
                raise invalid_value(
                    "input_example", "dict", "mixes numpy arrays and other values; use arrays only"
                )
            stored = {str(k): _array_lists(v) for k, v in data.items()}
            return stored, {"inputs": stored}, {"type": "ndarray"}
        return data, {"inputs": data}, {"type": "json_object"}
    if _is_ndarray(data):
        stored_array = _array_lists(data)
        return stored_array, {"inputs": stored_array}, {"type": "ndarray"}
    if isinstance(data, list):
        if _contains_array(data):
            raise invalid_value("input_example", "list", "numpy arrays inside a list are not supported")
        return data, {"inputs": data}, {"type": "json_object"}
    sparse = _is_sparse(data)
    if sparse is not None:
        stored_sparse = {
            "data": _array_lists(data.data),
            "indices": data.indices.tolist(),
            "indptr": data.indptr.tolist(),
            "shape": list(data.shape),
        }
        return stored_sparse, {"inputs": _array_lists(data.toarray())}, {"type": sparse}
    if _is_dataframe(data):
        split = _frame_split(data)
        orient = "split" if "columns" in split else "values"
        return split, {"dataframe_split": split}, {"type": "dataframe", "pandas_orient": orient}
    if isinstance(data, (str, int, float, bool, bytes, dt.datetime)) or (
        _module(data) == "numpy" and hasattr(data, "item")
    ):
        return data, {"inputs": data}, {"type": "json_object"}
    raise invalid_value(
        "input_example",
        type(data).__name__,
        "expected a pandas DataFrame, a numpy array, a dict of numpy arrays, a dict, a list or a scalar",
    )


def split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(data, params)`` of an example given as ``(data, params)`` or as data alone."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        params = example[1]
        if not all(isinstance(k, str) for k in params):
            raise invalid_value("input_example", params, "params must have string keys")
        return example[0], dict(params)
    return example, None


def save_input_example(model_dir: Path, example: Any) -> dict[str, Any]:
    """Write the example files into ``model_dir``; return the MLmodel's ``saved_input_example_info``."""
    data, params = split_example(example)
    stored, serving, fields = _encode(data)
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE, **fields}
    if params:
        info["params"] = "true"
        stored = {"inputs": stored, "params": params}
        serving = {**serving, "params": params}
    text = json.dumps(stored, default=_json_default, allow_nan=False)
    (Path(model_dir) / EXAMPLE_FILE).write_text(text, encoding="utf-8")
    serving_text = json.dumps(serving, default=_json_default, allow_nan=False, indent=2)
    (Path(model_dir) / SERVING_EXAMPLE_FILE).write_text(serving_text, encoding="utf-8")
    info["serving_input_path"] = SERVING_EXAMPLE_FILE
    return info


def _read_json(model_dir: Path, name: object, field: str) -> Any:
    path = model_file(model_dir, name, field=field)
    if not path.is_file():
        raise invalid_value(field, name, "is not a file")
    if path.stat().st_size > MAX_EXAMPLE_BYTES:
        raise invalid_value(field, name, f"larger than the limit of {MAX_EXAMPLE_BYTES} bytes")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):
        raise invalid_value(field, name, "is not valid JSON") from None


def _stored(model_dir: Path, metadata: MLModel) -> tuple[Any, Mapping[str, Any]] | None:
    info = metadata.saved_input_example_info
    if not info:
        return None
    stored = _read_json(model_dir, info.get("artifact_path"), "saved_input_example_info.artifact_path")
    return stored, info


def _tensor_dtypes(metadata: MLModel) -> dict[str | None, str]:
    signature = metadata.signature
    if signature is None or signature.inputs is None or not signature.inputs.is_tensor_spec():
        return {}
    return {spec.name: spec.dtype for spec in signature.inputs.inputs}  # type: ignore[union-attr]


def _array(np: Any, value: Any, dtype: str | None) -> Any:
    """An array of ``dtype``; without one, numbers with ``null`` (NaN as written) come back as floats."""
    array = np.asarray(value, dtype=dtype)
    if dtype is None and array.dtype == object:
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            return array
    return array


def load_input_example(model_dir: Path, metadata: MLModel) -> Any:
    """The model's input example as it was given (DataFrame, array, dict of arrays, JSON value); None when
    the model has none."""
    found = _stored(model_dir, metadata)
    if found is None:
        return None
    stored, info = found
    if info.get("params"):
        if not isinstance(stored, dict) or "inputs" not in stored:
            raise invalid_value("input_example.json", "inputs", "is missing while params are declared")
        stored = stored["inputs"]
    kind = info.get("type")
    if kind == "json_object":
        return stored
    if kind == "dataframe":
        import pandas as pd

        if not isinstance(stored, dict) or not isinstance(stored.get("data"), list):
            raise invalid_value("input_example.json", type(stored).__name__, "is not a split-orient frame")
        return pd.DataFrame(data=stored["data"], columns=stored.get("columns"))
    if kind == "ndarray":
        import numpy as np

        dtypes = _tensor_dtypes(metadata)
        if isinstance(stored, dict):
            return {k: _array(np, v, dtypes.get(k)) for k, v in stored.items()}
        return _array(np, stored, dtypes.get(None))
    if kind in ("sparse_matrix_csr", "sparse_matrix_csc"):
        from scipy import sparse  # type: ignore[import-untyped]

        make = sparse.csr_matrix if kind == "sparse_matrix_csr" else sparse.csc_matrix
        try:
            return make((stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParameterValue(f"input_example.json is not a sparse matrix: {exc}") from None
    raise invalid_value("saved_input_example_info.type", kind, f"must be one of {', '.join(TYPES)}")


def load_input_example_params(model_dir: Path, metadata: MLModel) -> dict[str, Any] | None:
    """The params stored with the example, or None."""
    found = _stored(model_dir, metadata)
    if found is None or not found[1].get("params"):
        return None
    stored = found[0]
    params = stored.get("params") if isinstance(stored, dict) else None
    if params is not None and not isinstance(params, dict):
        raise invalid_value("input_example.json", "params", "must be a JSON object")
    return params


def load_serving_example(model_dir: Path, metadata: MLModel) -> str | None:
    """The text of ``serving_input_example.json`` (a ready scoring request), or None."""
    info = metadata.saved_input_example_info or {}
    name = info.get("serving_input_path")
    if not name:
        return None
    field = "saved_input_example_info.serving_input_path"
    return json.dumps(_read_json(model_dir, name, field), indent=2)


__all__ = [
    "EXAMPLE_FILE",
    "SERVING_EXAMPLE_FILE",
    "load_input_example",
    "load_input_example_params",
    "load_serving_example",
    "save_input_example",
    "split_example",
]
