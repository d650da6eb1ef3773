"""The tracking store over HTTP: every :class:`TrackingStore` method as one MLflow REST call.

``RestTrackingStore("http://tracking.internal:5000")`` talks to a Wayline server or an MLflow server. Requests
are shaped as MLflow's own client sends them: GET with a query string for ``get``, ``get-by-name`` and the
metric-history routes, POST with a JSON body for everything else (searches included). Answers are decoded
with :mod:`wayline.wire`; the server's error envelope becomes the matching :class:`WaylineError`. Retries,
credentials, TLS and timeouts are the transport's (:mod:`wayline.transport`). Close the store to close its
connections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import ResourceNotFound, WaylineError
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT
from wayline.transport import HttpConfig, HttpTransport
from wayline.wire import (
    dataset_input_to_json,
    experiment_from_json,
    metric_from_json,
    metric_to_json,
    page_from_json,
    run_from_json,
    run_info_from_json,
)

API = "/api/2.0/mlflow"


def _pairs(items: Sequence[Param] | Sequence[RunTag] | Sequence[ExperimentTag]) -> list[dict[str, str]]:
    return [{"key": item.key, "value": item.value} for item in items]


def _without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class RestTrackingStore:
    """A :class:`~wayline.store.tracking.TrackingStore` on a tracking server's REST API."""

    def __init__(self, tracking_uri: str, *, config: HttpConfig | None = None) -> None:
        self._transport = HttpTransport(tracking_uri, config=config)
        self.tracking_uri = self._transport.base_url

    def __repr__(self) -> str:
        return f"RestTrackingStore({self.tracking_uri!r})"

    @property
    def transport(self) -> HttpTransport:
        return self._transport

    def close(self) -> None:
        self._transport.close()

    def _get(self, route: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._transport.call("GET", API + route, params=_without_none(params))

    def _post(self, route: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._transport.call("POST", API + route, body=_without_none(body))

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[ExperimentTag] = ()
    ) -> str:
        answer = self._post(
            "/experiments/create",
            {"name": name, "artifact_location": artifact_location, "tags": _pairs(tags) or None},
        )
        return str(answer["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_json(
            self._get("/experiments/get", {"experiment_id": experiment_id})["experiment"]
        )

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._get("/experiments/get-by-name", {"experiment_name": name})
        except ResourceNotFound:
            return None
        return experiment_from_json(answer["experiment"])

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post("/experiments/update", {"experiment_id": experiment_id, "new_name": new_name})

    def delete_experiment(self, experiment_id: str) -> None:
        self._post("/experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._post("/experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        self._post(
            "/experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": tag.key, "value": tag.value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._post("/experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key})

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        answer = self._post(
            "/experiments/search",
            {
                "view_type": ViewType.parse(view_type).value,
                "max_results": max_results,
                "filter": filter_string or None,
                "order_by": list(order_by) if order_by else None,
                "page_token": page_token or None,
            },
        )
        return page_from_json(answer, "experiments", experiment_from_json)

    # -- runs ------------------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        answer = self._post(
            "/runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": user_id,
                "start_time": start_time,
                "tags": _pairs(tags) or None,
                "run_name": run_name or None,
            },
        )
        return run_from_json(answer["run"])

    def get_run(self, run_id: str) -> Run:
        return run_from_json(self._get("/runs/get", {"run_id": run_id})["run"])

    def update_run_info(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        answer = self._post(
            "/runs/update",
            {
                "run_id": run_id,
                "status": None if status is None else RunStatus.parse(status).value,
                "end_time": end_time,
                "run_name": run_name,
            },
        )
        info = answer.get("run_info")
        if not isinstance(info, Mapping):
            return self.get_run(run_id).info
        return run_info_from_json(info)

    def delete_run(self, run_id: str) -> None:
        self._post("/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._post("/runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self._post(
            "/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [metric_to_json(m) for m in metrics],
                "params": _pairs(params),
                "tags": _pairs(tags),
            },
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("/runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        answer = self._get(
            "/metrics/get-history",
            {
                "run_id": run_id,
                "metric_key": metric_key,
                "max_results": max_results,
                "page_token": page_token or None,
            },
        )
        return page_from_json(answer, "metrics", metric_from_json)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[tuple[str, Metric]]:
        answer = self._get(
            "/metrics/get-history-bulk-interval",
            {
                "run_ids": list(run_ids),
                "metric_key": metric_key,
                "max_results": max_results,
                "start_step": start_step,
                "end_step": end_step,
            },
        )
        order = {run_id: i for i, run_id in reversed(list(enumerate(run_ids)))}
        points: list[tuple[str, Metric]] = []
        for item in answer.get("metrics") or ():
            run_id = str(item.get("run_id", ""))
            if run_id not in order:
                raise WaylineError(f"The server answered with points of run '{run_id}', not asked for")
            points.append((run_id, metric_from_json(item)))
        points.sort(key=lambda p: (order[p[0]], p[1].step, p[1].timestamp))
        return points

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._post(
            "/runs/log-inputs",
            {"run_id": run_id, "datasets": [dataset_input_to_json(d) for d in datasets]},
        )

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        answer = self._post(
            "/runs/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string or None,
                "run_view_type": ViewType.parse(view_type).value,
                "max_results": max_results,
                "order_by": list(order_by) if order_by else None,
                "page_token": page_token or None,
            },
        )
        return page_from_json(answer, "runs", run_from_json)


__all__ = ["RestTrackingStore"]
