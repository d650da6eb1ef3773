"""Routes: webhooks on MLflow's own routes (``/webhooks``, ``/webhooks/{webhook_id}``,
``/webhooks/{webhook_id}/test``, under both MLflow prefixes) and Wayline's delivery log
(``/api/2.0/wayline/webhooks/deliveries``).

Managing webhooks is an administrator action; the acting user is the request's HTTP Basic user name or the
server's ``default_user`` (:func:`~wayline.server.actor.current_actor`), and the service decides.
"""

from __future__ import annotations

from typing import Any

from wayline.entities.webhook import WebhookEvent
from wayline.server.actor import current_actor
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.common import Empty
from wayline.server.messages.webhooks import (
    CreateWebhook,
    ListWebhookDeliveries,
    ListWebhookDeliveriesResponse,
    ListWebhooks,
    ListWebhooksResponse,
    TestWebhook,
    TestWebhookResponse,
    UpdateWebhook,
    WebhookEventJson,
    WebhookId,
    WebhookResponse,
    delivery_to_json,
    test_result_to_json,
    webhook_to_json,
)
from wayline.services.webhooks import validate_event
from wayline.wire import page_to_json

Json = dict[str, Any]

api = Api("webhooks")
wayline_api = Api("webhooks (Wayline)", prefixes=WAYLINE_PREFIXES)


def _events(events: list[WebhookEventJson], wayline_events: list[WebhookEventJson]) -> list[WebhookEvent]:
    """The events of ``events`` and ``wayline_events`` together, each named by its field on error."""
    out: list[WebhookEvent] = []
    for name, given in (("events", events), ("wayline_events", wayline_events)):
        out.extend(
            validate_event({"entity": e.entity, "action": e.action}, field=f"{name}[{i}]")
            for i, e in enumerate(given)
        )
    return out


@api.rpc(
    "POST",
    "/webhooks",
    request=CreateWebhook,
    response=WebhookResponse,
    summary="Create a webhook: a URL, a secret and the events it receives (administrators)",
)
def create_webhook(ctx: ServerContext, msg: CreateWebhook) -> Json:
    webhook = ctx.webhook_service().create_webhook(
        msg.name,
        msg.url,
        _events(msg.events, msg.wayline_events),
        description=msg.description or None,
        secret=msg.secret or None,
        status=msg.status or None,
        actor=current_actor(),
    )
    return {"webhook": webhook_to_json(webhook)}


@api.rpc(
    "GET",
    "/webhooks",
    request=ListWebhooks,
    response=ListWebhooksResponse,
    summary="List webhooks, newest first (max_results 1 to 1000, page_token)",
)
def list_webhooks(ctx: ServerContext, msg: ListWebhooks) -> Json:
    page = ctx.webhook_service().list_webhooks(max_results=msg.max_results, page_token=msg.page_token)
    return page_to_json(page, "webhooks", webhook_to_json)


@api.rpc(
    "GET", "/webhooks/{webhook_id}", request=WebhookId, response=WebhookResponse, summary="Get a webhook"
)
def get_webhook(ctx: ServerContext, msg: WebhookId) -> Json:
    return {"webhook": webhook_to_json(ctx.webhook_service().get_webhook(msg.webhook_id))}


@api.rpc(
    "PATCH",
    "/webhooks/{webhook_id}",
    request=UpdateWebhook,
    response=WebhookResponse,
    summary="Update a webhook's name, description, URL, events, secret or status (administrators)",
)
def update_webhook(ctx: ServerContext, msg: UpdateWebhook) -> Json:
    sent = msg.model_fields_set
    events = _events(msg.events, msg.wayline_events)
    webhook = ctx.webhook_service().update_webhook(
        msg.webhook_id,
        name=msg.name or None,
        description=(msg.description or "") if "description" in sent else None,
        url=msg.url or None,
        events=events or None,
        secret=(msg.secret or "") if "secret" in sent else None,
        status=msg.status or None,
        actor=current_actor(),
    )
    return {"webhook": webhook_to_json(webhook)}


@api.rpc(
    "DELETE",
    "/webhooks/{webhook_id}",
    request=WebhookId,
    response=Empty,
    summary="Delete a webhook (administrators; its delivery log stays)",
)
def delete_webhook(ctx: ServerContext, msg: WebhookId) -> Json:
    ctx.webhook_service().delete_webhook(msg.webhook_id, actor=current_actor())
    return {}


@api.rpc(
    "POST",
    "/webhooks/{webhook_id}/test",
    request=TestWebhook,
    response=TestWebhookResponse,
    summary="Send an example payload of an event to a webhook now, once (administrators)",
)
def test_webhook(ctx: ServerContext, msg: TestWebhook) -> Json:
    event = None
    if msg.event is not None:
        event = validate_event({"entity": msg.event.entity, "action": msg.event.action}, field="event")
    result = ctx.webhook_service().test_webhook(msg.webhook_id, event, actor=current_actor())
    return {"result": test_result_to_json(result)}


@wayline_api.rpc(
    "GET",
    "/webhooks/deliveries",
    request=ListWebhookDeliveries,
    response=ListWebhookDeliveriesResponse,
    summary="The webhook delivery log, newest first: status, attempts, response status, error",
)
def list_webhook_deliveries(ctx: ServerContext, msg: ListWebhookDeliveries) -> Json:
    page = ctx.webhook_service().list_deliveries(
        webhook_id=msg.webhook_id or None, max_results=msg.max_results, page_token=msg.page_token
    )
    return page_to_json(page, "deliveries", delivery_to_json)


__all__ = ["api", "wayline_api"]
