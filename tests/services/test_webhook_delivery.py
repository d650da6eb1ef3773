"""Webhook deliveries to a real HTTP receiver on loopback (so private targets are allowed explicitly):
MLflow's payload, headers and signature, retries with backoff, giving up, the delivery log, and the guard on
connections, TLS and redirects. Backoff is set to zero: the tests never wait on a clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from loopback import Reply, Seen, make_certificates, script, serve
from wayline.entities.webhook import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookStatus
from wayline.services import outbound_http
from wayline.services.outbound_url import parse_url
from wayline.services.webhook_delivery import WebhookDispatcher
from wayline.store.sql.webhooks import SqlWebhookStore

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SECRET = "whsec-test-secret"
VERSION_CREATED = WebhookEvent.from_name("model_version.created")
DATA = {
    "name": "churn",
    "version": "3",
    "source": "models:/m-123",
    "run_id": "abc",
    "tags": {"team": "ml"},
    "description": None,
}


@pytest.fixture(params=BACKENDS)
def hooks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlWebhookStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wayline.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with SqlWebhookStore(url) as store:
        if request.param == "postgres":
            with store.engine.begin() as conn:
                for table in ("webhook_deliveries", "webhook_events", "webhooks"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
        yield store


def _dispatcher(hooks: SqlWebhookStore, **options: object) -> WebhookDispatcher:
    settings: dict[str, object] = {
        "allow_private": True,  # the receiver is on loopback
        "max_attempts": 3,
        "timeout_s": 10.0,
        "backoff_s": 0.0,
        "max_backoff_s": 0.0,
        **options,
    }
    return WebhookDispatcher(hooks, **settings)  # type: ignore[arg-type]


@pytest.fixture
def dispatcher(hooks: SqlWebhookStore) -> Iterator[WebhookDispatcher]:
    opened = _dispatcher(hooks)
    yield opened
    opened.close(timeout=30)


def _webhook(
    hooks: SqlWebhookStore, url: str, *, events: tuple[str, ...] = ("model_version.created",), **kw: object
) -> str:
    fields: dict[str, object] = {"secret": SECRET, **kw}
    return hooks.create_webhook(
        name="ci",
        url=url,
        events=[WebhookEvent.from_name(e) for e in events],
        **fields,  # type: ignore[arg-type]
    ).webhook_id


def _only_delivery(hooks: SqlWebhookStore, webhook_id: str) -> WebhookDelivery:
    deliveries = list(hooks.list_deliveries(webhook_id=webhook_id))
    assert len(deliveries) == 1, deliveries
    return deliveries[0]


def verify_mlflow_signature(secret: str, seen: Seen) -> bool:
    """What a receiver written for MLflow does: HMAC-SHA256 of ``<delivery id>.<timestamp>.<body>``."""
    delivery_id = seen.headers["x-mlflow-delivery-id"]
    timestamp = seen.headers["x-mlflow-timestamp"]
    version, _, signature = seen.headers["x-mlflow-signature"].partition(",")
    signed = f"{delivery_id}.{timestamp}.{seen.body.decode()}".encode()
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    return version == "v1" and hmac.compare_digest(expected, signature)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- what is sent --------------------------------------------------------------------------------------------
def test_an_event_is_delivered_signed_in_mlflows_shape(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(lambda _: Reply(200, b"ok")) as receiver:
        webhook_id = _webhook(hooks, receiver.url + "/hook?team=ml")
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    [seen] = receiver.seen
    assert (seen.method, seen.path, seen.query) == ("POST", "/hook", {"team": ["ml"]})
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["host"] == receiver.url.removeprefix("http://")
    assert seen.headers["x-mlflow-timestamp"].isdigit()
    assert verify_mlflow_signature(SECRET, seen)
    assert not verify_mlflow_signature("another secret", seen)
    body = json.loads(seen.body)
    assert list(body) == ["entity", "action", "timestamp", "data"]
    assert (body["entity"], body["action"], body["data"]) == ("model_version", "created", DATA)
    assert datetime.fromisoformat(body["timestamp"]).utcoffset() == timezone.utc.utcoffset(None)

    delivery = _only_delivery(hooks, webhook_id)
    assert delivery.delivery_id == seen.headers["x-mlflow-delivery-id"]
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
        None,
    )
    assert delivery.payload == seen.body.decode()
    assert delivery.event == VERSION_CREATED
    assert not delivery.test


def test_without_a_secret_there_is_no_signature(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(lambda _: Reply(204, b"")) as receiver:
        webhook_id = _webhook(hooks, receiver.url, secret=None)
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    assert "x-mlflow-signature" not in receiver.seen[0].headers
    assert _only_delivery(hooks, webhook_id).status is DeliveryStatus.SUCCEEDED


def test_only_active_subscribers_receive_an_event(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(lambda _: Reply(200)) as receiver:
        wanted = _webhook(
            hooks, receiver.url + "/wanted", events=("model_version.created", "transition_request.approved")
        )
        disabled = _webhook(hooks, receiver.url + "/disabled", status=WebhookStatus.DISABLED)
        other = _webhook(hooks, receiver.url + "/other", events=("registered_model.created",))
        deleted = _webhook(hooks, receiver.url + "/deleted")
        hooks.delete_webhook(deleted)
        dispatcher.emit("model_version", "created", DATA)
        dispatcher.emit("transition_request", "approved", {"name": "churn", "version": "3"})
        assert dispatcher.drain(30)
    assert sorted(s.path for s in receiver.seen) == ["/wanted", "/wanted"]
    assert len(hooks.list_deliveries(webhook_id=wanted)) == 2
    for webhook_id in (disabled, other, deleted):
        assert len(hooks.list_deliveries(webhook_id=webhook_id)) == 0


def test_bad_events_are_dropped_without_raising(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(lambda _: Reply(200)) as receiver:
        _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "exploded", DATA)
        dispatcher.emit("nothing", "created", DATA)
        dispatcher.emit("model_version", "created", {"when": datetime.now()})  # not JSON
        assert dispatcher.drain(30)
    assert receiver.seen == []
    assert len(hooks.list_deliveries()) == 0


def test_emit_returns_before_the_delivery_is_made(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    emitted = threading.Event()
    answered_after_emit: list[bool] = []

    def respond(_: Seen) -> Reply:
        answered_after_emit.append(emitted.wait(30))
        return Reply(200)

    with serve(respond) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        emitted.set()
        assert dispatcher.drain(30)
    assert answered_after_emit == [True]
    assert _only_delivery(hooks, webhook_id).status is DeliveryStatus.SUCCEEDED


# -- retries -------------------------------------------------------------------------------------------------
def test_server_errors_are_retried_until_the_receiver_accepts(hooks: SqlWebhookStore) -> None:
    dispatcher = _dispatcher(hooks, max_attempts=5)
    with serve(script(Reply(500), Reply(502), Reply(200))) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    dispatcher.close()
    assert len(receiver.seen) == 3
    assert (
        len({s.headers["x-mlflow-delivery-id"] for s in receiver.seen}) == 1
    )  # one delivery, three attempts
    assert all(verify_mlflow_signature(SECRET, s) for s in receiver.seen)
    assert len({s.body for s in receiver.seen}) == 1
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        DeliveryStatus.SUCCEEDED,
        3,
        200,
        None,
    )


def test_delivery_gives_up_after_the_last_attempt(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(lambda _: Reply(503, b"busy, come back later")) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    assert len(receiver.seen) == 3
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 3, 503)
    assert delivery.error == "HTTP 503: busy, come back later"
    assert delivery.last_attempt_timestamp is not None


def test_429_is_retried_and_other_client_errors_are_not(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    def respond(seen: Seen) -> Reply:
        if seen.path == "/limited":
            limited = [s for s in receiver.seen if s.path == "/limited"]
            return Reply(429, headers={"Retry-After": "0"}) if len(limited) == 1 else Reply(200)
        return Reply(404)

    with serve(respond) as receiver:
        limited = _webhook(hooks, receiver.url + "/limited")
        missing = _webhook(hooks, receiver.url + "/missing")
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    assert [s.path for s in receiver.seen].count("/limited") == 2
    assert [s.path for s in receiver.seen].count("/missing") == 1
    ok = _only_delivery(hooks, limited)
    assert (ok.status, ok.attempts, ok.response_status) == (DeliveryStatus.SUCCEEDED, 2, 200)
    gone = _only_delivery(hooks, missing)
    assert (gone.status, gone.attempts, gone.response_status, gone.error) == (
        DeliveryStatus.FAILED,
        1,
        404,
        "HTTP 404: {}",
    )


def test_connection_errors_are_retried_then_logged(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    webhook_id = _webhook(hooks, f"http://127.0.0.1:{_closed_port()}/hook")
    dispatcher.emit("model_version", "created", DATA)
    assert dispatcher.drain(30)
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 3, None)
    assert delivery.error is not None
    assert delivery.error.startswith("cannot connect")


def test_timeouts_are_retried(hooks: SqlWebhookStore) -> None:
    dispatcher = _dispatcher(hooks, timeout_s=1.0, max_attempts=2)
    with serve(script(Reply(hold=True), Reply(200))) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
        dispatcher.close()
    assert len(receiver.seen) == 2
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
    )


def test_each_attempt_reads_the_webhook_again(hooks: SqlWebhookStore, dispatcher: WebhookDispatcher) -> None:
    def respond(_: Seen) -> Reply:
        hooks.update_webhook(webhook_id, status=WebhookStatus.DISABLED)
        return Reply(500)

    with serve(respond) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    assert len(receiver.seen) == 1
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.error) == (
        DeliveryStatus.FAILED,
        2,
        "the webhook is disabled",
    )


# -- the guard -----------------------------------------------------------------------------------------------
def test_redirects_are_not_followed(hooks: SqlWebhookStore, dispatcher: WebhookDispatcher) -> None:
    with serve(
        lambda s: Reply(302, headers={"Location": "/elsewhere"}) if s.path == "/hook" else Reply(200)
    ) as receiver:
        webhook_id = _webhook(hooks, receiver.url + "/hook")
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
    assert [s.path for s in receiver.seen] == ["/hook"]
    delivery = _only_delivery(hooks, webhook_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 1, 302)
    assert delivery.error is not None
    assert "redirects are not followed" in delivery.error


def test_a_name_now_resolving_to_loopback_is_refused_at_connect_time(hooks: SqlWebhookStore) -> None:
    """The URL was stored when its name resolved elsewhere (DNS rebinding): the server does not allow private
    targets, and the address checked at connect time is loopback, so nothing is sent."""
    dispatcher = _dispatcher(hooks, allow_private=False)
    with serve(lambda _: Reply(200)) as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        webhook_id = _webhook(hooks, f"http://localhost:{port}/hook")
        literal = _webhook(hooks, f"http://127.0.0.1:{port}/hook")
        dispatcher.emit("model_version", "created", DATA)
        assert dispatcher.drain(30)
        dispatcher.close()
    assert receiver.seen == []
    for refused in (webhook_id, literal):
        delivery = _only_delivery(hooks, refused)
        assert (delivery.status, delivery.attempts, delivery.response_status) == (
            DeliveryStatus.FAILED,
            1,
            None,
        )
        assert delivery.error is not None
        assert "webhooks may not call" in delivery.error or "the server itself" in delivery.error


def test_tls_is_verified_against_the_host_name(hooks: SqlWebhookStore, tmp_path: Path) -> None:
    certs = make_certificates(tmp_path / "tls")  # a server certificate for 127.0.0.1 only
    trusting = _dispatcher(hooks, ssl_context=_client_context(certs.ca))
    system = _dispatcher(hooks)
    with serve(lambda _: Reply(200), tls=certs.server_context()) as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        good = _webhook(hooks, receiver.url + "/hook")
        wrong_name = _webhook(hooks, f"https://localhost:{port}/hook", events=("registered_model.created",))
        trusting.emit("model_version", "created", DATA)
        trusting.emit("registered_model", "created", {"name": "churn", "tags": {}, "description": ""})
        assert trusting.drain(30)
        hooks.delete_webhook(wrong_name)
        system.emit("model_version", "created", DATA)
        assert system.drain(30)
    trusting.close()
    system.close()
    assert len(receiver.seen) == 1
    deliveries = sorted(hooks.list_deliveries(webhook_id=good), key=lambda d: d.creation_timestamp)
    assert [(d.status, d.attempts) for d in deliveries] == [
        (DeliveryStatus.SUCCEEDED, 1),
        (DeliveryStatus.FAILED, 1),
    ]
    assert "certificate" in (deliveries[1].error or "")
    mismatch = _only_delivery(hooks, wrong_name)
    assert (mismatch.status, mismatch.attempts) == (DeliveryStatus.FAILED, 1)
    assert "certificate" in (mismatch.error or "")


def _client_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_only_the_start_of_an_answer_is_read() -> None:
    with serve(lambda _: Reply(200, b"x" * 1_000_000)) as receiver:
        outcome = outbound_http.post(
            parse_url(receiver.url), b"{}", {}, allow_private=True, timeout_s=10, max_response_bytes=10
        )
    assert (outcome.status, outcome.body) == (200, "x" * 10)


# -- test deliveries and shutdown ----------------------------------------------------------------------------
def test_test_delivery_reports_the_answer_and_is_logged(
    hooks: SqlWebhookStore, dispatcher: WebhookDispatcher
) -> None:
    with serve(script(Reply(200, b"thanks"), Reply(500, b"broken"))) as receiver:
        webhook = hooks.get_webhook(_webhook(hooks, receiver.url, status=WebhookStatus.DISABLED))
        event = WebhookEvent.from_name("model_version_alias.created")
        ok = dispatcher.test(webhook, event)
        failed = dispatcher.test(webhook, event)
    assert (ok.success, ok.response_status, ok.response_body, ok.error_message) == (True, 200, "thanks", None)
    assert (failed.success, failed.response_status, failed.response_body) == (False, 500, "broken")
    assert len(receiver.seen) == 2  # no retries for a test
    body = json.loads(receiver.seen[0].body)
    assert (body["entity"], body["action"]) == ("model_version_alias", "created")
    assert body["data"] == {"name": "example_model", "alias": "example_alias", "version": "1"}
    assert verify_mlflow_signature(SECRET, receiver.seen[0])
    logged = list(hooks.list_deliveries(webhook_id=webhook.webhook_id))
    assert all(d.test for d in logged)
    assert sorted(d.status for d in logged) == [DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED]

    webhook = hooks.get_webhook(_webhook(hooks, f"http://127.0.0.1:{_closed_port()}/"))
    unreachable = dispatcher.test(webhook, event)
    assert (unreachable.success, unreachable.response_status) == (False, None)
    assert (unreachable.error_message or "").startswith("Failed to test webhook: cannot connect")


def test_close_finishes_deliveries_under_way_then_drops_new_events(hooks: SqlWebhookStore) -> None:
    dispatcher = _dispatcher(hooks)
    with serve(lambda _: Reply(200)) as receiver:
        webhook_id = _webhook(hooks, receiver.url)
        dispatcher.emit("model_version", "created", DATA)
        dispatcher.close(timeout=30)
        assert _only_delivery(hooks, webhook_id).status is DeliveryStatus.SUCCEEDED
        dispatcher.emit("model_version", "created", DATA)
        dispatcher.close()
    assert len(receiver.seen) == 1
    assert len(hooks.list_deliveries(webhook_id=webhook_id)) == 1
