"""Logged models (MLflow 3) in MLflow's JSON: ``{"info": {...}, "data": {"params": [], "metrics": []}}``.

``info`` carries the attributes, the status as its protobuf enum name (``LOGGED_MODEL_READY``) and the tags;
``data`` the params and the metric points (each with ``model_id``, ``run_id`` and, when set, the dataset).
Unset optional fields and empty lists are omitted, as protobuf JSON does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wayline.entities import LifecycleStage, LoggedModel, LoggedModelMetric, LoggedModelStatus
from wayline.wire.tracking import decode_float, encode_float, tags_from_json, tags_to_json

Json = dict[str, Any]


def model_metric_to_json(metric: LoggedModelMetric) -> Json:
    out: Json = {
        "key": metric.key,
        "value": encode_float(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.dataset_name:
        out["dataset_name"] = metric.dataset_name
    if metric.dataset_digest:
        out["dataset_digest"] = metric.dataset_digest
    if metric.model_id:
        out["model_id"] = metric.model_id
    out["run_id"] = metric.run_id
    return out


def model_metric_from_json(data: Mapping[str, Any], run_id: str = "") -> LoggedModelMetric:
    return LoggedModelMetric(
        key=str(data["key"]),
        value=decode_float(data.get("value", 0.0)),
        timestamp=int(data.get("timestamp", 0)),
        step=int(data.get("step", 0)),
        run_id=str(data.get("run_id") or run_id),
        model_id=str(data.get("model_id") or ""),
        dataset_name=data.get("dataset_name") or None,
        dataset_digest=data.get("dataset_digest") or None,
    )


def logged_model_to_json(model: LoggedModel) -> Json:
    info: Json = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": model.status.wire,
    }
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.status_message:
        info["status_message"] = model.status_message
    if model.tags:
        info["tags"] = tags_to_json(model.tags)
    data: Json = {}
    if model.params:
        data["params"] = tags_to_json(model.params)
    if model.metrics:
        data["metrics"] = [model_metric_to_json(m) for m in model.metrics]
    return {"info": info, "data": data}


def logged_model_from_json(data: Mapping[str, Any]) -> LoggedModel:
    info = data.get("info") or {}
    body = data.get("data") or {}
    model_id = str(info.get("model_id", ""))
    return LoggedModel(
        model_id=model_id,
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        creation_timestamp=int(info.get("creation_timestamp_ms", 0)),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms", 0)),
        status=LoggedModelStatus.parse(info.get("status", "LOGGED_MODEL_STATUS_UNSPECIFIED")),
        lifecycle_stage=LifecycleStage.ACTIVE,
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        status_message=info.get("status_message") or None,
        tags=tags_from_json(info.get("tags")),
        params=tags_from_json(body.get("params")),
        metrics=tuple(model_metric_from_json(m) for m in body.get("metrics") or ()),
    )


__all__ = [
    "logged_model_from_json",
    "logged_model_to_json",
    "model_metric_from_json",
    "model_metric_to_json",
]
