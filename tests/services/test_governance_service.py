"""The governance service and the registry service's protected models, over real stores (SQLite, PostgreSQL):
who may do what (approvers, self-approval, requesters, comment authors), that an approval makes the change and
a refusal changes nothing, and the events reported after each committed change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tracking_api import BACKENDS, database_url
from wayline.entities.governance import RequestKind, RequestStatus
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, InvalidState, PermissionDenied, ResourceNotFound
from wayline.services.events import EventSink
from wayline.services.governance import GovernanceService
from wayline.services.registry import RegistryService
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore
from wayline.store.sql.governance import SqlGovernanceStore


@dataclass
class Recorder:
    """An :class:`EventSink` that keeps what it receives."""

    events: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def emit(self, entity: str, action: str, data: Mapping[str, object]) -> None:
        self.events.append((entity, action, dict(data)))

    def names(self) -> list[str]:
        return [f"{entity}.{action}" for entity, action, _ in self.events]


@dataclass
class World:
    registry: RegistryService
    governance: GovernanceService
    sink: Recorder
    name: str


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    tracking = SqlTrackingStore(database_url(request.param, request, tmp_path), str(tmp_path / "artifacts"))
    sink = Recorder()
    assert isinstance(sink, EventSink)
    registry = RegistryService(
        SqlRegistryStore(engine=tracking.engine),
        default_actor="robot",
        artifact_roots=["s3://bucket"],
        approvers=["carol", "dave"],
        events=sink,
    )
    governance = GovernanceService(registry, SqlGovernanceStore(engine=tracking.engine), events=sink)
    name = f"m-{uuid.uuid4().hex[:8]}"
    registry.create_registered_model(name, actor="alice")
    for _ in range(2):
        registry.create_model_version(name, "s3://bucket/model", actor="alice")
    sink.events.clear()
    yield World(registry, governance, sink, name)
    governance.close()
    registry.close()
    tracking.close()


def _protect(world: World) -> None:
    world.registry.update_registered_model(world.name, protected=True, actor="alice")


# -- protected models ----------------------------------------------------------------------------------------
def test_protected_model_refuses_direct_changes_by_non_approvers(world: World) -> None:
    registry, name = world.registry, world.name
    registry.set_registered_model_alias(name, "champion", 1, actor="alice")  # not protected yet
    _protect(world)
    world.sink.events.clear()
    history = registry.model_history(name)
    refused = [
        lambda: registry.transition_model_version_stage(name, 1, "Production", actor="alice"),
        lambda: registry.set_registered_model_alias(name, "champion", 2, actor="alice"),
        lambda: registry.delete_registered_model_alias(name, "champion", actor="alice"),
        lambda: registry.delete_model_version(name, 2, actor="alice"),
        lambda: registry.delete_registered_model(name, actor="alice"),
        lambda: registry.update_registered_model(name, protected=False, actor="alice"),
        lambda: registry.transition_model_version_stage(name, 1, "Production"),  # the default actor
    ]
    for call in refused:
        with pytest.raises(PermissionDenied, match="protected"):
            call()
    assert registry.model_history(name) == history
    assert registry.get_model_version(name, 1).current_stage is Stage.NONE
    assert registry.get_model_version_by_alias(name, "champion").version == 1
    assert registry.get_registered_model(name).protected is True
    assert world.sink.events == []
    # Tags and descriptions are no stage or alias: anyone may still change them.
    registry.set_model_version_tag(name, 1, "validated", "yes", actor="alice")


def test_approvers_change_protected_models_directly(world: World) -> None:
    registry, name = world.registry, world.name
    _protect(world)
    moved = registry.transition_model_version_stage(name, 1, "Production", comment="hotfix", actor="carol")
    assert moved.current_stage is Stage.PRODUCTION
    registry.set_registered_model_alias(name, "champion", 1, actor="dave")
    registry.delete_registered_model_alias(name, "champion", actor="dave")
    registry.update_registered_model(name, protected=False, actor="carol")
    registry.transition_model_version_stage(name, 2, "Staging", actor="alice")  # unprotected again
    assert registry.get_model_version(name, 2).current_stage is Stage.STAGING


def test_without_approvers_everyone_approves(tmp_path: Path) -> None:
    with SqlTrackingStore(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path)) as tracking:
        registry = RegistryService(SqlRegistryStore(engine=tracking.engine))
        registry.create_registered_model("m")
        registry.update_registered_model("m", protected=True)
        registry.set_registered_model_tag("m", "k", "v", actor="anyone")
        registry.delete_registered_model_alias("m", "champion", actor="anyone")  # allowed, nothing to delete
        assert registry.is_approver("anyone")


# -- transition requests -------------------------------------------------------------------------------------
def test_request_then_approve_makes_the_change_and_reports_it(world: World) -> None:
    registry, gov, name = world.registry, world.governance, world.name
    _protect(world)
    registry.transition_model_version_stage(name, 1, "Production", actor="carol")
    world.sink.events.clear()
    request = gov.request_transition(
        name, "2", stage="production", archive_existing_versions=True, comment="better", actor="alice"
    )
    assert (request.kind, request.target, request.status) == (
        RequestKind.STAGE,
        "Production",
        RequestStatus.PENDING,
    )
    assert registry.get_model_version(name, 2).current_stage is Stage.NONE
    approved = gov.approve_request(str(request.id), comment="ship it", actor="carol")
    assert approved.status is RequestStatus.APPROVED
    assert (approved.decided_by, approved.decision_comment) == ("carol", "ship it")
    assert registry.get_model_version(name, 2).current_stage is Stage.PRODUCTION
    assert registry.get_model_version(name, 1).current_stage is Stage.ARCHIVED
    kinds = [(e.kind, e.version, e.actor) for e in registry.model_history(name)][-4:]
    assert kinds == [
        ("transition_requested", 2, "alice"),
        ("stage_changed", 1, "carol"),
        ("stage_changed", 2, "carol"),
        ("request_approved", 2, "carol"),
    ]
    assert world.sink.names() == [
        "transition_request.created",
        "transition_request.approved",
        "model_version_stage.updated",
    ]
    created, decided, stage = (data for _, _, data in world.sink.events)
    assert created == {
        "name": name,
        "version": "2",
        "request_id": str(request.id),
        "kind": "stage",
        "target": "Production",
        "requested_by": "alice",
        "comment": "better",
    }
    assert decided == {**created, "decided_by": "carol", "comment": "ship it"}
    assert stage == {
        "name": name,
        "version": "2",
        "from_stage": "None",
        "to_stage": "Production",
        "archive_existing_versions": True,
        "actor": "carol",
        "comment": "ship it",
    }


def test_alias_request_approved(world: World) -> None:
    gov, name = world.governance, world.name
    request = gov.request_transition(name, 2, alias="champion", actor="alice")
    gov.approve_request(request.id, actor="dave")
    assert world.registry.get_model_version_by_alias(name, "champion").version == 2
    assert world.sink.events[-1] == (
        "model_version_alias",
        "created",
        {"name": name, "alias": "champion", "version": "2"},
    )


def test_reject_leaves_everything_as_is(world: World) -> None:
    registry, gov, name = world.registry, world.governance, world.name
    request = gov.request_transition(name, 1, stage="Staging", actor="alice")
    rejected = gov.reject_request(request.id, comment="not yet", actor="carol")
    assert rejected.status is RequestStatus.REJECTED
    assert registry.get_model_version(name, 1).current_stage is Stage.NONE
    assert world.sink.names()[-1] == "transition_request.rejected"
    assert world.sink.events[-1][2]["comment"] == "not yet"


def test_who_may_decide(world: World) -> None:
    registry, gov, name = world.registry, world.governance, world.name
    request = gov.request_transition(name, 1, stage="Staging", actor="carol")
    with pytest.raises(PermissionDenied, match="not one"):
        gov.approve_request(request.id, actor="alice")
    with pytest.raises(PermissionDenied, match="not one"):
        gov.reject_request(request.id, actor="alice")
    with pytest.raises(PermissionDenied, match="may not approve"):
        gov.approve_request(request.id, actor="carol")  # self-approval
    with pytest.raises(PermissionDenied, match="requester"):
        gov.cancel_request(request.id, actor="dave")
    assert gov.get_request(request.id).status is RequestStatus.PENDING
    assert registry.get_model_version(name, 1).current_stage is Stage.NONE
    cancelled = gov.cancel_request(request.id, actor="carol")
    assert (cancelled.status, cancelled.decided_by) == (RequestStatus.CANCELLED, "carol")


def test_self_approval_when_allowed(world: World) -> None:
    gov = GovernanceService(world.registry, world.governance.store, allow_self_approval=True)
    request = gov.request_transition(world.name, 1, stage="Staging", actor="carol")
    assert gov.approve_request(request.id, actor="carol").status is RequestStatus.APPROVED


def test_a_decided_request_is_not_decided_again(world: World) -> None:
    gov, name = world.governance, world.name
    request = gov.request_transition(name, 1, stage="Staging", actor="alice")
    gov.approve_request(request.id, actor="carol")
    world.registry.transition_model_version_stage(name, 1, "None", actor="carol")
    for decide in (
        lambda: gov.approve_request(request.id, actor="dave"),
        lambda: gov.reject_request(request.id, actor="dave"),
        lambda: gov.cancel_request(request.id, actor="alice"),
    ):
        with pytest.raises(InvalidState, match="APPROVED"):
            decide()
    assert world.registry.get_model_version(name, 1).current_stage is Stage.NONE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one"),
        ({"stage": "Staging", "alias": "x"}, "exactly one"),
        ({"stage": "Live"}, "stage"),
        ({"alias": "latest"}, "alias"),
        ({"alias": "a b"}, "alias"),
        ({"alias": "x", "archive_existing_versions": True}, "archive_existing_versions"),
        ({"stage": "Archived", "archive_existing_versions": True}, "archive_existing_versions"),
        ({"stage": "Staging", "archive_existing_versions": "yes"}, "archive_existing_versions"),
        ({"stage": "Staging", "comment": 5}, "comment"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    world: World, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        world.governance.request_transition(world.name, 1, **fields)  # type: ignore[arg-type]
    assert world.governance.list_requests(name=world.name) == []
    assert world.sink.events == []


def test_unknown_ids_and_versions(world: World) -> None:
    gov = world.governance
    with pytest.raises(ResourceNotFound):
        gov.request_transition(world.name, 9, stage="Staging")
    with pytest.raises(ResourceNotFound):
        gov.get_request(123456)
    for bad in ("abc", 0, -1, True, ""):
        with pytest.raises(InvalidParameterValue, match="id"):
            gov.get_request(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="status"):
        gov.list_requests(status="DONE")
    with pytest.raises(InvalidParameterValue, match="version"):
        gov.list_requests(version=1)


def test_list_requests(world: World) -> None:
    gov, name = world.governance, world.name
    a = gov.request_transition(name, 1, stage="Staging", actor="alice")
    b = gov.request_transition(name, 2, alias="champion", actor="alice")
    gov.reject_request(a.id, actor="carol")
    assert [r.id for r in gov.list_requests(name=name)] == [a.id, b.id]
    assert [r.id for r in gov.list_requests(name=name, version="2")] == [b.id]
    assert [r.id for r in gov.list_requests(name=name, status="pending")] == [b.id]


# -- comments ------------------------------------------------------------------------------------------------
def test_comments_are_edited_and_deleted_by_their_author_only(world: World) -> None:
    gov, name = world.governance, world.name
    comment = gov.add_comment(name, 1, "looks good", actor="alice")
    assert (comment.author, comment.text) == ("alice", "looks good")
    for call in (
        lambda: gov.update_comment(comment.id, "hijacked", actor="bob"),
        lambda: gov.delete_comment(comment.id, actor="bob"),
        lambda: gov.update_comment(comment.id, "hijacked"),  # the default actor, robot
    ):
        with pytest.raises(PermissionDenied, match="author"):
            call()
    assert gov.list_comments(name, 1) == [comment]
    edited = gov.update_comment(str(comment.id), "looks great", actor="alice")
    assert edited.text == "looks great"
    gov.delete_comment(comment.id, actor="alice")
    assert gov.list_comments(name, 1) == []
    assert world.sink.names() == [
        "model_version_comment.created",
        "model_version_comment.updated",
        "model_version_comment.deleted",
    ]
    assert world.sink.events[1][2] == {
        "name": name,
        "version": "1",
        "comment_id": str(comment.id),
        "author": "alice",
        "text": "looks great",
    }
    assert "text" not in world.sink.events[2][2]


@pytest.mark.parametrize("text", ["", "   ", None, "x" * 65536])
def test_bad_comments_are_refused(world: World, text: object) -> None:
    with pytest.raises(InvalidParameterValue, match="comment"):
        world.governance.add_comment(world.name, 1, text)  # type: ignore[arg-type]
    assert world.governance.list_comments(world.name, 1) == []


# -- the registry's events and its state at a time -----------------------------------------------------------
def test_registry_reports_its_changes(world: World) -> None:
    registry, name = world.registry, world.name
    other = f"{name}-b"
    registry.create_registered_model(other, tags={"team": "ml"}, description="d")
    version = registry.create_model_version(other, "s3://bucket/m", tags={"a": "1"})
    registry.set_model_version_tag(other, version.version, "k", "v")
    registry.delete_model_version_tag(other, version.version, "k")
    registry.set_registered_model_tag(other, "k", "v")
    registry.delete_registered_model_tag(other, "k")
    registry.set_registered_model_alias(other, "champion", 1)
    registry.delete_registered_model_alias(other, "champion")
    registry.transition_model_version_stage(other, 1, "Staging", comment="c")
    assert world.sink.events == [
        ("registered_model", "created", {"name": other, "tags": {"team": "ml"}, "description": "d"}),
        (
            "model_version",
            "created",
            {
                "name": other,
                "version": "1",
                "source": "s3://bucket/m",
                "run_id": None,
                "tags": {"a": "1"},
                "description": None,
            },
        ),
        ("model_version_tag", "set", {"name": other, "version": "1", "key": "k", "value": "v"}),
        ("model_version_tag", "deleted", {"name": other, "version": "1", "key": "k"}),
        ("registered_model_tag", "set", {"name": other, "key": "k", "value": "v"}),
        ("registered_model_tag", "deleted", {"name": other, "key": "k"}),
        ("model_version_alias", "created", {"name": other, "alias": "champion", "version": "1"}),
        ("model_version_alias", "deleted", {"name": other, "alias": "champion"}),
        (
            "model_version_stage",
            "updated",
            {
                "name": other,
                "version": "1",
                "from_stage": "None",
                "to_stage": "Staging",
                "archive_existing_versions": False,
                "actor": "robot",
                "comment": "c",
            },
        ),
    ]


def test_refused_changes_report_nothing(world: World) -> None:
    with pytest.raises(ResourceNotFound):
        world.registry.set_registered_model_alias(world.name, "champion", 7)
    with pytest.raises(InvalidParameterValue):
        world.registry.create_registered_model("a/b")
    assert world.sink.events == []


def test_registry_state_at_a_time(world: World) -> None:
    registry, gov, name = world.registry, world.governance, world.name
    registry.transition_model_version_stage(name, 1, "Production", actor="carol")
    registry.set_registered_model_alias(name, "champion", 1, actor="carol")
    last = registry.model_history(name)[-1].timestamp
    state = gov.registry_state(name, str(last))
    assert dict(state.stages) == {1: Stage.PRODUCTION, 2: Stage.NONE}
    assert dict(state.aliases) == {"champion": 1}
    assert dict(gov.registry_state(name, 0).stages) == {}
    for bad in ("soon", None, 2.5, 2**70):
        with pytest.raises(InvalidParameterValue, match="timestamp"):
            gov.registry_state(name, bad)  # type: ignore[arg-type]
