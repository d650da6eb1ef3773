"""The ``mlflow.log-model.history`` run tag: a JSON list with one entry per model logged to the run.

``runs/log-model`` (MLflow 2's way of recording an MLmodel on its run) appends an entry built the way MLflow
builds it: the model's ``run_id``, ``artifact_path``, ``utc_time_created`` and ``model_uuid`` (``null`` when
absent), then its ``flavors`` with each flavor's bulky ``config`` left out, serialized by ``json.dumps`` with
its default separators, so the tag reads the same as MLflow's.
"""

from __future__ import annotations

import json
from typing import Any

from wayline.errors import InvalidParameterValue, InvalidState

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
#: The fields an MLmodel JSON must have.
REQUIRED_FIELDS = ("artifact_path", "flavors", "utc_time_created", "run_id")
_ENTRY_FIELDS = ("run_id", "artifact_path", "utc_time_created", "model_uuid")


def history_entry(model_json: str) -> dict[str, Any]:
    """The tag entry of one MLmodel given as JSON text; InvalidParameterValue when it is not one."""
    try:
        model = json.loads(model_json)
    except (TypeError, ValueError):
        shown = model_json if len(model_json) <= 200 else model_json[:197] + "..."
        raise InvalidParameterValue(f"Malformed model info. \n {shown} \n is not a valid JSON.") from None
    if not isinstance(model, dict):
        raise InvalidParameterValue("Invalid value for parameter 'model_json': must be a JSON object")
    missing = sorted(set(REQUIRED_FIELDS) - set(model))
    if missing:
        raise InvalidParameterValue(f"Model json is missing mandatory fields: {missing}")
    flavors = model["flavors"]
    if not isinstance(flavors, dict):
        raise InvalidParameterValue("Invalid value for parameter 'model_json': 'flavors' must be an object")
    entry: dict[str, Any] = {name: model.get(name) for name in _ENTRY_FIELDS}
    entry["flavors"] = {
        name: {k: v for k, v in config.items() if k != "config"} if isinstance(config, dict) else config
        for name, config in flavors.items()
    }
    return entry


def appended(current: str | None, entry: dict[str, Any]) -> str:
    """The tag's new value: ``current`` (a JSON list, or None) with ``entry`` at the end."""
    entries: list[Any] = []
    if current:
        try:
            entries = json.loads(current)
        except ValueError:
            entries = None  # type: ignore[assignment]
        if not isinstance(entries, list):
            raise InvalidState(f"The run tag '{LOG_MODEL_HISTORY_TAG}' is not a JSON list; delete it first")
    return json.dumps([*entries, entry])


__all__ = ["LOG_MODEL_HISTORY_TAG", "REQUIRED_FIELDS", "appended", "history_entry"]
