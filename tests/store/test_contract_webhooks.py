"""The webhook store contract on SQLite and PostgreSQL: webhooks (create, get, keyset-paged listing, update,
soft delete, lookup by event), the delivery log, engine sharing, and migration 0004."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from migrations import migrate
from wayline.entities.webhook import DeliveryStatus, WebhookEvent, WebhookStatus
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import SqlTrackingStore, current_revision
from wayline.store.sql.webhooks import SqlWebhookStore

WEBHOOK_TABLES = {"webhooks", "webhook_events", "webhook_deliveries"}
CREATED = WebhookEvent.from_name("registered_model.created")
VERSION = WebhookEvent.from_name("model_version.created")
APPROVED = WebhookEvent.from_name("transition_request.approved")


@pytest.fixture
def hooks(db_url: str, artifact_root: str) -> Iterator[SqlWebhookStore]:
    with (
        SqlTrackingStore(db_url, artifact_root) as tracking,
        SqlWebhookStore(engine=tracking.engine) as opened,
    ):
        yield opened


def _make(hooks: SqlWebhookStore, name: str = "hook", **fields: object) -> str:
    values: dict[str, object] = {"url": "https://ci.example.org/hook", "events": [CREATED], **fields}
    return hooks.create_webhook(name=name, **values).webhook_id  # type: ignore[arg-type]


# -- webhooks ------------------------------------------------------------------------------------------------
def test_create_and_get_keep_every_field(hooks: SqlWebhookStore) -> None:
    created = hooks.create_webhook(
        name="ci",
        url="https://ci.example.org/hook?token=1",
        events=[VERSION, CREATED, APPROVED, VERSION],
        description="deploys",
        secret="s3cret",
        status=WebhookStatus.DISABLED,
    )
    assert len(created.webhook_id) == 36
    assert created.events == (VERSION, CREATED, APPROVED)  # order kept, repeats once
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    got = hooks.get_webhook(created.webhook_id)
    assert got == created
    assert (got.name, got.url, got.description, got.secret) == (
        "ci",
        "https://ci.example.org/hook?token=1",
        "deploys",
        "s3cret",
    )
    assert got.status is WebhookStatus.DISABLED
    assert "s3cret" not in repr(got)


def test_empty_description_and_secret_are_none(hooks: SqlWebhookStore) -> None:
    webhook = hooks.get_webhook(_make(hooks, description="", secret=""))
    assert webhook.description is None
    assert webhook.secret is None
    assert webhook.status is WebhookStatus.ACTIVE


def test_missing_webhook_is_not_found(hooks: SqlWebhookStore) -> None:
    with pytest.raises(ResourceNotFound, match=r"^Webhook with ID nope not found\.$"):
        hooks.get_webhook("nope")
    with pytest.raises(ResourceNotFound):
        hooks.update_webhook("nope", name="x")
    with pytest.raises(ResourceNotFound):
        hooks.delete_webhook("nope")


def test_list_pages_newest_first(hooks: SqlWebhookStore) -> None:
    ids = [_make(hooks, f"hook-{i}") for i in range(5)]
    first = hooks.list_webhooks(max_results=2)
    assert first.next_page_token
    second = hooks.list_webhooks(max_results=2, page_token=first.next_page_token)
    assert second.next_page_token
    third = hooks.list_webhooks(max_results=2, page_token=second.next_page_token)
    assert third.next_page_token is None
    seen = [w.webhook_id for page in (first, second, third) for w in page]
    assert sorted(seen) == sorted(ids)
    keys = [(w.creation_timestamp, w.webhook_id) for page in (first, second, third) for w in page]
    assert keys == sorted(keys, reverse=True)
    assert [w.webhook_id for w in hooks.list_webhooks(max_results=10)] == seen


@pytest.mark.parametrize("size", [0, -1, 1001])
def test_list_refuses_page_sizes_out_of_bounds(hooks: SqlWebhookStore, size: int) -> None:
    with pytest.raises(InvalidParameterValue, match="max_results"):
        hooks.list_webhooks(max_results=size)


def test_list_refuses_foreign_and_broken_tokens(hooks: SqlWebhookStore) -> None:
    webhook_id = _make(hooks, "a")
    _make(hooks, "b")
    for _ in range(2):
        hooks.create_delivery(webhook_id=webhook_id, event=CREATED, payload="{}")
    token = hooks.list_deliveries(max_results=1).next_page_token
    assert token
    for bad in (token, "garbage", "e30"):
        with pytest.raises(InvalidParameterValue, match="page_token"):
            hooks.list_webhooks(page_token=bad)


def test_update_changes_only_what_is_given(hooks: SqlWebhookStore) -> None:
    webhook_id = _make(hooks, "before", description="d", secret="old")
    before = hooks.get_webhook(webhook_id)
    after = hooks.update_webhook(webhook_id, name="after", events=[APPROVED, VERSION])
    assert (after.name, after.url, after.description, after.secret) == (
        "after",
        before.url,
        "d",
        "old",
    )
    assert after.events == (APPROVED, VERSION)
    assert after.last_updated_timestamp >= before.last_updated_timestamp
    assert after.creation_timestamp == before.creation_timestamp

    cleared = hooks.update_webhook(
        webhook_id, description="", secret="", url="http://203.0.113.7/x", status=WebhookStatus.DISABLED
    )
    assert (cleared.description, cleared.secret, cleared.url) == (None, None, "http://203.0.113.7/x")
    assert cleared.status is WebhookStatus.DISABLED
    assert hooks.update_webhook(webhook_id, secret="new").secret == "new"


def test_delete_is_soft_and_keeps_the_delivery_log(hooks: SqlWebhookStore) -> None:
    webhook_id = _make(hooks)
    kept = _make(hooks, "kept")
    delivery = hooks.create_delivery(webhook_id=webhook_id, event=CREATED, payload="{}")
    hooks.delete_webhook(webhook_id)
    with pytest.raises(ResourceNotFound):
        hooks.get_webhook(webhook_id)
    with pytest.raises(ResourceNotFound):
        hooks.delete_webhook(webhook_id)
    with pytest.raises(ResourceNotFound):
        hooks.update_webhook(webhook_id, name="back")
    assert [w.webhook_id for w in hooks.list_webhooks()] == [kept]
    assert hooks.list_webhooks_by_event(CREATED) == [hooks.get_webhook(kept)]
    assert [d.delivery_id for d in hooks.list_deliveries(webhook_id=webhook_id)] == [delivery.delivery_id]


def test_lookup_by_event_finds_active_subscribers_only(hooks: SqlWebhookStore) -> None:
    both = _make(hooks, "both", events=[CREATED, APPROVED], secret="s")
    only_versions = _make(hooks, "versions", events=[VERSION])
    _make(hooks, "disabled", events=[CREATED], status=WebhookStatus.DISABLED)
    found = hooks.list_webhooks_by_event(CREATED)
    assert [w.webhook_id for w in found] == [both]
    assert found[0].secret == "s"  # the dispatcher signs with it
    assert [w.webhook_id for w in hooks.list_webhooks_by_event(APPROVED)] == [both]
    assert [w.webhook_id for w in hooks.list_webhooks_by_event(VERSION)] == [only_versions]
    assert hooks.list_webhooks_by_event(WebhookEvent.from_name("model_version_stage.updated")) == []
    hooks.update_webhook(only_versions, events=[CREATED])
    assert {w.webhook_id for w in hooks.list_webhooks_by_event(CREATED)} == {both, only_versions}
    assert hooks.list_webhooks_by_event(VERSION) == []


# -- deliveries ----------------------------------------------------------------------------------------------
def test_a_delivery_counts_its_attempts(hooks: SqlWebhookStore) -> None:
    webhook_id = _make(hooks)
    delivery = hooks.create_delivery(webhook_id=webhook_id, event=APPROVED, payload='{"a": 1}', test=True)
    assert (delivery.status, delivery.attempts, delivery.test) == (DeliveryStatus.PENDING, 0, True)
    assert delivery.last_attempt_timestamp is None
    assert delivery.response_status is None
    assert delivery.event == APPROVED
    first = hooks.record_attempt(
        delivery.delivery_id, status=DeliveryStatus.PENDING, response_status=503, error="HTTP 503"
    )
    assert (first.attempts, first.response_status, first.error) == (1, 503, "HTTP 503")
    assert first.last_attempt_timestamp is not None
    second = hooks.record_attempt(delivery.delivery_id, status=DeliveryStatus.SUCCEEDED, response_status=200)
    assert (second.status, second.attempts, second.response_status, second.error) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
        None,
    )
    assert hooks.get_delivery(delivery.delivery_id) == second
    assert second.payload == '{"a": 1}'


def test_deliveries_need_a_webhook(hooks: SqlWebhookStore) -> None:
    with pytest.raises(ResourceNotFound):
        hooks.create_delivery(webhook_id="nope", event=CREATED, payload="{}")
    with pytest.raises(ResourceNotFound):
        hooks.list_deliveries(webhook_id="nope")
    with pytest.raises(ResourceNotFound):
        hooks.record_attempt("nope", status=DeliveryStatus.FAILED)
    with pytest.raises(ResourceNotFound):
        hooks.get_delivery("nope")


def test_deliveries_list_newest_first_per_webhook(hooks: SqlWebhookStore) -> None:
    a, b = _make(hooks, "a"), _make(hooks, "b")
    made = [hooks.create_delivery(webhook_id=w, event=CREATED, payload="{}") for w in (a, b, a, a, b)]
    of_a = [d.delivery_id for d in made if d.webhook_id == a]
    pages = []
    token = None
    while True:
        page = hooks.list_deliveries(webhook_id=a, max_results=2, page_token=token)
        pages.extend(page)
        token = page.next_page_token
        if not token:
            break
    assert sorted(d.delivery_id for d in pages) == sorted(of_a)
    keys = [(d.creation_timestamp, d.delivery_id) for d in pages]
    assert keys == sorted(keys, reverse=True)
    assert len(hooks.list_deliveries()) == 5
    token_a = hooks.list_deliveries(webhook_id=a, max_results=1).next_page_token
    with pytest.raises(InvalidParameterValue, match="page_token"):
        hooks.list_deliveries(webhook_id=b, page_token=token_a)


# -- engine and schema ---------------------------------------------------------------------------------------
def test_store_owns_or_shares_an_engine(db_url: str, artifact_root: str) -> None:
    with SqlWebhookStore(db_url) as own:
        webhook_id = _make(own)
    with SqlTrackingStore(db_url, artifact_root) as tracking:
        shared = SqlWebhookStore(engine=tracking.engine)
        shared.close()  # leaves the tracking store's engine open
        assert shared.get_webhook(webhook_id).name == "hook"
        assert tracking.get_experiment("0").name == "Default"
        with pytest.raises(InvalidParameterValue):
            SqlWebhookStore(db_url, engine=tracking.engine)
    with pytest.raises(InvalidParameterValue):
        SqlWebhookStore()


@pytest.fixture
def engine(empty_engine: sa.Engine) -> sa.Engine:
    return empty_engine


def test_migration_0004_adds_and_removes_only_the_webhook_tables(engine: sa.Engine) -> None:
    migrate(engine, "upgrade", "0003")
    before = set(sa.inspect(engine).get_table_names())
    assert not WEBHOOK_TABLES & before
    migrate(engine, "upgrade", "0004")
    assert current_revision(engine) == "0004"
    assert set(sa.inspect(engine).get_table_names()) == before | WEBHOOK_TABLES
    with SqlWebhookStore(engine=engine) as hooks:
        _make(hooks)
    migrate(engine, "downgrade", "0003")
    assert current_revision(engine) == "0003"
    assert set(sa.inspect(engine).get_table_names()) == before
