"""What a webhook delivery carries: MLflow's JSON envelope, headers and HMAC-SHA256 signature, and the example
payloads sent by "test webhook".

The body is ``{"entity": ..., "action": ..., "timestamp": <ISO 8601, UTC>, "data": {...}}``, serialized as
MLflow serializes it (``json.dumps`` defaults). The headers are MLflow's: ``X-MLflow-Delivery-Id`` (a UUID,
the same at every attempt of a delivery), ``X-MLflow-Timestamp`` (Unix seconds of the attempt) and, when the
webhook has a secret, ``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``.
A receiver written for MLflow therefore verifies Wayline's deliveries unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timezone

from wayline import __version__
from wayline.entities.webhook import MLFLOW_EVENTS, WAYLINE_EVENTS, WebhookAction, WebhookEntity, WebhookEvent

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
USER_AGENT = f"Wayline-Webhooks/{__version__}"


def event_body(event: WebhookEvent, data: Mapping[str, object], at: datetime | None = None) -> str:
    """The JSON body of a delivery of ``event`` that happened ``at`` (now when None)."""
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    envelope = {
        "entity": event.entity.value,
        "action": event.action.value,
        "timestamp": when.isoformat(),
        "data": dict(data),
    }
    return json.dumps(envelope)


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """``v1,<base64 HMAC-SHA256(secret, "<delivery_id>.<timestamp>.<body>")>``, MLflow's signature."""
    signed = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def delivery_headers(delivery_id: str, body: str, secret: str | None, unix_seconds: int) -> dict[str, str]:
    """The headers of one attempt: content type, delivery id, timestamp and (with a secret) signature."""
    timestamp = str(unix_seconds)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, delivery_id, timestamp, body)
    return headers


_E, _A = WebhookEntity, WebhookAction
_MODEL = {"name": "example_model"}
_VERSION = {"name": "example_model", "version": "1"}
_PROMPT = {"name": "example_prompt"}
_PROMPT_VERSION = {"name": "example_prompt", "version": "1"}
_TAG = {"key": "example_key", "value": "example_value"}
_REQUEST = {
    **_VERSION,
    "request_id": "1",
    "kind": "stage",
    "target": "Production",
    "requested_by": "alice",
}

#: The payload ("data") "test webhook" sends for each event: MLflow's examples for MLflow's events, and the
#: documented shape of each of Wayline's events (``docs/webhooks.md``).
EXAMPLES: dict[tuple[WebhookEntity, WebhookAction], dict[str, object]] = {
    (_E.REGISTERED_MODEL, _A.CREATED): {
        **_MODEL,
        "tags": {"example_key": "example_value"},
        "description": "An example registered model",
    },
    (_E.MODEL_VERSION, _A.CREATED): {
        **_VERSION,
        "source": "models:/123",
        "run_id": "abcd1234abcd5678",
        "tags": {"example_key": "example_value"},
        "description": "An example model version",
    },
    (_E.MODEL_VERSION_TAG, _A.SET): {**_VERSION, **_TAG},
    (_E.MODEL_VERSION_TAG, _A.DELETED): {**_VERSION, "key": "example_key"},
    (_E.MODEL_VERSION_ALIAS, _A.CREATED): {**_MODEL, "alias": "example_alias", "version": "1"},
    (_E.MODEL_VERSION_ALIAS, _A.DELETED): {**_MODEL, "alias": "example_alias"},
    (_E.PROMPT, _A.CREATED): {
        **_PROMPT,
        "tags": {"example_key": "example_value"},
        "description": "An example prompt",
    },
    (_E.PROMPT_VERSION, _A.CREATED): {
        **_PROMPT_VERSION,
        "template": "Hello {{name}}!",
        "tags": {"example_key": "example_value"},
        "description": "An example prompt version",
    },
    (_E.PROMPT_TAG, _A.SET): {**_PROMPT, **_TAG},
    (_E.PROMPT_TAG, _A.DELETED): {**_PROMPT, "key": "example_key"},
    (_E.PROMPT_VERSION_TAG, _A.SET): {**_PROMPT_VERSION, **_TAG},
    (_E.PROMPT_VERSION_TAG, _A.DELETED): {**_PROMPT_VERSION, "key": "example_key"},
    (_E.PROMPT_ALIAS, _A.CREATED): {**_PROMPT, "alias": "example_alias", "version": "1"},
    (_E.PROMPT_ALIAS, _A.DELETED): {**_PROMPT, "alias": "example_alias"},
    (_E.BUDGET_POLICY, _A.EXCEEDED): {
        "budget_policy_id": "bp-abc123",
        "budget_unit": "USD",
        "budget_amount": 100.0,
        "current_spend": 105.50,
        "duration_unit": "MONTHS",
        "duration_value": 1,
        "target_scope": "ENDPOINT",
        "workspace": "default",
        "target_value": "ep-abc123",
        "window_start": 1704067200000,
    },
    # Wayline's events
    (_E.REGISTERED_MODEL_TAG, _A.SET): {**_MODEL, **_TAG},
    (_E.REGISTERED_MODEL_TAG, _A.DELETED): {**_MODEL, "key": "example_key"},
    (_E.MODEL_VERSION_STAGE, _A.UPDATED): {
        **_VERSION,
        "from_stage": "Staging",
        "to_stage": "Production",
        "archive_existing_versions": False,
        "actor": "alice",
        "comment": "Passed the evaluation",
    },
    (_E.TRANSITION_REQUEST, _A.CREATED): {**_REQUEST, "comment": "Ready for production"},
    (_E.TRANSITION_REQUEST, _A.APPROVED): {**_REQUEST, "decided_by": "bob", "comment": "Approved"},
    (_E.TRANSITION_REQUEST, _A.REJECTED): {**_REQUEST, "decided_by": "bob", "comment": "Needs more data"},
    (_E.MODEL_VERSION_COMMENT, _A.CREATED): {
        **_VERSION,
        "comment_id": "1",
        "author": "alice",
        "text": "Looks good",
    },
    (_E.MODEL_VERSION_COMMENT, _A.UPDATED): {
        **_VERSION,
        "comment_id": "1",
        "author": "alice",
        "text": "Looks good to me",
    },
    (_E.MODEL_VERSION_COMMENT, _A.DELETED): {**_VERSION, "comment_id": "1", "author": "alice"},
}

if set(EXAMPLES) != set(MLFLOW_EVENTS) | set(WAYLINE_EVENTS):  # pragma: no cover - a programming error
    raise RuntimeError("every webhook event needs an example payload")


def example_data(event: WebhookEvent) -> dict[str, object]:
    """A copy of the example payload of ``event``."""
    return json.loads(json.dumps(EXAMPLES[(event.entity, event.action)]))  # type: ignore[no-any-return]


__all__ = [
    "DELIVERY_ID_HEADER",
    "EXAMPLES",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "USER_AGENT",
    "delivery_headers",
    "event_body",
    "example_data",
    "sign",
]
