"""What a request handler works with: the settings and the services, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass

from wayline.artifacts.repository import ArtifactRepository
from wayline.errors import NotImplementedFeature
from wayline.server.settings import ServerSettings
from wayline.services.governance import GovernanceService
from wayline.services.logged_models import LoggedModelService
from wayline.services.metric_series import MetricSeriesService
from wayline.services.registry import RegistryService
from wayline.services.run_groups import RunGroupService
from wayline.services.tracking import TrackingService
from wayline.services.webhooks import WebhookService
from wayline.store.logged_model import LoggedModelStore

#: The artifact URI scheme of artifacts proxied by the server.
PROXY_SCHEME = "mlflow-artifacts"


@dataclass
class ServerContext:
    settings: ServerSettings
    tracking: TrackingService
    #: The proxied artifact store's root repository (None when the server does not serve artifacts).
    artifacts: ArtifactRepository | None
    #: Logged models (MLflow 3); built from the tracking store when it also stores logged models.
    logged_models: LoggedModelService | None = None
    #: The model registry; built beside a SQL tracking store (in the same database), None otherwise.
    registry: RegistryService | None = None
    #: Webhooks and their delivery log; built beside a SQL tracking store (in the same database), or None.
    webhooks: WebhookService | None = None
    #: Registry governance (comments, transition requests); built beside the registry, None otherwise.
    governance: GovernanceService | None = None
    #: Downsampled chart series (the web UI's charts); built beside a SQL tracking store, None otherwise.
    metric_series: MetricSeriesService | None = None
    #: Runs grouped by a param or tag with metric aggregates (the web UI); beside a SQL store, None otherwise.
    run_groups: RunGroupService | None = None

    def __post_init__(self) -> None:
        if self.logged_models is None and isinstance(self.tracking.store, LoggedModelStore):
            self.logged_models = LoggedModelService(self.tracking.store)

    def logged_model_service(self) -> LoggedModelService:
        """The logged-model service; NOT_IMPLEMENTED when the tracking store keeps no logged models."""
        if self.logged_models is None:
            raise NotImplementedFeature("This server's tracking store does not keep logged models")
        return self.logged_models

    def registry_service(self) -> RegistryService:
        """The registry service; NOT_IMPLEMENTED when this server has no model registry."""
        if self.registry is None:
            raise NotImplementedFeature("This server has no model registry")
        return self.registry

    def governance_service(self) -> GovernanceService:
        """The governance service; NOT_IMPLEMENTED when this server has no model registry."""
        if self.governance is None:
            raise NotImplementedFeature("This server has no model registry governance")
        return self.governance

    def webhook_service(self) -> WebhookService:
        """The webhook service; NOT_IMPLEMENTED when this server has no webhooks."""
        if self.webhooks is None:
            raise NotImplementedFeature("This server has no webhooks")
        return self.webhooks

    def close(self) -> None:
        if self.governance is not None:
            self.governance.close()
        if self.webhooks is not None:
            self.webhooks.close()
        if self.registry is not None:
            self.registry.close()
        self.tracking.store.close()
