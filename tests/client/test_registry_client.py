"""``WaylineClient``'s registry methods on every backend: embedded SQLite and PostgreSQL, and over HTTP
against the real servers (SQLite + local folder, PostgreSQL + S3) through ``RestRegistryStore``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.helpers import unique
from loopback import Reply, Seen, quiet_http_env, serve
from servers import ServerProcess
from wayline.client.client import WaylineClient
from wayline.entities.registry import ModelVersionStatus, RegisteredModelAlias, RegistryOrder, Stage
from wayline.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from wayline.store.registry import RegistryStore
from wayline.store.resolve import open_registry_store
from wayline.store.rest_registry import RestRegistryStore
from wayline.store.sql import SqlRegistryStore

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    "http-sqlite",
    pytest.param("http-postgres-s3", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def reg(
    request: pytest.FixtureRequest, fluent_state: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WaylineClient]:
    """A client on each backend; over HTTP the servers are shared, so every test uses unique names."""
    monkeypatch.setenv("WAYLINE_USER", "ana")
    if request.param == "sqlite":
        uri = fluent_state
    elif request.param == "postgres":
        uri = request.getfixturevalue("postgres_url")
    else:
        quiet_http_env(monkeypatch)
        name = "sqlite_server" if request.param == "http-sqlite" else "postgres_s3_server"
        server: ServerProcess = request.getfixturevalue(name)
        uri = server.url
    with WaylineClient(uri) as client:
        yield client


def _is_remote(client: WaylineClient) -> bool:
    return client.tracking_uri.startswith("http")


def _logged_model_run(client: WaylineClient, tmp_path: Path, path: str = "model") -> str:
    """A run with a model directory (MLmodel and a weights file) at ``path``; returns the run id."""
    folder = tmp_path / "model-files"
    folder.mkdir(exist_ok=True)
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 64)
    run = client.create_run(client.create_experiment(unique("exp")))
    client.log_artifacts(run.info.run_id, folder, path)
    return run.info.run_id


# -- stores -------------------------------------------------------------------------------------------------
def test_open_registry_store_follows_the_tracking_uri(fluent_state: str) -> None:
    store = open_registry_store(fluent_state)
    try:
        assert isinstance(store, SqlRegistryStore)
        assert isinstance(store, RegistryStore)
    finally:
        store.close()
    remote = open_registry_store("http://127.0.0.1:1/prefix")
    assert isinstance(remote, RestRegistryStore)
    assert isinstance(remote, RegistryStore)
    remote.close()


def test_open_registry_store_refuses_unknown_schemes() -> None:
    with pytest.raises(InvalidParameterValue, match="tracking_uri"):
        open_registry_store("ftp://host/x")


# -- registered models ---------------------------------------------------------------------------------------
def test_registered_model_lifecycle(reg: WaylineClient) -> None:
    name = unique("model")
    created = reg.create_registered_model(name, {"team": "ml", "n": 3}, "first", owner="risk-team")
    assert (created.name, created.description, created.owner) == (name, "first", "risk-team")
    assert created.tags == {"team": "ml", "n": "3"}
    assert created.protected is False

    with pytest.raises(ResourceAlreadyExists):
        reg.create_registered_model(name)

    updated = reg.update_registered_model(name, "second")
    assert (updated.description, updated.owner) == ("second", "risk-team")
    updated = reg.update_registered_model(name, owner="ml-platform", protected=True)
    assert (updated.description, updated.owner, updated.protected) == ("second", "ml-platform", True)
    assert reg.get_registered_model(name).protected is True

    reg.set_registered_model_tag(name, "stage", "beta")
    reg.delete_registered_model_tag(name, "team")
    assert reg.get_registered_model(name).tags == {"n": "3", "stage": "beta"}

    new_name = unique("renamed")
    renamed = reg.rename_registered_model(name, new_name)
    assert renamed.name == new_name
    with pytest.raises(ResourceNotFound):
        reg.get_registered_model(name)

    reg.delete_registered_model(new_name)
    with pytest.raises(ResourceNotFound):
        reg.get_registered_model(new_name)


def test_search_registered_models_filters_orders_and_pages(reg: WaylineClient) -> None:
    prefix = unique("search")
    for i, team in enumerate(["a", "b", "a"]):
        reg.create_registered_model(f"{prefix}-{i}", {"team": team})
    found = reg.search_registered_models(f"name LIKE '{prefix}-%' AND tags.team = 'a'")
    assert [m.name for m in found] == [f"{prefix}-0", f"{prefix}-2"]

    first = reg.search_registered_models(f"name LIKE '{prefix}-%'", 2, ["name DESC"])
    assert [m.name for m in first] == [f"{prefix}-2", f"{prefix}-1"]
    assert first.next_page_token
    rest = reg.search_registered_models(f"name LIKE '{prefix}-%'", 2, ["name DESC"], first.next_page_token)
    assert [m.name for m in rest] == [f"{prefix}-0"]
    assert not rest.next_page_token


# -- versions -----------------------------------------------------------------------------------------------
def test_register_model_from_a_run_creates_the_model_and_numbered_versions(
    reg: WaylineClient, tmp_path: Path
) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    first = reg.register_model(f"runs:/{run_id}/model", name, tags={"data": "v1"})
    second = reg.register_model(f"runs:/{run_id}/model", name)
    assert (first.version, second.version) == (1, 2)
    assert first.run_id == run_id
    assert first.tags == {"data": "v1"}
    assert first.current_stage is Stage.NONE
    assert first.status is ModelVersionStatus.READY
    run = reg.get_run(run_id)
    assert first.source == f"{run.info.artifact_uri}/model"
    if not _is_remote(reg):
        assert first.user_id == "ana"
    assert reg.get_model_version_download_uri(name, 1) == f"{run.info.artifact_uri}/model"


def test_model_version_updates_tags_and_deletes(reg: WaylineClient, tmp_path: Path) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    reg.register_model(f"runs:/{run_id}/model", name)
    reg.register_model(f"runs:/{run_id}/model", name)

    assert reg.update_model_version(name, "1", "the baseline").description == "the baseline"
    assert reg.get_model_version(name, 1).description == "the baseline"

    reg.set_model_version_tag(name, 1, "validated", True)
    reg.transition_model_version_stage(name, 2, "Staging")
    reg.set_model_version_tag(name, key="candidate", value="yes", stage="staging")
    assert reg.get_model_version(name, 1).tags == {"validated": "True"}
    assert reg.get_model_version(name, 2).tags == {"candidate": "yes"}
    reg.delete_model_version_tag(name, 1, "validated")
    assert reg.get_model_version(name, 1).tags == {}

    found = reg.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == [1, 2]
    found = reg.search_model_versions(f"name = '{name}' AND tags.candidate = 'yes'")
    assert [v.version for v in found] == [2]

    reg.delete_model_version(name, 1)
    with pytest.raises(ResourceNotFound):
        reg.get_model_version(name, 1)
    assert reg.register_model(f"runs:/{run_id}/model", name).version == 3  # numbers are never reused


def test_stages_and_latest_versions(reg: WaylineClient, tmp_path: Path) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    for _ in range(3):
        reg.register_model(f"runs:/{run_id}/model", name)
    reg.transition_model_version_stage(name, 1, "production")
    moved = reg.transition_model_version_stage(name, 2, "Production", archive_existing_versions=True)
    assert moved.current_stage is Stage.PRODUCTION
    assert reg.get_model_version(name, 1).current_stage is Stage.ARCHIVED

    latest = reg.get_latest_versions(name, ["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [(2, Stage.PRODUCTION)]
    every = {v.current_stage: v.version for v in reg.get_latest_versions(name)}
    assert every == {Stage.NONE: 3, Stage.PRODUCTION: 2, Stage.ARCHIVED: 1}
    model = reg.get_registered_model(name)
    assert {v.current_stage: v.version for v in model.latest_versions} == every


def test_aliases(reg: WaylineClient, tmp_path: Path) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    reg.register_model(f"runs:/{run_id}/model", name)
    reg.register_model(f"runs:/{run_id}/model", name)
    reg.set_registered_model_alias(name, "champion", 1)
    reg.set_registered_model_alias(name, "challenger", "2")
    assert reg.get_model_version_by_alias(name, "champion").version == 1
    assert reg.get_model_version(name, 1).aliases == ("champion",)
    assert reg.get_registered_model(name).aliases == (
        RegisteredModelAlias("challenger", 2),
        RegisteredModelAlias("champion", 1),
    )

    reg.set_registered_model_alias(name, "champion", 2)  # moves
    assert reg.get_model_version_by_alias(name, "champion").version == 2
    assert reg.get_model_version(name, 2).aliases == ("challenger", "champion")

    reg.delete_registered_model_alias(name, "challenger")
    assert [a.alias for a in reg.get_registered_model(name).aliases] == ["champion"]


def test_history_records_who_changed_what_and_answers_until(reg: WaylineClient, tmp_path: Path) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    reg.register_model(f"runs:/{run_id}/model", name)
    reg.register_model(f"runs:/{run_id}/model", name)
    reg.transition_model_version_stage(name, 1, "Production", comment="passed review")
    reg.set_registered_model_alias(name, "champion", 1)

    events = reg.get_model_history(name)
    kinds = [(e.kind, e.version) for e in events]
    assert ("stage_changed", 1) in kinds
    assert ("alias_set", 1) in kinds
    change = next(e for e in events if e.kind == "stage_changed")
    assert (change.from_value, change.to_value) == ("None", "Production")
    if not _is_remote(reg):
        assert change.actor == "ana"
        assert change.comment == "passed review"
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)

    assert all(e.version == 2 for e in reg.get_model_history(name, version=2))
    before = reg.get_model_history(name, until=change.timestamp - 1)
    assert all(e.timestamp < change.timestamp for e in before)
    assert "stage_changed" not in [e.kind for e in before]


# -- bad input ----------------------------------------------------------------------------------------------
def test_unknown_names_and_versions(reg: WaylineClient, tmp_path: Path) -> None:
    name = unique("missing")
    with pytest.raises(ResourceNotFound):
        reg.get_registered_model(name)
    with pytest.raises(ResourceNotFound):
        reg.get_model_version(name, 1)
    with pytest.raises(ResourceNotFound):
        reg.delete_registered_model(name)
    run_id = _logged_model_run(reg, tmp_path)
    reg.register_model(f"runs:/{run_id}/model", name)
    with pytest.raises(ResourceNotFound):
        reg.get_model_version(name, 7)


def test_bad_stage_and_alias_on_a_missing_version_change_nothing(reg: WaylineClient, tmp_path: Path) -> None:
    run_id = _logged_model_run(reg, tmp_path)
    name = unique("model")
    reg.register_model(f"runs:/{run_id}/model", name)
    with pytest.raises(InvalidParameterValue, match="stage"):
        reg.transition_model_version_stage(name, 1, "Prod")
    with pytest.raises((ResourceNotFound, InvalidParameterValue)):
        reg.set_registered_model_alias(name, "champion", 5)
    assert reg.get_model_version(name, 1).current_stage is Stage.NONE
    assert reg.get_registered_model(name).aliases == ()
    with pytest.raises(InvalidParameterValue, match="version"):
        reg.get_model_version(name, "one")


def test_a_source_outside_the_artifact_stores_is_refused(reg: WaylineClient, tmp_path: Path) -> None:
    name = unique("model")
    reg.create_registered_model(name)
    for source in ("/etc", "file:///etc/passwd", f"{tmp_path}/../x", "s3://someone-elses-bucket/model"):
        with pytest.raises(InvalidParameterValue, match="source"):
            reg.create_model_version(name, source)
    assert reg.search_model_versions(f"name = '{name}'").items == []


def test_a_source_inside_the_artifact_store_needs_no_run(reg: WaylineClient) -> None:
    """The embedded registry knows its artifact root; a server decides for itself (the client does not
    second-guess it), and accepts a location inside its store."""
    experiment = reg.get_experiment(reg.create_experiment(unique("exp")))
    name = unique("model")
    source = f"{experiment.artifact_location}/shared/model"
    reg.create_registered_model(name)
    version = reg.create_model_version(name, source)
    assert (version.version, version.source, version.run_id) == (1, source, "")
    with pytest.raises(InvalidParameterValue, match="source"):
        reg.create_model_version(name, f"{experiment.artifact_location}/../../x")


def test_client_argument_checks() -> None:
    with WaylineClient() as client:
        with pytest.raises(InvalidParameterValue, match="until"):
            client.get_model_history("m", until="yesterday")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterValue, match="protected"):
            client.update_registered_model("m", protected="yes")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterValue, match="version"):
            client.set_model_version_tag("m", 1, "k", "v", stage="Production")
        with pytest.raises(InvalidParameterValue, match="model_uri"):
            client.register_model("runs:/", "m")


def test_closing_the_client_closes_the_registry(fluent_state: str) -> None:
    client = WaylineClient(fluent_state)
    service = client.registry
    assert client.registry is service  # opened once
    client.close()
    with pytest.raises(InvalidState):
        client.get_registered_model("m")


# -- the requests on the wire -------------------------------------------------------------------------------
def test_rest_store_sends_mlflows_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verbs, routes and fields as MLflow's client sends them (GET with a query string, DELETE with a body,
    versions as strings), and Wayline's routes for owner/protected and history."""
    quiet_http_env(monkeypatch)
    version = {"name": "m", "version": "2", "creation_timestamp": 1, "current_stage": "Staging"}

    def answer(seen: Seen) -> Reply:
        if seen.path.endswith("/history"):
            body: object = {"events": [{"id": 1, "name": "m", "version": "2", "kind": "alias_set"}]}
        elif "model-versions" in seen.path or (seen.path.endswith("/alias") and seen.method == "GET"):
            body = {"model_version": version, "model_versions": [version], "next_page_token": "t2"}
        else:
            body = {"registered_model": {"name": "m", "owner": "o", "protected": True}}
        return Reply(body=json.dumps(body).encode())

    with serve(answer) as server:
        store = RestRegistryStore(server.url)
        try:
            store.update_registered_model("m", description="d")
            store.update_registered_model("m", owner="o", protected=True)
            page = store.search_model_versions(
                filter_string="name = 'm'",
                max_results=5,
                order_by=[RegistryOrder("version_number", ascending=False), RegistryOrder("name")],
            )
            store.delete_model_version("m", 2)
            store.transition_model_version_stage("m", 2, Stage.STAGING, archive_existing_versions=True)
            store.get_model_version_by_alias("m", "champion")
            events = store.model_history("m", version=2, until=99)
        finally:
            store.close()

    assert page.next_page_token == "t2"
    assert page.items[0].version == 2
    assert events[0].version == 2
    calls = [(s.method, s.path) for s in server.seen]
    assert calls == [
        ("PATCH", "/api/2.0/mlflow/registered-models/update"),
        ("PATCH", "/api/2.0/wayline/registered-models/update"),
        ("GET", "/api/2.0/mlflow/model-versions/search"),
        ("DELETE", "/api/2.0/mlflow/model-versions/delete"),
        ("POST", "/api/2.0/mlflow/model-versions/transition-stage"),
        ("GET", "/api/2.0/mlflow/registered-models/alias"),
        ("GET", "/api/2.0/wayline/registered-models/history"),
    ]
    bodies = [json.loads(s.body) if s.body else None for s in server.seen]
    assert bodies[0] == {"name": "m", "description": "d"}
    assert bodies[1] == {"name": "m", "owner": "o", "protected": True}
    assert server.seen[2].query == {
        "filter": ["name = 'm'"],
        "max_results": ["5"],
        "order_by": ["version_number DESC", "name ASC"],
    }
    assert bodies[3] == {"name": "m", "version": "2"}
    assert bodies[4] == {
        "name": "m",
        "version": "2",
        "stage": "Staging",
        "archive_existing_versions": True,
    }
    assert server.seen[5].query == {"name": ["m"], "alias": ["champion"]}
    assert server.seen[6].query == {"name": ["m"], "version": ["2"], "until": ["99"]}
