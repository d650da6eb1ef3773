"""``wayline models predict`` (batch scoring of a file) and ``wayline models build-docker`` (an image).

Both take the model as ``-m URI`` (``runs:/``, ``models:/``, a local path, ...), resolved against the
invocation's tracking URI. The heavy modules (pandas, the model's framework) load only when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wayline.cli.session import Session, pass_session
from wayline.errors import invalid_value

#: The formats of :mod:`wayline.models.batch_input` (kept here so that the CLI starts without pandas).
FORMATS = ("csv", "parquet", "json", "jsonl")

_model_option = click.option(
    "-m",
    "--model-uri",
    required=True,
    metavar="URI",
    help="The model: runs:/RUN_ID/PATH, models:/NAME/VERSION, models:/NAME@ALIAS, a local path, s3://...",
)
_trusted_option = click.option(
    "--trusted",
    is_flag=True,
    help="Allow loading formats that run code (pickle, models from code): only for models you trust "
    "(default: WAYLINE_TRUSTED_MODELS).",
)


@click.command("predict")
@_model_option
@click.option(
    "-i",
    "--input-path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV, Parquet, JSON (records or an MLflow scoring payload) or JSON lines file.",
)
@click.option(
    "-o",
    "--output-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the predictions; the format follows the extension. Default: JSON on stdout.",
)
@click.option(
    "-t",
    "--content-type",
    "--input-format",
    "input_format",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="The input's format (default: from its extension).",
)
@click.option(
    "--output-format",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="The output's format (default: from its extension).",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Rows scored per call to the model.",
)
@click.option("--keep-columns", is_flag=True, help="Write the input columns before the predictions.")
@_trusted_option
@pass_session
def predict_command(
    session: Session,
    *,
    model_uri: str,
    input_path: Path,
    output_path: Path | None,
    input_format: str | None,
    output_format: str | None,
    chunk_rows: int,
    keep_columns: bool,
    trusted: bool,
) -> None:
    """Score a file with a model and write its predictions (like `mlflow models predict`)."""
    from wayline.models.batch import predict_file

    progress = Progress(
        TextColumn("Scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=session.err_console,
        transient=True,
        disable=not session.err_console.is_terminal,
    )
    task = progress.add_task("Scoring", total=None)

    def advance(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        result = predict_file(
            model_uri,
            input_path,
            output_path,
            input_format=input_format and input_format.lower(),
            output_format=output_format and output_format.lower(),
            output_stream=sys.stdout.buffer if output_path is None else None,
            chunk_rows=chunk_rows,
            keep_columns=keep_columns,
            trusted=True if trusted else None,
            tracking_uri=session.tracking_uri,
            progress=advance,
        )
    if result.output_path is None:
        sys.stdout.buffer.flush()
    else:
        click.echo(f"Wrote {result.rows} predictions to {result.output_path}", err=True)


@click.command("build-docker")
@_model_option
@click.option(
    "-n",
    "--name",
    default="wayline-model",
    show_default=True,
    metavar="IMAGE",
    help="The image name: [registry/]repository[:tag].",
)
@click.option("--context-only", is_flag=True, help="Write the build context only; do not run docker build.")
@click.option(
    "--output-directory",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to write the build context (new or empty; required with --context-only).",
)
@click.option(
    "--base-image",
    metavar="IMAGE",
    help="The base image (default: a pinned python:X.Y.Z-slim-bookworm of the model's Python version).",
)
@click.option("--workers", type=click.IntRange(1, 256), metavar="N", help="The scoring server's --workers.")
@click.option(
    "--trusted",
    is_flag=True,
    help="Set WAYLINE_TRUSTED_MODELS=true in the image (for pickled models you trust).",
)
@pass_session
def build_docker_command(
    session: Session,
    *,
    model_uri: str,
    name: str,
    context_only: bool,
    output_directory: Path | None,
    base_image: str | None,
    workers: int | None,
    trusted: bool,
) -> None:
    """Build a Docker image serving the model with `wayline models serve` on port 8080."""
    from wayline.models.container import build_docker, build_docker_context, check_image_name

    check_image_name(name)
    if context_only:
        if output_directory is None:
            raise invalid_value("--output-directory", None, "is required with --context-only")
        context = build_docker_context(
            model_uri,
            output_directory,
            name,
            base_image=base_image,
            workers=workers,
            trusted=trusted,
            tracking_uri=session.tracking_uri,
        )
        click.echo(f"Wrote the build context to {context.path}", err=True)
        click.echo(f"Build it with: docker build --tag {name} {context.path}", err=True)
        return
    with session.err_console.status(f"Building image {name}"):
        build_docker(
            model_uri,
            name,
            context_dir=output_directory,
            base_image=base_image,
            workers=workers,
            trusted=trusted,
            tracking_uri=session.tracking_uri,
        )
    click.echo(f"Built image {name}; run it with: docker run -p 8080:8080 {name}", err=True)
