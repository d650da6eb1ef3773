"""The real ``mlflow`` client's webhook calls against a real Wayline server: create, get, list (paged),
update, delete and test_webhook, with deliveries to a receiver on loopback (the server is started with
``WAYLINE_WEBHOOK_ALLOW_PRIVATE=true`` for it) whose signature MLflow's own code computes identically."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from loopback import LoopbackServer, Reply, serve
from servers import ServerProcess, start_server

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities.webhook import WebhookEvent, WebhookStatus  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.webhooks.delivery import _generate_hmac_signature  # noqa: E402
from mlflow.webhooks.types import get_example_payload_for_event  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

SECRET = "whsec-compat"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def webhook_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A Wayline server whose webhooks may call loopback addresses (where the test receiver listens)."""
    args: tuple[str, ...] = ()
    if request.param == "postgres":
        args = ("--backend-store-uri", request.getfixturevalue("postgres_server").create_database())
    server = start_server(
        tmp_path_factory.mktemp(f"webhooks-{request.param}"),
        args=args,
        env={"WAYLINE_WEBHOOK_ALLOW_PRIVATE": "true"},
    )
    yield server
    server.stop()


@pytest.fixture
def client(webhook_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return MlflowClient(tracking_uri=webhook_server.url)


@pytest.fixture
def receiver() -> Iterator[LoopbackServer]:
    with serve(lambda _: Reply(200, b"received")) as server:
        yield server


def _name() -> str:
    return f"hook-{uuid.uuid4().hex[:10]}"


def test_mlflow_client_manages_webhooks(client: MlflowClient, receiver: LoopbackServer) -> None:
    name = _name()
    created = client.create_webhook(
        name=name,
        url=receiver.url + "/hook",
        events=["registered_model.created", WebhookEvent("model_version_alias", "created")],
        description="deploy on promotion",
        secret=SECRET,
    )
    assert (created.name, created.url, created.description) == (
        name,
        receiver.url + "/hook",
        "deploy on promotion",
    )
    assert [str(e) for e in created.events] == ["registered_model.created", "model_version_alias.created"]
    assert created.status is WebhookStatus.ACTIVE
    assert created.secret is None  # write-only
    fetched = client.get_webhook(created.webhook_id)
    assert (fetched.webhook_id, fetched.name, fetched.creation_timestamp) == (
        created.webhook_id,
        name,
        created.creation_timestamp,
    )

    other = client.create_webhook(name=_name(), url=receiver.url, events=["model_version.created"])
    first = client.list_webhooks(max_results=1)
    assert [w.webhook_id for w in first] == [other.webhook_id]  # newest first
    assert first.token
    second = client.list_webhooks(max_results=1, page_token=first.token)
    assert [w.webhook_id for w in second] == [created.webhook_id]

    updated = client.update_webhook(
        created.webhook_id,
        name=name + "-v2",
        description="",
        events=["model_version_tag.set", "model_version_tag.deleted"],
        status="DISABLED",
    )
    assert (updated.name, updated.description, updated.status) == (name + "-v2", None, WebhookStatus.DISABLED)
    assert [str(e) for e in updated.events] == ["model_version_tag.set", "model_version_tag.deleted"]
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert client.get_webhook(created.webhook_id).url == receiver.url + "/hook"

    for webhook_id in (created.webhook_id, other.webhook_id):
        client.delete_webhook(webhook_id)
        with pytest.raises(MlflowException) as info:
            client.get_webhook(webhook_id)
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert receiver.seen == []  # managing webhooks sends nothing


def test_test_webhook_delivers_what_mlflow_would_sign(client: MlflowClient, receiver: LoopbackServer) -> None:
    webhook = client.create_webhook(
        name=_name(), url=receiver.url + "/hook", events=["model_version.created"], secret=SECRET
    )
    result = client.test_webhook(webhook.webhook_id)
    assert (result.success, result.response_status, result.response_body, result.error_message) == (
        True,
        200,
        "received",
        None,
    )
    tag_set = WebhookEvent("model_version_tag", "set")
    assert client.test_webhook(webhook.webhook_id, event=tag_set).success

    assert len(receiver.seen) == 2
    for seen, event in zip(receiver.seen, (WebhookEvent("model_version", "created"), tag_set), strict=True):
        delivery_id = seen.headers["x-mlflow-delivery-id"]
        timestamp = seen.headers["x-mlflow-timestamp"]
        expected = _generate_hmac_signature(SECRET, delivery_id, timestamp, seen.body.decode())
        assert seen.headers["x-mlflow-signature"] == expected
        body = json.loads(seen.body)
        assert (body["entity"], body["action"]) == (event.entity.value, event.action.value)
        assert body["data"] == dict(get_example_payload_for_event(event))
    client.delete_webhook(webhook.webhook_id)


def test_failed_tests_and_missing_webhooks(client: MlflowClient) -> None:
    with serve(lambda _: Reply(503, b"maintenance")) as down:
        webhook = client.create_webhook(name=_name(), url=down.url, events=["registered_model.created"])
        result = client.test_webhook(webhook.webhook_id)
    assert (result.success, result.response_status, result.response_body) == (False, 503, "maintenance")
    client.delete_webhook(webhook.webhook_id)
    for call in (client.get_webhook, client.delete_webhook, client.test_webhook):
        with pytest.raises(MlflowException) as info:
            call(str(uuid.uuid4()))
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as info:
        client.create_webhook(name="Not A Valid Name", url="http://127.0.0.1:9/", events=["prompt.created"])
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_wayline_events_do_not_break_mlflow_clients(
    client: MlflowClient, webhook_server: ServerProcess, receiver: LoopbackServer
) -> None:
    body = {
        "name": _name(),
        "url": receiver.url,
        "events": [
            {"entity": "MODEL_VERSION", "action": "CREATED"},
            {"entity": "TRANSITION_REQUEST", "action": "APPROVED"},
        ],
    }
    response = httpx.post(webhook_server.url + "/api/2.0/mlflow/webhooks", json=body, timeout=30)
    assert response.status_code == 200, response.text
    webhook_id = response.json()["webhook"]["webhook_id"]
    assert response.json()["webhook"]["wayline_events"] == [
        {"entity": "TRANSITION_REQUEST", "action": "APPROVED"}
    ]
    listed = {w.webhook_id: w for w in client.list_webhooks(max_results=1000)}
    assert [str(e) for e in listed[webhook_id].events] == ["model_version.created"]
    client.delete_webhook(webhook_id)


def test_loopback_targets_are_refused_by_a_default_server(sqlite_server: ServerProcess) -> None:
    client = MlflowClient(tracking_uri=sqlite_server.url)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/", "http://169.254.169.254/latest"):
        with pytest.raises(MlflowException) as info:
            client.create_webhook(name=_name(), url=url, events=["registered_model.created"])
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "'url'" in info.value.message
