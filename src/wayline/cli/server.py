"""``wayline server``: the MLflow-compatible tracking server."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from wayline.server.settings import ServerSettings
from wayline.server.ui import ui_built


@click.command("server")
@click.option(
    "--backend-store-uri",
    metavar="URI",
    help="Metadata store: a folder (default ./wayline-data), sqlite:///file.db or postgresql://... "
    "[env: WAYLINE_BACKEND_STORE_URI]",
)
@click.option(
    "--artifacts-destination",
    metavar="URI",
    help="Where proxied artifacts are stored: a folder or s3://bucket/prefix "
    "(default: 'artifacts' beside the embedded database) [env: WAYLINE_ARTIFACTS_DESTINATION]",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=None,
    help="Proxy artifacts through the server (default), or give clients the store's own URIs "
    "[env: WAYLINE_SERVE_ARTIFACTS]",
)
@click.option(
    "--default-artifact-root",
    metavar="URI",
    help="With --no-serve-artifacts: the artifact root of new experiments "
    "[env: WAYLINE_DEFAULT_ARTIFACT_ROOT]",
)
@click.option(
    "--host", "-h", metavar="HOST", help="Interface to listen on (default 127.0.0.1) [env: WAYLINE_HOST]"
)
@click.option(
    "--port",
    "-p",
    type=int,
    metavar="PORT",
    help="Port (default 5000; 0 picks a free one) [env: WAYLINE_PORT]",
)
@click.option(
    "--workers", "-w", type=int, metavar="N", help="Worker processes (default 1) [env: WAYLINE_WORKERS]"
)
@click.option(
    "--default-user",
    metavar="NAME",
    help="Who acts when a request carries no HTTP Basic user name: recorded in the model registry's history "
    "(default: none) [env: WAYLINE_DEFAULT_USER]",
)
@click.option(
    "--registry-approvers",
    metavar="NAMES",
    help="Who approves model-registry transition requests and changes protected models' stages and aliases "
    "directly: user or group names separated by commas (default: everyone) [env: WAYLINE_REGISTRY_APPROVERS]",
)
@click.option(
    "--allow-self-approval/--no-allow-self-approval",
    default=None,
    help="Let a requester approve their own transition request (default: no) "
    "[env: WAYLINE_ALLOW_SELF_APPROVAL]",
)
@click.option(
    "--ui-dir",
    metavar="PATH",
    help="Serve the web UI bundle from this folder (default: the one built at install) [env: WAYLINE_UI_DIR]",
)
@click.option(
    "--db-pool-size",
    type=int,
    metavar="N",
    help="PostgreSQL connections each worker keeps open (default 10) "
    "[env: WAYLINE_DB_POOL_SIZE, MLFLOW_SQLALCHEMYSTORE_POOL_SIZE]",
)
@click.option(
    "--db-max-overflow",
    type=int,
    metavar="N",
    help="PostgreSQL connections each worker opens beyond --db-pool-size under load (default 20) "
    "[env: WAYLINE_DB_MAX_OVERFLOW, MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW]",
)
@click.option(
    "--db-pool-timeout",
    "db_pool_timeout_s",
    type=int,
    metavar="SECONDS",
    help="How long a request waits for a free PostgreSQL connection before a 503 (default 30) "
    "[env: WAYLINE_DB_POOL_TIMEOUT]",
)
def server_command(  # noqa: PLR0917 (one parameter per option)
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    serve_artifacts: bool | None,
    default_artifact_root: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    default_user: str | None,
    registry_approvers: str | None,
    allow_self_approval: bool | None,
    ui_dir: str | None,
    db_pool_size: int | None,
    db_max_overflow: int | None,
    db_pool_timeout_s: int | None,
) -> None:
    """Serve the MLflow REST API: Wayline's client and unchanged MLflow clients both work against it."""
    from wayline.server.serve import serve

    settings = ServerSettings.from_env().with_overrides(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        serve_artifacts=serve_artifacts,
        default_artifact_root=default_artifact_root,
        host=host,
        port=port,
        workers=workers,
        default_user=default_user,
        registry_approvers=registry_approvers,
        allow_self_approval=allow_self_approval,
        ui_dir=ui_dir,
        db_pool_size=db_pool_size,
        db_max_overflow=db_max_overflow,
        db_pool_timeout_s=db_pool_timeout_s,
    )
    serve(settings, announce=_announce(settings))


def _announce(settings: ServerSettings) -> Callable[[str], None]:
    def announce(url: str) -> None:
        where = settings.resolved_artifacts_destination if settings.serve_artifacts else "not proxied"
        click.echo(f"Wayline server listening on {url}")
        click.echo(f"  metadata:  {settings.backend_store_uri}")
        click.echo(f"  artifacts: {where}")
        click.echo(f"  workers:   {settings.workers}   API docs: {url}/docs")
        if not ui_built(settings):
            click.echo("  web UI:    not built; run `make ui` in a source checkout (see /)")
        sys.stdout.flush()

    return announce
