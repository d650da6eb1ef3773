"""How ``wayline models`` shows governance: comments, transition requests and a model's state at a moment.

JSON is the shape of Wayline's governance routes (:mod:`wayline.wire.governance`): ids and versions as
strings, times as integer milliseconds, so a pipeline reads the CLI's output as it would read the server's.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from wayline.cli.output import format_timestamp, make_table, truncate
from wayline.entities.governance import ModelComment, RegistryState, RequestKind, TransitionRequest
from wayline.wire.governance import comment_to_json, registry_state_to_json, request_to_json
from wayline.wire.tracking import Json


def comment_json(comment: ModelComment) -> Json:
    return comment_to_json(comment)


def request_json(request: TransitionRequest) -> Json:
    return request_to_json(request)


def state_json(state: RegistryState) -> Json:
    return registry_state_to_json(state)


def target_text(request: TransitionRequest) -> str:
    """``stage Production`` or ``alias champion``."""
    return f"{'stage' if request.kind is RequestKind.STAGE else 'alias'} {request.target}"


def comments_table(comments: Sequence[ModelComment]) -> Table:
    table = make_table("ID", "Created", "Updated", "Author", "Comment")
    for comment in comments:
        edited = comment.updated != comment.created
        table.add_row(
            str(comment.id),
            format_timestamp(comment.created),
            format_timestamp(comment.updated) if edited else "-",
            truncate(comment.author or "-", 24),
            truncate(comment.text, 80),
        )
    return table


def requests_table(requests: Sequence[TransitionRequest]) -> Table:
    table = make_table(
        "ID", "Model", "Version", "Target", "Status", "Requested by", "Created", "Decided by", "Comment"
    )
    for request in requests:
        table.add_row(
            str(request.id),
            truncate(request.name, 30),
            str(request.version),
            truncate(target_text(request), 30),
            request.status.value,
            truncate(request.requested_by or "-", 24),
            format_timestamp(request.created),
            truncate(request.decided_by or "-", 24) if request.decided else "-",
            truncate(request.decision_comment or request.comment, 50),
        )
    return table


def state_table(state: RegistryState) -> Table:
    """One row per version that existed then (newest first): its stage and the aliases pointing at it."""
    by_version: dict[int, list[str]] = {}
    for alias, version in sorted(state.aliases.items()):
        by_version.setdefault(version, []).append(alias)
    table = make_table(
        "Version",
        "Stage",
        "Aliases",
        title=f"Registered model {state.name} at {format_timestamp(state.timestamp)}",
    )
    for version in sorted(set(state.stages) | set(by_version), reverse=True):
        stage = state.stages.get(version)
        table.add_row(
            str(version),
            stage.value if stage is not None else "-",
            ", ".join(by_version.get(version, ())) or "-",
        )
    return table


__all__ = [
    "comment_json",
    "comments_table",
    "request_json",
    "requests_table",
    "state_json",
    "state_table",
    "target_text",
]
