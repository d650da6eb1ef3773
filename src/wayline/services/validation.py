"""Pure input checks shared by every caller. Each failure is InvalidParameterValue naming the field."""

from __future__ import annotations

import numbers
import posixpath
import re
import unicodedata
from collections.abc import Sequence

from wayline.entities import DatasetInput, ExperimentTag, Metric, Param, RunTag
from wayline.entities.metric_columns import MetricColumns
from wayline.errors import InvalidParameterValue, SearchSyntaxError, invalid_value
from wayline.services import limits

_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[0-9]{1,19}$")


def normalize_name(value: str) -> str:
    """NFC-normalize a user-visible name so look-alike spellings are one name."""
    return unicodedata.normalize("NFC", value)


def validate_key(key: object, *, field: str) -> str:
    """Keys of params, metrics and tags: letters, digits, ``_ - . / : space``; no path tricks."""
    if not isinstance(key, str):
        raise invalid_value(field, key, "must be a string")
    if not key:
        raise invalid_value(field, key, "must not be empty")
    key = normalize_name(key)
    if len(key) > limits.MAX_ENTITY_KEY_LENGTH:
        raise invalid_value(field, key, f"longer than the limit of {limits.MAX_ENTITY_KEY_LENGTH} characters")
    if not _KEY_RE.match(key):
        raise invalid_value(
            field,
            key,
            "names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), "
            "colons (:) and slashes (/)",
        )
    if key.startswith("/") or posixpath.normpath(key) != key or ".." in key.split("/"):
        raise invalid_value(
            field, key, "names must be normalized relative paths (no leading '/', '..', '//' or './')"
        )
    return key


def validate_string(value: object, *, field: str, max_length: int, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise invalid_value(field, value, "must be a string")
    if not allow_empty and not value.strip():
        raise invalid_value(field, value, "must not be empty")
    if len(value) > max_length:
        raise invalid_value(
            field, value, f"longer than the limit of {max_length} characters (got {len(value)})"
        )
    return value


def validate_int64(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_value(field, value, "must be an integer")
    if not limits.INT64_MIN <= value <= limits.INT64_MAX:
        raise invalid_value(field, value, "outside the 64-bit integer range")
    return value


def validate_metric_value(value: object, *, field: str) -> float:
    """Real numbers only (numpy scalars included); NaN and infinities are allowed and kept."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid_value(field, value, "metric values must be numbers")
    try:
        return float(value)
    except OverflowError:
        raise invalid_value(field, value, "the number is too large for a 64-bit float") from None


def validate_id(value: object, pattern: re.Pattern[str], *, field: str, what: str) -> str:
    """``value`` if it is a string that ``pattern`` matches; otherwise "must be <what>" naming ``field``."""
    if not isinstance(value, str) or not pattern.match(value):
        raise invalid_value(field, value, f"must be {what}")
    return value


def validate_run_id(run_id: object, *, field: str = "run_id") -> str:
    what = "a run id (letters, digits, '_' and '-', at most 256 characters)"
    return validate_id(run_id, _RUN_ID_RE, field=field, what=what)


def validate_experiment_id(experiment_id: object, *, field: str = "experiment_id") -> str:
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        experiment_id = str(experiment_id)
    return validate_id(
        experiment_id, _EXPERIMENT_ID_RE, field=field, what="an experiment id (a string of digits)"
    )


def validate_experiment_name(name: object, *, field: str = "name") -> str:
    if not isinstance(name, str):
        raise invalid_value(field, name, "must be a string")
    name = normalize_name(name.strip())
    if not name:
        raise invalid_value(field, name, "must not be empty")
    if len(name) > limits.MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid_value(
            field, name, f"longer than the limit of {limits.MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise invalid_value(field, name, "must not contain control characters")
    return name


def validate_run_name(name: object, *, field: str = "run_name") -> str:
    if not isinstance(name, str):
        raise invalid_value(field, name, "must be a string")
    name = normalize_name(name)
    if len(name) > limits.MAX_RUN_NAME_LENGTH:
        raise invalid_value(field, name, f"longer than the limit of {limits.MAX_RUN_NAME_LENGTH} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise invalid_value(field, name, "must not contain control characters")
    return name


def item_field(within: str | None, name: str, key: str | None = None) -> str:
    """The name an error gives a field of a metric, param or tag: the field alone (``step``) for an item
    sent on its own (``log-metric``, ``log-parameter``, ``set-tag``: ``within`` None), else ``metrics.key``
    for a batch's key and ``metrics[loss].step`` for the other fields of the item of key ``loss``."""
    if within is None:
        return name
    return f"{within}.{name}" if key is None else f"{within}[{key}].{name}"


def validate_param(param: Param, *, within: str | None = "params") -> Param:
    key = validate_key(param.key, field=item_field(within, "key"))
    value = validate_string(
        param.value, field=item_field(within, "value", key), max_length=limits.MAX_PARAM_VALUE_LENGTH
    )
    return Param(key, value)


def validate_tag(tag: RunTag, *, within: str | None = "tags") -> RunTag:
    key = validate_key(tag.key, field=item_field(within, "key"))
    value = validate_string(
        tag.value, field=item_field(within, "value", key), max_length=limits.MAX_TAG_VALUE_LENGTH
    )
    return RunTag(key, value)


def validate_experiment_tag(tag: ExperimentTag) -> ExperimentTag:
    key = validate_key(tag.key, field="tags.key")
    value = validate_string(
        tag.value, field=f"tags[{key}].value", max_length=limits.MAX_EXPERIMENT_TAG_VALUE_LENGTH
    )
    return ExperimentTag(key, value)


def validate_metric(metric: Metric, *, within: str | None = "metrics") -> Metric:
    key = validate_key(metric.key, field=item_field(within, "key"))
    value = validate_metric_value(metric.value, field=item_field(within, "value", key))
    timestamp = validate_int64(metric.timestamp, field=item_field(within, "timestamp", key))
    step = validate_int64(metric.step, field=item_field(within, "step", key))
    return Metric(key, value, timestamp, step)


def validate_metrics(metrics: Sequence[Metric]) -> Sequence[Metric]:
    """:func:`validate_metric` for a whole batch, on the hot path of metric ingest.

    Points held as :class:`MetricColumns` (their types final) are kept as they are when each key is valid as
    spelled and each step and timestamp column lies within int64 (its ``min`` and ``max``). Otherwise each
    distinct key is checked once, and a point whose key, value, timestamp and step are already in their final
    form (a checked key, a ``float``, two in-range ``int``) is kept as it is; anything else takes the full
    per-point path, so the rules and the messages are the same.
    """
    if isinstance(metrics, MetricColumns) and _columns_valid(metrics):
        return metrics
    keys: dict[str, str] = {}
    out: list[Metric] = []
    append = out.append
    lo, hi = limits.INT64_MIN, limits.INT64_MAX
    for metric in metrics:
        key, ts, step = metric.key, metric.timestamp, metric.step
        if (
            type(metric.value) is float
            and type(ts) is int
            and type(step) is int
            and lo <= ts <= hi
            and lo <= step <= hi
            and type(key) is str
        ):
            checked = keys.get(key)
            if checked is None:
                checked = keys[key] = validate_key(key, field="metrics.key")
            append(metric if checked == key else Metric(checked, metric.value, ts, step))
        else:
            append(validate_metric(metric))
    return out


def _columns_valid(metrics: MetricColumns) -> bool:
    """Whether every key of ``metrics`` is valid as spelled and every step and timestamp within int64; a key
    that is invalid raises, as :func:`validate_key` does."""
    lo, hi = limits.INT64_MIN, limits.INT64_MAX
    for key, (steps, timestamps, _) in metrics.columns.items():
        if validate_key(key, field="metrics.key") != key:
            return False
        if not (lo <= min(steps) and max(steps) <= hi and lo <= min(timestamps) and max(timestamps) <= hi):
            return False
    return True


def validate_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> tuple[Sequence[Metric], list[Param], list[RunTag]]:
    """MLflow's batch limits, then every entity; one param key with two values in a batch is refused."""
    if len(metrics) > limits.MAX_METRICS_PER_BATCH:
        raise invalid_value(
            "metrics", f"{len(metrics)} metrics", f"at most {limits.MAX_METRICS_PER_BATCH} per batch"
        )
    if len(params) > limits.MAX_PARAMS_PER_BATCH:
        raise invalid_value(
            "params", f"{len(params)} params", f"at most {limits.MAX_PARAMS_PER_BATCH} per batch"
        )
    if len(tags) > limits.MAX_TAGS_PER_BATCH:
        raise invalid_value("tags", f"{len(tags)} tags", f"at most {limits.MAX_TAGS_PER_BATCH} per batch")
    total = len(metrics) + len(params) + len(tags)
    if total > limits.MAX_ENTITIES_PER_BATCH:
        raise invalid_value(
            "batch", f"{total} entities", f"at most {limits.MAX_ENTITIES_PER_BATCH} metrics, params and tags"
        )
    checked_params: dict[str, Param] = {}
    for raw in params:
        param = validate_param(raw)
        earlier = checked_params.get(param.key)
        if earlier is not None and earlier.value != param.value:
            raise InvalidParameterValue(
                f"Duplicate parameter key '{param.key}' in one batch with different values "
                f"({earlier.value!r} and {param.value!r})"
            )
        checked_params[param.key] = param
    return (
        validate_metrics(metrics),
        list(checked_params.values()),
        [validate_tag(t) for t in tags],
    )


def validate_dataset_inputs(datasets: Sequence[DatasetInput]) -> None:
    if len(datasets) > limits.MAX_DATASETS_PER_CALL:
        raise invalid_value(
            "datasets", f"{len(datasets)} datasets", f"at most {limits.MAX_DATASETS_PER_CALL} per call"
        )
    for item in datasets:
        ds = item.dataset
        validate_string(
            ds.name, field="dataset.name", max_length=limits.MAX_DATASET_NAME_LENGTH, allow_empty=False
        )
        validate_string(
            ds.digest, field="dataset.digest", max_length=limits.MAX_DATASET_DIGEST_LENGTH, allow_empty=False
        )
        validate_string(
            ds.source_type,
            field="dataset.source_type",
            max_length=limits.MAX_DATASET_SOURCE_TYPE_LENGTH,
            allow_empty=False,
        )
        validate_string(ds.source, field="dataset.source", max_length=limits.MAX_DATASET_SOURCE_LENGTH)
        if ds.schema is not None:
            validate_string(ds.schema, field="dataset.schema", max_length=limits.MAX_DATASET_SCHEMA_LENGTH)
        if ds.profile is not None:
            validate_string(ds.profile, field="dataset.profile", max_length=limits.MAX_DATASET_PROFILE_LENGTH)
        for tag in item.tags:
            validate_string(
                tag.key, field="input_tags.key", max_length=limits.MAX_INPUT_TAG_KEY_LENGTH, allow_empty=False
            )
            validate_string(tag.value, field="input_tags.value", max_length=limits.MAX_INPUT_TAG_VALUE_LENGTH)


def validate_max_results(value: object, *, maximum: int, field: str = "max_results") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_value(field, value, "must be an integer")
    if value <= 0 or value > maximum:
        raise invalid_value(field, value, f"must be between 1 and {maximum}")
    return value


def name_search_field(
    exc: SearchSyntaxError, filter_string: str | None, *, filter_field: str = "filter_string"
) -> SearchSyntaxError:
    """The search language's error, saying which argument it is about (``filter_field`` or ``order_by``)."""
    if "parameter '" in exc.message:
        return exc
    field = filter_field if filter_string and exc.text == filter_string else "order_by"
    named = SearchSyntaxError(f"Invalid value for parameter '{field}': {exc.message}")
    named.text, named.position = exc.text, exc.position
    return named
