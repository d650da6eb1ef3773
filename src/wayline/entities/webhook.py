"""Webhooks: an administrator's subscription of a URL to registry events, and the log of its deliveries.

An event is an ``(entity, action)`` pair, written ``entity.action`` (``model_version.created``). MLflow's
events keep MLflow's names, numbers and payloads, so a receiver written for MLflow works unchanged; Wayline
adds its own events in the same style (stage changes, registered-model tags, transition requests and
comments). :data:`MLFLOW_EVENTS` and :data:`WAYLINE_EVENTS` list them; ``docs/webhooks.md`` documents them.

A webhook's ``secret`` signs its deliveries; it is write-only on the wire (never returned) and hidden from
``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from wayline.errors import invalid_value


class WebhookStatus(str, Enum):
    """Whether a webhook receives events. :attr:`number` is MLflow's protobuf number."""

    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"

    @property
    def number(self) -> int:
        return 1 if self is WebhookStatus.ACTIVE else 2

    @classmethod
    def parse(cls, value: object, *, field: str = "status") -> WebhookStatus:
        """A status from its name (any case) or its protobuf number (1, 2, or their strings)."""
        if isinstance(value, WebhookStatus):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            for status in cls:
                if status.number == value:
                    return status
        elif isinstance(value, str):
            text = value.strip().upper()
            for status in cls:
                if status.value == text:
                    return status
        raise invalid_value(field, value, "expected ACTIVE or DISABLED")


class WebhookEntity(str, Enum):
    """What an event is about. The first ten are MLflow's (protobuf numbers 1 to 10); the rest are
    Wayline's."""

    REGISTERED_MODEL = "registered_model"
    MODEL_VERSION = "model_version"
    MODEL_VERSION_TAG = "model_version_tag"
    MODEL_VERSION_ALIAS = "model_version_alias"
    PROMPT = "prompt"
    PROMPT_VERSION = "prompt_version"
    PROMPT_TAG = "prompt_tag"
    PROMPT_VERSION_TAG = "prompt_version_tag"
    PROMPT_ALIAS = "prompt_alias"
    BUDGET_POLICY = "budget_policy"
    # Wayline's
    REGISTERED_MODEL_TAG = "registered_model_tag"
    MODEL_VERSION_STAGE = "model_version_stage"
    TRANSITION_REQUEST = "transition_request"
    MODEL_VERSION_COMMENT = "model_version_comment"

    @property
    def wire(self) -> str:
        """The protobuf enum name, as MLflow's JSON spells it (``MODEL_VERSION``)."""
        return self.value.upper()


class WebhookAction(str, Enum):
    """What happened. The first five are MLflow's (protobuf numbers 1 to 5); the rest are Wayline's."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    SET = "set"
    EXCEEDED = "exceeded"
    # Wayline's
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def wire(self) -> str:
        return self.value.upper()


_MLFLOW_ENTITIES = list(WebhookEntity)[:10]
_MLFLOW_ACTIONS = list(WebhookAction)[:5]
#: protobuf numbers of MLflow's entities and actions (0 is "unspecified" and never valid).
ENTITY_NUMBERS: dict[WebhookEntity, int] = {e: i + 1 for i, e in enumerate(_MLFLOW_ENTITIES)}
ACTION_NUMBERS: dict[WebhookAction, int] = {a: i + 1 for i, a in enumerate(_MLFLOW_ACTIONS)}

_E, _A = WebhookEntity, WebhookAction

#: MLflow's events (MLflow 3.17): the same names, payloads and headers as MLflow's deliveries. Prompt and
#: budget-policy events are accepted for compatibility; Wayline has no prompts or budgets, so they never fire.
MLFLOW_EVENTS: tuple[tuple[WebhookEntity, WebhookAction], ...] = (
    (_E.REGISTERED_MODEL, _A.CREATED),
    (_E.MODEL_VERSION, _A.CREATED),
    (_E.MODEL_VERSION_TAG, _A.SET),
    (_E.MODEL_VERSION_TAG, _A.DELETED),
    (_E.MODEL_VERSION_ALIAS, _A.CREATED),
    (_E.MODEL_VERSION_ALIAS, _A.DELETED),
    (_E.PROMPT, _A.CREATED),
    (_E.PROMPT_VERSION, _A.CREATED),
    (_E.PROMPT_TAG, _A.SET),
    (_E.PROMPT_TAG, _A.DELETED),
    (_E.PROMPT_VERSION_TAG, _A.SET),
    (_E.PROMPT_VERSION_TAG, _A.DELETED),
    (_E.PROMPT_ALIAS, _A.CREATED),
    (_E.PROMPT_ALIAS, _A.DELETED),
    (_E.BUDGET_POLICY, _A.EXCEEDED),
)

#: Wayline's events, for what MLflow has no event for.
WAYLINE_EVENTS: tuple[tuple[WebhookEntity, WebhookAction], ...] = (
    (_E.REGISTERED_MODEL_TAG, _A.SET),
    (_E.REGISTERED_MODEL_TAG, _A.DELETED),
    (_E.MODEL_VERSION_STAGE, _A.UPDATED),
    (_E.TRANSITION_REQUEST, _A.CREATED),
    (_E.TRANSITION_REQUEST, _A.APPROVED),
    (_E.TRANSITION_REQUEST, _A.REJECTED),
    (_E.MODEL_VERSION_COMMENT, _A.CREATED),
    (_E.MODEL_VERSION_COMMENT, _A.UPDATED),
    (_E.MODEL_VERSION_COMMENT, _A.DELETED),
)

_VALID = frozenset(MLFLOW_EVENTS) | frozenset(WAYLINE_EVENTS)
_ALL_NAMES = ", ".join(f"{e.value}.{a.value}" for e, a in (*MLFLOW_EVENTS, *WAYLINE_EVENTS))


_M = TypeVar("_M", WebhookEntity, WebhookAction)


def _member(enum: type[_M], value: object, numbers: Mapping[_M, int]) -> _M | None:
    """The member named (any case) or numbered (MLflow's protobuf number) by ``value``; None if none."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return next((m for m, n in numbers.items() if n == value), None)
    if isinstance(value, str):
        text = value.strip().lower()
        return next((m for m in enum if m.value == text), None)
    return None


@dataclass(frozen=True)
class WebhookEvent:
    """One kind of event: an entity and an action, a valid pair of :data:`MLFLOW_EVENTS` or
    :data:`WAYLINE_EVENTS`."""

    entity: WebhookEntity
    action: WebhookAction

    def __post_init__(self) -> None:
        if (self.entity, self.action) not in _VALID:
            raise _invalid_pair("events", f"{self.entity.value}.{self.action.value}")

    @classmethod
    def parse(cls, entity: object, action: object, *, field: str = "events") -> WebhookEvent:
        """An event from names (any case: ``model_version`` / ``MODEL_VERSION``) or MLflow's numbers."""
        found_entity = _member(WebhookEntity, entity, ENTITY_NUMBERS)
        if found_entity is None:
            allowed = ", ".join(e.wire for e in WebhookEntity)
            raise invalid_value(f"{field}.entity", entity, f"expected one of {allowed}")
        found_action = _member(WebhookAction, action, ACTION_NUMBERS)
        if found_action is None:
            allowed = ", ".join(a.wire for a in WebhookAction)
            raise invalid_value(f"{field}.action", action, f"expected one of {allowed}")
        if (found_entity, found_action) not in _VALID:
            raise _invalid_pair(field, f"{found_entity.value}.{found_action.value}")
        return cls(found_entity, found_action)

    @classmethod
    def from_name(cls, name: object, *, field: str = "events") -> WebhookEvent:
        """An event from its dotted name, ``model_version.created``."""
        if not isinstance(name, str) or name.count(".") != 1:
            raise invalid_value(field, name, "expected 'entity.action', e.g. 'model_version.created'")
        entity, _, action = name.partition(".")
        return cls.parse(entity, action, field=field)

    @property
    def name(self) -> str:
        return f"{self.entity.value}.{self.action.value}"

    @property
    def is_mlflow(self) -> bool:
        """True for MLflow's events (an MLflow client can read them), False for Wayline's."""
        return (self.entity, self.action) in _MLFLOW_SET

    def __str__(self) -> str:
        return self.name


_MLFLOW_SET = frozenset(MLFLOW_EVENTS)


def _invalid_pair(field: str, name: str) -> Exception:
    return invalid_value(field, name, f"not an event; the events are {_ALL_NAMES}")


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    name: str
    url: str
    #: The subscribed events, in the order they were given.
    events: tuple[WebhookEvent, ...]
    creation_timestamp: int
    last_updated_timestamp: int
    status: WebhookStatus = WebhookStatus.ACTIVE
    description: str | None = None
    #: Signs deliveries (HMAC-SHA256); never leaves the server.
    secret: str | None = field(default=None, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status is WebhookStatus.ACTIVE


class DeliveryStatus(str, Enum):
    """A delivery's state: ``PENDING`` until it succeeds or is given up (``FAILED``)."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class WebhookDelivery:
    """One event sent (or being sent) to one webhook, with the outcome of its latest attempt."""

    delivery_id: str
    webhook_id: str
    event: WebhookEvent
    #: The JSON body sent (the same at every attempt).
    payload: str
    status: DeliveryStatus
    attempts: int
    creation_timestamp: int
    last_attempt_timestamp: int | None = None
    #: The HTTP status of the latest attempt, when the receiver answered.
    response_status: int | None = None
    #: Why the latest attempt failed (None after a success).
    error: str | None = None
    #: True for a delivery made by "test webhook".
    test: bool = False


@dataclass(frozen=True)
class WebhookTestResult:
    """The outcome of a test delivery, as MLflow reports it."""

    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None


__all__ = [
    "ACTION_NUMBERS",
    "ENTITY_NUMBERS",
    "MLFLOW_EVENTS",
    "WAYLINE_EVENTS",
    "DeliveryStatus",
    "Webhook",
    "WebhookAction",
    "WebhookDelivery",
    "WebhookEntity",
    "WebhookEvent",
    "WebhookStatus",
    "WebhookTestResult",
]
