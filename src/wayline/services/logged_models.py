"""The logged-model service (MLflow 3 logged models): validation and rules before the store.

Every argument is checked here (ids, names, sizes, batch limits, statuses, search arguments), so a bad
request changes nothing; the store enforces what needs the stored state (existence, active experiment and
run, param immutability).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from wayline.entities import (
    DatasetFilter,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOrder,
    LoggedModelOutput,
    LoggedModelStatus,
    Page,
    Param,
    RunTag,
)
from wayline.errors import InvalidParameterValue, SearchSyntaxError, invalid_value
from wayline.services import limits
from wayline.services import validation as v
from wayline.store.logged_model import (
    SEARCH_LOGGED_MODELS_DEFAULT,
    SEARCH_LOGGED_MODELS_MAX,
    LoggedModelStore,
)

MAX_MODEL_NAME_LENGTH = 500
MAX_MODEL_TYPE_LENGTH = 500
MAX_STATUS_MESSAGE_LENGTH = 1000
#: Tags per request (create or set-tags) and models per log-outputs / log-inputs call.
MAX_MODEL_TAGS_PER_CALL = 1000
MAX_MODELS_PER_CALL = 100
MAX_EXPERIMENTS_PER_SEARCH = 1000
#: Characters MLflow refuses in a model name (it becomes part of ``runs:/<run_id>/<name>`` URIs).
NAME_FORBIDDEN = ("/", ":", ".", "%", '"', "'")

_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][\w\-]{0,63}$")


def validate_model_id(model_id: object, *, field: str = "model_id") -> str:
    what = "a logged model id (letters, digits, '_' and '-', at most 64 characters)"
    return v.validate_id(model_id, _MODEL_ID_RE, field=field, what=what)


def validate_model_name(name: object, *, field: str = "name") -> str:
    if not isinstance(name, str):
        raise invalid_value(field, name, "must be a string")
    name = v.normalize_name(name)
    if not name.strip():
        raise invalid_value(field, name, "must not be empty")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise invalid_value(field, name, f"longer than the limit of {MAX_MODEL_NAME_LENGTH} characters")
    if any(c in name for c in NAME_FORBIDDEN):
        raise invalid_value(field, name, f"must not contain any of {' '.join(NAME_FORBIDDEN)}")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise invalid_value(field, name, "must not contain control or format characters")
    return name


def _params(params: Sequence[Param]) -> list[Param]:
    if len(params) > limits.MAX_PARAMS_PER_BATCH:
        raise invalid_value(
            "params", f"{len(params)} params", f"at most {limits.MAX_PARAMS_PER_BATCH} per request"
        )
    checked: dict[str, Param] = {}
    for raw in params:
        param = v.validate_param(raw)
        earlier = checked.setdefault(param.key, param)
        if earlier.value != param.value:
            raise InvalidParameterValue(
                f"Duplicate parameter key '{param.key}' in one request with different values "
                f"({earlier.value!r} and {param.value!r})"
            )
    return list(checked.values())


def _tags(tags: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    items = list(tags.items()) if isinstance(tags, Mapping) else list(tags)
    if len(items) > MAX_MODEL_TAGS_PER_CALL:
        raise invalid_value("tags", f"{len(items)} tags", f"at most {MAX_MODEL_TAGS_PER_CALL} per request")
    out: dict[str, str] = {}
    for key, value in items:
        tag = v.validate_tag(RunTag(key, value))
        out[tag.key] = tag.value
    return out


def _experiment_ids(experiment_ids: object) -> list[str]:
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [experiment_ids]
    if not isinstance(experiment_ids, Sequence) or not experiment_ids:
        raise invalid_value("experiment_ids", experiment_ids, "must be a non-empty list of experiment ids")
    if len(experiment_ids) > MAX_EXPERIMENTS_PER_SEARCH:
        raise invalid_value(
            "experiment_ids", f"{len(experiment_ids)} ids", f"at most {MAX_EXPERIMENTS_PER_SEARCH}"
        )
    return [v.validate_experiment_id(e, field="experiment_ids") for e in experiment_ids]


def _datasets(datasets: Sequence[DatasetFilter]) -> list[DatasetFilter]:
    out: list[DatasetFilter] = []
    for item in datasets:
        name = v.validate_string(
            item.name,
            field="datasets.dataset_name",
            max_length=limits.MAX_DATASET_NAME_LENGTH,
            allow_empty=False,
        )
        digest = item.digest or None
        if digest is not None:
            v.validate_string(
                digest, field="datasets.dataset_digest", max_length=limits.MAX_DATASET_DIGEST_LENGTH
            )
        out.append(DatasetFilter(name, digest))
    return out


def _orders(order_by: Sequence[LoggedModelOrder]) -> list[LoggedModelOrder]:
    for order in order_by:
        if not isinstance(order.field_name, str) or not order.field_name.strip():
            raise invalid_value("order_by.field_name", order.field_name, "must not be empty")
        if order.dataset_digest and not order.dataset_name:
            raise invalid_value(
                "order_by.dataset_digest", order.dataset_digest, "may only be set with dataset_name"
            )
    return list(order_by)


def validate_model_metric(metric: LoggedModelMetric, *, within: str | None = "metrics") -> LoggedModelMetric:
    """A logged model's metric point, its fields named as :func:`validation.item_field` names them."""
    key = v.validate_key(metric.key, field=v.item_field(within, "key"))
    if metric.dataset_name is not None:
        v.validate_string(
            metric.dataset_name,
            field=v.item_field(within, "dataset_name"),
            max_length=limits.MAX_DATASET_NAME_LENGTH,
        )
    if metric.dataset_digest is not None:
        v.validate_string(
            metric.dataset_digest,
            field=v.item_field(within, "dataset_digest"),
            max_length=limits.MAX_DATASET_DIGEST_LENGTH,
        )
    return LoggedModelMetric(
        key=key,
        value=v.validate_metric_value(metric.value, field=v.item_field(within, "value", key)),
        timestamp=v.validate_int64(metric.timestamp, field=v.item_field(within, "timestamp", key)),
        step=v.validate_int64(metric.step, field=v.item_field(within, "step", key)),
        run_id=metric.run_id,
        model_id=validate_model_id(metric.model_id, field=v.item_field(within, "model_id")),
        dataset_name=metric.dataset_name or None,
        dataset_digest=metric.dataset_digest or None,
    )


class LoggedModelService:
    """Validated access to a :class:`LoggedModelStore`."""

    def __init__(self, store: LoggedModelStore) -> None:
        self.store = store

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Sequence[Param] = (),
        tags: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> LoggedModel:
        if model_type:
            model_type = v.validate_string(model_type, field="model_type", max_length=MAX_MODEL_TYPE_LENGTH)
        return self.store.create_logged_model(
            v.validate_experiment_id(experiment_id),
            name=validate_model_name(name) if name else None,
            source_run_id=v.validate_run_id(source_run_id, field="source_run_id") if source_run_id else None,
            model_type=model_type or None,
            params=_params(params),
            tags=_tags(tags),
        )

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        return self.store.get_logged_model(validate_model_id(model_id), allow_deleted=allow_deleted)

    def delete_logged_model(self, model_id: str) -> None:
        self.store.delete_logged_model(validate_model_id(model_id))

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str | int, status_message: str | None = None
    ) -> LoggedModel:
        parsed = LoggedModelStatus.parse(status)
        if not parsed.is_final:
            raise invalid_value(
                "status", status, "a model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED"
            )
        if status_message is not None:
            v.validate_string(status_message, field="status_message", max_length=MAX_STATUS_MESSAGE_LENGTH)
        return self.store.finalize_logged_model(validate_model_id(model_id), parsed, status_message or None)

    def log_params(self, model_id: str, params: Sequence[Param]) -> None:
        self.store.log_logged_model_params(validate_model_id(model_id), _params(params))

    def set_tags(self, model_id: str, tags: Mapping[str, str] | Sequence[tuple[str, str]]) -> None:
        self.store.set_logged_model_tags(validate_model_id(model_id), _tags(tags))

    def delete_tag(self, model_id: str, key: str) -> None:
        self.store.delete_logged_model_tag(validate_model_id(model_id), v.validate_key(key, field="tag_key"))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        datasets: Sequence[DatasetFilter] = (),
        max_results: int | None = None,
        order_by: Sequence[LoggedModelOrder] = (),
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        ids = _experiment_ids(experiment_ids)
        if filter_string is not None and not isinstance(filter_string, str):
            raise invalid_value("filter", filter_string, "must be a string")
        size = SEARCH_LOGGED_MODELS_DEFAULT if max_results is None else max_results
        try:
            return self.store.search_logged_models(
                ids,
                filter_string=filter_string or None,
                datasets=_datasets(datasets),
                max_results=v.validate_max_results(size, maximum=SEARCH_LOGGED_MODELS_MAX),
                order_by=_orders(order_by),
                page_token=page_token or None,
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string, filter_field="filter") from None

    # -- runs and models -------------------------------------------------------------------------------------
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        if len(models) > MAX_MODELS_PER_CALL:
            raise invalid_value("models", f"{len(models)} models", f"at most {MAX_MODELS_PER_CALL} per call")
        checked = [
            LoggedModelOutput(
                validate_model_id(m.model_id, field="models.model_id"),
                v.validate_int64(m.step, field="models.step"),
            )
            for m in models
        ]
        self.store.log_outputs(v.validate_run_id(run_id), checked)

    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        if len(models) > MAX_MODELS_PER_CALL:
            raise invalid_value("models", f"{len(models)} models", f"at most {MAX_MODELS_PER_CALL} per call")
        checked = [LoggedModelInput(validate_model_id(m.model_id, field="models.model_id")) for m in models]
        self.store.log_model_inputs(v.validate_run_id(run_id), checked)

    def log_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Store the points of a run's metric batch that name a model on that model, too."""
        if len(metrics) > limits.MAX_METRICS_PER_BATCH:
            raise invalid_value(
                "metrics", f"{len(metrics)} metrics", f"at most {limits.MAX_METRICS_PER_BATCH} per batch"
            )
        checked = [validate_model_metric(m) for m in metrics]
        if checked:
            self.store.log_logged_model_metrics(v.validate_run_id(run_id), checked)


__all__ = [
    "MAX_MODELS_PER_CALL",
    "MAX_MODEL_NAME_LENGTH",
    "MAX_MODEL_TAGS_PER_CALL",
    "LoggedModelService",
    "validate_model_id",
    "validate_model_metric",
    "validate_model_name",
]
