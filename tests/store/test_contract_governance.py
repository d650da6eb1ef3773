"""The governance store contract on SQLite and PostgreSQL: comments, transition requests and their decisions
(approval makes the change in the same transaction; of two concurrent decisions exactly one wins), the
history they write, the registry's state at a past time, engine sharing, and migration 0005."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from migrations import migrate
from wayline.entities.governance import RequestKind, RequestStatus
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, InvalidState, ResourceNotFound, WaylineError
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore, current_revision, upgrade
from wayline.store.sql.engine import transaction
from wayline.store.sql.governance import SqlGovernanceStore
from wayline.store.sql.schema import registry_events

GOVERNANCE_TABLES = {"model_version_comments", "transition_requests"}


@pytest.fixture
def registry(store: SqlTrackingStore) -> Iterator[SqlRegistryStore]:
    with SqlRegistryStore(engine=store.engine) as opened:
        opened.create_registered_model("m")
        for _ in range(3):
            opened.create_model_version("m", "s3://bucket/model")
        yield opened


@pytest.fixture
def gov(registry: SqlRegistryStore) -> Iterator[SqlGovernanceStore]:
    with SqlGovernanceStore(engine=registry.engine) as opened:
        yield opened


def _kinds(registry: SqlRegistryStore, version: int | None = None) -> list[tuple[str, int, str, str, str]]:
    return [
        (e.kind, e.version, e.actor, e.from_value, e.to_value)
        for e in registry.model_history("m", version=version)
        if e.kind not in ("model_created", "version_created")
    ]


def _stage_request(gov: SqlGovernanceStore, version: int, stage: Stage, *, archive: bool = False) -> int:
    return gov.create_request(
        "m",
        version,
        kind=RequestKind.STAGE,
        target=stage.value,
        archive_existing_versions=archive,
        requested_by="alice",
        comment="ready",
    ).id


# -- comments ------------------------------------------------------------------------------------------------
def test_comments_add_list_edit_delete(registry: SqlRegistryStore, gov: SqlGovernanceStore) -> None:
    first = gov.add_comment("m", 1, author="alice", text="looks good")
    second = gov.add_comment("m", 1, author="bob", text="agreed")
    gov.add_comment("m", 2, author="bob", text="other version")
    assert (first.name, first.version, first.author, first.text) == ("m", 1, "alice", "looks good")
    assert first.created == first.updated > 0
    assert gov.get_comment(first.id) == first
    assert [c.id for c in gov.list_comments("m", 1)] == [first.id, second.id]
    edited = gov.update_comment(first.id, text="looks great")
    assert edited.text == "looks great"
    assert edited.created == first.created
    assert edited.updated >= first.updated
    gov.delete_comment(second.id)
    assert gov.list_comments("m", 1) == [edited]
    with pytest.raises(ResourceNotFound):
        gov.get_comment(second.id)
    with pytest.raises(ResourceNotFound):
        gov.update_comment(second.id, text="x")
    with pytest.raises(ResourceNotFound):
        gov.delete_comment(second.id)
    assert _kinds(registry, 1) == [
        ("comment_added", 1, "alice", str(first.id), ""),
        ("comment_added", 1, "bob", str(second.id), ""),
    ]
    assert [e.comment for e in registry.model_history("m", version=1)][-1] == "agreed"


def test_comment_on_a_missing_version_changes_nothing(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    for name, version in (("m", 9), ("nope", 1)):
        with pytest.raises(ResourceNotFound, match="not found"):
            gov.add_comment(name, version, author="alice", text="x")
        with pytest.raises(ResourceNotFound):
            gov.list_comments(name, version)
    assert _kinds(registry) == []


def test_comments_go_with_their_version_and_follow_a_rename(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    kept = gov.add_comment("m", 1, author="alice", text="kept")
    gone = gov.add_comment("m", 2, author="alice", text="gone")
    registry.delete_model_version("m", 2)
    with pytest.raises(ResourceNotFound):
        gov.get_comment(gone.id)
    registry.rename_registered_model("m", "n")
    assert gov.get_comment(kept.id).name == "n"
    assert [c.text for c in gov.list_comments("n", 1)] == ["kept"]


# -- transition requests -------------------------------------------------------------------------------------
def test_request_is_pending_until_approved_which_makes_the_change(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)
    request = gov.create_request(
        "m",
        2,
        kind=RequestKind.STAGE,
        target="Production",
        archive_existing_versions=True,
        requested_by="alice",
        comment="better AUC",
    )
    assert (request.name, request.version, request.kind, request.target) == (
        "m",
        2,
        RequestKind.STAGE,
        "Production",
    )
    assert request.status is RequestStatus.PENDING
    assert request.created > 0
    assert (request.decided_by, request.decision_comment, request.decided) == ("", "", 0)
    assert request.archive_existing_versions is True
    assert gov.get_request(request.id) == request
    assert registry.get_model_version("m", 2).current_stage is Stage.NONE  # nothing moves yet

    approved = gov.decide_request(request.id, RequestStatus.APPROVED, decided_by="carol", comment="ok")
    assert approved.status is RequestStatus.APPROVED
    assert (approved.decided_by, approved.decision_comment) == ("carol", "ok")
    assert approved.decided >= request.created
    assert gov.get_request(request.id) == approved
    assert registry.get_model_version("m", 2).current_stage is Stage.PRODUCTION
    assert registry.get_model_version("m", 1).current_stage is Stage.ARCHIVED
    rid = str(request.id)
    assert _kinds(registry) == [
        ("stage_changed", 1, "", "None", "Production"),
        ("transition_requested", 2, "alice", rid, "Production"),
        ("stage_changed", 1, "carol", "Production", "Archived"),
        ("stage_changed", 2, "carol", "None", "Production"),
        ("request_approved", 2, "carol", rid, "Production"),
    ]


def test_alias_request_approved_sets_the_alias(registry: SqlRegistryStore, gov: SqlGovernanceStore) -> None:
    request = gov.create_request(
        "m",
        3,
        kind=RequestKind.ALIAS,
        target="champion",
        archive_existing_versions=False,
        requested_by="alice",
        comment="",
    )
    assert registry.get_model_version("m", 3).aliases == ()
    gov.decide_request(request.id, RequestStatus.APPROVED, decided_by="carol", comment="")
    assert registry.get_model_version_by_alias("m", "champion").version == 3
    rid = str(request.id)
    assert _kinds(registry) == [
        ("transition_requested", 3, "alice", rid, "champion@3"),
        ("alias_set", 3, "carol", "", "champion@3"),
        ("request_approved", 3, "carol", rid, "champion@3"),
    ]


@pytest.mark.parametrize("status", [RequestStatus.REJECTED, RequestStatus.CANCELLED])
def test_reject_or_cancel_changes_nothing_else(
    registry: SqlRegistryStore, gov: SqlGovernanceStore, status: RequestStatus
) -> None:
    rid = _stage_request(gov, 1, Stage.STAGING)
    before = registry.get_model_version("m", 1)
    decided = gov.decide_request(rid, status, decided_by="bob", comment="no")
    assert decided.status is status
    assert registry.get_model_version("m", 1) == before
    kind = "request_rejected" if status is RequestStatus.REJECTED else "request_cancelled"
    assert _kinds(registry)[-1] == (kind, 1, "bob", str(rid), "Staging")


def test_a_decided_request_is_not_decided_again(registry: SqlRegistryStore, gov: SqlGovernanceStore) -> None:
    rid = _stage_request(gov, 1, Stage.STAGING)
    gov.decide_request(rid, RequestStatus.REJECTED, decided_by="bob", comment="")
    history = _kinds(registry)
    for status in (RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.CANCELLED):
        with pytest.raises(InvalidState, match="REJECTED"):
            gov.decide_request(rid, status, decided_by="carol", comment="")
    with pytest.raises(InvalidState):
        gov.decide_request(
            _stage_request(gov, 1, Stage.STAGING), RequestStatus.PENDING, decided_by="c", comment=""
        )
    assert gov.get_request(rid).status is RequestStatus.REJECTED
    assert registry.get_model_version("m", 1).current_stage is Stage.NONE
    assert _kinds(registry)[: len(history)] == history
    with pytest.raises(ResourceNotFound):
        gov.decide_request(999, RequestStatus.APPROVED, decided_by="carol", comment="")
    with pytest.raises(ResourceNotFound):
        gov.get_request(999)


def test_a_failed_approval_leaves_the_request_pending(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    rid = _stage_request(gov, 2, Stage.PRODUCTION)
    registry.delete_model_version("m", 2)
    history = _kinds(registry)
    with pytest.raises(ResourceNotFound):
        gov.decide_request(rid, RequestStatus.APPROVED, decided_by="carol", comment="")
    assert gov.get_request(rid).status is RequestStatus.PENDING
    assert _kinds(registry) == history


def test_request_on_a_missing_version_is_refused(registry: SqlRegistryStore, gov: SqlGovernanceStore) -> None:
    with pytest.raises(ResourceNotFound):
        _stage_request(gov, 7, Stage.STAGING)
    assert gov.list_requests() == []


def test_list_requests_filters(registry: SqlRegistryStore, gov: SqlGovernanceStore) -> None:
    registry.create_registered_model("other")
    registry.create_model_version("other", "s3://bucket/model")
    a = _stage_request(gov, 1, Stage.STAGING)
    b = _stage_request(gov, 2, Stage.STAGING)
    c = gov.create_request(
        "other",
        1,
        kind=RequestKind.STAGE,
        target="Staging",
        archive_existing_versions=False,
        requested_by="x",
        comment="",
    ).id
    gov.decide_request(b, RequestStatus.APPROVED, decided_by="carol", comment="")
    ids = lambda found: [r.id for r in found]  # noqa: E731
    assert ids(gov.list_requests()) == [a, b, c]
    assert ids(gov.list_requests(name="m")) == [a, b]
    assert ids(gov.list_requests(name="m", version=2)) == [b]
    assert ids(gov.list_requests(status=RequestStatus.PENDING)) == [a, c]
    assert ids(gov.list_requests(name="m", status=RequestStatus.APPROVED)) == [b]
    assert ids(gov.list_requests(max_results=1)) == [a]
    with pytest.raises(ResourceNotFound):
        gov.list_requests(name="nope")
    registry.rename_registered_model("m", "renamed")
    assert {r.name for r in gov.list_requests(name="renamed")} == {"renamed"}


def test_two_concurrent_approvals_exactly_one_wins(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    rid = _stage_request(gov, 1, Stage.PRODUCTION)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def approve(who: str) -> None:
        barrier.wait()
        try:
            outcomes[who] = gov.decide_request(rid, RequestStatus.APPROVED, decided_by=who, comment="")
        except WaylineError as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("carol", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [o for o in outcomes.values() if isinstance(o, WaylineError)]
    assert len(outcomes) == 2
    assert len(errors) == 1
    assert isinstance(errors[0], InvalidState)
    winner = gov.get_request(rid).decided_by
    assert winner in ("carol", "dave")
    assert [k for k in _kinds(registry) if k[0] != "transition_requested"] == [
        ("stage_changed", 1, winner, "None", "Production"),
        ("request_approved", 1, winner, str(rid), "Production"),
    ]


# -- the registry's state at a past time ---------------------------------------------------------------------
DAY = 86_400_000


def _redate(registry: SqlRegistryStore, dates: list[int]) -> None:
    """Give the model's events the given times, in order (the history keeps real clock times otherwise)."""
    with transaction(registry.engine, write=True) as conn:
        ids = [row[0] for row in conn.execute(sa.select(registry_events.c.event_id).order_by("event_id"))]
        assert len(ids) == len(dates)
        for event_id, when in zip(ids, dates, strict=True):
            conn.execute(
                registry_events.update().where(registry_events.c.event_id == event_id).values(timestamp=when)
            )


def test_which_version_was_in_production_on_a_date(
    registry: SqlRegistryStore, gov: SqlGovernanceStore
) -> None:
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)  # day 10
    registry.set_registered_model_alias("m", "champion", 1)  # day 10
    rid = _stage_request(gov, 2, Stage.PRODUCTION, archive=True)  # day 20
    gov.decide_request(rid, RequestStatus.APPROVED, decided_by="carol", comment="")  # day 30 (3 events)
    registry.set_registered_model_alias("m", "champion", 2)  # day 40
    registry.delete_model_version("m", 3)  # day 50
    # model_created, 3 x version_created at day 1; then the events above.
    _redate(
        registry,
        [DAY, DAY, DAY, DAY, 10 * DAY, 10 * DAY, 20 * DAY, 30 * DAY, 30 * DAY, 30 * DAY, 40 * DAY, 50 * DAY],
    )

    before = gov.registry_state("m", 0)
    assert (before.name, before.timestamp, dict(before.stages), dict(before.aliases)) == ("m", 0, {}, {})
    day5 = gov.registry_state("m", 5 * DAY)
    assert dict(day5.stages) == {1: Stage.NONE, 2: Stage.NONE, 3: Stage.NONE}
    day15 = gov.registry_state("m", 15 * DAY)
    assert dict(day15.stages) == {1: Stage.PRODUCTION, 2: Stage.NONE, 3: Stage.NONE}
    assert dict(day15.aliases) == {"champion": 1}
    day25 = gov.registry_state("m", 25 * DAY)
    assert (day25.stages, day25.aliases) == (day15.stages, day15.aliases)  # a request changes nothing
    day30 = gov.registry_state("m", 30 * DAY)
    assert dict(day30.stages) == {1: Stage.ARCHIVED, 2: Stage.PRODUCTION, 3: Stage.NONE}
    assert dict(day30.aliases) == {"champion": 1}
    now = gov.registry_state("m", 60 * DAY)
    assert dict(now.stages) == {1: Stage.ARCHIVED, 2: Stage.PRODUCTION}
    assert dict(now.aliases) == {"champion": 2}
    with pytest.raises(ResourceNotFound):
        gov.registry_state("nope", 60 * DAY)


# -- engine and migration ------------------------------------------------------------------------------------
def test_store_owns_or_shares_an_engine(db_url: str, artifact_root: str) -> None:
    with SqlTrackingStore(db_url, artifact_root) as tracking, SqlRegistryStore(engine=tracking.engine) as reg:
        reg.create_registered_model("m")
        reg.create_model_version("m", "s3://b/m")
    with SqlGovernanceStore(db_url) as own:
        comment_id = own.add_comment("m", 1, author="a", text="t").id
    with SqlTrackingStore(db_url, artifact_root) as tracking:
        shared = SqlGovernanceStore(engine=tracking.engine)
        shared.close()
        assert shared.get_comment(comment_id).text == "t"
        with pytest.raises(InvalidParameterValue):
            SqlGovernanceStore(db_url, engine=tracking.engine)
    with pytest.raises(InvalidParameterValue):
        SqlGovernanceStore()


@pytest.fixture
def engine(empty_engine: sa.Engine) -> sa.Engine:
    return empty_engine


def test_migration_0005_adds_and_removes_only_the_governance_tables(engine: sa.Engine) -> None:
    migrate(engine, "upgrade", "0004")
    before = set(sa.inspect(engine).get_table_names())
    assert not GOVERNANCE_TABLES & before
    migrate(engine, "upgrade", "0005")
    assert set(sa.inspect(engine).get_table_names()) == before | GOVERNANCE_TABLES
    assert upgrade(engine) >= "0005"
    with SqlRegistryStore(engine=engine) as reg, SqlGovernanceStore(engine=engine) as gov:
        reg.create_registered_model("m")
        reg.create_model_version("m", "s3://b/m")
        gov.add_comment("m", 1, author="a", text="t")
        rid = _stage_request(gov, 1, Stage.STAGING)
        gov.decide_request(rid, RequestStatus.APPROVED, decided_by="b", comment="")
    migrate(engine, "downgrade", "0004")
    assert current_revision(engine) == "0004"
    assert set(sa.inspect(engine).get_table_names()) == before
