"""Decoding a scoring request (MLflow's protocol) into the model's input and params.

``application/json`` bodies are objects with exactly one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs``, and optionally ``params``; ``text/csv`` bodies are a table with a header
line; ``application/vnd.apache.parquet`` bodies a Parquet file. Values are cast towards the model's
signature only where nothing changes on the way (JSON has one number type, so ``float32`` columns and
tensors take JSON numbers); everything else is left to the signature enforcement of
:meth:`~wayline.models.pyfunc_model.PyFuncModel.predict`, which names the column and the types.

Every problem raises a :class:`~wayline.errors.WaylineError` whose message names it: a 400 for a bad
body, :class:`UnsupportedMediaType` (415) for a content type the server does not read.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from wayline.errors import BadRequest, ErrorCode, InvalidParameterValue, WaylineError
from wayline.models.signature import ColSpec, Schema, TensorSpec
from wayline.models.signature_types import DataType

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (CONTENT_TYPE_JSON, CONTENT_TYPE_CSV, CONTENT_TYPE_PARQUET)

DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
PARAMS = "params"
INPUT_FIELDS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON object with exactly one of the input fields "
    + ", ".join(INPUT_FIELDS)
    + " (and optionally params)"
)
_SPLIT_KEYS = frozenset({"columns", "data", "index"})
_NUMERIC = frozenset({DataType.integer, DataType.long, DataType.float, DataType.double})
_MAX_SHOWN = 200


class UnsupportedMediaType(BadRequest):
    """A content type (or charset, or content type parameter) the scoring server does not read: 415."""

    @property
    def http_status(self) -> int:
        return 415


class BodyTooLarge(WaylineError):
    """A request body over the server's limit: 413."""

    default_code = ErrorCode.REQUEST_LIMIT_EXCEEDED

    @property
    def http_status(self) -> int:
        return 413


@dataclass(frozen=True)
class ParsedInput:
    """A decoded request: the model input, its params, its row count and what it may be batched with.

    ``batch_key`` is None for inputs that cannot be concatenated with others (tensors, dicts); for
    DataFrames it holds the columns, their dtypes and the params, so equal keys concatenate.
    """

    data: Any
    params: dict[str, Any] | None
    rows: int
    batch_key: Hashable | None


def _short(text: object) -> str:
    shown = " ".join(str(text).split())
    return shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 3] + "..."


# --- content type ---------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header; 415 for a charset other than UTF-8 or other parameters."""
    if content_type is None or not content_type.strip():
        raise UnsupportedMediaType("The request has no Content-Type: use one of " + ", ".join(CONTENT_TYPES))
    mime, *parameters = (part.strip() for part in content_type.split(";"))
    mime = mime.lower()
    for parameter in parameters:
        if not parameter:
            continue
        key, _, value = parameter.partition("=")
        key = key.strip().lower()
        if key != "charset":
            raise UnsupportedMediaType(
                f"Unrecognized content type parameter '{_short(key)}' in '{_short(content_type)}' "
                "(MLflow 2 dropped format parameters such as format=pandas-split: send the format as "
                "the JSON field dataframe_split, dataframe_records, instances or inputs)"
            )
        if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"The scoring server only reads UTF-8, not '{_short(value)}'")
    if mime not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported content type '{_short(content_type)}': use one of " + ", ".join(CONTENT_TYPES)
        )
    return mime


def parse_request(content_type: str | None, body: bytes, schema: Schema | None) -> ParsedInput:
    """Decode a request body of ``content_type`` for a model whose input schema is ``schema``."""
    mime = media_type(content_type)
    if mime == CONTENT_TYPE_JSON:
        return parse_json(body, schema)
    if mime == CONTENT_TYPE_CSV:
        return _frame_input(parse_csv(body, schema), None, schema)
    return _frame_input(parse_parquet(body), None, schema)


# --- JSON ------------------------------------------------------------------------------------------


def parse_json(body: bytes, schema: Schema | None) -> ParsedInput:
    """An MLflow JSON scoring request."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterValue(f"The request body is not valid JSON: {_short(exc)}") from None
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"a JSON {type(document).__name__}"
        raise BadRequest(f"{REQUIRED_INPUT_FORMAT}; received {kind}")
    unknown = [key for key in document if key not in INPUT_FIELDS and key != PARAMS]
    if unknown:
        raise BadRequest(
            f"Unknown field(s) {[_short(k) for k in unknown[:10]]} in the request. {REQUIRED_INPUT_FORMAT}"
        )
    present = [key for key in INPUT_FIELDS if key in document]
    if len(present) != 1:
        got = f"several: {', '.join(present)}" if present else "none"
        raise BadRequest(f"{REQUIRED_INPUT_FORMAT}; received {got}")
    params = document.get(PARAMS)
    if params is not None and not isinstance(params, dict):
        raise BadRequest(f"The field 'params' must be a JSON object, not {type(params).__name__}")
    field = present[0]
    value = document[field]
    if field == DF_SPLIT:
        return _frame_input(_split_frame(value), params, schema)
    if field == DF_RECORDS:
        return _frame_input(_records_frame(value), params, schema)
    data = _instances(value, schema) if field == INSTANCES else _inputs(value, schema)
    return ParsedInput(data, params, _rows(data), None)


def _split_frame(value: Any) -> pd.DataFrame:
    if not isinstance(value, dict):
        raise InvalidParameterValue(
            f"The field '{DF_SPLIT}' must be an object with 'data' and optionally 'columns' and 'index'; "
            f"got {_kind(value)}"
        )
    keys = set(value)
    if "data" not in keys or keys - _SPLIT_KEYS:
        raise InvalidParameterValue(
            f"The field '{DF_SPLIT}' must have 'data' and optionally 'columns' and 'index'; "
            f"got {sorted(_short(k) for k in keys)}"
        )
    data, columns, index = value["data"], value.get("columns"), value.get("index")
    if not isinstance(data, list):
        raise InvalidParameterValue(f"'{DF_SPLIT}.data' must be a list of rows, not {_kind(data)}")
    if columns is not None and not isinstance(columns, list):
        raise InvalidParameterValue(f"'{DF_SPLIT}.columns' must be a list of names, not {_kind(columns)}")
    if index is not None and not isinstance(index, list):
        raise InvalidParameterValue(f"'{DF_SPLIT}.index' must be a list, not {_kind(index)}")
    try:
        return pd.DataFrame(data=data, columns=columns, index=index)
    except (ValueError, TypeError, AssertionError) as exc:
        raise InvalidParameterValue(
            f"The field '{DF_SPLIT}' is not a valid table in 'split' format: {_short(exc)}"
        ) from None


def _records_frame(value: Any) -> pd.DataFrame:
    if not isinstance(value, list):
        raise InvalidParameterValue(f"The field '{DF_RECORDS}' must be a list of records, not {_kind(value)}")
    if not all(isinstance(record, dict) for record in value):
        raise InvalidParameterValue(f"Every item of '{DF_RECORDS}' must be a record (a JSON object)")
    try:
        return pd.DataFrame.from_records(value) if value else pd.DataFrame()
    except (ValueError, TypeError) as exc:
        raise InvalidParameterValue(f"The field '{DF_RECORDS}' is not a valid table: {_short(exc)}") from None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _specs(schema: Schema | None) -> dict[Any, ColSpec | TensorSpec]:
    if schema is None or not schema.has_input_names():
        return {}
    return {spec.name: spec for spec in schema.inputs}


def _instances(value: Any, schema: Schema | None) -> Any:
    """``instances``: rows (records become named columns) or one tensor (MLflow's TF-serving form)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        if not all(isinstance(item, dict) for item in value):
            raise InvalidParameterValue(f"Every item of '{INSTANCES}' must be a record when the first one is")
        names: dict[Any, None] = {}
        for item in value:
            names.update(dict.fromkeys(item))
        if any(len(item) != len(names) for item in value):
            raise InvalidParameterValue(
                f"Every record of '{INSTANCES}' must have the same fields: {sorted(map(str, names))}"
            )
        columns = {name: [item[name] for item in value] for name in names}
        return _named_arrays(columns, schema, INSTANCES, same_length=True)
    return _inputs(value, schema, field=INSTANCES)


def _inputs(value: Any, schema: Schema | None, *, field: str = INPUTS) -> Any:
    """``inputs``: named columns/tensors (an object) or one tensor (a list or a scalar)."""
    specs = _specs(schema)
    if isinstance(value, list) and len(specs) == 1 and not any(isinstance(x, dict) for x in value):
        value = {next(iter(specs)): value}
    if isinstance(value, dict):
        return _named_arrays(value, schema, field, same_length=field == INSTANCES)
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        return pd.DataFrame.from_records(value)
    spec = schema.inputs[0] if schema is not None and len(schema.inputs) else None
    return _array(value, spec, field)


def _named_arrays(
    columns: Mapping[Any, Any], schema: Schema | None, field: str, *, same_length: bool
) -> dict[Any, Any]:
    specs = _specs(schema)
    arrays = {name: _array(values, specs.get(name), f"{field}.{name}") for name, values in columns.items()}
    if same_length:
        lengths = {len(a) if isinstance(a, np.ndarray) and a.ndim else 1 for a in arrays.values()}
        if len(lengths) > 1:
            raise InvalidParameterValue(f"The inputs of '{field}' do not all have the same number of rows")
    return arrays


def _array(values: Any, spec: ColSpec | TensorSpec | None, field: str) -> Any:
    if spec is not None and isinstance(spec, ColSpec) and not isinstance(spec.type, DataType):
        return values  # an array/object/map/any column: the enforcement checks the JSON values
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterValue(
            f"'{_short(field)}' is not a regular array (rows of different lengths?): {_short(exc)}"
        ) from None
    target = _target_dtype(spec)
    return array if target is None else _cast_array(array, target)


def _target_dtype(spec: ColSpec | TensorSpec | None) -> np.dtype[Any] | None:
    if isinstance(spec, TensorSpec):
        return spec.numpy_dtype
    if isinstance(spec, ColSpec) and spec.type in _NUMERIC:
        assert isinstance(spec.type, DataType)
        return spec.type.to_numpy()
    return None


def _cast_array(array: np.ndarray[Any, Any], target: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """``array`` as ``target`` when the cast keeps every value (any number into a float type: JSON
    numbers have no precision of their own); otherwise unchanged, for the enforcement to judge."""
    source = array.dtype
    if source == target or source.kind not in "biuf" or target.kind not in "iuf":
        return array
    if target.kind == "f":
        return array.astype(target)
    if source.kind == "f" and not np.all(np.isfinite(array)):
        return array
    with np.errstate(all="ignore"):
        cast = array.astype(target)
    return cast if np.array_equal(cast, array) else array


def _rows(data: Any) -> int:
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return len(data)
    if isinstance(data, np.ndarray):
        return int(data.shape[0]) if data.ndim else 1
    if isinstance(data, dict):
        for value in data.values():
            return _rows(value)
        return 0
    if isinstance(data, list):
        return len(data)
    return 1


# --- tables ----------------------------------------------------------------------------------------


def parse_csv(body: bytes, schema: Schema | None) -> pd.DataFrame:
    """A CSV table with a header line; string columns of the signature are read as text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidParameterValue(f"The CSV body is not valid UTF-8: {_short(exc)}") from None
    dtypes = {
        spec.name: object
        for spec in _specs(schema).values()
        if isinstance(spec, ColSpec) and spec.type in (DataType.string, DataType.binary)
    }
    try:
        return pd.read_csv(io.StringIO(text), dtype=dtypes or None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InvalidParameterValue(
            "Failed to parse the input as CSV (a header line, then one line per row, as "
            f"DataFrame.to_csv writes it): {_short(exc)}"
        ) from None


def parse_parquet(body: bytes) -> pd.DataFrame:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UnsupportedMediaType(
            f"'{CONTENT_TYPE_PARQUET}' needs pyarrow, which is not installed on the server"
        ) from None
    try:
        return pq.read_table(io.BytesIO(body)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidParameterValue(f"The body is not a readable Parquet file: {_short(exc)}") from None


def _frame_input(frame: pd.DataFrame, params: dict[str, Any] | None, schema: Schema | None) -> ParsedInput:
    frame = _cast_frame(frame, schema)
    key: Hashable = (
        tuple((name, str(dtype)) for name, dtype in frame.dtypes.items()),
        None if params is None else orjson.dumps(params, option=orjson.OPT_SORT_KEYS),
    )
    try:
        hash(key)
    except TypeError:  # unhashable column names
        key = None
    return ParsedInput(frame, params, len(frame), key)


def _cast_frame(frame: pd.DataFrame, schema: Schema | None) -> pd.DataFrame:
    """Columns cast towards the signature where no value changes (MLflow decodes binary from base64)."""
    if schema is None or frame.empty:
        return frame
    specs: dict[Any, ColSpec | TensorSpec] = _specs(schema)
    if not specs and schema.is_tensor_spec() and len(schema.inputs) == 1:
        specs = dict.fromkeys(frame.columns, schema.inputs[0])
    changed: dict[Any, Any] = {}
    for name, spec in specs.items():
        if name not in frame.columns or isinstance(frame[name], pd.DataFrame):
            continue
        column = frame[name]
        if isinstance(spec, ColSpec) and spec.type == DataType.binary and _is_text(column):
            changed[name] = column.map(lambda cell, n=name: _base64(cell, n))
            continue
        target = _target_dtype(spec)
        if target is None or not isinstance(column.dtype, np.dtype):
            continue
        cast = _cast_array(column.to_numpy(), target)
        if cast.dtype != column.dtype:
            changed[name] = pd.Series(cast, index=column.index, name=column.name)
    if not changed:
        return frame
    out = frame.copy(deep=False)
    for name, column in changed.items():
        out[name] = column
    return out


def _is_text(column: pd.Series[Any]) -> bool:
    return bool(column.dtype == object or pd.api.types.is_string_dtype(column.dtype))


def _base64(cell: Any, column: Any) -> Any:
    if not isinstance(cell, str):
        return cell
    try:
        return base64.b64decode(cell.encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidParameterValue(
            f"Column '{_short(column)}' is binary: its values must be base64 strings ({_short(exc)})"
        ) from None


__all__ = [
    "CONTENT_TYPES",
    "CONTENT_TYPE_CSV",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_PARQUET",
    "INPUT_FIELDS",
    "BodyTooLarge",
    "ParsedInput",
    "UnsupportedMediaType",
    "media_type",
    "parse_csv",
    "parse_json",
    "parse_parquet",
    "parse_request",
]
