"""Encoding predictions and errors as the scoring server's JSON responses (orjson).

The shapes are MLflow's: ``{"predictions": ...}`` where an ndarray becomes nested lists, a DataFrame a
list of records, a Series a list of one-field records (named after the Series, ``0`` when unnamed),
and lists, dicts and scalars stay as they are with numpy values turned into Python ones. Bytes are
base64, datetimes ISO 8601 strings. NaN and infinities become ``null`` (valid JSON, unlike MLflow's
``NaN``).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd

from wayline.errors import WaylineError

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """What orjson cannot encode by itself."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return value.tolist()
        if value.dtype.kind == "S":
            return [_default(bytes(v)) for v in value.ravel().tolist()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.encodebytes(bytes(value)).decode("ascii")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return value.to_frame().to_dict(orient="records")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if value is pd.NaT or value is pd.NA:
        return None
    raise TypeError(f"cannot encode a {type(value).__name__} as JSON")


def jsonable(predictions: Any) -> Any:
    """The JSON value of a model's output, in MLflow's shapes."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.to_frame().to_dict(orient="records")
    return predictions


def encode_predictions(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as JSON bytes."""
    return orjson.dumps({"predictions": jsonable(predictions)}, default=_default, option=_OPTIONS)


def encode_json(value: Any) -> bytes:
    """Any JSON document (the ``/metadata`` answer, ...)."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def error_body(error: WaylineError) -> bytes:
    """MLflow's error envelope: ``{"error_code": ..., "message": ...}``."""
    return orjson.dumps(error.to_dict())


__all__ = ["encode_json", "encode_predictions", "error_body", "jsonable"]
