"""The registry codec: MLflow's JSON for registered models and versions, and Wayline's history events.

The expected objects are what MLflow 3.17.2's ``message_to_json`` prints for the same entities.
"""

from __future__ import annotations

import pytest

from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegisteredModelAlias,
    Stage,
)
from wayline.errors import InvalidParameterValue
from wayline.store.registry import RegistryEvent
from wayline.wire import (
    model_version_from_json,
    model_version_to_json,
    registered_model_from_json,
    registered_model_to_json,
    registry_event_from_json,
    registry_event_to_json,
)

FULL_VERSION = ModelVersion(
    name="m",
    version=3,
    creation_timestamp=1000,
    last_updated_timestamp=2000,
    current_stage=Stage.PRODUCTION,
    description="d",
    user_id="u",
    source="s3://b/x",
    run_id="r",
    status=ModelVersionStatus.READY,
    tags={"a": "b"},
    aliases=("champ",),
)

FULL_VERSION_JSON = {
    "name": "m",
    "version": "3",
    "creation_timestamp": 1000,
    "last_updated_timestamp": 2000,
    "user_id": "u",
    "current_stage": "Production",
    "description": "d",
    "source": "s3://b/x",
    "run_id": "r",
    "status": "READY",
    "tags": [{"key": "a", "value": "b"}],
    "aliases": ["champ"],
}


def test_model_version_is_encoded_as_mlflow_does() -> None:
    encoded = model_version_to_json(FULL_VERSION)
    assert encoded == FULL_VERSION_JSON
    assert list(encoded) == list(FULL_VERSION_JSON)  # protobuf's field order


def test_minimal_model_version_omits_empty_fields_but_keeps_stage_and_status() -> None:
    version = ModelVersion(name="m", version=1, creation_timestamp=5, last_updated_timestamp=5)
    assert model_version_to_json(version) == {
        "name": "m",
        "version": "1",
        "creation_timestamp": 5,
        "last_updated_timestamp": 5,
        "current_stage": "None",
        "status": "READY",
    }


def test_model_version_optional_fields() -> None:
    version = ModelVersion(
        name="m",
        version=2,
        creation_timestamp=1,
        last_updated_timestamp=2,
        status=ModelVersionStatus.FAILED_REGISTRATION,
        status_message="copy failed",
        run_link="http://x/run",
        model_id="m-123",
    )
    encoded = model_version_to_json(version)
    assert encoded["status"] == "FAILED_REGISTRATION"
    assert encoded["status_message"] == "copy failed"
    assert encoded["run_link"] == "http://x/run"
    assert encoded["model_id"] == "m-123"
    assert model_version_from_json(encoded) == version


def test_model_version_round_trips() -> None:
    assert model_version_from_json(model_version_to_json(FULL_VERSION)) == FULL_VERSION


def test_model_version_decodes_mlflow_spellings() -> None:
    decoded = model_version_from_json(
        {"name": "m", "version": "12", "creation_timestamp": "7", "current_stage": "staging"}
    )
    assert decoded.version == 12
    assert decoded.creation_timestamp == 7
    assert decoded.last_updated_timestamp == 0
    assert decoded.current_stage is Stage.STAGING
    assert decoded.status is ModelVersionStatus.READY
    assert decoded.tags == {}
    assert decoded.aliases == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", "one"), ("version", True), ("creation_timestamp", 1.5), ("current_stage", "Prod")],
)
def test_model_version_bad_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterValue, match=field):
        model_version_from_json({"name": "m", "version": "1", field: value})


def test_registered_model_is_encoded_as_mlflow_does_plus_owner_and_protected() -> None:
    model = RegisteredModel(
        name="m",
        creation_timestamp=1000,
        last_updated_timestamp=2000,
        description="x",
        owner="team-a",
        protected=True,
        tags={"k": "v"},
        aliases=(RegisteredModelAlias("champ", 3),),
        latest_versions=(FULL_VERSION,),
    )
    encoded = registered_model_to_json(model)
    assert encoded == {
        "name": "m",
        "creation_timestamp": 1000,
        "last_updated_timestamp": 2000,
        "description": "x",
        "latest_versions": [FULL_VERSION_JSON],
        "tags": [{"key": "k", "value": "v"}],
        "aliases": [{"alias": "champ", "version": "3"}],
        "owner": "team-a",
        "protected": True,
    }
    assert registered_model_from_json(encoded) == model


def test_minimal_registered_model() -> None:
    model = RegisteredModel(name="n", creation_timestamp=1, last_updated_timestamp=1)
    encoded = registered_model_to_json(model)
    assert encoded == {"name": "n", "creation_timestamp": 1, "last_updated_timestamp": 1, "protected": False}
    assert registered_model_from_json(encoded) == model


def test_registered_model_from_mlflow_server_without_wayline_fields() -> None:
    decoded = registered_model_from_json(
        {"name": "n", "aliases": [{"alias": "b", "version": "2"}, {"alias": "a", "version": "1"}]}
    )
    assert decoded.owner == ""
    assert decoded.protected is False
    assert decoded.aliases == (RegisteredModelAlias("a", 1), RegisteredModelAlias("b", 2))


def test_registered_model_protected_must_be_a_boolean() -> None:
    with pytest.raises(InvalidParameterValue, match="protected"):
        registered_model_from_json({"name": "n", "protected": "yes"})


def test_registry_event_round_trips() -> None:
    event = RegistryEvent(
        id=7,
        name="m",
        version=2,
        kind="stage_changed",
        actor="alice",
        timestamp=123,
        from_value="Staging",
        to_value="Production",
        comment="ship it",
    )
    encoded = registry_event_to_json(event)
    assert encoded == {
        "id": 7,
        "name": "m",
        "version": "2",
        "kind": "stage_changed",
        "actor": "alice",
        "timestamp": 123,
        "from_value": "Staging",
        "to_value": "Production",
        "comment": "ship it",
    }
    assert registry_event_from_json(encoded) == event


def test_model_level_event_omits_version_and_empty_strings() -> None:
    event = RegistryEvent(id=1, name="m", version=0, kind="model_created", actor="", timestamp=9)
    encoded = registry_event_to_json(event)
    assert encoded == {"id": 1, "name": "m", "kind": "model_created", "timestamp": 9}
    assert registry_event_from_json(encoded) == event
