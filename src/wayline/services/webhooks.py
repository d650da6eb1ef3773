"""The webhook service: validation and the administrator rule before the store, and test deliveries.

Creating, updating, deleting and testing a webhook are administrator actions (:meth:`require_admin`, the one
place that rule lives); reading webhooks and the delivery log is open for now. Every argument is checked
before the store sees it, so a bad request changes nothing: the name as MLflow checks it, the URL by the
outbound guard (:mod:`~wayline.services.outbound_url`: scheme, credentials, and no loopback, private or
metadata target unless ``allow_private``), the events as known ``entity.action`` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from wayline.entities import Page
from wayline.entities.webhook import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from wayline.errors import InvalidParameterValue, invalid_value
from wayline.services import registry_validation as rv
from wayline.services import validation as v
from wayline.services.administrators import Administrators
from wayline.services.outbound_url import check_url
from wayline.services.webhook_delivery import WebhookDispatcher
from wayline.store.webhook import (
    LIST_DELIVERIES_DEFAULT,
    LIST_DELIVERIES_MAX,
    LIST_WEBHOOKS_DEFAULT,
    LIST_WEBHOOKS_MAX,
    WebhookStore,
)

MAX_DESCRIPTION_LENGTH = 5000
MAX_SECRET_LENGTH = 1024
MAX_EVENTS = 100
#: MLflow's rule for a webhook name: 1 to 63 letters, digits, ``.``, ``_``, ``-``, starting and ending with a
#: letter or digit.
_NAME_RE = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")

#: An event as callers give it: the entity, ``"entity.action"``, or ``{"entity": ..., "action": ...}``.
EventSpec = WebhookEvent | str | Mapping[str, object]


def validate_name(name: object, *, field: str = "name") -> str:
    if not isinstance(name, str):
        raise invalid_value(field, name, "must be a string")
    if not name:
        raise InvalidParameterValue(f"Missing value for required parameter '{field}'.")
    if not _NAME_RE.match(name):
        raise invalid_value(
            field,
            name,
            "must be 1 to 63 letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
        )
    return name


def validate_event(event: object, *, field: str = "events") -> WebhookEvent:
    if isinstance(event, WebhookEvent):
        return event
    if isinstance(event, str):
        return WebhookEvent.from_name(event, field=field)
    if isinstance(event, Mapping):
        for part in ("entity", "action"):
            if event.get(part) in (None, ""):
                raise InvalidParameterValue(f"Missing value for required parameter '{field}.{part}'.")
        return WebhookEvent.parse(event["entity"], event["action"], field=field)
    raise invalid_value(field, event, "expected 'entity.action' or {'entity': ..., 'action': ...}")


def validate_events(events: object, *, field: str = "events") -> list[WebhookEvent]:
    """At least one event, at most :data:`MAX_EVENTS`; repeats are kept once, in order."""
    if isinstance(events, (str, Mapping, WebhookEvent)) or not isinstance(events, Sequence):
        raise invalid_value(field, events, "must be a list of events")
    if not events:
        raise invalid_value(field, list(events), "must name at least one event")
    if len(events) > MAX_EVENTS:
        raise invalid_value(field, f"{len(events)} events", f"at most {MAX_EVENTS}")
    checked = [validate_event(e, field=f"{field}[{i}]") for i, e in enumerate(events)]
    return list(dict.fromkeys(checked))


def validate_description(description: object, *, field: str = "description") -> str:
    return v.validate_string(description, field=field, max_length=MAX_DESCRIPTION_LENGTH)


def validate_secret(secret: object, *, field: str = "secret") -> str:
    """A secret (``""``: none). Its value is never quoted in an error."""
    if not isinstance(secret, str):
        raise InvalidParameterValue(f"Invalid value for parameter '{field}': must be a string")
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidParameterValue(
            f"Invalid value for parameter '{field}': longer than {MAX_SECRET_LENGTH} characters"
        )
    return secret


def validate_webhook_id(webhook_id: object, *, field: str = "webhook_id") -> str:
    if not isinstance(webhook_id, str) or not webhook_id:
        raise InvalidParameterValue(f"Missing value for required parameter '{field}'.")
    return webhook_id


class WebhookService:
    """Validated, permission-checked access to a :class:`WebhookStore`; ``dispatcher`` makes the test
    deliveries (and, wired into the registry service, the event deliveries)."""

    def __init__(
        self,
        store: WebhookStore,
        dispatcher: WebhookDispatcher,
        *,
        admins: Administrators | None = None,
        default_actor: str = "",
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.admins = admins or Administrators()
        self.default_actor = rv.validate_person(default_actor, field="default_actor")

    @property
    def allow_private(self) -> bool:
        return self.dispatcher.allow_private

    def close(self) -> None:
        """Finish the deliveries under way (bounded), then release the store."""
        try:
            self.dispatcher.close()
        finally:
            self.store.close()

    def require_admin(self, actor: str | None) -> str:
        """The acting user (None: ``default_actor``), when an administrator; PermissionDenied otherwise."""
        return self.admins.require(self.default_actor if actor is None else actor, action="manage webhooks")

    def _url(self, url: object) -> str:
        return check_url(url, allow_private=self.allow_private, field="url").url

    # -- webhooks --------------------------------------------------------------------------------------------
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[EventSpec],
        *,
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus | str | int | None = None,
        actor: str | None = None,
    ) -> Webhook:
        self.require_admin(actor)
        name = validate_name(name)
        checked_events = validate_events(events)
        description = validate_description(description) if description is not None else None
        secret = validate_secret(secret) if secret is not None else None
        checked_status = WebhookStatus.ACTIVE if status is None else WebhookStatus.parse(status)
        return self.store.create_webhook(
            name=name,
            url=self._url(url),
            events=checked_events,
            description=description or None,
            secret=secret or None,
            status=checked_status,
        )

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self.store.get_webhook(validate_webhook_id(webhook_id))

    def list_webhooks(
        self, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Webhook]:
        """Newest first; ``max_results`` 1 to 1000 (None or 0: 100, as MLflow)."""
        size = v.validate_max_results(max_results or LIST_WEBHOOKS_DEFAULT, maximum=LIST_WEBHOOKS_MAX)
        return self.store.list_webhooks(max_results=size, page_token=_token(page_token))

    def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[EventSpec] | None = None,
        secret: str | None = None,
        status: WebhookStatus | str | int | None = None,
        actor: str | None = None,
    ) -> Webhook:
        """Change what is given (None: unchanged). ``events`` replaces the subscription; ``secret=""`` and
        ``description=""`` remove them."""
        self.require_admin(actor)
        webhook_id = validate_webhook_id(webhook_id)
        self.store.get_webhook(webhook_id)  # a missing webhook is reported before a bad value
        return self.store.update_webhook(
            webhook_id,
            name=None if name is None else validate_name(name),
            description=None if description is None else validate_description(description),
            url=None if url is None else self._url(url),
            events=None if events is None else validate_events(events),
            secret=None if secret is None else validate_secret(secret),
            status=None if status is None else WebhookStatus.parse(status),
        )

    def delete_webhook(self, webhook_id: str, *, actor: str | None = None) -> None:
        self.require_admin(actor)
        self.store.delete_webhook(validate_webhook_id(webhook_id))

    def test_webhook(
        self, webhook_id: str, event: EventSpec | None = None, *, actor: str | None = None
    ) -> WebhookTestResult:
        """Send ``event``'s example payload (default: the webhook's first event) once, now, and report the
        receiver's answer. Disabled webhooks can be tested too."""
        self.require_admin(actor)
        webhook = self.store.get_webhook(validate_webhook_id(webhook_id))
        chosen = webhook.events[0] if event is None else validate_event(event, field="event")
        return self.dispatcher.test(webhook, chosen)

    # -- deliveries ------------------------------------------------------------------------------------------
    def list_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[WebhookDelivery]:
        """The delivery log, newest first, of one webhook (deleted ones too) or of all."""
        if webhook_id is not None and not _ID_RE.match(webhook_id):
            raise invalid_value("webhook_id", webhook_id, "not a webhook id")
        size = v.validate_max_results(max_results or LIST_DELIVERIES_DEFAULT, maximum=LIST_DELIVERIES_MAX)
        return self.store.list_deliveries(
            webhook_id=webhook_id or None, max_results=size, page_token=_token(page_token)
        )


def _token(page_token: object) -> str | None:
    if page_token is None or page_token == "":
        return None
    if not isinstance(page_token, str):
        raise invalid_value("page_token", page_token, "must be a string")
    return page_token


__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_EVENTS",
    "MAX_SECRET_LENGTH",
    "EventSpec",
    "WebhookService",
    "validate_event",
    "validate_events",
    "validate_name",
]
