"""Experiments, runs, metrics, params, tags, datasets and file listings in MLflow's JSON."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from math import isfinite
from operator import attrgetter
from typing import Any, Literal, TypeVar

from orjson import Fragment

from wayline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Page,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from wayline.entities.key_values import is_empty
from wayline.entities.metric_history import MetricHistory
from wayline.errors import invalid_value

Json = dict[str, Any]
T = TypeVar("T")

_metric_value = attrgetter("value")
_KEY_VALUES: tuple[Literal["params", "tags"], ...] = ("params", "tags")

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "nan": math.nan}


def encode_float(value: float) -> float | str:
    """A double as protobuf JSON writes it (``"NaN"``, ``"Infinity"``, ``"-Infinity"`` when not finite)."""
    if math.isnan(value):
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return value


def decode_float(value: object, field: str = "value") -> float:
    """A JSON number or one of protobuf's non-finite spellings."""
    if isinstance(value, bool):
        raise invalid_value(field, value, "must be a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise invalid_value(field, value, "must be a number")


def tags_to_json(tags: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def tags_from_json(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or ()}


# -- pages ----------------------------------------------------------------------------------------------
def page_to_json(page: Page[T], key: str, encode: Callable[[T], Json]) -> Json:
    """A page of a search as ``{key: [...], "next_page_token": ...}``, each omitted when empty."""
    out: Json = {}
    if page.items:
        out[key] = [encode(item) for item in page.items]
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


def page_from_json(data: Mapping[str, Any], key: str, decode: Callable[[Mapping[str, Any]], T]) -> Page[T]:
    """The reverse of :func:`page_to_json`."""
    token = data.get("next_page_token")
    return Page([decode(item) for item in data.get(key) or ()], str(token) if token else None)


# -- experiments ------------------------------------------------------------------------------------------
def experiment_to_json(exp: Experiment) -> Json:
    out: Json = {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage.value,
    }
    if exp.last_update_time is not None:
        out["last_update_time"] = exp.last_update_time
    if exp.creation_time is not None:
        out["creation_time"] = exp.creation_time
    if exp.tags:
        out["tags"] = tags_to_json(exp.tags)
    return out


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(data["experiment_id"]),
        name=str(data.get("name", "")),
        artifact_location=str(data.get("artifact_location", "")),
        lifecycle_stage=LifecycleStage(data.get("lifecycle_stage", "active")),
        tags=tags_from_json(data.get("tags")),
        creation_time=_opt_int(data.get("creation_time")),
        last_update_time=_opt_int(data.get("last_update_time")),
    )


# -- metrics ----------------------------------------------------------------------------------------------
def metric_to_json(metric: Metric, run_id: str | None = None) -> Json:
    out: Json = {
        "key": metric.key,
        "value": encode_float(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if run_id is not None:
        out["run_id"] = run_id
    return out


def metric_list_to_json(points: Sequence[Metric]) -> list[Any]:
    """Many points of one run as MLflow's ``{key, value, timestamp, step}`` objects, for orjson.

    A :class:`MetricHistory`'s records are those objects already when every value is finite, and go as they
    are (no :class:`Metric` is made); other points go to orjson as they are when every value is finite (a
    frozen dataclass serializes to exactly that object, in C). Non-finite values are spelled out.
    """
    if isinstance(points, MetricHistory):
        records = points.records
        total = points.value_total()  # None when a point is NaN; not finite when one is infinite
        if total is not None and isfinite(total):
            return records if isinstance(records, list) else list(records)
        return [
            {**record, "value": "NaN" if (v := record["value"]) is None else encode_float(v)}
            for record in records
        ]
    if isfinite(sum(map(_metric_value, points))):
        return list(points)
    return [metric_to_json(m) for m in points]


def metric_from_json(data: Mapping[str, Any]) -> Metric:
    return Metric(
        key=str(data["key"]),
        value=decode_float(data.get("value", 0.0)),
        timestamp=int(data.get("timestamp", 0)),
        step=int(data.get("step", 0)),
    )


# -- runs -------------------------------------------------------------------------------------------------
def run_info_to_json(info: RunInfo) -> Json:
    out: Json = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status.value,
        "start_time": info.start_time,
    }
    if info.end_time is not None:
        out["end_time"] = info.end_time
    out["artifact_uri"] = info.artifact_uri
    out["lifecycle_stage"] = info.lifecycle_stage.value
    return out


def run_info_from_json(data: Mapping[str, Any]) -> RunInfo:
    run_id = str(data.get("run_id") or data.get("run_uuid") or "")
    return RunInfo(
        run_id=run_id,
        experiment_id=str(data.get("experiment_id", "")),
        run_name=str(data.get("run_name", "")),
        user_id=str(data.get("user_id", "")),
        status=RunStatus.parse(data.get("status", "RUNNING")),
        start_time=int(data.get("start_time", 0)),
        end_time=_opt_int(data.get("end_time")),
        artifact_uri=str(data.get("artifact_uri", "")),
        lifecycle_stage=LifecycleStage(data.get("lifecycle_stage", "active")),
    )


def dataset_input_to_json(item: DatasetInput) -> Json:
    ds = item.dataset
    dataset: Json = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    out: Json = {}
    if item.tags:
        out["tags"] = [{"key": t.key, "value": t.value} for t in item.tags]
    out["dataset"] = dataset
    return out


def dataset_input_from_json(data: Mapping[str, Any]) -> DatasetInput:
    ds = data.get("dataset") or {}
    return DatasetInput(
        dataset=Dataset(
            name=str(ds.get("name", "")),
            digest=str(ds.get("digest", "")),
            source_type=str(ds.get("source_type", "")),
            source=str(ds.get("source", "")),
            schema=ds.get("schema"),
            profile=ds.get("profile"),
        ),
        tags=tuple(InputTag(str(t["key"]), str(t.get("value", ""))) for t in data.get("tags") or ()),
    )


def _key_values_to_json(data: RunData, name: Literal["params", "tags"]) -> list[Json] | Fragment | None:
    """The run's params or tags on the wire (None: omitted, as none). A store's key-value document is already
    that list, and goes out as it is (``orjson.Fragment``: only orjson, the server's encoder, takes it)."""
    document = data.document(name)
    if document is not None:
        return None if is_empty(document) else Fragment(document)
    pairs: dict[str, str] = getattr(data, name)
    return tags_to_json(pairs) if pairs else None


def run_to_json(run: Run) -> Json:
    data: Json = {}
    if run.data.metrics:
        data["metrics"] = [metric_to_json(m) for m in run.data.metrics]
    for name in _KEY_VALUES:
        pairs = _key_values_to_json(run.data, name)
        if pairs is not None:
            data[name] = pairs
    inputs: Json = {}
    if run.inputs.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input_to_json(d) for d in run.inputs.dataset_inputs]
    if run.inputs.model_inputs:
        inputs["model_inputs"] = [{"model_id": m.model_id} for m in run.inputs.model_inputs]
    outputs: Json = {}
    if run.outputs.model_outputs:
        outputs["model_outputs"] = [
            {"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs
        ]
    return {"info": run_info_to_json(run.info), "data": data, "inputs": inputs, "outputs": outputs}


def run_from_json(data: Mapping[str, Any]) -> Run:
    body = data.get("data") or {}
    inputs = data.get("inputs") or {}
    outputs = data.get("outputs") or {}
    return Run(
        info=run_info_from_json(data.get("info") or {}),
        data=RunData(
            metrics=tuple(metric_from_json(m) for m in body.get("metrics") or ()),
            params=tags_from_json(body.get("params")),
            tags=tags_from_json(body.get("tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=tuple(dataset_input_from_json(d) for d in inputs.get("dataset_inputs") or ()),
            model_inputs=tuple(
                LoggedModelInput(str(m["model_id"])) for m in inputs.get("model_inputs") or ()
            ),
        ),
        outputs=RunOutputs(
            model_outputs=tuple(
                LoggedModelOutput(str(m["model_id"]), int(m.get("step", 0)))
                for m in outputs.get("model_outputs") or ()
            )
        ),
    )


# -- artifacts --------------------------------------------------------------------------------------------
def file_info_to_json(info: FileInfo) -> Json:
    out: Json = {"path": info.path, "is_dir": info.is_dir}
    if info.file_size is not None and not info.is_dir:
        out["file_size"] = info.file_size
    return out


def file_info_from_json(data: Mapping[str, Any]) -> FileInfo:
    size = data.get("file_size")
    return FileInfo(
        path=str(data["path"]),
        is_dir=bool(data.get("is_dir", False)),
        file_size=None if size is None else int(size),
    )


def _opt_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(value)  # type: ignore[call-overload, no-any-return]
