"""The experiment routes answer as MLflow's server does: shapes, omissions, paging, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tracking_api import AJAX, BACKENDS, TrackingApi, error_of, open_api, unique


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    with open_api(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=BACKENDS)
def isolated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    """An app on a database of its own (searches see only what the test made)."""
    with open_api(request.param, request, tmp_path, fresh=True) as opened:
        yield opened


def test_create_then_get_has_mlflow_shape(api: TrackingApi) -> None:
    name = unique("shape")
    created = api.ok(api.post("/experiments/create", {"name": name, "tags": [{"key": "team", "value": "a"}]}))
    assert set(created) == {"experiment_id"}
    experiment_id = created["experiment_id"]
    assert isinstance(experiment_id, str)
    assert experiment_id.isdigit()

    got = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))
    experiment = got["experiment"]
    assert set(got) == {"experiment"}
    assert experiment["experiment_id"] == experiment_id
    assert experiment["name"] == name
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert experiment["lifecycle_stage"] == "active"
    assert isinstance(experiment["creation_time"], int)
    assert isinstance(experiment["last_update_time"], int)
    assert experiment["tags"] == [{"key": "team", "value": "a"}]

    by_name = api.ok(api.get("/experiments/get-by-name", {"experiment_name": name}))
    assert by_name == got
    assert api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}, prefix=AJAX)) == got


def test_experiment_without_tags_omits_them(api: TrackingApi) -> None:
    experiment_id = api.new_experiment("bare")
    experiment = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert "tags" not in experiment


def test_duplicate_name_is_resource_already_exists(api: TrackingApi) -> None:
    name = unique("dup")
    api.ok(api.post("/experiments/create", {"name": name}))
    error_of(api.post("/experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS")


def test_missing_and_malformed_fields(api: TrackingApi) -> None:
    message = error_of(api.post("/experiments/create", {}), 400, "INVALID_PARAMETER_VALUE")
    assert message == "Missing value for required parameter 'name'."
    message = error_of(api.get("/experiments/get", {}), 400, "INVALID_PARAMETER_VALUE")
    assert message == "Missing value for required parameter 'experiment_id'."
    assert "experiment_id" in error_of(
        api.get("/experiments/get", {"experiment_id": "abc"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "new_name" in error_of(
        api.post("/experiments/update", {"experiment_id": "0"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "tags" in error_of(
        api.post("/experiments/create", {"name": unique("t"), "tags": "x"}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_unknown_experiment_is_not_found(api: TrackingApi) -> None:
    error_of(api.get("/experiments/get", {"experiment_id": "987654321"}), 404, "RESOURCE_DOES_NOT_EXIST")
    message = error_of(
        api.get("/experiments/get-by-name", {"experiment_name": "no-such-experiment"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert message == "Could not find experiment with name 'no-such-experiment'"
    for route in ("/experiments/delete", "/experiments/restore"):
        error_of(api.post(route, {"experiment_id": "987654321"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_rename_delete_restore(api: TrackingApi) -> None:
    experiment_id = api.new_experiment("life")
    new_name = unique("renamed")
    assert (
        api.ok(api.post("/experiments/update", {"experiment_id": experiment_id, "new_name": new_name})) == {}
    )
    assert (
        api.ok(api.get("/experiments/get-by-name", {"experiment_name": new_name}))["experiment"][
            "experiment_id"
        ]
        == experiment_id
    )

    assert api.ok(api.post("/experiments/delete", {"experiment_id": experiment_id})) == {}
    stage = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"][
        "lifecycle_stage"
    ]
    assert stage == "deleted"
    assert api.ok(api.post("/experiments/restore", {"experiment_id": experiment_id})) == {}
    stage = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"][
        "lifecycle_stage"
    ]
    assert stage == "active"


def test_experiment_tags(api: TrackingApi) -> None:
    experiment_id = api.new_experiment("tags")
    body = {"experiment_id": experiment_id, "key": "owner", "value": "ana"}
    assert api.ok(api.post("/experiments/set-experiment-tag", body)) == {}
    experiment = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["tags"] == [{"key": "owner", "value": "ana"}]

    delete = {"experiment_id": experiment_id, "key": "owner"}
    assert api.ok(api.post("/experiments/delete-experiment-tag", delete)) == {}
    assert "tags" not in api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"]
    error_of(api.post("/experiments/delete-experiment-tag", delete), 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_pages_with_tokens_get_and_post(isolated: TrackingApi) -> None:
    api = isolated
    ids = {api.new_experiment("page") for _ in range(5)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body = {"max_results": 2, "filter": "name LIKE 'page-%'", "order_by": ["name ASC"]}
        if token:
            body["page_token"] = token
        page = api.ok(api.post("/experiments/search", body))
        pages += 1
        seen.extend(e["experiment_id"] for e in page["experiments"])
        token = page.get("next_page_token")
        if token is None:
            assert set(page) == {"experiments"}
            break
    assert pages == 3
    assert set(seen) == ids
    assert len(seen) == 5

    got = api.ok(api.get("/experiments/search", {"max_results": 10, "filter": "name LIKE 'page-%'"}))
    assert {e["experiment_id"] for e in got["experiments"]} == ids
    assert "next_page_token" not in got


def test_search_view_type_by_name_and_number(isolated: TrackingApi) -> None:
    api = isolated
    kept = api.new_experiment("kept")
    gone = api.new_experiment("gone")
    api.ok(api.post("/experiments/delete", {"experiment_id": gone}))

    def ids(view_type: object) -> set[str]:
        body = api.ok(api.get("/experiments/search", {"max_results": 100, "view_type": view_type}))
        return {e["experiment_id"] for e in body.get("experiments", [])}

    assert ids("DELETED_ONLY") == ids("2") == {gone}
    assert ids("ACTIVE_ONLY") == ids("1") == {"0", kept}
    assert ids("ALL") == ids("3") == {"0", kept, gone}
    assert (
        api.ok(api.post("/experiments/search", {"view_type": 2}))["experiments"][0]["experiment_id"] == gone
    )
    error_of(api.get("/experiments/search", {"view_type": "SOME"}), 400, "INVALID_PARAMETER_VALUE")


def test_search_with_no_match_is_an_empty_object(api: TrackingApi) -> None:
    assert api.ok(api.post("/experiments/search", {"filter": f"name = '{unique('none')}'"})) == {}


def test_search_limits_and_syntax(api: TrackingApi) -> None:
    assert "max_results" in error_of(
        api.post("/experiments/search", {"max_results": 50001}), 400, "INVALID_PARAMETER_VALUE"
    )
    error_of(api.post("/experiments/search", {"max_results": 0}), 400, "INVALID_PARAMETER_VALUE")
    assert "filter" in error_of(
        api.post("/experiments/search", {"filter": "name =="}), 400, "INVALID_PARAMETER_VALUE"
    )
    error_of(api.post("/experiments/search", {"page_token": "garbage"}), 400, "INVALID_PARAMETER_VALUE")


def test_object_store_and_proxied_locations_are_accepted(api: TrackingApi) -> None:
    for location in ("s3://bucket/team/x", "mlflow-artifacts:/custom/place"):
        experiment_id = api.new_experiment("loc", artifact_location=location)
        got = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"]
        assert got["artifact_location"] == location


TRAVERSALS = [
    "/etc",
    "/etc/passwd",
    "file:///etc",
    "file://./x",
    "file:x",
    "relative/path",
    "../outside",
    "..\\outside",
    "//proc/self/environ",
    "C:/Windows",
    "s3://bucket/a/../../b",
    "s3://bucket/a/%2e%2e/b",
    "s3://bucket/a/%252e%252e%252fb",
    "s3://bucket/a;param",
    "s3://bucket/a?q=1",
    "s3://bucket/a#frag",
    "s3:///no-bucket",
    "mlflow-artifacts://other-host/x",
    "mlflow-artifacts:/a/../../etc",
    "http:///?/../../",
    "http://169.254.169.254/latest",
    "runs:/abc/model",
    "models:/m/1",
    "unknown-scheme://x/y",
]


@pytest.mark.parametrize("location", TRAVERSALS)
def test_locations_outside_the_artifact_store_are_refused(api: TrackingApi, location: str) -> None:
    name = unique("evil")
    message = error_of(
        api.post("/experiments/create", {"name": name, "artifact_location": location}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "artifact_location" in message
    error_of(api.get("/experiments/get-by-name", {"experiment_name": name}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_without_proxy_only_the_default_root_is_local(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    root = tmp_path / "shared-artifacts"
    with open_api("sqlite", request, tmp_path, serve_artifacts=False, default_artifact_root=str(root)) as api:
        inside = f"{root}/team-a"
        experiment_id = api.new_experiment("local", artifact_location=inside)
        got = api.ok(api.get("/experiments/get", {"experiment_id": experiment_id}))["experiment"]
        assert got["artifact_location"] == inside
        error_of(
            api.post("/experiments/create", {"name": unique("x"), "artifact_location": f"{root}-other/x"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        error_of(
            api.post("/experiments/create", {"name": unique("x"), "artifact_location": f"{root}/../x"}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
