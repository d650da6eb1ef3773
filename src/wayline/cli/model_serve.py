"""``wayline models serve``: a model behind MLflow's scoring protocol (``POST /invocations``).

The model is loaded before the server starts listening, so a model that cannot load (a missing
version, a format that needs ``--trusted``) fails the command with one ``Error:`` line. The heavy
modules (pandas, uvicorn, the model's framework) load only when the command runs.
"""

from __future__ import annotations

import sys

import click

from wayline.cli.session import Session, pass_session


@click.command("serve")
@click.option(
    "-m",
    "--model-uri",
    required=True,
    metavar="URI",
    help="The model: models:/NAME@ALIAS (followed as the alias moves), models:/NAME/VERSION, "
    "runs:/RUN_ID/PATH, a local path, s3://...",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="The port to listen on (0: a free one).",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes, each with its own copy of the model.",
)
@click.option(
    "--max-batch-size",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    metavar="ROWS",
    help="Most rows scored by one call to the model when concurrent requests are merged (1: no merging).",
)
@click.option(
    "--max-wait-ms",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Longest a batch waits for requests still arriving; a lone request never waits.",
)
@click.option(
    "--max-body-mib",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="Largest request body, in MiB (larger ones get 413).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How often a models:/NAME@ALIAS (or stage, or latest) URI is checked for a new version (0: never).",
)
@click.option(
    "--trusted",
    is_flag=True,
    help="Allow loading formats that run code (pickle, models from code): only for models you trust "
    "(default: WAYLINE_TRUSTED_MODELS).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"], case_sensitive=False),
    default="info",
    show_default=True,
    help="The server's log level.",
)
@pass_session
def serve_command(
    session: Session,
    *,
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    max_batch_size: int,
    max_wait_ms: float,
    max_body_mib: float,
    poll_interval: float,
    trusted: bool,
    log_level: str,
) -> None:
    """Serve a model over HTTP with MLflow's scoring protocol (like `mlflow models serve`)."""
    from wayline.models.serving.app import ServeOptions
    from wayline.models.serving.serve import serve

    options = ServeOptions(
        model_uri=model_uri,
        tracking_uri=session.tracking_uri,
        trusted=True if trusted else None,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_body_mib=max_body_mib,
        poll_interval_s=poll_interval,
    )

    def announce(url: str) -> None:
        click.echo(f"Wayline scoring server listening on {url}")
        click.echo(f"  model:   {model_uri}")
        click.echo(f"  workers: {workers}   POST {url}/invocations")
        sys.stdout.flush()

    serve(options, host=host, port=port, workers=workers, log_level=log_level.lower(), announce=announce)


__all__ = ["serve_command"]
