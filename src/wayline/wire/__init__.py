"""The MLflow REST API's JSON shapes, to and from Wayline's entities.

Pure functions, no I/O: the server encodes responses and decodes requests with them, and the REST store
(``store/rest.py``) does the reverse. The rules are MLflow's (protobuf JSON as its server emits it): field
names as in the protos, 64-bit integers as JSON numbers, empty repeated fields and unset optional fields
omitted, and non-finite doubles as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from wayline.wire.registry import (
    model_version_from_json,
    model_version_to_json,
    registered_model_from_json,
    registered_model_to_json,
    registry_event_from_json,
    registry_event_to_json,
)
from wayline.wire.tracking import (
    dataset_input_from_json,
    dataset_input_to_json,
    decode_float,
    encode_float,
    experiment_from_json,
    experiment_to_json,
    file_info_from_json,
    file_info_to_json,
    metric_from_json,
    metric_list_to_json,
    metric_to_json,
    page_from_json,
    page_to_json,
    run_from_json,
    run_info_from_json,
    run_info_to_json,
    run_to_json,
    tags_from_json,
    tags_to_json,
)

__all__ = [
    "dataset_input_from_json",
    "dataset_input_to_json",
    "decode_float",
    "encode_float",
    "experiment_from_json",
    "experiment_to_json",
    "file_info_from_json",
    "file_info_to_json",
    "metric_from_json",
    "metric_list_to_json",
    "metric_to_json",
    "model_version_from_json",
    "model_version_to_json",
    "page_from_json",
    "page_to_json",
    "registered_model_from_json",
    "registered_model_to_json",
    "registry_event_from_json",
    "registry_event_to_json",
    "run_from_json",
    "run_info_from_json",
    "run_info_to_json",
    "run_to_json",
    "tags_from_json",
    "tags_to_json",
]
