"""``wayline runs``: list, describe, delete and restore runs."""

from __future__ import annotations

import re

import click

from wayline.cli.experiments import (
    VIEWS,
    check_max_results,
    json_option,
    resolve_experiment,
    view_option,
)
from wayline.cli.output import echo_json, run_json
from wayline.cli.paging import walk_pages
from wayline.cli.run_table import SORT_KINDS, DataColumn, default_columns, parse_columns, runs_table
from wayline.cli.run_view import describe_json, list_top_level, print_run
from wayline.cli.session import Session, pass_session
from wayline.entities import Experiment, Run, ViewType
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.search import parse_filter, parse_order_by
from wayline.services.tracking import TrackingService
from wayline.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD

#: Shortest run id prefix accepted in place of a full run id.
MIN_PREFIX = 4
RUN_ID_LENGTH = 32
_HEX_PREFIX = re.compile(r"[0-9a-f]+")


def all_experiment_ids(service: TrackingService, view_type: ViewType, session: Session) -> list[str]:
    experiments = walk_pages(
        lambda size, token: service.search_experiments(
            view_type=view_type, max_results=size, page_token=token
        ),
        SEARCH_MAX_RESULTS_THRESHOLD,
        console=session.err_console,
        what="experiments",
    )
    return [e.experiment_id for e in experiments]


def resolve_run(service: TrackingService, session: Session, run_id: str) -> Run:
    """A run by its id, or by a unique prefix of at least 4 hex digits (as ``runs list`` shows them)."""
    text = run_id.strip()
    try:
        return service.get_run(text)
    except ResourceNotFound:
        text = text.lower()
        if not (MIN_PREFIX <= len(text) < RUN_ID_LENGTH and _HEX_PREFIX.fullmatch(text)):
            raise ResourceNotFound(f"Run '{run_id}' not found") from None
    ids = all_experiment_ids(service, ViewType.ALL, session)
    matches = (
        service.search_runs(
            ids,
            filter_string=f"attributes.run_id LIKE '{text}%'",
            view_type=ViewType.ALL,
            max_results=3,
        ).items
        if ids
        else []
    )
    if not matches:
        raise ResourceNotFound(f"Run '{run_id}' not found")
    if len(matches) > 1:
        shown = ", ".join(r.info.run_id for r in matches[:2])
        raise InvalidParameterValue(
            f"Run id prefix '{run_id}' is ambiguous: it matches {shown}{', ...' if len(matches) > 2 else ''}"
        )
    return matches[0]


@click.group("runs")
def runs_group() -> None:
    """List, describe, delete and restore runs."""


@runs_group.command("list")
@click.option(
    "--experiment",
    "-e",
    "experiments",
    multiple=True,
    metavar="ID_OR_NAME",
    help="Experiment to search; repeatable (default: every active experiment).",
)
@click.option(
    "--filter",
    "filter_string",
    metavar="FILTER",
    help="Search filter, e.g. \"metrics.rmse < 0.5 and params.model = 'rf'\".",
)
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="CLAUSE",
    help="Sort key such as 'metrics.rmse' or 'start_time DESC'; repeat for more keys.",
)
@click.option(
    "--max-results",
    type=int,
    default=100,
    show_default=True,
    metavar="N",
    help="Show at most N runs (fetched page by page).",
)
@view_option
@click.option(
    "--columns",
    "columns",
    multiple=True,
    metavar="KEYS",
    help="Columns after the run's own, comma-separated: metrics.<key>, params.<key>, tags.<key>; "
    "repeatable (default: the most common metrics and params that fit).",
)
@json_option
@pass_session
def list_runs(
    session: Session,
    *,
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    view: str,
    columns: tuple[str, ...],
    as_json: bool,
) -> None:
    """List runs with their latest metrics and params."""
    check_max_results(max_results)
    parse_filter(filter_string, "run")
    sort_keys = parse_order_by(list(order_by), "run")
    chosen = parse_columns(columns)
    view_type = VIEWS[view.lower()]
    service = session.service
    if experiments:
        ids = list(dict.fromkeys(resolve_experiment(service, e).experiment_id for e in experiments))
    else:
        ids = all_experiment_ids(service, ViewType.ACTIVE_ONLY, session)
    runs: list[Run] = []
    if ids:
        runs = walk_pages(
            lambda size, token: service.search_runs(
                ids,
                filter_string=filter_string,
                view_type=view_type,
                max_results=size,
                order_by=list(order_by) or None,
                page_token=token,
            ),
            max_results,
            console=session.err_console,
            what="runs",
        )
    if as_json:
        echo_json([run_json(r) for r in runs])
        return
    if not runs:
        session.console.print("No runs found.")
        return
    preferred = [
        DataColumn(SORT_KINDS[o.key.kind], o.key.name) for o in sort_keys if o.key.kind in SORT_KINDS
    ]
    shown = chosen or default_columns(runs, session.console.width, preferred=preferred)
    session.console.print(runs_table(runs, shown))


@runs_group.command("describe")
@click.argument("run_id")
@json_option
@pass_session
def describe_run(session: Session, run_id: str, as_json: bool) -> None:
    """Show a run: info, params, metrics, tags, datasets and top-level artifacts.

    RUN_ID is a full run id or a unique prefix of at least 4 characters.
    """
    service = session.service
    run = resolve_run(service, session, run_id)
    artifacts = list_top_level(run.info.artifact_uri, tracking_uri=session.tracking_uri)
    if as_json:
        echo_json(describe_json(run, artifacts))
        return
    experiment: Experiment | None
    try:
        experiment = service.get_experiment(run.info.experiment_id)
    except ResourceNotFound:
        experiment = None
    print_run(session.console, run, experiment, artifacts)


def _resolve_all(session: Session, run_ids: tuple[str, ...]) -> list[Run]:
    """Every run, or an error before anything changes."""
    runs = [resolve_run(session.service, session, r) for r in run_ids]
    return list({r.info.run_id: r for r in runs}.values())


@runs_group.command("delete")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@pass_session
def delete_runs(session: Session, run_ids: tuple[str, ...]) -> None:
    """Delete runs (they can be restored)."""
    for run in _resolve_all(session, run_ids):
        session.service.delete_run(run.info.run_id)
        click.echo(f"Deleted run {run.info.run_id} ({run.info.run_name}).")


@runs_group.command("restore")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@pass_session
def restore_runs(session: Session, run_ids: tuple[str, ...]) -> None:
    """Restore deleted runs."""
    for run in _resolve_all(session, run_ids):
        session.service.restore_run(run.info.run_id)
        click.echo(f"Restored run {run.info.run_id} ({run.info.run_name}).")
