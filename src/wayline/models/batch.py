"""Batch scoring of a file: ``wayline models predict`` and :func:`predict_file`.

The input (CSV, Parquet, JSON or JSON lines) is read in chunks of ``chunk_rows`` rows, each chunk goes
through the model's ``predict`` (so through its signature's enforcement), and the predictions are appended to
the output, whose format follows its extension. Like ``mlflow models predict`` the output holds the
predictions only; ``keep_columns=True`` puts the input columns before them. The output is written to a
private temporary file beside the target and moved into place at the end, so a failed run never leaves half
an output file.
Reading the input is :mod:`wayline.models.batch_input`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import orjson
import pandas as pd

from wayline.errors import InvalidParameterValue, InvalidState, WaylineError, invalid_value
from wayline.models.batch_input import BatchInput, format_of, read_input, rows_of

log = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 10_000
#: The name of the one column of a one-dimensional prediction.
PREDICTION = "prediction"

#: ``progress(rows_done, total_rows)``; the total is None when it is not known in advance.
Progress = Callable[[int, "int | None"], None]


class Predictor(Protocol):
    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class BatchResult:
    """What :func:`predict_file` wrote."""

    rows: int
    output_format: str
    columns: tuple[str, ...]
    output_path: Path | None = None


def _cells(array: Any) -> list[Any]:
    """One cell per row: scalars for a 1-D array, lists for more dimensions."""
    return list(array) if array.ndim == 1 else [row.tolist() for row in array]


def predictions_frame(predictions: Any, rows: int) -> Any:
    """The model's output for ``rows`` rows as a DataFrame: its columns for a DataFrame or a dict, else one
    ``prediction`` column (with lists for multi-dimensional outputs)."""
    if isinstance(predictions, pd.DataFrame):
        frame = predictions.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(predictions, pd.Series):
        frame = pd.DataFrame({PREDICTION: predictions.reset_index(drop=True)})
    elif isinstance(predictions, dict):
        frame = pd.DataFrame({str(k): _cells(np.asarray(v)) for k, v in predictions.items()})
    elif isinstance(predictions, list) and predictions and all(isinstance(p, dict) for p in predictions):
        frame = pd.DataFrame.from_records(predictions)
    else:
        array = np.asarray(predictions)
        if array.ndim == 0:
            raise InvalidState(f"the model returned one value ({type(predictions).__name__}) for {rows} rows")
        frame = pd.DataFrame({PREDICTION: _cells(array)})
    if len(frame) != rows:
        raise InvalidState(f"the model returned {len(frame)} predictions for {rows} rows")
    return frame


def _with_inputs(chunk: Any, predicted: Any) -> Any:
    if not isinstance(chunk, pd.DataFrame):
        raise invalid_value("keep_columns", True, "the input has no columns to keep (it is a tensor payload)")
    inputs = chunk.reset_index(drop=True)
    taken = {str(c) for c in inputs.columns}
    renamed = {c: f"{c}_{PREDICTION}" if c in taken else c for c in predicted.columns}
    return pd.concat([inputs, predicted.rename(columns=renamed)], axis=1)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


def _dumps(value: Any) -> bytes:
    options = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(value, default=_json_default, option=options)


def _records(frame: Any) -> list[dict[str, Any]]:
    return [
        {k: (None if _is_missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _is_missing(value: Any) -> bool:
    return (
        value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))
    )


class _Writer:
    """Appends chunks to ``handle`` in one format; the columns of the first chunk fix the output's."""

    def __init__(self, fmt: str, handle: IO[bytes]) -> None:
        self.fmt = fmt
        self.handle = handle
        self.columns: tuple[str, ...] | None = None
        self._parquet: Any = None
        self._values_only = False

    def write(self, frame: Any) -> None:
        columns = tuple(str(c) for c in frame.columns)
        first = self.columns is None
        if first:
            self.columns = columns
            self._values_only = columns == (PREDICTION,)
            if self.fmt == "json":
                self.handle.write(b'{"predictions": [')
        elif columns != self.columns:
            raise InvalidState(
                f"the model's output columns changed between chunks: {self.columns} -> {columns}"
            )
        if self.fmt == "csv":
            frame = frame.copy()
            for name in frame.columns:
                if frame[name].dtype == np.dtype("O"):
                    frame[name] = frame[name].map(_csv_cell)
            text = frame.to_csv(index=False, header=first, lineterminator="\n")
            self.handle.write(text.encode("utf-8"))
        elif self.fmt == "parquet":
            self._write_parquet(frame)
        elif self.fmt == "jsonl":
            self.handle.write(b"".join(_dumps(r) + b"\n" for r in _records(frame)))
        else:
            items = frame[PREDICTION].tolist() if self._values_only else _records(frame)
            body = _dumps([None if not isinstance(v, (list, dict)) and _is_missing(v) else v for v in items])
            if len(body) > 2:
                self.handle.write((b"" if first else b",") + body[1:-1])

    def _write_parquet(self, frame: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._parquet = pq.ParquetWriter(self.handle, table.schema)
        else:
            try:
                table = pa.Table.from_pandas(frame, schema=self._parquet.schema, preserve_index=False)
            except (pa.ArrowException, ValueError) as exc:
                raise InvalidState(f"a chunk's predictions do not fit the Parquet schema: {exc}") from None
        self._parquet.write_table(table)

    def close(self, empty_frame: Any) -> None:
        if self.columns is None:  # no rows at all: an empty output with the columns known
            self.write(empty_frame)
        if self.fmt == "json":
            self.handle.write(b"]}\n")
        if self._parquet is not None:
            self._parquet.close()


def _csv_cell(value: Any) -> Any:
    return _dumps(value).decode() if isinstance(value, (list, dict)) else value


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def predict_file(
    model: str | Predictor,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str] | None = None,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    output_stream: IO[bytes] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep_columns: bool = False,
    params: Mapping[str, Any] | None = None,
    trusted: bool | None = None,
    tracking_uri: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Score ``input_path`` with ``model`` (a model URI or a loaded model) and write the predictions to
    ``output_path`` (format from its extension unless ``output_format``) or, without a path, to
    ``output_stream`` (JSON unless ``output_format``). ``params`` override those of a JSON payload.
    ``progress(rows_done, total_rows)`` is called after each chunk (and once before the first)."""
    if chunk_rows < 1:
        raise invalid_value("chunk_rows", chunk_rows, "must be at least 1")
    if output_path is None and output_stream is None:
        raise invalid_value("output_path", None, "give an output path or an output stream")
    target = Path(output_path) if output_path is not None else None
    fmt = (
        format_of(target, field="output_path", given=output_format)
        if target is not None
        else format_of("-", field="output_path", given=output_format or "json")
    )
    if target is None and fmt == "parquet":
        raise invalid_value("output_format", fmt, "Parquet is written to a file only (give an output path)")
    source = read_input(input_path, input_format=input_format, chunk_rows=chunk_rows)
    merged = {**(source.params or {}), **(params or {})} or None
    if target is not None and target.is_dir():
        raise invalid_value("output_path", str(target), "is a directory")
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        if isinstance(model, str):
            from wayline.models.load import load_model

            download = stack.enter_context(tempfile.TemporaryDirectory(prefix="wayline-model-"))
            predictor: Predictor = load_model(
                model, trusted=trusted, tracking_uri=tracking_uri, dst_path=download
            )
        else:
            predictor = model
        run = functools.partial(
            _score, predictor, source, keep_columns=keep_columns, params=merged, progress=progress
        )
        if target is None:
            assert output_stream is not None
            rows, columns = run(_Writer(fmt, output_stream))
            return BatchResult(rows, fmt, columns)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                rows, columns = run(_Writer(fmt, handle))
            os.chmod(temp, 0o666 & ~_umask())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    log.info("wrote %d predictions to %s", rows, target)
    return BatchResult(rows, fmt, columns, target)


def _score(
    model: Predictor,
    source: BatchInput,
    writer: _Writer,
    *,
    keep_columns: bool,
    params: dict[str, Any] | None,
    progress: Progress | None,
) -> tuple[int, tuple[str, ...]]:
    done = 0
    if progress is not None:
        progress(0, source.total)
    for chunk in source.chunks:
        rows = rows_of(chunk)
        if rows == 0:
            continue
        where = f"rows {done + 1}-{done + rows}" if done or source.total != rows else "the input"
        try:
            predicted = predictions_frame(model.predict(chunk, params), rows)
        except WaylineError as exc:
            raise WaylineError.from_code(exc.error_code.value, f"{where}: {exc.message}") from exc
        except Exception as exc:
            log.debug("prediction failed on %s", where, exc_info=True)
            reason = " ".join(str(exc).split())[:500]
            raise InvalidParameterValue(f"{where}: the model failed: {type(exc).__name__}: {reason}") from exc
        writer.write(_with_inputs(chunk, predicted) if keep_columns else predicted)
        done += rows
        if progress is not None:
            progress(done, max(source.total or 0, done) if source.total is not None else None)
    writer.close(pd.DataFrame({PREDICTION: []}))
    return done, writer.columns or ()
