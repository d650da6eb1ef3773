"""The webhook routes in process: MLflow's ``/webhooks`` routes under both prefixes (shapes, statuses, error
codes), Wayline's delivery log, refused URLs and other bad input (4xx, nothing changed), the secret never
returned, and the administrator rule."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from loopback import Reply, serve
from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
DELIVERIES = "/api/2.0/wayline/webhooks/deliveries"
SECRET = "never-shown-secret"
CREATED = {"entity": "REGISTERED_MODEL", "action": "CREATED"}
WEBHOOK_KEYS = [
    "webhook_id",
    "name",
    "url",
    "events",
    "status",
    "creation_timestamp",
    "last_updated_timestamp",
]


@contextmanager
def _client(tmp_path: Path, **settings: Any) -> Iterator[TestClient]:
    config = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'wayline.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        **settings,
    )
    with TestClient(create_app(config)) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A server that lets webhooks call loopback receivers (the tests' receivers live there)."""
    with _client(tmp_path, webhook_allow_private=True) as opened:
        yield opened


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[TestClient]:
    """A server with the default guard: no loopback, private or metadata targets."""
    with _client(tmp_path, webhook_allow_private=False) as opened:
        yield opened


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    body: dict[str, Any] = response.json()
    return body


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    assert SECRET not in response.text
    return str(body["message"])


def _create(client: TestClient, prefix: str = API, **fields: Any) -> dict[str, Any]:
    body = {"name": "ci", "url": "http://127.0.0.1:9/hook", "events": [CREATED], "secret": SECRET, **fields}
    webhook: dict[str, Any] = _ok(client.post(prefix + "/webhooks", json=body))["webhook"]
    return webhook


def _count(client: TestClient) -> int:
    return len(_ok(client.get(API + "/webhooks")).get("webhooks", []))


# -- MLflow's routes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [API, AJAX])
def test_webhook_lifecycle_in_mlflows_shapes(client: TestClient, prefix: str) -> None:
    created = _create(
        client,
        prefix,
        description="deploys",
        events=[CREATED, {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}],
    )
    assert list(created) == [*WEBHOOK_KEYS[:2], "description", *WEBHOOK_KEYS[2:]]
    assert created["events"] == [CREATED, {"entity": "MODEL_VERSION_ALIAS", "action": "CREATED"}]
    assert (created["status"], created["description"]) == ("ACTIVE", "deploys")
    assert created["creation_timestamp"] == created["last_updated_timestamp"]
    assert isinstance(created["creation_timestamp"], int)
    webhook_id = created["webhook_id"]

    assert _ok(client.get(f"{prefix}/webhooks/{webhook_id}")) == {"webhook": created}
    assert _ok(client.get(prefix + "/webhooks")) == {"webhooks": [created]}

    updated = _ok(
        client.patch(
            f"{prefix}/webhooks/{webhook_id}", json={"description": "", "status": "DISABLED", "name": ""}
        )
    )["webhook"]
    assert list(updated) == WEBHOOK_KEYS  # an empty description is removed, an empty name changes nothing
    assert (updated["name"], updated["status"], updated["events"]) == ("ci", "DISABLED", created["events"])
    renamed = _ok(
        client.patch(
            f"{prefix}/webhooks/{webhook_id}",
            json={"name": "cd", "events": [{"entity": "MODEL_VERSION_TAG", "action": "SET"}], "url": ""},
        )
    )["webhook"]
    assert (renamed["name"], renamed["url"], renamed["status"]) == ("cd", created["url"], "DISABLED")
    assert renamed["events"] == [{"entity": "MODEL_VERSION_TAG", "action": "SET"}]

    assert _ok(client.delete(f"{prefix}/webhooks/{webhook_id}")) == {}
    message = _error(client.get(f"{prefix}/webhooks/{webhook_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == f"Webhook with ID {webhook_id} not found."
    _error(client.delete(f"{prefix}/webhooks/{webhook_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(
        client.patch(f"{prefix}/webhooks/{webhook_id}", json={"name": "x"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert _ok(client.get(prefix + "/webhooks")) == {}


def test_events_by_name_number_or_any_case_and_wayline_events_apart(client: TestClient) -> None:
    webhook = _create(
        client,
        events=[
            {"entity": 2, "action": 1},
            {"entity": "model_version_tag", "action": "deleted"},
            {"entity": "TRANSITION_REQUEST", "action": "APPROVED"},
        ],
        wayline_events=[{"entity": "MODEL_VERSION_STAGE", "action": "UPDATED"}],
        status=2,
    )
    assert webhook["events"] == [
        {"entity": "MODEL_VERSION", "action": "CREATED"},
        {"entity": "MODEL_VERSION_TAG", "action": "DELETED"},
    ]
    assert webhook["wayline_events"] == [
        {"entity": "TRANSITION_REQUEST", "action": "APPROVED"},
        {"entity": "MODEL_VERSION_STAGE", "action": "UPDATED"},
    ]
    assert webhook["status"] == "DISABLED"


def test_listing_pages_newest_first(client: TestClient) -> None:
    ids = [_create(client, name=f"hook-{i}")["webhook_id"] for i in range(3)]
    first = _ok(client.get(API + "/webhooks", params={"max_results": 2}))
    assert len(first["webhooks"]) == 2
    second = _ok(
        client.get(API + "/webhooks", params={"max_results": 2, "page_token": first["next_page_token"]})
    )
    assert "next_page_token" not in second
    assert [w["webhook_id"] for w in first["webhooks"] + second["webhooks"]] == ids[::-1]
    assert (
        len(_ok(client.get(API + "/webhooks", params={"max_results": 0}))["webhooks"]) == 3
    )  # 0: the default
    _error(client.get(API + "/webhooks", params={"max_results": 1001}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.get(API + "/webhooks", params={"max_results": "x"}), 400, "INVALID_PARAMETER_VALUE")
    assert "page_token" in _error(
        client.get(API + "/webhooks", params={"page_token": "garbage"}), 400, "INVALID_PARAMETER_VALUE"
    )


# -- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/", "events": [CREATED]}, "name"),
        ({"name": "ci", "events": [CREATED]}, "url"),
        ({"name": "ci", "url": "http://127.0.0.1:9/"}, "events"),
        ({"name": "ci", "url": "http://127.0.0.1:9/", "events": []}, "events"),
        ({"name": "ci", "url": "http://127.0.0.1:9/", "events": "x"}, "events"),
        ({"name": "Bad Name", "url": "http://127.0.0.1:9/", "events": [CREATED]}, "name"),
        ({"name": "-ci", "url": "http://127.0.0.1:9/", "events": [CREATED]}, "name"),
        ({"name": "x" * 64, "url": "http://127.0.0.1:9/", "events": [CREATED]}, "name"),
        (
            {"name": "ci", "url": "http://127.0.0.1:9/", "events": [{"entity": "FOO", "action": "SET"}]},
            "entity",
        ),
        ({"name": "ci", "url": "http://127.0.0.1:9/", "events": [{"entity": "REGISTERED_MODEL"}]}, "action"),
        (
            {
                "name": "ci",
                "url": "http://127.0.0.1:9/",
                "events": [{"entity": "REGISTERED_MODEL", "action": "SET"}],
            },
            "events[0]",
        ),
        ({"name": "ci", "url": "http://127.0.0.1:9/", "events": [CREATED], "status": "FOO"}, "status"),
        ({"name": "ci", "url": "ftp://127.0.0.1/", "events": [CREATED]}, "url"),
        ({"name": "ci", "url": "http://u:p@127.0.0.1:9/", "events": [CREATED]}, "url"),
        ({"name": "ci", "url": "http://169.254.169.254/", "events": [CREATED]}, "url"),
        ({"name": "ci", "url": "http://0177.0.0.1/", "events": [CREATED]}, "url"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    message = _error(client.post(API + "/webhooks", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert f"'{field}" in message or f".{field}'" in message, message
    assert _count(client) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.8/",
        "http://192.168.1.10/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_private_targets_are_refused_by_default(strict: TestClient, url: str) -> None:
    body = {"name": "ci", "url": url, "events": [CREATED]}
    message = _error(strict.post(API + "/webhooks", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert "parameter 'url'" in message
    assert _count(strict) == 0


def test_a_refused_update_changes_nothing(strict: TestClient) -> None:
    webhook = _create(strict, url="http://8.8.8.8/hook")
    path = f"{API}/webhooks/{webhook['webhook_id']}"
    for body in (
        {"url": "http://127.0.0.1/", "name": "changed"},
        {"name": "no spaces allowed", "description": "changed"},
        {"events": [{"entity": "MODEL_VERSION", "action": "SET"}], "status": "DISABLED"},
        {"status": "PAUSED", "name": "changed"},
    ):
        _error(strict.patch(path, json=body), 400, "INVALID_PARAMETER_VALUE")
    assert _ok(strict.get(path))["webhook"] == webhook


# -- test deliveries and the delivery log --------------------------------------------------------------------
def test_test_webhook_reports_the_receivers_answer(client: TestClient) -> None:
    with serve(lambda _: Reply(200, b"thanks")) as receiver:
        webhook = _create(client, url=receiver.url + "/hook")
        path = f"{API}/webhooks/{webhook['webhook_id']}/test"
        assert _ok(client.post(path, json={})) == {
            "result": {"success": True, "response_status": 200, "response_body": "thanks"}
        }
        tag_event = {"event": {"entity": "MODEL_VERSION_TAG", "action": "SET"}}
        assert _ok(client.post(path, json=tag_event))["result"]["success"] is True
    assert [s.path for s in receiver.seen] == ["/hook", "/hook"]
    assert "x-mlflow-signature" in receiver.seen[0].headers
    _error(client.post(f"{API}/webhooks/nope/test", json={}), 404, "RESOURCE_DOES_NOT_EXIST")
    bad = {"event": {"entity": "MODEL_VERSION_TAG", "action": "CREATED"}}
    assert "'event'" in _error(client.post(path, json=bad), 400, "INVALID_PARAMETER_VALUE")


def test_test_webhook_reports_failures_as_results(client: TestClient) -> None:
    with serve(lambda _: Reply(500, b"down")) as receiver:
        webhook = _create(client, url=receiver.url)
        result = _ok(client.post(f"{API}/webhooks/{webhook['webhook_id']}/test", json={}))["result"]
    assert (result["success"], result["response_status"], result["response_body"]) == (False, 500, "down")


def test_the_delivery_log_lists_attempts(client: TestClient) -> None:
    with serve(lambda _: Reply(200)) as receiver:
        one = _create(client, name="one", url=receiver.url)
        two = _create(client, name="two", url=receiver.url)
        for webhook in (one, two, one):
            _ok(client.post(f"{API}/webhooks/{webhook['webhook_id']}/test", json={}))
    everything = _ok(client.get(DELIVERIES))["deliveries"]
    assert len(everything) == 3
    first = _ok(client.get(DELIVERIES, params={"webhook_id": one["webhook_id"], "max_results": 1}))
    [delivery] = first["deliveries"]
    assert set(delivery) == {
        "delivery_id",
        "webhook_id",
        "event",
        "status",
        "attempts",
        "creation_timestamp",
        "last_attempt_timestamp",
        "response_status",
        "test",
        "payload",
    }
    assert (delivery["status"], delivery["attempts"], delivery["response_status"], delivery["test"]) == (
        "SUCCEEDED",
        1,
        200,
        True,
    )
    assert delivery["event"] == CREATED
    assert receiver.seen[-1].headers["x-mlflow-delivery-id"] == delivery["delivery_id"]
    rest = _ok(
        client.get(
            DELIVERIES, params={"webhook_id": one["webhook_id"], "page_token": first["next_page_token"]}
        )
    )
    assert len(rest["deliveries"]) == 1
    assert "next_page_token" not in rest
    _ok(client.delete(f"{API}/webhooks/{one['webhook_id']}"))
    assert len(_ok(client.get(DELIVERIES, params={"webhook_id": one["webhook_id"]}))["deliveries"]) == 2
    _error(client.get(DELIVERIES, params={"webhook_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(client.get(DELIVERIES, params={"max_results": 5000}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.get(DELIVERIES, params={"webhook_id": "../x"}), 400, "INVALID_PARAMETER_VALUE")


# -- administrators ------------------------------------------------------------------------------------------
def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


def test_only_administrators_manage_webhooks(tmp_path: Path) -> None:
    with _client(tmp_path, webhook_allow_private=True, admins="alice, carol") as client:
        body = {"name": "ci", "url": "http://127.0.0.1:9/", "events": [CREATED]}
        for headers in ({}, _basic("bob")):
            message = _error(
                client.post(API + "/webhooks", json=body, headers=headers), 403, "PERMISSION_DENIED"
            )
            assert "administrators" in message
        assert _count(client) == 0
        webhook = _ok(client.post(API + "/webhooks", json=body, headers=_basic("alice")))["webhook"]
        path = f"{API}/webhooks/{webhook['webhook_id']}"
        _error(client.patch(path, json={"name": "x"}, headers=_basic("bob")), 403, "PERMISSION_DENIED")
        _error(client.post(path + "/test", json={}, headers=_basic("bob")), 403, "PERMISSION_DENIED")
        _error(client.delete(path, headers=_basic("bob")), 403, "PERMISSION_DENIED")
        assert _ok(client.get(path))["webhook"] == webhook  # reading is open; nothing changed
        assert _ok(client.get(DELIVERIES)) == {}
        assert (
            _ok(client.patch(path, json={"name": "cd"}, headers=_basic("carol")))["webhook"]["name"] == "cd"
        )
        assert _ok(client.delete(path, headers=_basic("carol"))) == {}


def test_the_default_user_can_be_the_administrator(tmp_path: Path) -> None:
    with _client(tmp_path, webhook_allow_private=True, admins="ops", default_user="ops") as client:
        _create(client)
        _error(
            client.post(
                API + "/webhooks",
                json={"name": "x", "url": "http://127.0.0.1:9/", "events": [CREATED]},
                headers=_basic("mallory"),
            ),
            403,
            "PERMISSION_DENIED",
        )
