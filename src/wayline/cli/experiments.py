"""``wayline experiments``: list, create, delete, restore and rename experiments."""

from __future__ import annotations

import re

import click

from wayline.cli.output import (
    echo_json,
    experiment_json,
    format_tags,
    format_timestamp,
    make_table,
    truncate,
)
from wayline.cli.paging import PAGE_SIZE, walk_pages
from wayline.cli.session import Session, pass_session
from wayline.entities import Experiment, ExperimentTag, ViewType
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.search import parse_filter, parse_order_by
from wayline.services import validation
from wayline.services.tracking import TrackingService
from wayline.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD

#: ``--view`` choices and the view types they mean.
VIEWS: dict[str, ViewType] = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}

_DIGITS = re.compile(r"[0-9]+")

view_option = click.option(
    "--view",
    type=click.Choice(list(VIEWS), case_sensitive=False),
    default="active",
    show_default=True,
    help="Which lifecycle stage to show.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Write machine-readable JSON to stdout.")


def check_max_results(value: int, *, maximum: int = SEARCH_MAX_RESULTS_THRESHOLD) -> int:
    """``--max-results`` must be between 1 and ``maximum``; otherwise one ``Error:`` line, exit 1."""
    return validation.validate_max_results(value, maximum=maximum, field="--max-results")


def resolve_experiment(service: TrackingService, id_or_name: str) -> Experiment:
    """All digits: an experiment id; anything else: an experiment name (deleted experiments included)."""
    text = id_or_name.strip()
    if _DIGITS.fullmatch(text):
        try:
            return service.get_experiment(text)
        except ResourceNotFound:
            raise ResourceNotFound(f"Experiment with id {text} not found") from None
    experiment = service.get_experiment_by_name(text) if text else None
    if experiment is None:
        raise ResourceNotFound(f"Experiment {id_or_name!r} not found")
    return experiment


def parse_tag_options(values: tuple[str, ...], *, option: str = "--tag") -> list[ExperimentTag]:
    """``KEY=VALUE`` pairs (the value may contain ``=`` and may be empty)."""
    tags: list[ExperimentTag] = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterValue(f"Invalid value {raw!r} for option '{option}': expected KEY=VALUE")
        tags.append(ExperimentTag(key.strip(), value))
    return tags


def _describe(experiment: Experiment) -> str:
    return f"experiment {experiment.name!r} (id {experiment.experiment_id})"


@click.group("experiments")
def experiments_group() -> None:
    """List, create, delete, restore and rename experiments."""


@experiments_group.command("list")
@view_option
@click.option(
    "--filter",
    "filter_string",
    metavar="FILTER",
    help="Search filter, e.g. \"name LIKE 'churn%' and tags.team = 'ml'\".",
)
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="CLAUSE",
    help="Sort key such as 'name' or 'creation_time DESC'; repeat for more keys.",
)
@click.option(
    "--max-results",
    type=int,
    default=PAGE_SIZE,
    show_default=True,
    metavar="N",
    help="Show at most N experiments.",
)
@json_option
@pass_session
def list_experiments(
    session: Session,
    *,
    view: str,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List experiments."""
    check_max_results(max_results)
    parse_filter(filter_string, "experiment")
    parse_order_by(list(order_by), "experiment")
    view_type = VIEWS[view.lower()]
    service = session.service
    experiments = walk_pages(
        lambda size, token: service.search_experiments(
            view_type=view_type,
            max_results=size,
            filter_string=filter_string,
            order_by=list(order_by) or None,
            page_token=token,
        ),
        max_results,
        console=session.err_console,
        what="experiments",
    )
    if as_json:
        echo_json([experiment_json(e) for e in experiments])
        return
    if not experiments:
        session.console.print("No experiments found.")
        return
    show_stage = view_type is not ViewType.ACTIVE_ONLY
    headers = ["ID", "Name", *(["Stage"] if show_stage else []), "Artifact location", "Created", "Tags"]
    table = make_table(*headers)
    for e in experiments:
        stage = [e.lifecycle_stage.value] if show_stage else []
        table.add_row(
            e.experiment_id,
            truncate(e.name, 40),
            *stage,
            truncate(e.artifact_location, 50, keep_end=True),
            format_timestamp(e.creation_time),
            format_tags(e.tags),
        )
    session.console.print(table)


@experiments_group.command("create")
@click.argument("name")
@click.option(
    "--artifact-location",
    metavar="URI",
    help="Where the experiment's runs store artifacts (default: under the store's artifact root).",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Experiment tag; repeatable.")
@json_option
@pass_session
def create_experiment(
    session: Session, name: str, artifact_location: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Create an experiment named NAME and print its id."""
    checked = parse_tag_options(tags)
    experiment_id = session.service.create_experiment(name, artifact_location, checked)
    if as_json:
        echo_json({"experiment_id": experiment_id})
    else:
        click.echo(experiment_id)


@experiments_group.command("delete")
@click.argument("id_or_name", metavar="ID_OR_NAME")
@pass_session
def delete_experiment(session: Session, id_or_name: str) -> None:
    """Delete an experiment and its runs (they can be restored)."""
    experiment = resolve_experiment(session.service, id_or_name)
    session.service.delete_experiment(experiment.experiment_id)
    click.echo(f"Deleted {_describe(experiment)}.")


@experiments_group.command("restore")
@click.argument("id_or_name", metavar="ID_OR_NAME")
@pass_session
def restore_experiment(session: Session, id_or_name: str) -> None:
    """Restore a deleted experiment and its runs."""
    experiment = resolve_experiment(session.service, id_or_name)
    session.service.restore_experiment(experiment.experiment_id)
    click.echo(f"Restored {_describe(experiment)}.")


@experiments_group.command("rename")
@click.argument("id_or_name", metavar="ID_OR_NAME")
@click.argument("new_name")
@pass_session
def rename_experiment(session: Session, id_or_name: str, new_name: str) -> None:
    """Rename an active experiment to NEW_NAME."""
    experiment = resolve_experiment(session.service, id_or_name)
    session.service.rename_experiment(experiment.experiment_id, new_name)
    click.echo(f"Renamed {_describe(experiment)} to {new_name.strip()!r}.")
