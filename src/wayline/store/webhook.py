"""The webhook store protocol: webhooks (CRUD, keyset-paged listing, lookup by event) and their delivery log.

Services validate input before calling a store (names, URLs, events); a store enforces what needs the stored
state: a deleted webhook is not found (deletion is soft, so that its delivery log stays readable), and a
delivery belongs to a webhook that exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from wayline.entities import Page
from wayline.entities.webhook import (
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
)

#: MLflow's default page size of a webhook listing, and its largest.
LIST_WEBHOOKS_DEFAULT = 100
LIST_WEBHOOKS_MAX = 1000
#: Page sizes of the delivery log.
LIST_DELIVERIES_DEFAULT = 100
LIST_DELIVERIES_MAX = 1000


@runtime_checkable
class WebhookStore(Protocol):
    def create_webhook(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus = WebhookStatus.ACTIVE,
    ) -> Webhook:
        """A new webhook with a generated id (a UUID, as MLflow's); ``events`` keep their order, repeats
        are stored once."""
        ...

    def get_webhook(self, webhook_id: str) -> Webhook:
        """ResourceNotFound (``Webhook with ID <id> not found.``) when missing or deleted."""
        ...

    def list_webhooks(
        self, *, max_results: int = LIST_WEBHOOKS_DEFAULT, page_token: str | None = None
    ) -> Page[Webhook]:
        """Webhooks that are not deleted, newest first, keyset-paged."""
        ...

    def list_webhooks_by_event(self, event: WebhookEvent) -> list[Webhook]:
        """Every active webhook subscribed to ``event`` (with its secret), newest first."""
        ...

    def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: WebhookStatus | None = None,
    ) -> Webhook:
        """Change the fields given (None: unchanged); ``events`` replaces the subscription, ``secret=""``
        removes the secret, ``description=""`` the description."""
        ...

    def delete_webhook(self, webhook_id: str) -> None:
        """Soft delete: the webhook is gone for every call, its delivery log stays."""
        ...

    def create_delivery(
        self, *, webhook_id: str, event: WebhookEvent, payload: str, test: bool = False
    ) -> WebhookDelivery:
        """A ``PENDING`` delivery with no attempt yet; the webhook must exist (deleted ones too)."""
        ...

    def record_attempt(
        self,
        delivery_id: str,
        *,
        status: DeliveryStatus,
        response_status: int | None = None,
        error: str | None = None,
    ) -> WebhookDelivery:
        """Count one more attempt, now, with its outcome; ``status`` is the delivery's new state."""
        ...

    def get_delivery(self, delivery_id: str) -> WebhookDelivery: ...

    def list_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        max_results: int = LIST_DELIVERIES_DEFAULT,
        page_token: str | None = None,
    ) -> Page[WebhookDelivery]:
        """Deliveries (of one webhook, deleted or not, when given: ResourceNotFound if it never existed),
        newest first, keyset-paged."""
        ...

    def close(self) -> None: ...


__all__ = [
    "LIST_DELIVERIES_DEFAULT",
    "LIST_DELIVERIES_MAX",
    "LIST_WEBHOOKS_DEFAULT",
    "LIST_WEBHOOKS_MAX",
    "WebhookStore",
]
