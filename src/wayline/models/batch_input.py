"""Reading the input of a batch scoring run (:mod:`wayline.models.batch`) in chunks.

Formats: CSV, Parquet, JSON and JSON lines, by extension (``.csv``, ``.parquet``/``.pq``, ``.json``,
``.jsonl``/``.ndjson``) or given explicitly. JSON input is a list of records, a pandas ``split`` object
(``columns`` and ``data``) or one of MLflow's scoring payloads (``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs``), with optional ``params``. A chunk is a DataFrame, or for ``instances``/``inputs``
holding tensors, an ndarray or a dict of ndarrays.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from wayline.errors import InvalidParameterValue, invalid_value

#: Formats read and written, and the extensions that name them.
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FORMATS = ("csv", "parquet", "json", "jsonl")
_PAYLOAD_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def format_of(path: str | os.PathLike[str], *, field: str, given: str | None = None) -> str:
    """``given`` (checked) or the format the file's extension names."""
    if given is not None:
        fmt = given.strip().lower()
        if fmt not in FORMATS:
            raise invalid_value(
                field.replace("path", "format"), given, "must be one of " + ", ".join(FORMATS)
            )
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise invalid_value(
            field,
            str(path),
            f"unknown extension {suffix or '(none)'!r}: expected one of {', '.join(EXTENSIONS)} "
            "(or give the format explicitly)",
        )
    return EXTENSIONS[suffix]


@dataclass
class BatchInput:
    """An opened input: its row count (None when unknown), its chunks, the params a JSON payload carries."""

    total: int | None
    chunks: Iterator[Any]  # DataFrame, ndarray or dict[str, ndarray]
    params: dict[str, Any] | None = None

    def close(self) -> None:
        """Close the file a reader holds open (a generator stopped early)."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def _bad_input(path: Path, why: str) -> InvalidParameterValue:
    return invalid_value("input_path", str(path), why)


def _count_csv_rows(path: Path) -> int:
    """Data rows (quoted line breaks and blank lines handled as pandas does); -1 without a header line."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = sum(1 for row in csv.reader(handle) if row)
    return rows - 1


def _read_csv(path: Path, chunk_rows: int) -> BatchInput:
    total = _count_csv_rows(path)
    if total < 0:
        raise _bad_input(path, "the CSV file is empty (it needs a header line)")

    def chunks() -> Iterator[Any]:
        try:
            with pd.read_csv(path, chunksize=chunk_rows) as reader:
                yield from reader
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise _bad_input(path, f"not a readable CSV file: {' '.join(str(exc).split())}") from None

    return BatchInput(total, chunks())


def _read_parquet(path: Path, chunk_rows: int) -> BatchInput:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        total = pq.read_metadata(path).num_rows
    except (pa.ArrowException, OSError) as exc:
        raise _bad_input(path, f"not a Parquet file: {exc}") from None

    def chunks() -> Iterator[Any]:
        with pq.ParquetFile(path) as parquet:
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()

    return BatchInput(total, chunks())


def _read_jsonl(path: Path, chunk_rows: int) -> BatchInput:
    with path.open("rb") as handle:
        total = sum(1 for line in handle if line.strip())

    def chunks() -> Iterator[Any]:
        batch: list[Any] = []
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise _bad_input(path, f"line {number} is not JSON: {exc}") from None
                if not isinstance(record, dict):
                    raise _bad_input(path, f"line {number} is not a JSON object (one record per line)")
                batch.append(record)
                if len(batch) >= chunk_rows:
                    yield pd.DataFrame.from_records(batch)
                    batch = []
        if batch:
            yield pd.DataFrame.from_records(batch)

    return BatchInput(total, chunks())


def _json_data(path: Path, document: Any) -> tuple[Any, dict[str, Any] | None]:
    """The data of a JSON document (DataFrame, ndarray or dict of ndarrays) and the params it carries."""
    if isinstance(document, list):
        if not all(isinstance(r, dict) for r in document):
            raise _bad_input(path, "a JSON list must hold records (objects); use dataframe_split for rows")
        return pd.DataFrame.from_records(document), None
    if not isinstance(document, dict):
        raise _bad_input(path, "expected a JSON list of records or an object")
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise _bad_input(path, "'params' must be a JSON object")
    present = [key for key in _PAYLOAD_KEYS if key in document]
    if len(present) > 1:
        raise _bad_input(path, f"give exactly one of {', '.join(_PAYLOAD_KEYS)}, not {', '.join(present)}")
    if not present:
        if "columns" in document and "data" in document:
            return _split_frame(path, document), params
        raise _bad_input(
            path,
            "expected a list of records, a split object (columns, data) or one of "
            + ", ".join(_PAYLOAD_KEYS),
        )
    key = present[0]
    value = document[key]
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise _bad_input(path, "'dataframe_split' must be an object with 'columns' and 'data'")
        return _split_frame(path, value), params
    if key == "dataframe_records" or (isinstance(value, list) and value and isinstance(value[0], dict)):
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise _bad_input(path, f"{key!r} must be a list of records (objects)")
        return pd.DataFrame.from_records(value), params
    if isinstance(value, dict):
        arrays = {str(name): np.asarray(column) for name, column in value.items()}
        if len({len(a) if a.ndim else -1 for a in arrays.values()}) > 1:
            raise _bad_input(path, f"the named inputs of {key!r} must all have the same number of rows")
        return arrays, params
    if isinstance(value, list):
        return np.asarray(value), params
    raise _bad_input(path, f"{key!r} must be a list or an object")


def _split_frame(path: Path, split: Mapping[str, Any]) -> Any:
    columns, data = split.get("columns"), split.get("data")
    if not isinstance(data, list) or (columns is not None and not isinstance(columns, list)):
        raise _bad_input(path, "a split object needs 'data' (a list of rows) and 'columns' (a list of names)")
    try:
        return pd.DataFrame(data, columns=columns)
    except (ValueError, AssertionError) as exc:
        raise _bad_input(path, f"the split object's rows do not match its columns: {exc}") from None


def rows_of(data: Any) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values()))) if data else 0
    return len(data)


def _slice(data: Any, start: int, stop: int) -> Any:
    if isinstance(data, dict):
        return {name: array[start:stop] for name, array in data.items()}
    if isinstance(data, pd.DataFrame):
        return data.iloc[start:stop].reset_index(drop=True)
    return data[start:stop]


def _read_json(path: Path, chunk_rows: int) -> BatchInput:
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _bad_input(path, f"not a JSON file: {exc} (JSON lines need the .jsonl extension)") from None
    data, params = _json_data(path, document)
    total = rows_of(data)
    return BatchInput(total, (_slice(data, i, i + chunk_rows) for i in range(0, total, chunk_rows)), params)


_READERS: dict[str, Callable[[Path, int], BatchInput]] = {
    "csv": _read_csv,
    "parquet": _read_parquet,
    "json": _read_json,
    "jsonl": _read_jsonl,
}


def read_input(
    path: str | os.PathLike[str], *, input_format: str | None = None, chunk_rows: int
) -> BatchInput:
    """Open the input: its row count (when known), its chunks and the params a JSON payload carries."""
    source = Path(path)
    fmt = format_of(source, field="input_path", given=input_format)
    if not source.is_file():
        raise invalid_value("input_path", str(path), "no such file")
    return _READERS[fmt](source, chunk_rows)
