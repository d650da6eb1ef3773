"""Requests and responses of the webhook routes, in MLflow's field names, and the JSON of a webhook, a test
result and a delivery.

A webhook is MLflow's ``Webhook`` message as MLflow's server emits it: enum names (``"REGISTERED_MODEL"``,
``"ACTIVE"``), timestamps as numbers, unset fields omitted, and never the secret. ``events`` holds the
events an MLflow client knows; Wayline's own events are in ``wayline_events`` (same shape), because an MLflow
client cannot parse an event it does not know and would fail on the whole listing. Requests may name any
event in either field: the subscription is their union.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from wayline.entities.webhook import Webhook, WebhookDelivery, WebhookEvent, WebhookTestResult
from wayline.server.endpoint import WireModel
from wayline.server.messages.common import Shape

Json = dict[str, Any]


class WebhookEventJson(WireModel):
    """``{"entity": "MODEL_VERSION", "action": "CREATED"}``: names (any case) or MLflow's numbers."""

    entity: str
    action: str


class CreateWebhook(WireModel):
    name: str = Field(description="1 to 63 letters, digits, '.', '_', '-'")
    url: str = Field(description="http(s) URL; loopback, private and metadata targets are refused")
    events: list[WebhookEventJson] = Field(default_factory=list, description="MLflow's or Wayline's events")
    wayline_events: list[WebhookEventJson] = Field(default_factory=list, description="Wayline's events")
    description: str | None = None
    secret: str | None = Field(None, description="Signs deliveries (HMAC-SHA256); never returned")
    status: str | None = Field(None, description="ACTIVE (default) or DISABLED")


class ListWebhooks(WireModel):
    max_results: int | None = Field(None, description="1 to 1000 (default 100)")
    page_token: str | None = None


class WebhookId(WireModel):
    webhook_id: str


class UpdateWebhook(WireModel):
    """Only the fields sent change (MLflow's rules: an empty ``name``, ``url`` or ``events`` changes
    nothing; an empty ``description`` or ``secret`` removes it)."""

    webhook_id: str
    name: str | None = None
    description: str | None = None
    url: str | None = None
    events: list[WebhookEventJson] = Field(default_factory=list)
    wayline_events: list[WebhookEventJson] = Field(default_factory=list)
    secret: str | None = None
    status: str | None = None


class TestWebhook(WireModel):
    webhook_id: str
    event: WebhookEventJson | None = Field(None, description="Default: the webhook's first event")


class ListWebhookDeliveries(WireModel):
    webhook_id: str | None = Field(None, description="Only this webhook's deliveries")
    max_results: int | None = Field(None, description="1 to 1000 (default 100)")
    page_token: str | None = None


# -- response shapes (OpenAPI only) ------------------------------------------------------------------------
class WebhookJson(Shape):
    webhook_id: str
    name: str
    description: str | None = Field(None, description="omitted when empty")
    url: str
    events: list[WebhookEventJson] | None = Field(None, description="MLflow's events")
    wayline_events: list[WebhookEventJson] | None = Field(None, description="Wayline's events")
    status: str
    creation_timestamp: int
    last_updated_timestamp: int


class WebhookResponse(Shape):
    webhook: WebhookJson


class ListWebhooksResponse(Shape):
    webhooks: list[WebhookJson] | None = None
    next_page_token: str | None = None


class WebhookTestResultJson(Shape):
    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None


class TestWebhookResponse(Shape):
    result: WebhookTestResultJson


class WebhookDeliveryJson(Shape):
    delivery_id: str = Field(description="The X-MLflow-Delivery-Id header of every attempt")
    webhook_id: str
    event: WebhookEventJson
    status: str = Field(description="PENDING, SUCCEEDED or FAILED")
    attempts: int
    creation_timestamp: int
    last_attempt_timestamp: int | None = None
    response_status: int | None = Field(None, description="HTTP status of the latest attempt")
    error: str | None = Field(None, description="Why the latest attempt failed")
    test: bool = Field(description="Made by 'test webhook'")
    payload: str = Field(description="The JSON body sent")


class ListWebhookDeliveriesResponse(Shape):
    deliveries: list[WebhookDeliveryJson] | None = None
    next_page_token: str | None = None


# -- encoding ------------------------------------------------------------------------------------------------
def event_to_json(event: WebhookEvent) -> Json:
    return {"entity": event.entity.wire, "action": event.action.wire}


def webhook_to_json(webhook: Webhook) -> Json:
    out: Json = {"webhook_id": webhook.webhook_id, "name": webhook.name}
    if webhook.description:
        out["description"] = webhook.description
    out["url"] = webhook.url
    mlflow_events = [event_to_json(e) for e in webhook.events if e.is_mlflow]
    wayline_events = [event_to_json(e) for e in webhook.events if not e.is_mlflow]
    if mlflow_events:
        out["events"] = mlflow_events
    if wayline_events:
        out["wayline_events"] = wayline_events
    out["status"] = webhook.status.value
    out["creation_timestamp"] = webhook.creation_timestamp
    out["last_updated_timestamp"] = webhook.last_updated_timestamp
    return out


def test_result_to_json(result: WebhookTestResult) -> Json:
    out: Json = {"success": result.success}
    if result.response_status is not None:
        out["response_status"] = result.response_status
    if result.response_body:
        out["response_body"] = result.response_body
    if result.error_message:
        out["error_message"] = result.error_message
    return out


def delivery_to_json(delivery: WebhookDelivery) -> Json:
    out: Json = {
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "event": event_to_json(delivery.event),
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "creation_timestamp": delivery.creation_timestamp,
    }
    if delivery.last_attempt_timestamp is not None:
        out["last_attempt_timestamp"] = delivery.last_attempt_timestamp
    if delivery.response_status is not None:
        out["response_status"] = delivery.response_status
    if delivery.error:
        out["error"] = delivery.error
    out["test"] = delivery.test
    out["payload"] = delivery.payload
    return out


__all__ = [
    "CreateWebhook",
    "ListWebhookDeliveries",
    "ListWebhookDeliveriesResponse",
    "ListWebhooks",
    "ListWebhooksResponse",
    "TestWebhook",
    "TestWebhookResponse",
    "UpdateWebhook",
    "WebhookDeliveryJson",
    "WebhookEventJson",
    "WebhookId",
    "WebhookJson",
    "WebhookResponse",
    "WebhookTestResultJson",
    "delivery_to_json",
    "event_to_json",
    "test_result_to_json",
    "webhook_to_json",
]
