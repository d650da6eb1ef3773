"""Scoring on Apache Spark: :func:`spark_udf` (``wayline.pyfunc.spark_udf``).

The driver resolves the model URI, reads its ``MLmodel`` (no model code runs there), zips the model directory
and ships the archive with ``SparkContext.addFile``, so it reaches every executor of a cluster, not only a
local-mode worker. In each executor's Python worker the archive is unpacked once per executor (into Spark's
files directory, which Spark removes with the executor) and the model is loaded once per worker process; the
pandas UDF (iterator form) then scores Arrow batches with it.

Columns are passed as one struct (``udf(struct("a", "b"))``: the struct's field names are the column names)
or as separate arguments (``udf("a", "b")`` or ``udf(*df.columns)``: named from the model's signature, in its
order, or ``0``, ``1``, ... without one). The result type is a Spark type or a DDL string: ``double``,
``float``, ``long``, ``int``, ``string``, ``boolean``, ``array<...>`` of those, or a struct of those (filled
from the columns of a DataFrame or dict output, by name).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameterValue, invalid_value

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import DataType

log = logging.getLogger(__name__)

SUPPORTED_TYPES = (
    "double, float, long, int, short, string, boolean, array<...> of those, struct<...> of those"
)
_ARCHIVE_PREFIX = "wayline-model-"
_MODELS: dict[tuple[str, bool, tuple[str, ...]], Any] = {}
_MODELS_LOCK = threading.Lock()


@dataclass(frozen=True)
class _UdfSpec:
    """What the executors need, pickled with the UDF."""

    archive: str  # file name given to SparkContext.addFile
    trusted: bool
    skops_trusted_types: tuple[str, ...]
    input_names: tuple[str, ...]  # from the signature; empty when it has none
    result_type: DataType
    params: dict[str, Any] | None


def _spark_type(result_type: str | DataType) -> DataType:
    from pyspark.sql.types import DataType

    if isinstance(result_type, DataType):
        return result_type
    if not isinstance(result_type, str) or not result_type.strip():
        raise invalid_value(
            "result_type", result_type, f"expected a Spark type or a DDL string ({SUPPORTED_TYPES})"
        )
    try:
        if hasattr(DataType, "fromDDL"):
            parsed: DataType = DataType.fromDDL(result_type)
        else:  # PySpark 3
            from pyspark.sql.types import _parse_datatype_string

            parsed = _parse_datatype_string(result_type)
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        raise invalid_value("result_type", result_type, f"not a Spark type: {reason}") from None
    return parsed


def _primitive(spark_type: DataType) -> bool:
    from pyspark.sql import types as t

    return isinstance(
        spark_type,
        (t.DoubleType, t.FloatType, t.LongType, t.IntegerType, t.ShortType, t.StringType, t.BooleanType),
    )


def _check_supported(spark_type: DataType) -> None:
    from pyspark.sql.types import ArrayType, StructType

    def leaf(kind: DataType) -> bool:
        return _primitive(kind) or (isinstance(kind, ArrayType) and _primitive(kind.elementType))

    ok = leaf(spark_type) or (
        isinstance(spark_type, StructType) and all(leaf(f.dataType) for f in spark_type.fields)
    )
    if not ok:
        raise invalid_value("result_type", spark_type.simpleString(), f"supported types: {SUPPORTED_TYPES}")


# --- driver side --------------------------------------------------------------------------------------------


def _archive_model(model_dir: Path, archive: Path) -> None:
    """Zip ``model_dir`` under ``model/``; a symlink leading out of the directory is refused."""
    root = model_dir.resolve()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(model_dir.rglob("*")):
            relative = path.relative_to(model_dir).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                raise invalid_value("model_uri", str(model_dir), f"{relative} is a symlink out of the model")
            if path.is_file():
                zf.write(path, f"model/{relative}")


def _private_dir() -> Path:
    """A private (0700) folder for the archives this driver ships, removed when the driver exits."""
    folder = Path(tempfile.mkdtemp(prefix="wayline-spark-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def spark_udf(
    spark: SparkSession,
    model_uri: str,
    result_type: str | DataType = "double",
    env_manager: str | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    trusted: bool | None = None,
    skops_trusted_types: Sequence[str] = (),
    tracking_uri: str | None = None,
) -> Any:
    """A pandas UDF scoring ``model_uri`` on Spark; see the module docstring for its inputs and result types.

    ``env_manager``: only ``None``/``"local"`` (the executors' own Python environment, which must hold the
    model's requirements and Wayline). ``trusted`` (None: ``WAYLINE_TRUSTED_MODELS`` on the driver) is passed
    to the executors' loads. ``params`` go to every ``predict`` call.
    """
    from pyspark.sql.pandas.functions import pandas_udf
    from pyspark.sql.types import StructType

    from wayline.models.location import local_model_dir
    from wayline.models.mlmodel import MLModel
    from wayline.models.trust import load_options

    if env_manager not in (None, "local"):
        raise invalid_value(
            "env_manager", env_manager, "only 'local' is supported: the executors' Python environment scores"
        )
    spark_type = _spark_type(result_type)
    _check_supported(spark_type)
    options = load_options(trusted, skops_trusted_types)
    archive = _private_dir() / f"{_ARCHIVE_PREFIX}{uuid.uuid4().hex}.zip"
    with tempfile.TemporaryDirectory(prefix="wayline-model-") as download:
        model_dir = local_model_dir(model_uri, tracking_uri=tracking_uri, dst_path=download)
        metadata = MLModel.load(model_dir)
        _archive_model(model_dir, archive)
    signature = metadata.signature
    names: tuple[str, ...] = ()
    if signature is not None and signature.inputs is not None and signature.inputs.has_input_names():
        names = tuple(str(n) for n in signature.inputs.input_names())
    if params is not None:
        from wayline.models.enforce import enforce_params

        enforce_params(params, signature.params if signature is not None else None)
    spark.sparkContext.addFile(str(archive))
    spec = _UdfSpec(
        archive=archive.name,
        trusted=options.trusted,
        skops_trusted_types=tuple(options.skops_trusted_types),
        input_names=names,
        result_type=spark_type,
        params=dict(params) if params is not None else None,
    )
    log.info("shipped model %s to Spark as %s", model_uri, archive.name)
    struct_result = isinstance(spark_type, StructType)

    def predict(iterator: Any) -> Any:
        return _score_batches(iterator, spec)

    predict.__annotations__ = _udf_annotations(struct_result)
    make_udf: Any = pandas_udf  # its overloads do not cover a function typed at run time
    return make_udf(predict, spark_type)


def _udf_annotations(struct_result: bool) -> dict[str, Any]:
    """The type hints from which PySpark picks the iterator form of a pandas UDF."""
    import typing

    import pandas as pd

    # PySpark reads typing's forms (typing.Iterator, typing.Tuple, typing.Union), built here at run time.
    forms: Any = typing
    batch = forms.Tuple[forms.Union[pd.Series, pd.DataFrame], ...]
    return {
        "iterator": forms.Iterator[batch],
        "return": forms.Iterator[pd.DataFrame if struct_result else pd.Series],
    }


# --- executor side ------------------------------------------------------------------------------------------


def _unpack(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target`` (a temp folder renamed), refusing unsafe member names."""
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise invalid_value("model archive", member.filename, "unsafe member name")
            zf.extractall(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another worker of this executor unpacked it first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _executor_model(spec: _UdfSpec) -> Any:
    """The model of ``spec``, loaded once per Python worker from the archive Spark fetched."""
    key = (spec.archive, spec.trusted, spec.skops_trusted_types)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            from pyspark import SparkFiles

            from wayline.models.flavor import load_pyfunc_dir
            from wayline.models.trust import LoadOptions

            archive = Path(SparkFiles.get(spec.archive))
            target = archive.parent / archive.name.removesuffix(".zip")
            if not target.is_dir():
                _unpack(archive, target)
            options = LoadOptions(trusted=spec.trusted, skops_trusted_types=spec.skops_trusted_types)
            model = load_pyfunc_dir(target / "model", options)
            _MODELS[key] = model
            log.info("loaded model %s in Spark worker %d", spec.archive, os.getpid())
    return model


def _input_frame(args: tuple[Any, ...], names: tuple[str, ...]) -> Any:
    """The model input for one Arrow batch: a struct column as it comes, separate columns named."""
    import pandas as pd

    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        return args[0]
    if names and len(args) > len(names):
        raise InvalidParameterValue(
            f"the UDF got {len(args)} columns but the model's signature has {len(names)} inputs "
            f"({', '.join(names)}); pass them in that order, or as one struct"
        )
    labels = names[: len(args)] if names else tuple(str(i) for i in range(len(args)))
    columns = {
        label: arg if isinstance(arg, pd.Series) else pd.Series(arg.to_dict(orient="records"))
        for label, arg in zip(labels, args, strict=False)
    }
    return pd.DataFrame(columns)


def _column(series: Any, kind: DataType, what: str) -> Any:
    """``series`` as the values of Spark type ``kind`` (a primitive or an array of primitives)."""
    import numpy as np
    import pandas as pd
    from pyspark.sql import types as t

    if isinstance(kind, t.ArrayType):
        return pd.Series(
            [
                None if row is None else _column(pd.Series(list(row)), kind.elementType, what).tolist()
                for row in series
            ],
            dtype=object,
        )
    if isinstance(kind, t.StringType):
        return series.map(lambda v: None if v is None else str(v)).astype(object)
    if isinstance(kind, t.BooleanType):
        if series.dtype != np.bool_ and not all(isinstance(v, (bool, np.bool_)) for v in series):
            raise InvalidParameterValue(f"{what}: the model's output ({series.dtype}) is not boolean")
        return series.astype(bool)
    if isinstance(kind, (t.DoubleType, t.FloatType)):
        try:
            return pd.to_numeric(series).astype(np.float64 if isinstance(kind, t.DoubleType) else np.float32)
        except (TypeError, ValueError):
            raise InvalidParameterValue(
                f"{what}: the model's output ({series.dtype}) is not numeric; ask for a string result"
            ) from None
    whole: dict[type[Any], Any] = {t.LongType: np.int64, t.IntegerType: np.int32, t.ShortType: np.int16}
    try:
        numbers = pd.to_numeric(series)
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or numbers.isna().any() or not bool((numbers == numbers.round()).all()):
        raise InvalidParameterValue(
            f"{what}: the model's output ({series.dtype}) is not whole numbers for {kind.simpleString()}; "
            "ask for a double or string result"
        )
    return numbers.astype(whole[type(kind)])


def _to_spark(predictions: Any, kind: DataType, rows: int) -> Any:
    """The model's output for one batch as the Series (or, for a struct, DataFrame) of Spark type ``kind``."""
    import numpy as np
    import pandas as pd
    from pyspark.sql.types import ArrayType, StructType

    if isinstance(predictions, dict):
        predictions = pd.DataFrame({str(k): list(np.asarray(v)) for k, v in predictions.items()})
    elif isinstance(predictions, list) and predictions and isinstance(predictions[0], dict):
        predictions = pd.DataFrame.from_records(predictions)
    if isinstance(kind, StructType):
        if isinstance(predictions, pd.DataFrame):
            frame = predictions.reset_index(drop=True)
        else:  # one value per row is the column "prediction", several are columns "0", "1", ...
            array = np.asarray(predictions)
            frame = pd.DataFrame({"prediction": array}) if array.ndim == 1 else pd.DataFrame(array)
        frame.columns = [str(c) for c in frame.columns]
        missing = [f.name for f in kind.fields if f.name not in frame.columns]
        if missing:
            raise InvalidParameterValue(
                f"the model's output has no column {missing[0]!r} for the struct result "
                f"(its columns: {', '.join(frame.columns)})"
            )
        result = pd.DataFrame({f.name: _column(frame[f.name], f.dataType, f.name) for f in kind.fields})
    elif isinstance(kind, ArrayType):
        if isinstance(predictions, pd.DataFrame):
            cells: list[Any] = predictions.to_numpy().tolist()
        else:
            array = np.asarray(predictions)
            cells = (
                [[v] for v in array.tolist()] if array.ndim == 1 and array.dtype != object else list(array)
            )
        result = _column(pd.Series(cells, dtype=object), kind, "result")
    else:
        if isinstance(predictions, pd.DataFrame):
            values = predictions.iloc[:, 0]
        else:
            array = np.asarray(predictions)
            values = pd.Series(array if array.ndim <= 1 else array[:, 0])
        result = _column(values.reset_index(drop=True), kind, "result")
    if len(result) != rows:
        raise InvalidParameterValue(f"the model returned {len(result)} predictions for {rows} rows")
    return result


def _score_batches(iterator: Iterator[Any], spec: _UdfSpec) -> Iterator[Any]:
    import pandas as pd

    model = _executor_model(spec)
    for batch in iterator:
        args = (batch,) if isinstance(batch, (pd.Series, pd.DataFrame)) else tuple(batch)
        frame = _input_frame(args, spec.input_names)
        yield _to_spark(model.predict(frame, spec.params), spec.result_type, len(frame))
