"""Server basics: liveness, version and capabilities."""

from __future__ import annotations

from fastapi.responses import PlainTextResponse, Response

from wayline import __version__
from wayline.artifacts.multipart import supports_multipart
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api

api = Api("server", prefixes=("",))

#: The MLflow release whose REST API this server speaks (reported by ``server-info``). ``/version`` answers
#: Wayline's own version: MLflow clients read it only to decide whether to send traces over OTLP (>= 3.4),
#: which this server does not serve, so they fall back to the REST routes.
MLFLOW_API_VERSION = "3.17.2"


@api.rpc("GET", "/health", summary="Liveness probe: plain 'OK'")
def health(ctx: ServerContext, _: None) -> Response:
    return PlainTextResponse("OK")


@api.rpc("GET", "/version", summary="The server's version, as plain text")
def version(ctx: ServerContext, _: None) -> Response:
    return PlainTextResponse(__version__)


@api.rpc(
    "GET",
    "/server-info",
    summary="Server capabilities (store type, workspaces, artifact proxying) for client feature detection",
    prefixes=("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"),
)
def server_info(ctx: ServerContext, _: None) -> dict[str, object]:
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "serve_artifacts": ctx.settings.serve_artifacts,
        # MLflow clients upload big files in presigned parts, and download through presigned URLs, when
        # these are true (an object-store destination); otherwise they stream through the proxy routes.
        "multipart_uploads_enabled": supports_multipart(ctx.artifacts),
        "multipart_downloads_enabled": supports_multipart(ctx.artifacts),
        "wayline_version": __version__,
        "mlflow_api_version": MLFLOW_API_VERSION,
    }
