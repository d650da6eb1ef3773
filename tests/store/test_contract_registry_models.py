"""The SQL registry store on SQLite and PostgreSQL: registered models (create, get, update, rename, delete),
their tags, latest versions per stage, and how the store opens and shares an engine."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from wayline.entities.registry import RegisteredModel, RegisteredModelAlias, Stage
from wayline.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceNotFound
from wayline.store.registry import RegistryStore
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore
from wayline.store.sql import schema as t


@pytest.fixture
def registry(store: SqlTrackingStore) -> Iterator[SqlRegistryStore]:
    with SqlRegistryStore(engine=store.engine) as opened:
        yield opened


def _count(registry: SqlRegistryStore, table: sa.Table) -> int:
    with registry.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


# -- the store -----------------------------------------------------------------------------------------------
def test_the_sql_store_is_a_registry_store(registry: SqlRegistryStore) -> None:
    assert isinstance(registry, RegistryStore)


def test_a_store_with_its_own_engine_sees_the_shared_data(
    registry: SqlRegistryStore, db_url: str, store: SqlTrackingStore
) -> None:
    registry.create_registered_model("shared")
    with SqlRegistryStore(db_url, default_artifact_root="/tmp/root") as own:
        assert own.default_artifact_root == "/tmp/root"
        assert own.get_registered_model("shared").name == "shared"
        own.create_registered_model("own")
    # Closing the store that made its engine leaves the shared engine usable.
    registry.close()
    assert registry.get_registered_model("own").name == "own"
    assert store.get_experiment("0").name == "Default"


def test_the_store_needs_exactly_one_database(store: SqlTrackingStore, db_url: str) -> None:
    with pytest.raises(InvalidParameterValue, match="'db_uri' or 'engine'"):
        SqlRegistryStore()
    with pytest.raises(InvalidParameterValue, match="not both"):
        SqlRegistryStore(db_url, engine=store.engine)


def test_a_new_database_is_created_by_the_registry_store(empty_db_url: str) -> None:
    with SqlRegistryStore(empty_db_url) as registry:
        registry.create_registered_model("first")
        assert registry.get_registered_model("first").name == "first"


# -- create and get ------------------------------------------------------------------------------------------
def test_create_and_get(registry: SqlRegistryStore) -> None:
    created = registry.create_registered_model(
        "churn", tags={"team": "ml", "area": "retention"}, description="Churn model", owner="ml-team"
    )
    assert created.name == "churn"
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    assert created.description == "Churn model"
    assert created.owner == "ml-team"
    assert created.protected is False
    assert list(created.tags.items()) == [("area", "retention"), ("team", "ml")]
    assert created.aliases == ()
    assert created.latest_versions == ()
    assert registry.get_registered_model("churn") == created


def test_create_with_defaults(registry: SqlRegistryStore) -> None:
    created = registry.create_registered_model("plain")
    assert (created.description, created.owner, dict(created.tags)) == ("", "", {})


def test_names_are_unique_and_case_sensitive(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("Model", tags={"a": "1"})
    with pytest.raises(ResourceAlreadyExists, match=r"^Registered Model \(name=Model\) already exists\.$"):
        registry.create_registered_model("Model", tags={"b": "2"}, description="other")
    assert dict(registry.get_registered_model("Model").tags) == {"a": "1"}
    assert registry.create_registered_model("model").name == "model"
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=MODEL not found$"):
        registry.get_registered_model("MODEL")


def test_concurrent_creates_of_one_name_make_one_model(registry: SqlRegistryStore, db_url: str) -> None:
    with SqlRegistryStore(db_url) as other:

        def create(i: int) -> str:
            target = registry if i % 2 else other
            try:
                target.create_registered_model("race", description=str(i))
            except ResourceAlreadyExists:
                return "exists"
            return "created"

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(create, range(8)))
    assert sorted(outcomes) == ["created"] + ["exists"] * 7
    assert _count(registry, t.registered_models) == 1


def test_long_and_unusual_names_round_trip(registry: SqlRegistryStore) -> None:
    name = "модель/с пробелами 'и' \"кавычками\" %_\\" + "x" * 200
    registry.create_registered_model(name, tags={"k" * 250: "v" * 5000}, description="d" * 100_000)
    got = registry.get_registered_model(name)
    assert got.name == name
    assert got.tags == {"k" * 250: "v" * 5000}
    assert len(got.description) == 100_000


# -- update --------------------------------------------------------------------------------------------------
def test_update_changes_only_what_is_given(registry: SqlRegistryStore) -> None:
    created = registry.create_registered_model("m", description="first", owner="alice")
    described = registry.update_registered_model("m", description="second")
    assert (described.description, described.owner, described.protected) == ("second", "alice", False)
    assert described.last_updated_timestamp >= created.last_updated_timestamp
    owned = registry.update_registered_model("m", owner="bob", protected=True)
    assert (owned.description, owned.owner, owned.protected) == ("second", "bob", True)
    cleared = registry.update_registered_model("m", description="", owner="", protected=False)
    assert (cleared.description, cleared.owner, cleared.protected) == ("", "", False)
    assert registry.get_registered_model("m") == cleared
    with pytest.raises(ResourceNotFound, match="name=missing not found"):
        registry.update_registered_model("missing", description="x")


# -- rename --------------------------------------------------------------------------------------------------
def test_rename_carries_versions_aliases_tags_and_history(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("old", tags={"team": "ml"}, actor="alice")
    registry.create_model_version("old", "s3://b/1", tags={"v": "1"})
    registry.create_model_version("old", "s3://b/2")
    registry.set_registered_model_alias("old", "champion", 2)
    registry.transition_model_version_stage("old", 1, Stage.PRODUCTION)
    before = registry.get_registered_model("old")

    renamed = registry.rename_registered_model("old", "new", actor="bob")
    assert renamed.name == "new"
    assert dict(renamed.tags) == {"team": "ml"}
    assert renamed.aliases == (RegisteredModelAlias("champion", 2),)
    assert [(v.name, v.version) for v in renamed.latest_versions] == [("new", 2), ("new", 1)]
    assert renamed.creation_timestamp == before.creation_timestamp
    assert renamed.last_updated_timestamp >= before.last_updated_timestamp
    with pytest.raises(ResourceNotFound, match="name=old not found"):
        registry.get_registered_model("old")

    assert registry.get_model_version("new", 1).tags == {"v": "1"}
    assert registry.get_model_version_by_alias("new", "champion").version == 2
    # Version numbering continues from the renamed model's counter.
    assert registry.create_model_version("new", "s3://b/3").version == 3
    events = registry.model_history("new")
    assert {e.name for e in events} == {"new"}
    assert [(e.kind, e.from_value, e.to_value, e.actor) for e in events if e.version == 0] == [
        ("model_created", "", "old", "alice"),
        ("model_renamed", "old", "new", "bob"),
    ]


def test_rename_to_a_taken_name_changes_nothing(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("a")
    registry.create_model_version("a", "s3://b/1")
    registry.create_registered_model("b")
    with pytest.raises(ResourceAlreadyExists, match=r"Registered Model \(name=b\) already exists"):
        registry.rename_registered_model("a", "b")
    assert [v.version for v in registry.get_registered_model("a").latest_versions] == [1]
    assert registry.get_registered_model("b").latest_versions == ()
    assert [e.kind for e in registry.model_history("a")] == ["model_created", "version_created"]


def test_rename_to_the_same_name_and_of_a_missing_model(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("same")
    assert registry.rename_registered_model("same", "same").name == "same"
    assert [e.kind for e in registry.model_history("same")] == ["model_created"]
    with pytest.raises(ResourceNotFound, match="name=missing not found"):
        registry.rename_registered_model("missing", "other")


# -- delete --------------------------------------------------------------------------------------------------
def test_delete_cascades_to_versions_tags_aliases_and_history(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("doomed", tags={"a": "1"})
    registry.create_model_version("doomed", "s3://b/1", tags={"t": "1"})
    registry.set_registered_model_alias("doomed", "champion", 1)
    registry.create_registered_model("kept", tags={"a": "1"})
    registry.create_model_version("kept", "s3://b/1", tags={"t": "1"})
    registry.set_registered_model_alias("kept", "champion", 1)

    registry.delete_registered_model("doomed")
    with pytest.raises(ResourceNotFound):
        registry.get_registered_model("doomed")
    with pytest.raises(ResourceNotFound, match=r"Model Version \(name=doomed, version=1\) not found"):
        registry.get_model_version("doomed", 1)
    with pytest.raises(ResourceNotFound):
        registry.model_history("doomed")
    for table in (
        t.registered_models,
        t.registered_model_tags,
        t.model_versions,
        t.model_version_tags,
        t.registered_model_aliases,
    ):
        assert _count(registry, table) == 1, table.name
    assert _count(registry, t.registry_events) == 3  # kept: created, version created, alias set

    # The name can be used again, and its versions start from 1.
    registry.create_registered_model("doomed")
    assert registry.create_model_version("doomed", "s3://b/new").version == 1
    with pytest.raises(ResourceNotFound, match="name=missing not found"):
        registry.delete_registered_model("missing")


# -- tags ----------------------------------------------------------------------------------------------------
def test_model_tags(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m", tags={"a": "1"})
    registry.set_registered_model_tag("m", "b", "2")
    registry.set_registered_model_tag("m", "a", "changed")
    registry.set_registered_model_tag("m", "empty", "")
    assert registry.get_registered_model("m").tags == {"a": "changed", "b": "2", "empty": ""}
    registry.delete_registered_model_tag("m", "a")
    registry.delete_registered_model_tag("m", "never-set")  # changes nothing (MLflow)
    assert registry.get_registered_model("m").tags == {"b": "2", "empty": ""}


def test_model_tags_need_the_model(registry: SqlRegistryStore) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=foo not found$"):
        registry.set_registered_model_tag("foo", "a", "1")
    with pytest.raises(ResourceNotFound, match=r"^Registered Model with name=foo not found$"):
        registry.delete_registered_model_tag("foo", "a")
    assert _count(registry, t.registered_model_tags) == 0


# -- latest versions -----------------------------------------------------------------------------------------
def _stages(model: RegisteredModel) -> list[tuple[int, Stage]]:
    return [(v.version, v.current_stage) for v in model.latest_versions]


def test_latest_versions_per_stage_in_stage_order(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m")
    for i in range(1, 8):
        registry.create_model_version("m", f"s3://b/{i}")
    registry.transition_model_version_stage("m", 1, Stage.ARCHIVED)
    registry.transition_model_version_stage("m", 2, Stage.PRODUCTION)
    registry.transition_model_version_stage("m", 3, Stage.PRODUCTION)
    registry.transition_model_version_stage("m", 4, Stage.STAGING)
    registry.transition_model_version_stage("m", 5, Stage.ARCHIVED)
    # 6 and 7 stay in None.
    registry.set_registered_model_alias("m", "champion", 3)
    registry.set_model_version_tag("m", 3, "k", "v")

    model = registry.get_registered_model("m")
    assert _stages(model) == [
        (7, Stage.NONE),
        (4, Stage.STAGING),
        (3, Stage.PRODUCTION),
        (5, Stage.ARCHIVED),
    ]
    production = model.latest_versions[2]
    assert production.aliases == ("champion",)
    assert production.tags == {"k": "v"}
    assert production == registry.get_model_version("m", 3)

    assert [v.version for v in registry.get_latest_versions("m")] == [7, 4, 3, 5]
    picked = registry.get_latest_versions("m", [Stage.ARCHIVED, Stage.PRODUCTION])
    assert [v.version for v in picked] == [3, 5]
    assert registry.get_latest_versions("m", [Stage.PRODUCTION])[0].aliases == ("champion",)

    registry.delete_model_version("m", 7)
    assert _stages(registry.get_registered_model("m"))[0] == (6, Stage.NONE)


def test_latest_versions_of_a_model_without_versions(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("empty")
    assert registry.get_latest_versions("empty") == []
    assert registry.get_latest_versions("empty", [Stage.PRODUCTION]) == []
    with pytest.raises(ResourceNotFound, match="name=missing not found"):
        registry.get_latest_versions("missing")
