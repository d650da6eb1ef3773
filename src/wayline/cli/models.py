"""``wayline models``: the model registry from the command line, for people and for CI pipelines.

Every command goes through ``WaylineClient`` (so through the registry service, with its validation and
history), takes ``--json`` for machine-readable output, and fails with one ``Error:`` line and exit code 1.
``wayline models uri`` prints a version's download URI and nothing else, and ``wayline models download``
fetches a version (or any artifact URI) with a progress bar on stderr.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from wayline.artifacts.path import uri_scheme
from wayline.artifacts.resolve import get_artifact_repository, is_model_uri
from wayline.cli.experiments import check_max_results, json_option
from wayline.cli.model_view import (
    event_json,
    history_table,
    model_json,
    models_table,
    print_model,
    version_json,
    versions_table,
)
from wayline.cli.output import echo_json
from wayline.cli.paging import walk_pages
from wayline.cli.session import Session, pass_session
from wayline.client.client import WaylineClient
from wayline.entities import FileInfo
from wayline.entities.registry import ModelVersion
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.registry import SEARCH_MODEL_VERSIONS_MAX

#: Largest ``--max-results`` of the list commands (fetched page by page).
MAX_LISTED = 100_000
_CLIENT_KEY = "wayline.models.client"


def _client(session: Session) -> WaylineClient:
    """One client per invocation, closed with it."""
    root = click.get_current_context().find_root()
    client = root.meta.get(_CLIENT_KEY)
    if client is None:
        client = WaylineClient(session.tracking_uri)
        root.meta[_CLIENT_KEY] = client
        root.call_on_close(client.close)
    assert isinstance(client, WaylineClient)
    return client


def model_uri_of(ref: str) -> str:
    """``models:/...`` as given; ``NAME@ALIAS``, ``NAME/VERSION``, ``NAME/STAGE`` and ``NAME/latest`` as the
    ``models:/`` URI they abbreviate."""
    text = ref.strip()
    if is_model_uri(text):
        return text
    if "@" in text or "/" in text:
        return f"models:/{text}"
    raise InvalidParameterValue(
        f"Invalid value {ref!r} for argument 'MODEL': expected NAME@ALIAS, NAME/VERSION, NAME/STAGE, "
        "NAME/latest or a models:/ URI"
    )


def _quoted(text: str) -> str:
    """A string literal of the filter language (a quote is escaped by doubling it)."""
    return "'" + text.replace("'", "''") + "'"


def _tags(values: Sequence[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterValue(f"Invalid value {raw!r} for option '--tag': expected KEY=VALUE")
        tags[key.strip()] = value
    return tags


def parse_moment(value: str, option: str) -> int:
    """Milliseconds since the epoch, or an ISO date or time (local unless it has an offset); a date alone
    means the end of that day. ``option`` names the option in the error."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            moment = datetime.combine(datetime.fromisoformat(text).date(), time.max)
        else:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise InvalidParameterValue(
            f"Invalid value {value!r} for option '{option}': expected milliseconds since the epoch, "
            "a date (2024-05-01) or a time (2024-05-01T12:00:00)"
        ) from None
    return int(moment.timestamp() * 1000)


def parse_until(value: str | None) -> int | None:
    """``--until``: see :func:`parse_moment`; absent means no bound."""
    return None if value is None else parse_moment(value, "--until")


@click.group("models")
def models_group() -> None:
    """Registered models, versions, aliases, stages and history."""


@models_group.command("list")
@click.option("--filter", "filter_string", metavar="FILTER", help="e.g. \"name LIKE 'churn%'\".")
@click.option("--order-by", "order_by", multiple=True, metavar="CLAUSE", help="e.g. 'name DESC'; repeatable.")
@click.option("--max-results", type=int, default=100, show_default=True, metavar="N", help="Show at most N.")
@json_option
@pass_session
def list_models(
    session: Session, *, filter_string: str | None, order_by: tuple[str, ...], max_results: int, as_json: bool
) -> None:
    """List registered models."""
    check_max_results(max_results, maximum=MAX_LISTED)
    client = _client(session)
    models = walk_pages(
        lambda size, token: client.search_registered_models(filter_string, size, list(order_by), token),
        max_results,
        console=session.err_console,
        what="registered models",
    )
    if as_json:
        echo_json([model_json(m) for m in models])
    elif not models:
        session.console.print("No registered models found.")
    else:
        session.console.print(models_table(models))


def _versions_of(
    client: WaylineClient,
    session: Session,
    name: str,
    *,
    extra: str | None = None,
    order_by: Sequence[str] = ("version_number DESC",),
    limit: int = MAX_LISTED,
) -> list[ModelVersion]:
    """The versions of ``name`` that also match ``extra`` (a filter), page by page up to ``limit``."""
    condition = f"name = {_quoted(name)}" + (f" AND {extra}" if extra else "")
    return walk_pages(
        lambda size, token: client.search_model_versions(condition, size, list(order_by), token),
        limit,
        console=session.err_console,
        what="model versions",
    )


@models_group.command("describe")
@click.argument("name")
@json_option
@pass_session
def describe_model(session: Session, name: str, as_json: bool) -> None:
    """Show a registered model and its versions."""
    client = _client(session)
    model = client.get_registered_model(name)
    versions = _versions_of(client, session, model.name)
    if as_json:
        echo_json(
            {"registered_model": model_json(model), "model_versions": [version_json(v) for v in versions]}
        )
    else:
        print_model(session.console, model, versions)


@models_group.command("create")
@click.argument("name")
@click.option("--description", metavar="TEXT", help="The model's description.")
@click.option("--owner", metavar="USER_OR_GROUP", help="Who is responsible for the model.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag; repeatable.")
@click.option(
    "--source",
    metavar="URI",
    help="Also register the model at URI (runs:/RUN_ID/PATH, an artifact URI) as a new version; the "
    "registered model may exist already.",
)
@json_option
@pass_session
def create_model(
    session: Session,
    *,
    name: str,
    description: str | None,
    owner: str | None,
    tags: tuple[str, ...],
    source: str | None,
    as_json: bool,
) -> None:
    """Create a registered model (and, with --source, a version of it)."""
    client = _client(session)
    tag_map = _tags(tags)
    if source is None:
        model = client.create_registered_model(name, tag_map, description, owner=owner)
        if as_json:
            echo_json({"registered_model": model_json(model)})
        else:
            click.echo(f"Created registered model '{model.name}'.")
        return
    version = client.register_model(source, name, tags=tag_map)
    model = client.get_registered_model(version.name)
    if description is not None or owner is not None:
        model = client.update_registered_model(name, description, owner=owner)
    if as_json:
        echo_json({"registered_model": model_json(model), "model_version": version_json(version)})
    else:
        click.echo(f"Registered '{version.source}' as version {version.version} of '{version.name}'.")


@models_group.command("delete")
@click.argument("name")
@click.option("--version", metavar="VERSION", help="Delete only this version (with its tags and aliases).")
@json_option
@pass_session
def delete_model(session: Session, name: str, version: str | None, as_json: bool) -> None:
    """Delete a registered model with all its versions, or one version."""
    client = _client(session)
    if version is None:
        client.delete_registered_model(name)
        message, payload = f"Deleted registered model '{name}'.", {"name": name}
    else:
        checked = client.get_model_version(name, version)
        client.delete_model_version(name, checked.version)
        message = f"Deleted version {checked.version} of '{name}'."
        payload = {"name": name, "version": str(checked.version)}
    if as_json:
        echo_json({"deleted": payload})
    else:
        click.echo(message)


@models_group.command("versions")
@click.argument("name")
@click.option("--filter", "filter_string", metavar="FILTER", help="More conditions, e.g. \"tags.ok = '1'\".")
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="CLAUSE",
    help="e.g. 'creation_timestamp DESC'; repeatable (default: newest version first).",
)
@click.option("--max-results", type=int, default=100, show_default=True, metavar="N", help="Show at most N.")
@json_option
@pass_session
def list_versions(
    session: Session,
    *,
    name: str,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List the versions of a registered model."""
    check_max_results(max_results, maximum=SEARCH_MODEL_VERSIONS_MAX)
    client = _client(session)
    client.get_registered_model(name)
    versions = _versions_of(
        client,
        session,
        name,
        extra=filter_string,
        order_by=list(order_by) or ["version_number DESC"],
        limit=max_results,
    )
    if as_json:
        echo_json([version_json(v) for v in versions])
    elif not versions:
        session.console.print(f"Registered model '{name}' has no versions.")
    else:
        session.console.print(versions_table(versions))


@models_group.command("set-alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version")
@json_option
@pass_session
def set_alias(session: Session, name: str, alias: str, version: str, as_json: bool) -> None:
    """Point ALIAS at VERSION of NAME (moving it if it pointed elsewhere)."""
    client = _client(session)
    client.set_registered_model_alias(name, alias, version)
    target = client.get_model_version_by_alias(name, alias)
    if as_json:
        echo_json({"name": name, "alias": alias, "version": str(target.version)})
    else:
        click.echo(f"Alias '{alias}' of '{name}' now points at version {target.version}.")


@models_group.command("delete-alias")
@click.argument("name")
@click.argument("alias")
@json_option
@pass_session
def delete_alias(session: Session, name: str, alias: str, as_json: bool) -> None:
    """Remove ALIAS from NAME."""
    _client(session).delete_registered_model_alias(name, alias)
    if as_json:
        echo_json({"name": name, "alias": alias})
    else:
        click.echo(f"Deleted alias '{alias}' of '{name}'.")


@models_group.command("transition")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Move the other versions in STAGE to Archived (Staging and Production only).",
)
@click.option("--comment", metavar="TEXT", help="Why; kept in the model's history.")
@json_option
@pass_session
def transition(
    session: Session,
    *,
    name: str,
    version: str,
    stage: str,
    archive_existing: bool,
    comment: str | None,
    as_json: bool,
) -> None:
    """Move VERSION of NAME to STAGE (None, Staging, Production or Archived; any case)."""
    moved = _client(session).transition_model_version_stage(
        name, version, stage, archive_existing, comment=comment
    )
    if as_json:
        echo_json(version_json(moved))
    else:
        click.echo(f"Version {moved.version} of '{moved.name}' is now in {moved.current_stage.value}.")


@models_group.command("history")
@click.argument("name")
@click.option("--version", metavar="VERSION", help="Only this version's events.")
@click.option("--until", metavar="WHEN", help="Only events up to WHEN (ms, 2024-05-01 or 2024-05-01T12:00).")
@json_option
@pass_session
def history(session: Session, name: str, version: str | None, until: str | None, as_json: bool) -> None:
    """Show who changed the model's stages and aliases, when, from what to what."""
    events = _client(session).get_model_history(name, version, parse_until(until))
    if as_json:
        echo_json([event_json(e) for e in events])
    elif not events:
        session.console.print(f"No history recorded for '{name}'.")
    else:
        session.console.print(history_table(events))


@models_group.command("uri")
@click.argument("model", metavar="MODEL")
@json_option
@pass_session
def model_uri(session: Session, model: str, as_json: bool) -> None:
    """Print the download URI of a version: MODEL is NAME@ALIAS, NAME/VERSION, NAME/STAGE, NAME/latest
    or a models:/ URI."""
    client = _client(session)
    uri = model_uri_of(model)
    version = client.resolve_model_uri(uri)
    download_uri = client.get_model_download_uri(uri)
    if as_json:
        echo_json(
            {
                "model_uri": uri,
                "name": version.name,
                "version": str(version.version),
                "download_uri": download_uri,
            }
        )
    else:
        click.echo(download_uri)


class _Bar:
    """A download progress bar on stderr (shown on a terminal only, removed when done)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, files: Sequence[FileInfo]) -> None:
        total = sum(f.file_size or 0 for f in files)
        self._task = self._progress.add_task(f"Downloading {len(files)} files", total=total or None)

    def advance(self, file: FileInfo) -> None:
        if self._task is not None:
            self._progress.advance(self._task, file.file_size or 0)


@models_group.command("download")
@click.argument("model", metavar="MODEL")
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to put the files (default: a new temporary directory).",
)
@json_option
@pass_session
def download(session: Session, model: str, output: Path | None, as_json: bool) -> None:
    """Download a version's files and print where they are: MODEL is NAME@ALIAS, NAME/VERSION,
    NAME/STAGE, NAME/latest, a models:/ URI, or the download URI that `wayline models uri` prints."""
    client = _client(session)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=session.err_console,
        transient=True,
        disable=not session.err_console.is_terminal,
    )
    scheme = uri_scheme(model.strip(), field="MODEL")
    direct = scheme not in ("", "models") or (not scheme and os.path.isabs(model.strip()))
    with progress:
        if direct:
            uri = model.strip()
            repo = get_artifact_repository(uri, tracking_uri=session.tracking_uri)
            try:
                local = str(repo.download_artifacts("", output))
            except ResourceNotFound:
                raise ResourceNotFound(f"Nothing to download at '{uri}'") from None
            download_uri = uri
        else:
            uri = model_uri_of(model)
            download_uri = client.get_model_download_uri(uri)
            local = client.download_model(uri, output, progress=_Bar(progress))
    if as_json:
        echo_json({"model_uri": uri, "download_uri": download_uri, "local_path": local})
    else:
        click.echo(local)


# The governance commands (requests, approvals, comments, state, protection) register on ``models_group``.
from wayline.cli import model_governance  # noqa: E402, F401

__all__ = ["model_uri_of", "models_group", "parse_moment", "parse_until"]


# Scoring, batch prediction and container builds live in their own modules, under this group.
from wayline.cli.model_batch import build_docker_command, predict_command  # noqa: E402
from wayline.cli.model_serve import serve_command  # noqa: E402

for _command in (serve_command, predict_command, build_docker_command):
    models_group.add_command(_command)
