"""How ``wayline models`` shows registered models, versions and history: rich tables and stable JSON.

JSON is the registry REST API's shape (:mod:`wayline.wire.registry`, MLflow's fields plus Wayline's
``owner`` and ``protected``), with tags in key order; history events as Wayline's history route sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.console import Console, Group
from rich.table import Table

from wayline.cli.output import format_tags, format_timestamp, key_values, make_table, truncate
from wayline.entities.registry import ModelVersion, RegisteredModel
from wayline.store.registry import RegistryEvent
from wayline.wire.registry import (
    model_version_to_json,
    registered_model_to_json,
    registry_event_to_json,
)
from wayline.wire.tracking import Json


def version_json(version: ModelVersion) -> Json:
    return model_version_to_json(replace(version, tags=dict(sorted(version.tags.items()))))


def model_json(model: RegisteredModel) -> Json:
    return registered_model_to_json(
        replace(
            model,
            tags=dict(sorted(model.tags.items())),
            latest_versions=tuple(
                replace(v, tags=dict(sorted(v.tags.items()))) for v in model.latest_versions
            ),
        )
    )


def event_json(event: RegistryEvent) -> Json:
    return registry_event_to_json(event)


def _latest(model: RegisteredModel) -> str:
    return str(max(v.version for v in model.latest_versions)) if model.latest_versions else "-"


def _stages(model: RegisteredModel) -> str:
    """``Production:3, Staging:4`` (the newest version in each stage other than None)."""
    return ", ".join(
        f"{v.current_stage.value}:{v.version}"
        for v in model.latest_versions
        if v.current_stage.value != "None"
    )


def _aliases(model: RegisteredModel) -> str:
    return ", ".join(f"{a.alias}={a.version}" for a in model.aliases)


def models_table(models: Sequence[RegisteredModel]) -> Table:
    table = make_table("Name", "Latest", "Stages", "Aliases", "Owner", "Updated", "Tags")
    for model in models:
        table.add_row(
            truncate(model.name, 40),
            _latest(model),
            _stages(model),
            truncate(_aliases(model), 40),
            truncate(model.owner, 24),
            format_timestamp(model.last_updated_timestamp),
            format_tags(model.tags),
        )
    return table


def versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = make_table("Name", "Version", "Stage", "Aliases", "Created", "Run", "Source", "Tags")
    for version in versions:
        table.add_row(
            truncate(version.name, 30),
            str(version.version),
            version.current_stage.value,
            truncate(", ".join(version.aliases), 30),
            format_timestamp(version.creation_timestamp),
            version.run_id[:8] if version.run_id else "-",
            truncate(version.source, 50, keep_end=True),
            format_tags(version.tags, 30),
        )
    return table


def history_table(events: Sequence[RegistryEvent]) -> Table:
    table = make_table("When", "Version", "Event", "From", "To", "By", "Comment")
    for event in events:
        table.add_row(
            format_timestamp(event.timestamp),
            str(event.version) if event.version else "-",
            event.kind,
            truncate(event.from_value, 30),
            truncate(event.to_value, 30),
            truncate(event.actor, 24),
            truncate(event.comment, 50),
        )
    return table


def print_model(console: Console, model: RegisteredModel, versions: Sequence[ModelVersion]) -> None:
    """The model's fields, then its versions (newest first)."""
    rows = [
        ("Name", model.name),
        ("Description", model.description or "-"),
        ("Owner", model.owner or "-"),
        ("Protected", "yes" if model.protected else "no"),
        ("Created", format_timestamp(model.creation_timestamp)),
        ("Updated", format_timestamp(model.last_updated_timestamp)),
        ("Aliases", _aliases(model) or "-"),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items())) or "-"),
    ]
    parts: list[Table] = [key_values(rows, title=f"Registered model {model.name}")]
    if versions:
        parts.append(versions_table(versions))
    console.print(Group(*parts))


__all__ = [
    "event_json",
    "history_table",
    "model_json",
    "models_table",
    "print_model",
    "version_json",
    "versions_table",
]
