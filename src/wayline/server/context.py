"""What a request handler works with: the settings and the services, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass, field

from wayline.artifacts.repository import ArtifactRepository
from wayline.server.settings import ServerSettings
from wayline.services.tracking import TrackingService

#: The artifact URI scheme of artifacts proxied by the server.
PROXY_SCHEME = "mlflow-artifacts"


@dataclass
class ServerContext:
    settings: ServerSettings
    tracking: TrackingService
    #: The proxied artifact store's root repository (None when the server does not serve artifacts).
    artifacts: ArtifactRepository | None
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.tracking.store.close()
