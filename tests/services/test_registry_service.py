"""The registry service over real stores (SQLite, PostgreSQL): every argument is checked before the store, a
version's source must lie inside a known artifact store, and a refused request changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracking_api import BACKENDS, database_url
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, ResourceNotFound, SearchSyntaxError
from wayline.services.model_source import MODEL_VERSIONS_TAG, inside_root
from wayline.services.registry import RegistryService
from wayline.services.tracking import TrackingService
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore


@dataclass
class World:
    service: RegistryService
    tracking: SqlTrackingStore
    run_id: str
    #: The run's artifact URI: a local folder below ``root``.
    run_root: str
    model_id: str
    model_root: str
    root: Path


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    root = tmp_path / "artifacts"
    tracking = SqlTrackingStore(database_url(request.param, request, tmp_path), str(root))
    registry = SqlRegistryStore(engine=tracking.engine, default_artifact_root=str(root))
    service = RegistryService(
        registry,
        TrackingService(tracking),
        default_actor="robot",
        artifact_roots=["mlflow-artifacts:/", str(root)],
    )
    experiment = tracking.create_experiment(_unique("exp"), None, [])
    run = tracking.create_run(experiment, user_id="alice", start_time=1)
    model = tracking.create_logged_model(experiment, name="model", source_run_id=run.info.run_id)
    yield World(
        service,
        tracking,
        run.info.run_id,
        run.info.artifact_uri,
        model.model_id,
        model.artifact_location,
        root,
    )
    service.close()
    tracking.close()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _model(world: World) -> str:
    name = _unique("model")
    world.service.create_registered_model(name)
    return name


def _snapshot(world: World, name: str) -> tuple[object, ...]:
    model = world.service.get_registered_model(name)
    versions = list(world.service.search_model_versions(filter_string=f"name = '{name}'"))
    return model, versions, world.service.model_history(name)


# -- names, versions, stages, aliases, tags ------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    ["a/b", "a:b", "50%", "..", ".", "a/../b", "x" * 257, "tab\there", "bidi\u202e", 5, None],
)
def test_bad_names_are_refused_by_field(world: World, bad: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'name'"):
        world.service.create_registered_model(bad)  # type: ignore[arg-type]
    name = _model(world)
    with pytest.raises(InvalidParameterValue, match="'new_name'"):
        world.service.rename_registered_model(name, bad)  # type: ignore[arg-type]
    assert world.service.get_registered_model(name).name == name


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_name_is_missing_as_in_mlflow(world: World, empty: str) -> None:
    with pytest.raises(
        InvalidParameterValue, match=re.escape("Missing value for required parameter 'name'.")
    ):
        world.service.create_registered_model(empty)


def test_names_are_one_spelling(world: World) -> None:
    suffix = uuid.uuid4().hex[:8]
    created = world.service.create_registered_model(f"Cafe\u0301.v2-{suffix}")
    assert created.name == f"Caf\u00e9.v2-{suffix}"
    assert world.service.get_registered_model(f"Cafe\u0301.v2-{suffix}").name == created.name


@pytest.mark.parametrize("bad", ["x", "1.0", "0", "-1", 0, -3, 2**31, True, "١", None, 1.0])
def test_bad_versions_are_refused_by_field(world: World, bad: object) -> None:
    name = _model(world)
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    with pytest.raises(InvalidParameterValue, match="'version'"):
        world.service.get_model_version(name, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="'version'"):
        world.service.set_registered_model_alias(name, "champion", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="'version'"):
        world.service.delete_model_version(name, bad)  # type: ignore[arg-type]
    assert [v.version for v in world.service.search_model_versions(filter_string=f"name = '{name}'")] == [1]


def test_versions_are_ints_or_digit_strings(world: World) -> None:
    name = _model(world)
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    assert world.service.get_model_version(name, "1").version == 1
    assert world.service.get_model_version(name, 1).version == 1
    assert world.service.get_model_version(name, " 1 ").version == 1
    with pytest.raises(ResourceNotFound):
        world.service.get_model_version(name, "2")


def test_stages(world: World) -> None:
    name = _model(world)
    for _ in range(3):
        world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    before = _snapshot(world, name)
    for bad in ("bogus", "", "Prod", 1):
        with pytest.raises(InvalidParameterValue, match="'stage'"):
            world.service.transition_model_version_stage(name, 1, bad)  # type: ignore[arg-type]
    for stage in ("None", "archived"):
        with pytest.raises(InvalidParameterValue, match="'archive_existing_versions'"):
            world.service.transition_model_version_stage(name, 1, stage, archive_existing_versions=True)
    with pytest.raises(InvalidParameterValue, match="'stages'"):
        world.service.get_latest_versions(name, ["Production", "later"])
    assert _snapshot(world, name) == before

    assert (
        world.service.transition_model_version_stage(name, 1, "production").current_stage is Stage.PRODUCTION
    )
    moved = world.service.transition_model_version_stage(
        name, "2", Stage.PRODUCTION, archive_existing_versions=True
    )
    assert moved.current_stage is Stage.PRODUCTION
    assert world.service.get_model_version(name, 1).current_stage is Stage.ARCHIVED
    latest = world.service.get_latest_versions(name, ["PRODUCTION", "none"])
    assert sorted((v.version, v.current_stage) for v in latest) == [(2, Stage.PRODUCTION), (3, Stage.NONE)]


@pytest.mark.parametrize("bad", ["latest", "LaTeSt", "v1", "V12", "a.b", "a b", "x" * 256, "", "é/x"])
def test_bad_aliases_are_refused_and_change_nothing(world: World, bad: str) -> None:
    name = _model(world)
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    before = _snapshot(world, name)
    with pytest.raises(InvalidParameterValue, match="'alias'"):
        world.service.set_registered_model_alias(name, bad, 1)
    assert _snapshot(world, name) == before


def test_aliases(world: World) -> None:
    name = _model(world)
    for _ in range(2):
        world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    world.service.set_registered_model_alias(name, "champion", "1", comment="first")
    assert world.service.get_model_version_by_alias(name, "champion").version == 1
    assert world.service.get_model_version_by_alias(name, "latest").version == 2
    with pytest.raises(InvalidParameterValue, match="alias nope not found"):
        world.service.get_model_version_by_alias(name, "nope")
    with pytest.raises(ResourceNotFound):
        world.service.get_model_version_by_alias(_unique("missing"), "champion")
    with pytest.raises(ResourceNotFound):
        world.service.set_registered_model_alias(name, "champion", 9)
    world.service.delete_registered_model_alias(name, "nope")  # a missing alias changes nothing
    world.service.delete_registered_model_alias(name, "champion")
    kinds = [(e.kind, e.comment) for e in world.service.model_history(name) if e.kind.startswith("alias")]
    assert kinds == [("alias_set", "first"), ("alias_deleted", "")]


def test_tags_and_descriptions_have_limits(world: World) -> None:
    name = _model(world)
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    before = _snapshot(world, name)
    with pytest.raises(InvalidParameterValue, match="key"):
        world.service.set_registered_model_tag(name, "../escape", "v")
    with pytest.raises(InvalidParameterValue, match="'value'"):
        world.service.set_model_version_tag(name, 1, "k", "x" * 5001)
    with pytest.raises(InvalidParameterValue, match=re.escape("Missing value for required parameter 'key'.")):
        world.service.set_registered_model_tag(name, "", "v")
    with pytest.raises(InvalidParameterValue, match="'description'"):
        world.service.update_registered_model(name, description="d" * 65536)
    with pytest.raises(InvalidParameterValue, match="'tags'"):
        world.service.create_registered_model(_unique("m"), tags={f"t{i}": "v" for i in range(1001)})
    with pytest.raises(InvalidParameterValue, match="'protected'"):
        world.service.update_registered_model(name, protected="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="'owner'"):
        world.service.update_registered_model(name, owner="o" * 257)
    with pytest.raises(InvalidParameterValue, match="'actor'"):
        world.service.set_registered_model_tag(name, "k", "v", actor="bad\nactor")
    assert _snapshot(world, name) == before

    world.service.set_model_version_tag(name, "1", "k", "x" * 5000)
    updated = world.service.update_registered_model(name, owner="team-ml", protected=True)
    assert (updated.owner, updated.protected, updated.description) == ("team-ml", True, "")


# -- searches ----------------------------------------------------------------------------------------------
def test_search_arguments(world: World) -> None:
    prefix = _unique("s")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        world.service.create_registered_model(name, tags=[("team", "ml")])
    found = world.service.search_registered_models(
        filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"], max_results=2
    )
    assert [m.name for m in found] == names[::-1][:2]
    rest = world.service.search_registered_models(
        filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"], page_token=found.next_page_token
    )
    assert [m.name for m in rest] == names[:1]
    by_time = world.service.search_registered_models(
        filter_string=f"name LIKE '{prefix}%'", order_by=["timestamp ASC", "`name` desc"]
    )
    assert len(by_time) == 3
    for bad_order in (["bogus"], ["name sideways"], ["name ASC", "name DESC"], ["name ASC extra"], [5]):
        with pytest.raises(InvalidParameterValue, match="'order_by'"):
            world.service.search_registered_models(order_by=bad_order)  # type: ignore[arg-type]
    for bad_size in (0, -1, 1001, "10", True):
        with pytest.raises(InvalidParameterValue, match="'max_results'"):
            world.service.search_registered_models(max_results=bad_size)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="'max_results'"):
        world.service.search_model_versions(max_results=200_001)
    with pytest.raises(SearchSyntaxError, match="'filter'"):
        world.service.search_registered_models(filter_string="name = ")
    with pytest.raises(InvalidParameterValue, match="'order_by'"):
        world.service.search_model_versions(order_by=["timestamp"])
    for _ in range(2):
        world.service.create_model_version(names[0], f"runs:/{world.run_id}/model")
    first = world.service.search_model_versions(
        filter_string=f"name = '{names[0]}'", order_by=["version_number ASC"], max_results=1
    )
    assert [v.version for v in first] == [1]
    assert first.next_page_token


# -- sources ------------------------------------------------------------------------------------------------
#: Every spelling of SECURITY.md section 1 (``{run}``: an existing run's id, ``{root}``: its artifact URI).
REFUSED_SOURCES = [
    "../x",
    "..\\x",
    "%2e%2e%2fx",
    "%252e%252e%252fx",
    "//proc/self/environ",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "relative/model",
    "{root}/../../../etc",
    "{root}/..\\..\\x",
    "{root}/%2e%2e/%2e%2e/x",
    "{root}/%252e%252e/x",
    "{root}/a;b",
    "{root}/a?b=1",
    "{root}/a#frag",
    "{root}/a\x00b",
    " {root}/model",
    "{root}/\u2025/x",
    "http:///?/../../",
    "http://example.com/model",
    "https://169.254.169.254/latest/meta-data",
    "file:/etc/passwd",
    "file://./etc/passwd",
    "file:///etc/passwd",
    "file://evil.example{root}/model",
    "gopher://example.com/x",
    "s3://other-bucket/model",
    "mlflow-artifacts://evil.example/1/model",
    "mlflow-artifacts:/1/../../etc",
    "mlflow-artifacts:/1/%2E%2E/%2E%2E/etc",
    "mlflow-artifacts:/runs:/x/model",
    "runs:/{run}/models:/m/1",
    "runs:/{run}/../../x",
    "runs:/{run}/%2e%2e/x",
    "runs://{run}/model",
    "runs:/00000000000000000000000000000000/model",
    "runs:/not a run/model",
    "models:/runs:/x",
    "models:/m-00000000000000000000000000000000",
    "models://host/m/1",
    "models:/a/b/c",
    "\\\\server\\share\\model",
]


@pytest.mark.parametrize("template", REFUSED_SOURCES)
def test_every_unsafe_source_is_refused_and_changes_nothing(world: World, template: str) -> None:
    name = _model(world)
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    before = _snapshot(world, name)
    source = template.replace("{run}", world.run_id).replace("{root}", world.run_root)
    with pytest.raises(InvalidParameterValue, match=r"'source'|'run_id'"):
        world.service.create_model_version(name, source, run_id=world.run_id)
    assert _snapshot(world, name) == before


def test_lineage_must_agree_with_the_source(world: World) -> None:
    name = _model(world)
    other = world.tracking.create_run("0", user_id="bob", start_time=2).info.run_id
    cases = [
        ({"source": f"runs:/{world.run_id}/model", "run_id": other}, "'source'"),
        ({"source": f"models:/{world.model_id}", "model_id": "m-" + "1" * 32}, "'source'"),
        ({"source": f"{world.run_root}/model", "run_id": "0" * 32}, "'run_id'"),
        ({"source": f"{world.model_root}/x", "model_id": "m-" + "0" * 32}, "'model_id'"),
        ({"source": f"{world.run_root}/model", "run_id": "r" * 33}, "'run_id'"),
        ({"source": "x" * 8193}, "'source'"),
        ({"source": ""}, "Missing value for required parameter 'source'"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidParameterValue, match=re.escape(field)):
            world.service.create_model_version(name, **kwargs)  # type: ignore[arg-type]
    assert list(world.service.search_model_versions(filter_string=f"name = '{name}'")) == []


def test_allowed_sources_and_their_download_uris(world: World) -> None:
    name = _model(world)
    service = world.service
    by_run = service.create_model_version(name, f"runs:/{world.run_id}/model")
    assert (by_run.source, by_run.run_id) == (f"runs:/{world.run_id}/model", world.run_id)
    assert by_run.user_id == "robot"
    assert service.get_model_version_download_uri(name, 1) == f"{world.run_root}/model"

    inside_run = service.create_model_version(name, f"{world.run_root}/model", run_id=world.run_id)
    assert inside_run.source == f"{world.run_root}/model"
    as_file_uri = service.create_model_version(name, f"file://{world.root}/x/model")
    assert as_file_uri.run_id == ""
    proxied = service.create_model_version(name, "mlflow-artifacts:/1/abc/artifacts/model", actor="carol")
    assert proxied.user_id == "carol"
    assert service.get_model_version_download_uri(name, proxied.version) == proxied.source

    by_model = service.create_model_version(name, f"models:/{world.model_id}")
    assert (by_model.model_id, by_model.run_id) == (world.model_id, world.run_id)
    assert service.get_model_version_download_uri(name, by_model.version) == world.model_root
    tag = world.tracking.get_logged_model(world.model_id).tags[MODEL_VERSIONS_TAG]
    assert json.loads(tag) == [{"name": name, "version": by_model.version}]

    service.set_registered_model_alias(name, "champion", by_model.version)
    copy = service.create_model_version(name, f"models:/{name}@champion")
    assert copy.source == f"models:/{name}/{by_model.version}"
    assert (copy.model_id, copy.run_id) == (world.model_id, world.run_id)
    assert service.get_model_version_download_uri(name, copy.version) == world.model_root


def test_a_registry_without_tracking_refuses_what_it_cannot_check(world: World) -> None:
    bare = RegistryService(world.service.store, artifact_roots=["mlflow-artifacts:/"])
    name = _model(world)
    for source in (f"runs:/{world.run_id}/model", f"models:/{world.model_id}"):
        with pytest.raises(InvalidParameterValue, match="'source'"):
            bare.create_model_version(name, source)
    assert bare.create_model_version(name, "mlflow-artifacts:/1/x/model").version == 1


@pytest.mark.parametrize(
    ("uri", "root", "inside"),
    [
        ("mlflow-artifacts:/1/x", "mlflow-artifacts:/", True),
        ("mlflow-artifacts://h/1/x", "mlflow-artifacts:/", False),
        ("s3://bucket/artifacts/1/x", "s3://bucket/artifacts", True),
        ("s3://bucket/artifacts-2/x", "s3://bucket/artifacts", False),
        ("s3://BUCKET/artifacts/x", "s3://bucket/artifacts", True),
        ("s3://bucket/x", "gs://bucket/x", False),
        ("/srv/artifacts/1", "/srv/artifacts", True),
        ("/srv/artifacts2/1", "/srv/artifacts", False),
        ("file:///srv/artifacts/1", "/srv/artifacts", True),
        ("file://localhost/srv/artifacts/1", "file:///srv/artifacts", True),
    ],
)
def test_inside_root(uri: str, root: str, inside: bool) -> None:
    assert inside_root(uri, root) is inside


# -- model URIs, history, actors ---------------------------------------------------------------------------
def test_resolve_model_uri(world: World) -> None:
    name = _model(world)
    for _ in range(3):
        world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    world.service.transition_model_version_stage(name, 2, "Staging")
    world.service.set_registered_model_alias(name, "champion", 1)
    resolve = world.service.resolve_model_uri
    assert resolve(f"models:/{name}/1").version == 1
    assert resolve(f"models:/{name}@champion").version == 1
    assert resolve(f"models:/{name}/staging").version == 2
    assert resolve(f"models:/{name}/latest").version == 3
    assert resolve(f"models:/{name}@latest").version == 3
    with pytest.raises(ResourceNotFound):
        resolve(f"models:/{name}/Production")
    for bad in (f"runs:/{world.run_id}/m", f"models:/{world.model_id}", "models:/", f"models:/{name}/bogus"):
        with pytest.raises(InvalidParameterValue, match="'uri'"):
            resolve(bad)


def test_history_records_actors_and_filters(world: World) -> None:
    name = _unique("hist")
    world.service.create_registered_model(name, actor="alice")
    world.service.create_model_version(name, f"runs:/{world.run_id}/model")
    world.service.create_model_version(name, f"runs:/{world.run_id}/model", actor="bob")
    world.service.transition_model_version_stage(name, 2, "Production", comment="ship it")
    events = world.service.model_history(name)
    assert [(e.kind, e.version, e.actor) for e in events] == [
        ("model_created", 0, "alice"),
        ("version_created", 1, "robot"),
        ("version_created", 2, "bob"),
        ("stage_changed", 2, "robot"),
    ]
    assert events[-1].comment == "ship it"
    one_version = world.service.model_history(name, version="2")
    assert [e.kind for e in one_version] == ["version_created", "stage_changed"]
    assert world.service.model_history(name, until=events[0].timestamp - 1) == []
    with pytest.raises(InvalidParameterValue, match="'until'"):
        world.service.model_history(name, until="yesterday")  # type: ignore[arg-type]
    with pytest.raises(ResourceNotFound):
        world.service.model_history(_unique("missing"))


def test_mlflow_clients_prompt_clause_leaves_prompts_out(world: World) -> None:
    """MLflow's client appends ``AND tag.`mlflow.prompt.is_prompt` != 'true'`` to every registry search."""
    prefix = _unique("p")
    world.service.create_registered_model(f"{prefix}-model")
    world.service.create_registered_model(f"{prefix}-prompt", tags={"mlflow.prompt.is_prompt": "true"})
    clause = "tag.`mlflow.prompt.is_prompt` != 'true'"
    found = world.service.search_registered_models(filter_string=f"name LIKE '{prefix}%' AND {clause}")
    assert [m.name for m in found] == [f"{prefix}-model"]
    prompts = world.service.search_registered_models(
        filter_string=f"name LIKE '{prefix}%' AND tags.`mlflow.prompt.is_prompt` = 'true'"
    )
    assert [m.name for m in prompts] == [f"{prefix}-prompt"]
    world.service.create_model_version(f"{prefix}-model", f"runs:/{world.run_id}/model")
    world.service.create_model_version(
        f"{prefix}-model", f"runs:/{world.run_id}/model", tags={"mlflow.prompt.is_prompt": "true"}
    )
    versions = world.service.search_model_versions(filter_string=f"name = '{prefix}-model' AND {clause}")
    assert [v.version for v in versions] == [1]


def test_no_tag_switches_the_source_rule_off(world: World) -> None:
    """MLflow checks prompt versions (tagged ``mlflow.prompt.is_prompt``) by other rules; Wayline does not."""
    name = _model(world)
    for tags in ({"mlflow.prompt.is_prompt": "true"}, {"mlflow.prompt.is_prompt": "TRUE", "x": "y"}):
        for source in ("/etc/passwd", "dummy-source", "file:///etc/passwd"):
            with pytest.raises(InvalidParameterValue, match="'source'"):
                world.service.create_model_version(name, source, tags=tags)
    assert list(world.service.search_model_versions(filter_string=f"name = '{name}'")) == []
