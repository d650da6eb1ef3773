"""The hot path of metric ingest: a ``runs/log-batch`` body decoded by hand.

``orjson`` plus a few passes over the points is many times faster than validating the
:class:`~wayline.server.messages.runs.LogBatch` model (which still documents the body). When every point's
fields already have their final types (a non-empty string key, a float value, integer timestamp and step),
the points become :class:`~wayline.entities.metric_columns.MetricColumns` with C-level passes, the form the
store writes; otherwise each point is read on its own: one whose fields are final is built directly, anything
else takes the careful path, which accepts what protobuf's JSON accepts (integers as strings,
``"NaN"``/``"Infinity"``) and refuses the rest with the same messages as the model-based routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from wayline.entities import Metric, Param, RunTag
from wayline.entities.metric_columns import MetricColumns, split
from wayline.errors import invalid_value
from wayline.server.endpoint import json_object
from wayline.server.messages.common import missing
from wayline.wire import decode_float

_new = object.__new__

_KEY, _VALUE, _TIMESTAMP, _STEP = (itemgetter(name) for name in ("key", "value", "timestamp", "step"))


@dataclass(frozen=True)
class ModelLink:
    """Where a point of the batch also belongs to a logged model (MLflow 3's ``model_id`` on a metric)."""

    index: int
    model_id: str
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True)
class DecodedBatch:
    run_id: str
    metrics: Sequence[Metric]
    params: list[Param]
    tags: list[RunTag]
    links: list[ModelLink] = field(default_factory=list)


def decode_log_batch(body: bytes) -> DecodedBatch:
    """The body of ``runs/log-batch``; 400 with MLflow's envelope for anything malformed or mistyped."""
    data = json_object(body)
    run_id = _text(data.get("run_id"), "run_id")
    if not run_id:
        raise missing("run_id")
    links: list[ModelLink] = []
    metrics = _metrics(data.get("metrics"), links)
    params = [Param(k, v) for k, v in _pairs(data.get("params"), "params")]
    tags = [RunTag(k, v) for k, v in _pairs(data.get("tags"), "tags")]
    return DecodedBatch(run_id, metrics, params, tags, links)


def _metrics(raw: object, links: list[ModelLink]) -> Sequence[Metric]:
    if raw is None:
        return []
    if type(raw) is not list:
        raise invalid_value("metrics", raw, "Input should be a valid list")
    columns = _columns(raw)
    if columns is not None:
        return columns
    out: list[Metric] = []
    append = out.append
    new = _new
    for item in raw:
        if type(item) is dict and "model_id" not in item:
            key = item.get("key")
            value = item.get("value")
            timestamp = item.get("timestamp")
            step = item.get("step", 0)
            if (
                type(value) is float
                and type(timestamp) is int
                and type(step) is int
                and type(key) is str
                and key
            ):
                # The fields are final: fill the frozen dataclass the way pickle restores one, without its
                # per-field __init__ (a third of the cost of decoding a 1000-point batch).
                metric = new(Metric)
                fields = metric.__dict__
                fields["key"] = key
                fields["value"] = value
                fields["timestamp"] = timestamp
                fields["step"] = step
                append(metric)
                continue
        append(_metric(item, len(out), links))
    return out


def _columns(raw: list[Any]) -> MetricColumns | None:
    """The points as columns per key, when each is an object of exactly a non-empty string key, a float
    value, an integer timestamp and an integer step (every point with a step, or none), which leaves no room
    for a logged model's fields: the usual batch, read with C-level passes (``map``, ``set``, ``compress``)
    instead of a Python loop over the points. None for anything else, which the per-point path decodes, or
    refuses with its field named."""
    if not raw or set(map(type, raw)) != {dict}:
        return None
    sizes = set(map(len, raw))
    if sizes not in ({4}, {3}):
        return None
    try:
        keys: list[str] = list(map(_KEY, raw))
        values: list[float] = list(map(_VALUE, raw))
        timestamps: list[int] = list(map(_TIMESTAMP, raw))
        steps: list[int] = list(map(_STEP, raw)) if sizes == {4} else [0] * len(raw)
    except KeyError:
        return None
    if set(map(type, keys)) != {str}:  # before any key is hashed: a list or an object is no key
        return None
    if (
        "" in keys
        or set(map(type, values)) != {float}
        or set(map(type, timestamps)) != {int}
        or set(map(type, steps)) != {int}
    ):
        return None
    return MetricColumns(split(keys, steps, timestamps, values), keys)


def _metric(item: object, index: int, links: list[ModelLink]) -> Metric:
    where = f"metrics[{index}]"
    entry, key = _keyed(item, where)
    if entry.get("value") is None:
        raise missing(f"{where}.value")
    if entry.get("timestamp") is None:
        raise missing(f"{where}.timestamp")
    metric = Metric(
        key,
        decode_float(entry["value"], f"{where}.value"),
        _integer(entry["timestamp"], f"{where}.timestamp"),
        _integer(entry.get("step") or 0, f"{where}.step"),
    )
    model_id = _text(entry.get("model_id"), f"{where}.model_id")
    if model_id:
        links.append(
            ModelLink(
                index,
                model_id,
                _text(entry.get("dataset_name"), f"{where}.dataset_name") or None,
                _text(entry.get("dataset_digest"), f"{where}.dataset_digest") or None,
            )
        )
    return metric


def _pairs(raw: object, name: str) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if type(raw) is not list:
        raise invalid_value(name, raw, "Input should be a valid list")
    out: list[tuple[str, str]] = []
    for index, item in enumerate(raw):
        where = f"{name}[{index}]"
        entry, key = _keyed(item, where)
        out.append((key, _text(entry.get("value"), f"{where}.value")))
    return out


def _keyed(item: object, where: str) -> tuple[dict[str, Any], str]:
    """An entry of a list that must be an object with a non-empty ``key``; returns both."""
    if not isinstance(item, dict):
        raise invalid_value(where, item, "Input should be a valid dictionary")
    key = _text(item.get("key"), f"{where}.key")
    if not key:
        raise missing(f"{where}.key")
    return item, key


def _text(value: object, where: str) -> str:
    """A string field: absent is ``""``; numbers become their text (as the pydantic messages do)."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise invalid_value(where, value, "Input should be a valid string")


#: Floats at or beyond this magnitude stand for no int64 exactly (2**63 as a float).
_FLOAT_INT64_BOUND = float(2**63)


def _integer(value: object, where: str) -> int:
    """An int64 field: a JSON integer, an integral float, or a decimal string (protobuf's JSON form)."""
    if isinstance(value, bool):
        raise invalid_value(where, value, "Input should be a valid integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        # A float this large is an integer outside int64 rounded by the JSON parser (orjson reads an
        # integer below -2**63 as a float, and -2**63 - 1 rounds to -2**63): its value is already lost.
        if not -_FLOAT_INT64_BOUND < value < _FLOAT_INT64_BOUND:
            raise invalid_value(where, value, "outside the 64-bit integer range")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.lstrip("-").isdigit():
            return int(text)
    raise invalid_value(where, value, "Input should be a valid integer")


__all__ = ["DecodedBatch", "ModelLink", "decode_log_batch"]
