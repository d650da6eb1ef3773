"""One module per resource; each exposes ``api``, an :class:`~wayline.server.endpoint.Api`."""

from wayline.server.endpoint import Api
from wayline.server.routes import (
    artifacts,
    experiments,
    governance,
    logged_models,
    meta,
    metric_series,
    metrics,
    proxy,
    registry,
    registry_actor,
    registry_versions,
    run_groups,
    runs,
    webhooks,
)

APIS: tuple[Api, ...] = (
    meta.api,
    experiments.api,
    runs.api,
    run_groups.api,
    metrics.api,
    metric_series.api,
    artifacts.api,
    proxy.api,
    logged_models.api,
    registry.api,
    registry_versions.api,
    registry.wayline_api,
    governance.api,
    registry_actor.api,
    webhooks.api,
    webhooks.wayline_api,
)

__all__ = ["APIS"]
