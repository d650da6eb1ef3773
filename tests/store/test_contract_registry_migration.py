"""Migration 0003 (the model registry) on SQLite and PostgreSQL: a database made by revision 0002, with
tracking data in it, is refused until upgraded, then upgrades in place and keeps its data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from migrations import migrate, tables
from wayline.entities.registry import Stage
from wayline.errors import InvalidState
from wayline.store.sql import (
    SqlRegistryStore,
    SqlTrackingStore,
    current_revision,
    head_revision,
    upgrade,
)

REGISTRY_TABLES = {
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "registered_model_aliases",
    "registry_events",
}


@pytest.fixture
def engine(empty_engine: sa.Engine) -> sa.Engine:
    return empty_engine


def test_a_0002_database_upgrades_to_the_registry(
    engine: sa.Engine, empty_db_url: str, artifact_root: str
) -> None:
    migrate(engine, "upgrade", "0002")
    assert current_revision(engine) == "0002"
    assert not REGISTRY_TABLES & tables(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) "
            "VALUES (0, 'Default', '/a/0', 'active', 1, 1), (7, 'kept', '/a/7', 'active', 2, 2)"
        )
    with pytest.raises(InvalidState, match=r"revision 0002.*`wayline db upgrade`"):
        SqlRegistryStore(empty_db_url)
    assert current_revision(engine) == "0002"  # never migrated implicitly

    assert upgrade(engine) == head_revision()
    assert tables(engine) >= REGISTRY_TABLES
    with SqlTrackingStore(empty_db_url, artifact_root) as tracking:
        assert tracking.get_experiment("7").name == "kept"
        with SqlRegistryStore(engine=tracking.engine) as registry:
            registry.create_registered_model("m", tags={"a": "1"})
            registry.create_model_version("m", "s3://b/1")
            registry.transition_model_version_stage("m", 1, Stage.PRODUCTION)
            registry.set_registered_model_alias("m", "champion", 1)
            assert registry.get_model_version_by_alias("m", "champion").current_stage is Stage.PRODUCTION
            assert len(registry.model_history("m")) == 4


def test_downgrade_to_0002_drops_the_registry_keeps_tracking(engine: sa.Engine, empty_db_url: str) -> None:
    upgrade(engine)
    with SqlRegistryStore(engine=engine) as registry:
        registry.create_registered_model("m")
        registry.create_model_version("m", "s3://b/1", tags={"t": "1"})
        registry.set_registered_model_alias("m", "champion", 1)
    before = tables(engine)
    migrate(engine, "downgrade", "0002")
    assert current_revision(engine) == "0002"
    after = tables(engine)
    # Later revisions (webhooks, governance) build on the registry and go with it; tracking stays.
    assert not after & REGISTRY_TABLES
    assert before - after >= REGISTRY_TABLES
    assert {"experiments", "runs", "metrics", "latest_metrics", "logged_models"} <= after
    assert upgrade(empty_db_url) == head_revision()
    with SqlRegistryStore(engine=engine) as registry:
        assert registry.search_registered_models().items == []
