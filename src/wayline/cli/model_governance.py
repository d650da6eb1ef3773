"""``wayline models`` governance commands: transition requests and their decisions, comments, a model's
state at a moment, and its owner and protection.

They are registered on the ``models`` group (:mod:`wayline.cli.models`) and go through ``WaylineClient``, so
the registry's rules apply wherever the tracking URI points: on a protected model only approvers change
stages and aliases directly, everyone else asks with ``wayline models request``. The acting user is the
server's authenticated user (HTTP Basic credentials, ``WAYLINE_TRACKING_USERNAME``) or, embedded,
``WAYLINE_USER``. Each command takes ``--json``; a refusal is one ``Error:`` line and exit code 1.
"""

from __future__ import annotations

from datetime import datetime

import click

from wayline.cli.experiments import json_option
from wayline.cli.governance_view import (
    comment_json,
    comments_table,
    request_json,
    requests_table,
    state_json,
    state_table,
    target_text,
)
from wayline.cli.model_view import model_json
from wayline.cli.models import _client, models_group, parse_moment
from wayline.cli.output import echo_json
from wayline.cli.session import Session, pass_session
from wayline.entities.governance import RequestStatus, TransitionRequest
from wayline.errors import InvalidParameterValue

_STATUSES = ", ".join(s.value for s in RequestStatus)


def parse_at(value: str | None) -> int:
    """``--at``: milliseconds since the epoch, or an ISO date or time (local unless it has an offset); a
    date alone means the end of that day; absent means now."""
    return int(datetime.now().timestamp() * 1000) if value is None else parse_moment(value, "--at")


def parse_status(value: str | None) -> RequestStatus | None:
    return None if value is None else RequestStatus.parse(value, field="--status")


def _echo_request(request: TransitionRequest, message: str, as_json: bool) -> None:
    if as_json:
        echo_json({"request": request_json(request)})
    else:
        click.echo(message)


def _about(request: TransitionRequest) -> str:
    return f"{target_text(request)} for version {request.version} of '{request.name}'"


# -- transition requests -----------------------------------------------------------------------------------
@models_group.command("request")
@click.argument("name")
@click.argument("version")
@click.option("--stage", metavar="STAGE", help="Ask to move VERSION to STAGE (Staging, Production...).")
@click.option("--alias", metavar="ALIAS", help="Ask to point ALIAS at VERSION.")
@click.option("--comment", metavar="TEXT", help="Why; the approver sees it.")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="On approval, move the other versions in STAGE to Archived (Staging and Production only).",
)
@json_option
@pass_session
def request_transition(
    session: Session,
    *,
    name: str,
    version: str,
    stage: str | None,
    alias: str | None,
    comment: str | None,
    archive_existing: bool,
    as_json: bool,
) -> None:
    """Ask an approver to move VERSION of NAME to a stage or to point an alias at it."""
    if (stage is None) == (alias is None):
        raise InvalidParameterValue("Give exactly one of the options '--stage' and '--alias'")
    if archive_existing and stage is None:
        raise InvalidParameterValue("Option '--archive-existing' goes with '--stage', not '--alias'")
    request = _client(session).request_transition(
        name,
        version,
        stage=stage,
        alias=alias,
        comment=comment or "",
        archive_existing_versions=archive_existing,
    )
    _echo_request(request, f"Requested {_about(request)} (request {request.id}).", as_json)


@models_group.command("approve")
@click.argument("request_id", metavar="REQUEST_ID")
@click.option("--comment", metavar="TEXT", help="Why; kept with the decision and in the history.")
@json_option
@pass_session
def approve(session: Session, request_id: str, comment: str | None, as_json: bool) -> None:
    """Approve a pending request; this performs the change it asks for."""
    request = _client(session).approve_request(request_id, comment or "")
    _echo_request(request, f"Approved request {request.id}: {_about(request)}.", as_json)


@models_group.command("reject")
@click.argument("request_id", metavar="REQUEST_ID")
@click.option("--comment", metavar="TEXT", help="Why; kept with the decision and in the history.")
@json_option
@pass_session
def reject(session: Session, request_id: str, comment: str | None, as_json: bool) -> None:
    """Reject a pending request; nothing changes in the registry."""
    request = _client(session).reject_request(request_id, comment or "")
    _echo_request(request, f"Rejected request {request.id}: {_about(request)}.", as_json)


@models_group.command("cancel")
@click.argument("request_id", metavar="REQUEST_ID")
@json_option
@pass_session
def cancel(session: Session, request_id: str, as_json: bool) -> None:
    """Withdraw your own pending request."""
    request = _client(session).cancel_request(request_id)
    _echo_request(request, f"Cancelled request {request.id}: {_about(request)}.", as_json)


@models_group.command("requests")
@click.argument("name", required=False)
@click.option("--version", metavar="VERSION", help="Only this version's requests (needs NAME).")
@click.option("--status", metavar="STATUS", help=f"Only requests in this status ({_STATUSES}; any case).")
@json_option
@pass_session
def list_requests(
    session: Session, name: str | None, version: str | None, status: str | None, as_json: bool
) -> None:
    """List transition requests, of every model or of NAME."""
    if version is not None and name is None:
        raise InvalidParameterValue("Option '--version' needs the argument NAME")
    requests = _client(session).list_requests(name, version=version, status=parse_status(status))
    if as_json:
        echo_json([request_json(r) for r in requests])
    elif not requests:
        session.console.print("No transition requests found.")
    else:
        session.console.print(requests_table(requests))


# -- comments ----------------------------------------------------------------------------------------------
@models_group.command("comment")
@click.argument("name")
@click.argument("version")
@click.argument("text")
@json_option
@pass_session
def add_comment(session: Session, name: str, version: str, text: str, as_json: bool) -> None:
    """Comment on VERSION of NAME."""
    comment = _client(session).add_comment(name, version, text)
    if as_json:
        echo_json({"comment": comment_json(comment)})
    else:
        click.echo(f"Added comment {comment.id} on version {comment.version} of '{comment.name}'.")


@models_group.command("edit-comment")
@click.argument("comment_id", metavar="COMMENT_ID")
@click.argument("text")
@json_option
@pass_session
def edit_comment(session: Session, comment_id: str, text: str, as_json: bool) -> None:
    """Replace the text of your comment."""
    comment = _client(session).update_comment(comment_id, text)
    if as_json:
        echo_json({"comment": comment_json(comment)})
    else:
        click.echo(f"Edited comment {comment.id}.")


@models_group.command("delete-comment")
@click.argument("comment_id", metavar="COMMENT_ID")
@json_option
@pass_session
def delete_comment(session: Session, comment_id: str, as_json: bool) -> None:
    """Delete your comment."""
    _client(session).delete_comment(comment_id)
    if as_json:
        echo_json({"deleted": {"id": comment_id.strip()}})
    else:
        click.echo(f"Deleted comment {comment_id.strip()}.")


@models_group.command("comments")
@click.argument("name")
@click.argument("version")
@json_option
@pass_session
def list_comments(session: Session, name: str, version: str, as_json: bool) -> None:
    """List the comments on VERSION of NAME, oldest first."""
    comments = _client(session).list_comments(name, version)
    if as_json:
        echo_json([comment_json(c) for c in comments])
    elif not comments:
        session.console.print(f"No comments on version {version} of '{name}'.")
    else:
        session.console.print(comments_table(comments))


# -- state, owner, protection ------------------------------------------------------------------------------
@models_group.command("state")
@click.argument("name")
@click.option(
    "--at", "at", metavar="WHEN", help="The moment (ms, 2024-05-01 or 2024-05-01T12:00; default now)."
)
@json_option
@pass_session
def state(session: Session, name: str, at: str | None, as_json: bool) -> None:
    """Show which version was in which stage, and where each alias pointed, at a moment."""
    registry_state = _client(session).get_registry_state(name, parse_at(at))
    if as_json:
        echo_json(state_json(registry_state))
    elif not registry_state.stages and not registry_state.aliases:
        session.console.print(f"Registered model '{name}' had no versions then.")
    else:
        session.console.print(state_table(registry_state))


@models_group.command("protect")
@click.argument("name")
@click.option("--off", is_flag=True, help="Remove the protection.")
@json_option
@pass_session
def protect(session: Session, name: str, off: bool, as_json: bool) -> None:
    """Protect NAME: only approvers change its stages and aliases directly; others send requests."""
    model = _client(session).update_registered_model(name, protected=not off)
    if as_json:
        echo_json({"registered_model": model_json(model)})
    else:
        click.echo(
            f"Registered model '{model.name}' is {'now' if model.protected else 'no longer'} protected."
        )


@models_group.command("set-owner")
@click.argument("name")
@click.argument("owner")
@json_option
@pass_session
def set_owner(session: Session, name: str, owner: str, as_json: bool) -> None:
    """Make OWNER (a user or group name) responsible for NAME."""
    model = _client(session).update_registered_model(name, owner=owner)
    if as_json:
        echo_json({"registered_model": model_json(model)})
    else:
        click.echo(f"The owner of '{model.name}' is now '{model.owner}'.")


__all__ = ["parse_at", "parse_status"]
