"""``WaylineClient``'s governance calls on every backend: embedded SQLite and PostgreSQL, and over HTTP
against a real server (its own, with ``WAYLINE_REGISTRY_APPROVERS=bob``).

Three users act: ``ana`` (asks), ``bob`` (the approver) and ``carol`` (neither). Embedded, the acting user
is ``WAYLINE_USER``; over HTTP, the HTTP Basic user of ``WAYLINE_TRACKING_USERNAME``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from client.helpers import unique
from loopback import quiet_http_env
from servers import ServerProcess, start_server
from wayline.client.client import WaylineClient
from wayline.entities.governance import RequestKind, RequestStatus
from wayline.entities.registry import Stage
from wayline.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceNotFound,
    WaylineError,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "http"]
APPROVER = "bob"

AsUser = Callable[[str], WaylineClient]


@pytest.fixture(scope="module")
def approvers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("server-governance"), env={"WAYLINE_REGISTRY_APPROVERS": APPROVER}
    )
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def as_user(
    request: pytest.FixtureRequest, fluent_state: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AsUser]:
    """``as_user("ana")``: a client acting as ana on this test's backend (closed at the end)."""
    monkeypatch.setenv("WAYLINE_REGISTRY_APPROVERS", APPROVER)
    monkeypatch.delenv("WAYLINE_ALLOW_SELF_APPROVAL", raising=False)
    if request.param == "sqlite":
        uri = fluent_state
    elif request.param == "postgres":
        uri = request.getfixturevalue("postgres_url")
    else:
        quiet_http_env(monkeypatch)
        uri = request.getfixturevalue("approvers_server").url
    opened: list[WaylineClient] = []

    def _as(user: str) -> WaylineClient:
        with monkeypatch.context() as env:
            env.setenv("WAYLINE_USER", user)
            env.setenv("WAYLINE_TRACKING_USERNAME", user)
            env.setenv("WAYLINE_TRACKING_PASSWORD", "secret")
            client = WaylineClient(uri)
            opened.append(client)
            assert client.governance is not None  # opened now, as this user
        return client

    yield _as
    for client in opened:
        client.close()


def _version(client: WaylineClient, tmp_path: Path, name: str) -> int:
    """A new version of ``name`` (created when missing) from a run's ``model`` directory."""
    folder = tmp_path / unique("files")
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    run_id = client.create_run(client.create_experiment(unique("exp"))).info.run_id
    client.log_artifacts(run_id, folder, "model")
    try:
        client.get_registered_model(name)
    except ResourceNotFound:
        client.create_registered_model(name)
    return client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id).version


def test_comments_are_added_listed_edited_and_deleted_by_their_author(
    as_user: AsUser, tmp_path: Path
) -> None:
    ana, carol = as_user("ana"), as_user("carol")
    name = unique("churn")
    version = _version(ana, tmp_path, name)
    first = ana.add_comment(name, version, "recall drops on 2023")
    second = carol.add_comment(name, str(version), "looks fine to me")
    assert (first.author, first.name, first.version, first.text) == (
        "ana",
        name,
        version,
        "recall drops on 2023",
    )
    assert [c.id for c in ana.list_comments(name, version)] == [first.id, second.id]

    edited = ana.update_comment(first.id, "recall drops on the 2023 cohort")
    assert edited.text == "recall drops on the 2023 cohort"
    assert edited.updated >= edited.created
    with pytest.raises(PermissionDenied):
        carol.update_comment(first.id, "hijacked")
    with pytest.raises(PermissionDenied):
        carol.delete_comment(first.id)
    assert ana.list_comments(name, version)[0].text == "recall drops on the 2023 cohort"

    ana.delete_comment(first.id)
    assert [c.id for c in carol.list_comments(name, version)] == [second.id]
    with pytest.raises(ResourceNotFound):
        ana.update_comment(first.id, "gone")
    with pytest.raises(ResourceNotFound):
        ana.add_comment(name, version + 1, "no such version")


def test_an_approved_stage_request_moves_the_version(as_user: AsUser, tmp_path: Path) -> None:
    ana, bob = as_user("ana"), as_user(APPROVER)
    name = unique("churn")
    old = _version(ana, tmp_path, name)
    bob.transition_model_version_stage(name, old, "Production")
    new = _version(ana, tmp_path, name)

    asked = ana.request_transition(
        name, new, stage="production", comment="beats v1", archive_existing_versions=True
    )
    assert asked.status is RequestStatus.PENDING
    assert (asked.kind, asked.target, asked.requested_by) == (RequestKind.STAGE, "Production", "ana")
    assert asked.archive_existing_versions is True
    assert ana.get_model_version(name, new).current_stage is Stage.NONE  # nothing happens until approved

    with pytest.raises(PermissionDenied):
        ana.approve_request(asked.id)  # her own request
    with pytest.raises(PermissionDenied):
        as_user("carol").approve_request(asked.id)  # not an approver
    assert ana.get_request(asked.id).status is RequestStatus.PENDING

    approved = bob.approve_request(asked.id, comment="checked")
    assert approved.status is RequestStatus.APPROVED
    assert (approved.decided_by, approved.decision_comment) == (APPROVER, "checked")
    assert approved.decided > 0
    assert ana.get_model_version(name, new).current_stage is Stage.PRODUCTION
    assert ana.get_model_version(name, old).current_stage is Stage.ARCHIVED

    with pytest.raises(WaylineError) as twice:
        bob.approve_request(asked.id)
    assert 400 <= twice.value.http_status < 500
    assert ana.get_request(str(asked.id)).decision_comment == "checked"


def test_an_alias_request_is_rejected_or_cancelled_and_nothing_changes(
    as_user: AsUser, tmp_path: Path
) -> None:
    ana, bob = as_user("ana"), as_user(APPROVER)
    name = unique("churn")
    version = _version(ana, tmp_path, name)
    rejected = ana.request_transition(name, version, alias="champion", comment="please")
    assert (rejected.kind, rejected.target) == (RequestKind.ALIAS, "champion")
    done = bob.reject_request(rejected.id, comment="not yet")
    assert (done.status, done.decision_comment) == (RequestStatus.REJECTED, "not yet")
    with pytest.raises(InvalidParameterValue, match="champion"):
        ana.get_model_version_by_alias(name, "champion")

    pending = ana.request_transition(name, version, alias="champion")
    with pytest.raises(PermissionDenied):
        bob.cancel_request(pending.id)  # only the requester cancels
    assert ana.cancel_request(pending.id).status is RequestStatus.CANCELLED
    with pytest.raises(WaylineError):
        bob.approve_request(pending.id)
    with pytest.raises(InvalidParameterValue, match="champion"):
        ana.get_model_version_by_alias(name, "champion")

    approved = bob.approve_request(ana.request_transition(name, version, alias="champion").id)
    assert approved.status is RequestStatus.APPROVED
    assert ana.get_model_version_by_alias(name, "champion").version == version


def test_requests_are_listed_by_model_version_and_status(as_user: AsUser, tmp_path: Path) -> None:
    ana, bob = as_user("ana"), as_user(APPROVER)
    name = unique("churn")
    one = _version(ana, tmp_path, name)
    two = _version(ana, tmp_path, name)
    a = ana.request_transition(name, one, stage="Staging")
    b = ana.request_transition(name, two, alias="challenger")
    c = ana.request_transition(name, two, stage="Staging")
    bob.reject_request(c.id)

    assert {r.id for r in ana.list_requests(name)} == {a.id, b.id, c.id}
    assert {r.id for r in ana.list_requests(name, version=two)} == {b.id, c.id}
    assert {r.id for r in ana.list_requests(name, status="pending")} == {a.id, b.id}
    assert [r.id for r in ana.list_requests(name, status=RequestStatus.REJECTED)] == [c.id]
    assert {a.id, b.id} <= {r.id for r in ana.list_requests(status="PENDING")}
    with pytest.raises(InvalidParameterValue, match="version"):
        ana.list_requests(version=one)


def test_a_protected_model_changes_only_through_approvers(as_user: AsUser, tmp_path: Path) -> None:
    ana, bob = as_user("ana"), as_user(APPROVER)
    name = unique("churn")
    version = _version(ana, tmp_path, name)
    assert bob.update_registered_model(name, protected=True, owner="ml-team").protected is True
    with pytest.raises(PermissionDenied):
        ana.transition_model_version_stage(name, version, "Production")
    with pytest.raises(PermissionDenied):
        ana.set_registered_model_alias(name, "champion", version)
    assert ana.get_model_version(name, version).current_stage is Stage.NONE

    bob.approve_request(ana.request_transition(name, version, alias="champion").id)
    assert ana.get_model_version_by_alias(name, "champion").version == version
    bob.transition_model_version_stage(name, version, "Staging")
    assert ana.get_registered_model(name).owner == "ml-team"


def test_the_registry_state_at_a_moment(as_user: AsUser, tmp_path: Path) -> None:
    ana, bob = as_user("ana"), as_user(APPROVER)
    name = unique("churn")
    one = _version(ana, tmp_path, name)
    two = _version(ana, tmp_path, name)
    first_event = ana.get_model_history(name)[0].timestamp
    bob.transition_model_version_stage(name, one, "Production")
    bob.approve_request(ana.request_transition(name, two, alias="champion").id)

    now = ana.get_registry_state(name, datetime.now() + timedelta(minutes=1))
    assert now.name == name
    assert dict(now.stages) == {one: Stage.PRODUCTION, two: Stage.NONE}
    assert dict(now.aliases) == {"champion": two}
    before = ana.get_registry_state(name, first_event - 1)
    assert dict(before.stages) == {}
    assert dict(before.aliases) == {}
    with pytest.raises(InvalidParameterValue, match="at"):
        ana.get_registry_state(name, "yesterday")  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFound):
        ana.get_registry_state(unique("missing"), first_event)


def test_bad_requests_change_nothing(as_user: AsUser, tmp_path: Path) -> None:
    ana = as_user("ana")
    name = unique("churn")
    version = _version(ana, tmp_path, name)
    with pytest.raises(InvalidParameterValue):
        ana.request_transition(name, version)  # neither stage nor alias
    with pytest.raises(InvalidParameterValue):
        ana.request_transition(name, version, stage="Production", alias="champion")
    with pytest.raises(InvalidParameterValue, match="stage"):
        ana.request_transition(name, version, stage="Prod")
    with pytest.raises(ResourceNotFound):
        ana.request_transition(name, version + 1, stage="Staging")
    with pytest.raises(InvalidParameterValue, match="archive_existing_versions"):
        ana.request_transition(name, version, stage="Staging", archive_existing_versions="yes")  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFound):
        ana.get_request(987654)
    assert ana.list_requests(name) == []
