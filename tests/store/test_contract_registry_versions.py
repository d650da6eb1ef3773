"""The SQL registry store on SQLite and PostgreSQL: model versions (numbering, also under concurrent
writers), stages with archive-existing-versions, aliases, version tags, deletion, and the history."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from wayline.entities.registry import ModelVersionStatus, RegisteredModelAlias, Stage
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.registry import RegistryEvent
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore

RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def registry(store: SqlTrackingStore) -> Iterator[SqlRegistryStore]:
    with SqlRegistryStore(engine=store.engine) as opened:
        opened.create_registered_model("m")
        yield opened


def _events(registry: SqlRegistryStore, **kwargs: int) -> list[tuple[str, int, str, str]]:
    return [(e.kind, e.version, e.from_value, e.to_value) for e in registry.model_history("m", **kwargs)]


# -- create and get ------------------------------------------------------------------------------------------
def test_create_and_get(registry: SqlRegistryStore) -> None:
    before = registry.get_registered_model("m")
    created = registry.create_model_version(
        "m",
        "s3://bucket/1/artifacts/model",
        run_id=RUN_ID,
        tags={"b": "2", "a": "1"},
        run_link="http://ui/run",
        description="first",
        model_id="m-" + "a" * 32,
        user_id="alice",
    )
    assert created.name == "m"
    assert created.version == 1
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    assert created.current_stage is Stage.NONE
    assert created.status is ModelVersionStatus.READY
    assert (created.source, created.run_id, created.run_link) == (
        "s3://bucket/1/artifacts/model",
        RUN_ID,
        "http://ui/run",
    )
    assert (created.description, created.user_id, created.model_id) == ("first", "alice", "m-" + "a" * 32)
    assert list(created.tags.items()) == [("a", "1"), ("b", "2")]
    assert created.aliases == ()
    assert created.status_message == ""
    assert registry.get_model_version("m", 1) == created
    model = registry.get_registered_model("m")
    assert model.last_updated_timestamp == created.creation_timestamp >= before.last_updated_timestamp


def test_create_with_defaults_and_another_status(registry: SqlRegistryStore) -> None:
    created = registry.create_model_version("m", "s3://b/x", status=ModelVersionStatus.PENDING_REGISTRATION)
    assert created.status is ModelVersionStatus.PENDING_REGISTRATION
    assert (created.run_id, created.run_link, created.description, created.user_id) == ("", "", "", "")
    assert registry.get_model_version("m", 1) == created


def test_create_needs_the_model(registry: SqlRegistryStore) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=missing not found$"):
        registry.create_model_version("missing", "s3://b/1")


def test_versions_count_up_and_are_never_reused(registry: SqlRegistryStore) -> None:
    assert [registry.create_model_version("m", f"s3://b/{i}").version for i in range(3)] == [1, 2, 3]
    registry.delete_model_version("m", 3)
    registry.delete_model_version("m", 2)
    assert registry.create_model_version("m", "s3://b/next").version == 4
    registry.create_registered_model("other")
    assert registry.create_model_version("other", "s3://b/o").version == 1


def test_concurrent_creates_get_distinct_consecutive_numbers(registry: SqlRegistryStore, db_url: str) -> None:
    """Writers in threads, half through a second store with its own engine (pool, SQLite write queue)."""
    with SqlRegistryStore(db_url) as other:

        def create(i: int) -> int:
            target = registry if i % 2 else other
            return target.create_model_version("m", f"s3://b/{i}", tags={"i": str(i)}).version

        with ThreadPoolExecutor(max_workers=6) as pool:
            numbers = list(pool.map(create, range(40)))
    assert sorted(numbers) == list(range(1, 41))
    page = registry.search_model_versions(filter_string="name = 'm'")
    assert sorted(v.version for v in page) == list(range(1, 41))
    assert {v.version: v.tags["i"] for v in page} == {n: str(i) for i, n in enumerate(numbers)}
    assert len([e for e in registry.model_history("m") if e.kind == "version_created"]) == 40


def test_get_missing_versions(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1")
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=2\) not found$"):
        registry.get_model_version("m", 2)
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=foo, version=1\) not found$"):
        registry.get_model_version("foo", 1)
    with pytest.raises(ResourceNotFound):
        registry.get_model_version("m", 2**40)


# -- update --------------------------------------------------------------------------------------------------
def test_update_description(registry: SqlRegistryStore) -> None:
    created = registry.create_model_version("m", "s3://b/1", description="old")
    updated = registry.update_model_version("m", 1, description="new")
    assert updated.description == "new"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert registry.get_model_version("m", 1) == updated
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=9\) not found$"):
        registry.update_model_version("m", 9, description="x")


# -- stages --------------------------------------------------------------------------------------------------
def test_transition_records_each_change(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1", user_id="creator")
    moved = registry.transition_model_version_stage("m", 1, Stage.STAGING, actor="alice", comment="try it")
    assert moved.current_stage is Stage.STAGING
    assert registry.get_model_version("m", 1) == moved
    assert registry.get_registered_model("m").last_updated_timestamp == moved.last_updated_timestamp
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION, actor="bob")
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION, actor="bob")  # no change, no event
    events = registry.model_history("m")
    assert [(e.kind, e.version, e.from_value, e.to_value, e.actor, e.comment) for e in events] == [
        ("model_created", 0, "", "m", "", ""),
        ("version_created", 1, "", "None", "creator", ""),
        ("stage_changed", 1, "None", "Staging", "alice", "try it"),
        ("stage_changed", 1, "Staging", "Production", "bob", ""),
    ]
    assert all(isinstance(e, RegistryEvent) for e in events)
    assert [e.id for e in events] == sorted({e.id for e in events})


def test_archive_existing_versions(registry: SqlRegistryStore) -> None:
    for i in range(1, 6):
        registry.create_model_version("m", f"s3://b/{i}")
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)
    registry.transition_model_version_stage("m", 2, Stage.PRODUCTION)
    registry.transition_model_version_stage("m", 3, Stage.STAGING)
    moved = registry.transition_model_version_stage(
        "m", 4, Stage.PRODUCTION, archive_existing_versions=True, actor="carol", comment="release"
    )
    assert moved.current_stage is Stage.PRODUCTION
    stages = {v: registry.get_model_version("m", v).current_stage for v in range(1, 6)}
    assert stages == {
        1: Stage.ARCHIVED,
        2: Stage.ARCHIVED,
        3: Stage.STAGING,
        4: Stage.PRODUCTION,
        5: Stage.NONE,
    }
    archived = registry.get_model_version("m", 1)
    assert archived.last_updated_timestamp == moved.last_updated_timestamp
    last = registry.model_history("m")[-3:]
    assert [(e.kind, e.version, e.from_value, e.to_value, e.actor, e.comment) for e in last] == [
        ("stage_changed", 1, "Production", "Archived", "carol", "release"),
        ("stage_changed", 2, "Production", "Archived", "carol", "release"),
        ("stage_changed", 4, "None", "Production", "carol", "release"),
    ]
    # Archiving in Staging touches only Staging.
    registry.transition_model_version_stage("m", 5, Stage.STAGING, archive_existing_versions=True)
    assert registry.get_model_version("m", 3).current_stage is Stage.ARCHIVED
    assert registry.get_model_version("m", 4).current_stage is Stage.PRODUCTION


def test_concurrent_promotions_leave_one_version_in_production(
    registry: SqlRegistryStore, db_url: str
) -> None:
    for i in range(1, 9):
        registry.create_model_version("m", f"s3://b/{i}")
    with SqlRegistryStore(db_url) as other:

        def promote(version: int) -> None:
            target = registry if version % 2 else other
            target.transition_model_version_stage(
                "m", version, Stage.PRODUCTION, archive_existing_versions=True, actor=f"u{version}"
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(promote, range(1, 9)))
    stages = [registry.get_model_version("m", v).current_stage for v in range(1, 9)]
    assert stages.count(Stage.PRODUCTION) == 1
    assert stages.count(Stage.ARCHIVED) == 7
    # The history replays to the same state: each promotion archived the one before it.
    production: set[int] = set()
    for event in registry.model_history("m"):
        if event.kind == "stage_changed" and event.to_value == "Production":
            production.add(event.version)
        elif event.kind == "stage_changed" and event.from_value == "Production":
            production.discard(event.version)
        assert len(production) <= 1
    assert [registry.get_model_version("m", v).current_stage for v in production] == [Stage.PRODUCTION]


@pytest.mark.parametrize("stage", [Stage.NONE, Stage.ARCHIVED])
def test_archive_existing_versions_only_for_active_stages(registry: SqlRegistryStore, stage: Stage) -> None:
    registry.create_model_version("m", "s3://b/1")
    registry.create_model_version("m", "s3://b/2")
    registry.transition_model_version_stage("m", 1, Stage.ARCHIVED)
    with pytest.raises(InvalidParameterValue, match=r"archive_existing_versions.*Staging or Production"):
        registry.transition_model_version_stage("m", 2, stage, archive_existing_versions=True)
    assert registry.get_model_version("m", 2).current_stage is Stage.NONE
    assert [e.kind for e in registry.model_history("m")].count("stage_changed") == 1


def test_transition_of_a_missing_version(registry: SqlRegistryStore) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=1\) not found$"):
        registry.transition_model_version_stage("m", 1, Stage.STAGING)
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=x, version=1\) not found$"):
        registry.transition_model_version_stage("x", 1, Stage.STAGING)


# -- aliases -------------------------------------------------------------------------------------------------
def test_aliases(registry: SqlRegistryStore) -> None:
    for i in range(1, 4):
        registry.create_model_version("m", f"s3://b/{i}")
    registry.set_registered_model_alias("m", "champion", 1, actor="alice", comment="first")
    registry.set_registered_model_alias("m", "challenger", 2)
    registry.set_registered_model_alias("m", "backup", 2)
    registry.set_registered_model_alias("m", "champion", 2, actor="bob", comment="moved")
    registry.set_registered_model_alias("m", "champion", 2)  # already there: no event

    assert registry.get_model_version_by_alias("m", "champion") == registry.get_model_version("m", 2)
    assert registry.get_model_version("m", 2).aliases == ("backup", "challenger", "champion")
    assert registry.get_model_version("m", 1).aliases == ()
    assert registry.get_registered_model("m").aliases == (
        RegisteredModelAlias("backup", 2),
        RegisteredModelAlias("challenger", 2),
        RegisteredModelAlias("champion", 2),
    )

    registry.delete_registered_model_alias("m", "challenger", actor="carol")
    registry.delete_registered_model_alias("m", "never-set")  # changes nothing (MLflow)
    assert registry.get_model_version("m", 2).aliases == ("backup", "champion")
    with pytest.raises(ResourceNotFound, match=r"^Registered model alias challenger not found.$"):
        registry.get_model_version_by_alias("m", "challenger")

    alias_events = [
        (e.kind, e.version, e.from_value, e.to_value, e.actor, e.comment)
        for e in registry.model_history("m")
        if e.kind.startswith("alias")
    ]
    assert alias_events == [
        ("alias_set", 1, "", "champion@1", "alice", "first"),
        ("alias_set", 2, "", "challenger@2", "", ""),
        ("alias_set", 2, "", "backup@2", "", ""),
        ("alias_set", 2, "champion@1", "champion@2", "bob", "moved"),
        ("alias_deleted", 2, "challenger@2", "", "carol", ""),
    ]


def test_aliases_need_the_model_and_the_version(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1")
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=5\) not found$"):
        registry.set_registered_model_alias("m", "champion", 5)
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=foo, version=1\) not found$"):
        registry.set_registered_model_alias("foo", "champion", 1)
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=foo not found$"):
        registry.delete_registered_model_alias("foo", "champion")
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=foo not found$"):
        registry.get_model_version_by_alias("foo", "champion")
    assert registry.get_registered_model("m").aliases == ()


def test_latest_is_the_largest_version_unless_set(registry: SqlRegistryStore) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Latest version not found for model m.$"):
        registry.get_model_version_by_alias("m", "latest")
    for i in range(1, 4):
        registry.create_model_version("m", f"s3://b/{i}")
    registry.transition_model_version_stage("m", 2, Stage.PRODUCTION)
    assert registry.get_model_version_by_alias("m", "latest").version == 3
    assert registry.get_model_version_by_alias("m", "LATEST").version == 3
    registry.delete_model_version("m", 3)
    assert registry.get_model_version_by_alias("m", "latest").version == 2


# -- tags ----------------------------------------------------------------------------------------------------
def test_version_tags(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1", tags={"a": "1"})
    registry.create_model_version("m", "s3://b/2")
    registry.set_model_version_tag("m", 1, "b", "2")
    registry.set_model_version_tag("m", 1, "a", "changed")
    registry.set_model_version_tag("m", 2, "a", "other")
    assert registry.get_model_version("m", 1).tags == {"a": "changed", "b": "2"}
    registry.delete_model_version_tag("m", 1, "a")
    registry.delete_model_version_tag("m", 1, "never-set")  # changes nothing (MLflow)
    assert registry.get_model_version("m", 1).tags == {"b": "2"}
    assert registry.get_model_version("m", 2).tags == {"a": "other"}


def test_version_tags_need_the_version(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1")
    for name, version in (("m", 3), ("foo", 1)):
        message = rf"^Model Version \(name={name}, version={version}\) not found$"
        with pytest.raises(ResourceNotFound, match=message):
            registry.set_model_version_tag(name, version, "a", "1")
        with pytest.raises(ResourceNotFound, match=message):
            registry.delete_model_version_tag(name, version, "a")


# -- delete --------------------------------------------------------------------------------------------------
def test_delete_removes_tags_and_aliases_and_records_them(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1", tags={"t": "1"})
    registry.create_model_version("m", "s3://b/2", tags={"t": "2"})
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)
    registry.set_registered_model_alias("m", "champion", 1)
    registry.set_registered_model_alias("m", "backup", 1)
    registry.set_registered_model_alias("m", "next", 2)

    registry.delete_model_version("m", 1, actor="dave")
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=1\) not found$"):
        registry.get_model_version("m", 1)
    with pytest.raises(ResourceNotFound, match="alias champion not found"):
        registry.get_model_version_by_alias("m", "champion")
    model = registry.get_registered_model("m")
    assert model.aliases == (RegisteredModelAlias("next", 2),)
    assert [v.version for v in model.latest_versions] == [2]
    assert registry.get_model_version("m", 2).tags == {"t": "2"}
    last = registry.model_history("m")[-3:]
    assert [(e.kind, e.version, e.from_value, e.to_value, e.actor) for e in last] == [
        ("alias_deleted", 1, "backup@1", "", "dave"),
        ("alias_deleted", 1, "champion@1", "", "dave"),
        ("version_deleted", 1, "Production", "", "dave"),
    ]
    # Tags of a deleted version do not come back with a later version.
    assert registry.create_model_version("m", "s3://b/3").tags == {}
    with pytest.raises(ResourceNotFound, match=r"^Model Version \(name=m, version=1\) not found$"):
        registry.delete_model_version("m", 1)


# -- history -------------------------------------------------------------------------------------------------
def test_history_filters_by_version_and_time(registry: SqlRegistryStore) -> None:
    registry.create_model_version("m", "s3://b/1")
    registry.create_model_version("m", "s3://b/2")
    registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)
    registry.set_registered_model_alias("m", "champion", 2)
    registry.transition_model_version_stage("m", 2, Stage.PRODUCTION, archive_existing_versions=True)
    everything = registry.model_history("m")
    assert [e.kind for e in everything] == [
        "model_created",
        "version_created",
        "version_created",
        "stage_changed",
        "alias_set",
        "stage_changed",
        "stage_changed",
    ]
    assert [e.timestamp for e in everything] == sorted(e.timestamp for e in everything)

    assert registry.model_history("m", version=1) == [e for e in everything if e.version == 1]
    assert _events(registry, version=2) == [
        ("version_created", 2, "", "None"),
        ("alias_set", 2, "", "champion@2"),
        ("stage_changed", 2, "None", "Production"),
    ]
    assert _events(registry, version=0) == [("model_created", 0, "", "m")]
    assert registry.model_history("m", version=7) == []

    for event in everything:
        expected = [e for e in everything if e.timestamp <= event.timestamp]
        assert registry.model_history("m", until=event.timestamp) == expected
        both = registry.model_history("m", version=1, until=event.timestamp)
        assert both == [e for e in expected if e.version == 1]
    assert registry.model_history("m", until=everything[0].timestamp - 1) == []


def test_history_is_per_model_and_needs_the_model(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("other")
    registry.create_model_version("other", "s3://b/1")
    assert [e.kind for e in registry.model_history("m")] == ["model_created"]
    assert {e.name for e in registry.model_history("other")} == {"other"}
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=missing not found$"):
        registry.model_history("missing")
