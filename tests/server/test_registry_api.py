"""The model-registry routes in process, on SQLite and PostgreSQL: MLflow's JSON shapes and errors under both
prefixes, the version source rule over HTTP, the acting user, Wayline's history and update routes, and the
web UI's download of a version's file. Every refused request leaves the registry tables as they were."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracking_api import AJAX, API, BACKENDS, TrackingApi, error_of, open_api, unique
from wayline.server.context import ServerContext
from wayline.store.sql import schema

WAYLINE = "/api/2.0/wayline"
BAD, NOT_FOUND, EXISTS = "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS"
MISSING = "Missing value for required parameter '{}'."
REGISTRY_TABLES = (
    schema.registered_models,
    schema.registered_model_tags,
    schema.model_versions,
    schema.model_version_tags,
    schema.registered_model_aliases,
    schema.registry_events,
)
#: The fields MLflow's server writes for a version (empty strings aside, which both omit or write as "").
VERSION_FIELDS = {
    "name",
    "version",
    "creation_timestamp",
    "last_updated_timestamp",
    "user_id",
    "current_stage",
    "description",
    "source",
    "run_id",
    "status",
    "status_message",
    "tags",
    "run_link",
    "aliases",
    "model_id",
}


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    with open_api(request.param, request, tmp_path, default_user="robot") as opened:
        yield opened


def _ctx(api: TrackingApi) -> ServerContext:
    ctx: ServerContext = api.client.app.state.context  # type: ignore[attr-defined]
    return ctx


def _digest(api: TrackingApi) -> str:
    """Everything the registry stores, hashed."""
    h = hashlib.sha256()
    with _ctx(api).tracking.store.engine.connect() as conn:  # type: ignore[attr-defined]
        for table in REGISTRY_TABLES:
            rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
            h.update(f"{table.name}:{rows}".encode())
    return h.hexdigest()


def _send(
    api: TrackingApi, method: str, route: str, body: Any = None, *, prefix: str = API, **kw: Any
) -> Any:
    if method == "GET":
        return api.client.get(prefix + route, params=body or {}, **kw)
    return api.client.request(method, prefix + route, json=body if body is not None else {}, **kw)


def _ok(api: TrackingApi, method: str, route: str, body: Any = None, *, prefix: str = API, **kw: Any) -> Any:
    return api.ok(_send(api, method, route, body, prefix=prefix, **kw))


def _run(api: TrackingApi) -> tuple[str, str]:
    """A new run: its id and its artifact URI."""
    experiment = api.new_experiment()
    run = api.ok(api.post("/runs/create", {"experiment_id": experiment}))["run"]["info"]
    return run["run_id"], run["artifact_uri"]


def _model_with_versions(api: TrackingApi, count: int, *, prefix: str = API) -> tuple[str, str]:
    name = unique("model")
    _ok(api, "POST", "/registered-models/create", {"name": name}, prefix=prefix)
    run_id, _ = _run(api)
    for _ in range(count):
        body = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
        _ok(api, "POST", "/model-versions/create", body, prefix=prefix)
    return name, run_id


@pytest.mark.parametrize("prefix", [API, AJAX])
def test_registered_model_lifecycle(api: TrackingApi, prefix: str) -> None:
    name = unique("model")
    body = {"name": name, "tags": [{"key": "team", "value": "ml"}, {"key": "empty"}], "description": "d"}
    created = _ok(api, "POST", "/registered-models/create", body, prefix=prefix)["registered_model"]
    assert set(created) == {
        "name",
        "creation_timestamp",
        "last_updated_timestamp",
        "description",
        "tags",
        "protected",
    }
    assert isinstance(created["creation_timestamp"], int)
    assert created["tags"] == [{"key": "empty", "value": ""}, {"key": "team", "value": "ml"}]
    assert (
        _ok(api, "GET", "/registered-models/get", {"name": name}, prefix=prefix)["registered_model"]
        == created
    )

    updated = _ok(
        api, "PATCH", "/registered-models/update", {"name": name, "description": "new"}, prefix=prefix
    )
    assert updated["registered_model"]["description"] == "new"
    cleared = _ok(api, "PATCH", "/registered-models/update", {"name": name}, prefix=prefix)[
        "registered_model"
    ]
    assert "description" not in cleared  # MLflow clears the description when the field is absent

    _ok(api, "POST", "/registered-models/set-tag", {"name": name, "key": "k", "value": "v"}, prefix=prefix)
    _ok(api, "DELETE", "/registered-models/delete-tag", {"name": name, "key": "team"}, prefix=prefix)
    _ok(api, "DELETE", "/registered-models/delete-tag", {"name": name, "key": "missing"}, prefix=prefix)
    tags = _ok(api, "GET", "/registered-models/get", {"name": name}, prefix=prefix)["registered_model"][
        "tags"
    ]
    assert tags == [{"key": "empty", "value": ""}, {"key": "k", "value": "v"}]

    renamed = _ok(
        api, "POST", "/registered-models/rename", {"name": name, "new_name": name + "-2"}, prefix=prefix
    )
    assert renamed["registered_model"]["name"] == name + "-2"
    error_of(
        _send(api, "GET", "/registered-models/get", {"name": name}, prefix=prefix),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    found = _ok(api, "GET", "/registered-models/search", {"filter": f"name = '{name}-2'"}, prefix=prefix)
    assert [m["name"] for m in found["registered_models"]] == [name + "-2"]
    assert "next_page_token" not in found

    assert _ok(api, "DELETE", "/registered-models/delete", {"name": name + "-2"}, prefix=prefix) == {}
    message = error_of(
        _send(api, "DELETE", "/registered-models/delete", {"name": name + "-2"}, prefix=prefix),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert message == f"Registered Model with name={name}-2 not found"
    assert _ok(api, "GET", "/registered-models/search", {"filter": f"name = '{name}-2'"}, prefix=prefix) == {}


@pytest.mark.parametrize("prefix", [API, AJAX])
def test_model_version_lifecycle(api: TrackingApi, prefix: str) -> None:
    name, run_id = _model_with_versions(api, 0, prefix=prefix)
    body = {
        "name": name,
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
        "tags": [{"key": "k", "value": "v"}],
        "description": "first",
        "run_link": "http://ci.example/1",
    }
    created = _ok(api, "POST", "/model-versions/create", body, prefix=prefix)["model_version"]
    assert set(created) <= VERSION_FIELDS
    assert created["version"] == "1"
    assert (created["current_stage"], created["status"], created["user_id"]) == ("None", "READY", "robot")
    assert (created["source"], created["run_id"]) == (f"runs:/{run_id}/model", run_id)
    assert (created["description"], created["run_link"]) == ("first", "http://ci.example/1")
    assert created["tags"] == [{"key": "k", "value": "v"}]
    got = _ok(api, "GET", "/model-versions/get", {"name": name, "version": "1"}, prefix=prefix)
    assert got["model_version"] == created
    for _ in range(2):
        _ok(
            api,
            "POST",
            "/model-versions/create",
            {"name": name, "source": f"runs:/{run_id}/model"},
            prefix=prefix,
        )

    updated = _ok(
        api,
        "PATCH",
        "/model-versions/update",
        {"name": name, "version": 1, "description": "x"},
        prefix=prefix,
    )
    assert updated["model_version"]["description"] == "x"
    _ok(
        api,
        "POST",
        "/model-versions/set-tag",
        {"name": name, "version": "2", "key": "t", "value": "1"},
        prefix=prefix,
    )
    _ok(
        api, "DELETE", "/model-versions/delete-tag", {"name": name, "version": "2", "key": "t"}, prefix=prefix
    )

    transition = {"name": name, "version": "1", "stage": "production"}
    moved = _ok(api, "POST", "/model-versions/transition-stage", transition, prefix=prefix)["model_version"]
    assert moved["current_stage"] == "Production"
    transition = {"name": name, "version": "2", "stage": "Production", "archive_existing_versions": True}
    _ok(api, "POST", "/model-versions/transition-stage", transition, prefix=prefix)
    latest_get = _ok(
        api,
        "GET",
        "/registered-models/get-latest-versions",
        {"name": name, "stages": ["Production"]},
        prefix=prefix,
    )
    latest_post = _ok(
        api,
        "POST",
        "/registered-models/get-latest-versions",
        {"name": name, "stages": ["production"]},
        prefix=prefix,
    )
    assert [v["version"] for v in latest_get["model_versions"]] == ["2"]
    assert latest_post == latest_get
    everything = _ok(api, "POST", "/registered-models/get-latest-versions", {"name": name}, prefix=prefix)
    assert sorted((v["version"], v["current_stage"]) for v in everything["model_versions"]) == [
        ("1", "Archived"),
        ("2", "Production"),
        ("3", "None"),
    ]
    model = _ok(api, "GET", "/registered-models/get", {"name": name}, prefix=prefix)["registered_model"]
    assert sorted(v["version"] for v in model["latest_versions"]) == ["1", "2", "3"]

    first = _ok(
        api, "GET", "/model-versions/search", {"filter": f"name = '{name}'", "max_results": 2}, prefix=prefix
    )
    assert [v["version"] for v in first["model_versions"]] == ["3", "2"]
    rest = _ok(
        api,
        "GET",
        "/model-versions/search",
        {"filter": f"name = '{name}'", "max_results": 2, "page_token": first["next_page_token"]},
        prefix=prefix,
    )
    assert [v["version"] for v in rest["model_versions"]] == ["1"]
    assert "next_page_token" not in rest
    staged = _ok(
        api,
        "GET",
        "/model-versions/search",
        {"filter": f"name = '{name}' AND current_stage = 'Production'", "order_by": ["version_number ASC"]},
        prefix=prefix,
    )
    assert [v["version"] for v in staged["model_versions"]] == ["2"]

    assert _ok(api, "DELETE", "/model-versions/delete", {"name": name, "version": "3"}, prefix=prefix) == {}
    message = error_of(
        _send(api, "GET", "/model-versions/get", {"name": name, "version": "3"}, prefix=prefix),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert message == f"Model Version (name={name}, version=3) not found"


def test_aliases(api: TrackingApi) -> None:
    name, _ = _model_with_versions(api, 2)
    assert (
        _ok(api, "POST", "/registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
        == {}
    )
    by_alias = _ok(api, "GET", "/registered-models/alias", {"name": name, "alias": "champion"})[
        "model_version"
    ]
    assert (by_alias["version"], by_alias["aliases"]) == ("1", ["champion"])
    model = _ok(api, "GET", "/registered-models/get", {"name": name})["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    latest = _ok(api, "GET", "/registered-models/alias", {"name": name, "alias": "latest"})["model_version"]
    assert latest["version"] == "2"

    before = _digest(api)
    for alias in ("latest", "v2", "a.b"):
        message = error_of(
            _send(api, "POST", "/registered-models/alias", {"name": name, "alias": alias, "version": "2"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        assert "'alias'" in message
    error_of(
        _send(api, "POST", "/registered-models/alias", {"name": name, "alias": "x", "version": "9"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    message = error_of(
        _send(api, "GET", "/registered-models/alias", {"name": name, "alias": "nope"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert message == "Registered model alias nope not found."
    error_of(
        _send(api, "GET", "/registered-models/alias", {"name": unique("missing"), "alias": "x"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert _digest(api) == before

    assert _ok(api, "DELETE", "/registered-models/alias", {"name": name, "alias": "nope"}) == {}
    assert _ok(api, "DELETE", "/registered-models/alias", {"name": name, "alias": "champion"}) == {}
    assert "aliases" not in _ok(api, "GET", "/registered-models/get", {"name": name})["registered_model"]


def test_bad_requests_get_the_envelope_and_change_nothing(api: TrackingApi) -> None:
    m, r = _model_with_versions(api, 1)
    before = _digest(api)
    gone = unique("missing")
    runs = f"runs:/{r}/m"
    cases: list[tuple[str, str, Any, int, str, str]] = [
        ("POST", "/registered-models/create", {}, 400, BAD, MISSING.format("name")),
        ("POST", "/registered-models/create", {"name": ""}, 400, BAD, MISSING.format("name")),
        ("POST", "/registered-models/create",
         {"name": m}, 400, EXISTS, f"Registered Model (name={m}) already exists."),
        ("POST", "/registered-models/create", {"name": "a/b"}, 400, BAD, "'name'"),
        ("POST", "/registered-models/create", {"name": "x" * 300}, 400, BAD, "'name'"),
        ("POST", "/registered-models/create", {"name": {"nested": 1}}, 400, BAD, "'name'"),
        ("POST", "/registered-models/create", {"name": "ok", "tags": "nope"}, 400, BAD, "tags"),
        ("POST", "/registered-models/create",
         {"name": "ok", "description": "d" * 70_000}, 400, BAD, "'description'"),
        ("GET", "/registered-models/get",
         {"name": gone}, 404, NOT_FOUND, f"Registered Model with name={gone} not found"),
        ("GET", "/registered-models/get", {}, 400, BAD, MISSING.format("name")),
        ("POST", "/registered-models/rename", {"name": m, "new_name": "a:b"}, 400, BAD, "'new_name'"),
        ("POST", "/registered-models/rename", {"name": gone, "new_name": "zz"}, 404, NOT_FOUND, "not found"),
        ("POST", "/registered-models/set-tag", {"name": gone, "key": "k"}, 404, NOT_FOUND, "not found"),
        ("POST", "/registered-models/set-tag", {"name": m, "key": "../k"}, 400, BAD, "key"),
        ("POST", "/registered-models/set-tag",
         {"name": m, "key": "k", "value": "v" * 5001}, 400, BAD, "'value'"),
        ("GET", "/registered-models/search", {"max_results": 1001}, 400, BAD, "'max_results'"),
        ("GET", "/registered-models/search", {"max_results": "abc"}, 400, BAD, "max_results"),
        ("GET", "/registered-models/search", {"filter": "bogus = 'b'"}, 400, BAD, "filter"),
        ("GET", "/registered-models/search", {"order_by": ["bogus DESC"]}, 400, BAD, "'order_by'"),
        ("GET", "/registered-models/search", {"page_token": "garbage"}, 400, BAD, "token"),
        ("POST", "/registered-models/get-latest-versions",
         {"name": m, "stages": ["bogus"]}, 400, BAD, "'stages'"),
        ("POST", "/registered-models/get-latest-versions", {"name": gone}, 404, NOT_FOUND, "not found"),
        ("POST", "/model-versions/create", {"name": m}, 400, BAD, MISSING.format("source")),
        ("POST", "/model-versions/create", {"name": gone, "source": runs}, 404, NOT_FOUND, "not found"),
        ("POST", "/model-versions/create", {"name": m, "source": "/etc/passwd"}, 400, BAD, "'source'"),
        ("POST", "/model-versions/create",
         {"name": m, "source": runs, "run_id": "0" * 32}, 400, BAD, "'source'"),
        ("GET", "/model-versions/get", {"name": m, "version": "x"}, 400, BAD, "'version'"),
        ("GET", "/model-versions/get", {"name": m, "version": "-1"}, 400, BAD, "'version'"),
        ("GET", "/model-versions/get",
         {"name": m, "version": "9"}, 404, NOT_FOUND, f"Model Version (name={m}, version=9) not found"),
        ("GET", "/model-versions/get", {"name": m}, 400, BAD, MISSING.format("version")),
        ("PATCH", "/model-versions/update",
         {"name": m, "version": "9", "description": "x"}, 404, NOT_FOUND, "not found"),
        ("POST", "/model-versions/transition-stage",
         {"name": m, "version": "1", "stage": "bogus"}, 400, BAD, "'stage'"),
        ("POST", "/model-versions/transition-stage",
         {"name": m, "version": "1"}, 400, BAD, MISSING.format("stage")),
        ("POST", "/model-versions/transition-stage",
         {"name": m, "version": "1", "stage": "None",
          "archive_existing_versions": True},
         400, BAD, "'archive_existing_versions'"),
        ("POST", "/model-versions/transition-stage",
         {"name": m, "version": "1", "stage": "Staging",
          "archive_existing_versions": {"x": 1}},
         400, BAD, "archive_existing_versions"),
        ("DELETE", "/model-versions/delete", {"name": m, "version": "9"}, 404, NOT_FOUND, "not found"),
        ("POST", "/model-versions/set-tag",
         {"name": m, "version": "9", "key": "k"}, 404, NOT_FOUND, "not found"),
        ("DELETE", "/model-versions/delete-tag",
         {"name": m, "version": "9", "key": "k"}, 404, NOT_FOUND, "not found"),
        ("GET", "/model-versions/get-download-uri", {"name": m, "version": "9"}, 404, NOT_FOUND, "not found"),
        ("GET", "/model-versions/search", {"max_results": 0}, 400, BAD, "'max_results'"),
        ("GET", "/model-versions/search", {"max_results": 200_001}, 400, BAD, "'max_results'"),
        ("GET", "/model-versions/search", {"filter": "bogus > 1"}, 400, BAD, "filter"),
        ("DELETE", "/registered-models/delete", {"name": gone}, 404, NOT_FOUND, "not found"),
    ]  # fmt: skip
    problems = []
    for method, route, body, status, code, text in cases:
        response = _send(api, method, route, body)
        if response.status_code != status or response.json().get("error_code") != code:
            problems.append(f"{method} {route} {body!r:.80}: {response.status_code} {response.text[:200]}")
        elif text not in response.json()["message"]:
            problems.append(f"{method} {route} {body!r:.80}: message {response.json()['message']!r}")
    assert not problems, "\n".join(problems)
    for route in ("/registered-models/create", "/model-versions/create", "/registered-models/alias"):
        error_of(api.client.post(API + route, content=b'{"name": '), 400, "MALFORMED_REQUEST")
        error_of(api.client.post(API + route, content=b"[1]"), 400, "MALFORMED_REQUEST")
    assert _digest(api) == before


@pytest.mark.parametrize(
    "template",
    [
        "../x",
        "%2e%2e%2fx",
        "/etc/passwd",
        "file:///etc/passwd",
        "{root}/../../x",
        "{root}/%252e%252e/x",
        "{root}/a?b=1",
        "mlflow-artifacts://evil.example/x",
        "s3://other-bucket/x",
        "runs:/{run}/models:/m/1",
        "http:///?/../../",
    ],
)
def test_unsafe_sources_are_refused_over_http(api: TrackingApi, template: str) -> None:
    name, run_id = _model_with_versions(api, 0)
    _, root = _run(api)
    before = _digest(api)
    source = template.replace("{run}", run_id).replace("{root}", root)
    response = _send(
        api, "POST", "/model-versions/create", {"name": name, "source": source, "run_id": run_id}
    )
    assert "'source'" in error_of(response, 400, "INVALID_PARAMETER_VALUE")
    assert _digest(api) == before


def test_download_uris(api: TrackingApi) -> None:
    name, run_id = _model_with_versions(api, 1)
    run = api.ok(api.get("/runs/get", {"run_id": run_id}))["run"]["info"]
    uri = _ok(api, "GET", "/model-versions/get-download-uri", {"name": name, "version": "1"})
    assert uri == {"artifact_uri": f"{run['artifact_uri']}/model"}
    source = f"{run['artifact_uri']}/other"
    _ok(api, "POST", "/model-versions/create", {"name": name, "source": source, "run_id": run_id})
    assert (
        _ok(api, "GET", "/model-versions/get-download-uri", {"name": name, "version": "2"})["artifact_uri"]
        == source
    )


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:secret".encode()).decode()}


def test_actor_is_the_basic_user_or_the_default_user(api: TrackingApi) -> None:
    name = unique("actors")
    _ok(api, "POST", "/registered-models/create", {"name": name}, headers=_basic("alice"))
    run_id, _ = _run(api)
    version = {"name": name, "source": f"runs:/{run_id}/model"}
    created = _ok(api, "POST", "/model-versions/create", version, headers=_basic("bob"))["model_version"]
    assert created["user_id"] == "bob"
    _ok(api, "POST", "/model-versions/create", version, headers={"Authorization": "Basic !!not-base64"})
    transition = {"name": name, "version": "1", "stage": "Staging", "comment": "ready"}
    _ok(api, "POST", "/model-versions/transition-stage", transition, prefix=AJAX, headers=_basic("carol"))
    events = _ok(api, "GET", "/registered-models/history", {"name": name}, prefix=WAYLINE)["events"]
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("model_created", "alice"),
        ("version_created", "bob"),
        ("version_created", "robot"),
        ("stage_changed", "carol"),
    ]
    assert events[-1]["comment"] == "ready"
    assert (events[-1]["version"], events[-1]["from_value"], events[-1]["to_value"]) == (
        "1",
        "None",
        "Staging",
    )


def test_wayline_history_and_update_routes(api: TrackingApi) -> None:
    name, _ = _model_with_versions(api, 2)
    _ok(api, "POST", "/registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    one = _ok(api, "GET", "/registered-models/history", {"name": name, "version": "2"}, prefix=WAYLINE)[
        "events"
    ]
    assert [e["kind"] for e in one] == ["version_created", "alias_set"]
    cut = one[0]["timestamp"]
    until = _ok(api, "GET", "/registered-models/history", {"name": name, "until": cut}, prefix=WAYLINE)[
        "events"
    ]
    assert until[0]["kind"] == "model_created"
    assert all(e["timestamp"] <= cut for e in until)
    nothing = _ok(api, "GET", "/registered-models/history", {"name": name, "until": 0}, prefix=WAYLINE)
    assert nothing == {"events": []}
    error_of(
        _send(api, "GET", "/registered-models/history", {"name": unique("missing")}, prefix=WAYLINE),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    error_of(
        _send(api, "GET", "/registered-models/history", {"name": name, "until": "soon"}, prefix=WAYLINE),
        400,
        "INVALID_PARAMETER_VALUE",
    )

    body = {"name": name, "owner": "team-ml", "protected": True}
    updated = _ok(api, "PATCH", "/registered-models/update", body, prefix=WAYLINE)["registered_model"]
    assert (updated["owner"], updated["protected"]) == ("team-ml", True)
    kept = _ok(api, "PATCH", "/registered-models/update", {"name": name, "description": "d"}, prefix=WAYLINE)
    assert (kept["registered_model"]["owner"], kept["registered_model"]["description"]) == ("team-ml", "d")
    before = _digest(api)
    error_of(
        _send(api, "PATCH", "/registered-models/update", {"name": name, "owner": "o" * 300}, prefix=WAYLINE),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(
        _send(
            api, "PATCH", "/registered-models/update", {"name": name, "protected": "maybe"}, prefix=WAYLINE
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert _digest(api) == before


def test_registry_searches_are_get_only_as_in_mlflow(api: TrackingApi) -> None:
    for route in ("/registered-models/search", "/model-versions/search"):
        assert api.client.post(API + route, json={}).status_code == 405


def test_web_ui_downloads_a_version_file(api: TrackingApi) -> None:
    name, run_id = _model_with_versions(api, 0)
    run = api.ok(api.get("/runs/get", {"run_id": run_id}))["run"]["info"]
    proxied = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    upload = api.client.put(
        f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/model/MLmodel", content=b"flavors: {}\n"
    )
    assert upload.status_code == 200, upload.text
    source = f"{run['artifact_uri']}/model"
    _ok(api, "POST", "/model-versions/create", {"name": name, "source": source, "run_id": run_id})
    got = api.client.get(
        "/model-versions/get-artifact", params={"name": name, "version": "1", "path": "MLmodel"}
    )
    assert got.status_code == 200, got.text
    assert got.content == b"flavors: {}\n"
    for bad in ("../MLmodel", "/etc/passwd", "%2e%2e/x"):
        response = api.client.get(
            "/model-versions/get-artifact", params={"name": name, "version": "1", "path": bad}
        )
        error_of(response, 400, "INVALID_PARAMETER_VALUE")
    response = api.client.get("/model-versions/get-artifact", params={"name": name, "version": "1"})
    error_of(response, 400, "INVALID_PARAMETER_VALUE")
    missing = api.client.get(
        "/model-versions/get-artifact", params={"name": name, "version": "7", "path": "x"}
    )
    error_of(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_default_user_setting(tmp_path: Path) -> None:
    from wayline.errors import InvalidParameterValue
    from wayline.server.app import create_app
    from wayline.server.settings import ServerSettings

    settings = ServerSettings.from_env(
        {"WAYLINE_DEFAULT_USER": "ci-bot", "WAYLINE_BACKEND_STORE_URI": str(tmp_path)}
    )
    assert settings.default_user == "ci-bot"
    assert settings.to_env()["WAYLINE_DEFAULT_USER"] == "ci-bot"
    with pytest.raises(InvalidParameterValue, match="'default_user'"):
        ServerSettings(backend_store_uri=str(tmp_path), default_user="two\nlines").checked()
    with pytest.raises(InvalidParameterValue, match="'default_actor'"):
        create_app(ServerSettings(backend_store_uri=str(tmp_path), default_user="x" * 300))
