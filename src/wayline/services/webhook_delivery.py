"""The webhook sender: :class:`WebhookDispatcher` turns registry events into signed, retried, logged
deliveries, in the background.

``emit(entity, action, data)`` returns at once and never raises: the request that caused the event neither
waits for nor fails because of its webhooks. A worker thread then finds the active webhooks subscribed to the
event, records one ``PENDING`` delivery per webhook and makes its attempts. An attempt that fails with a
connection error, a timeout, HTTP 429 or a 5xx is retried after an exponential backoff (``backoff_s`` doubled
at each attempt, at most ``max_backoff_s``; a ``Retry-After`` header is honoured up to that bound) until
``max_attempts``; other answers (a 2xx: ``SUCCEEDED``; a 3xx, since redirects are not followed, or a 4xx:
``FAILED``) end the delivery, and so does an address the guard refuses. Each attempt's outcome is written to
the delivery log. Every attempt reads the webhook again, so a webhook disabled, deleted or given a new secret
meanwhile is honoured.

Waiting retries sit in a timer queue, not in a worker thread. :meth:`WebhookDispatcher.close` stops new
events and waits (bounded) for the deliveries under way; a retry still waiting after that stays ``PENDING``
in the log.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from wayline.entities.webhook import (
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookTestResult,
)
from wayline.errors import ResourceNotFound, WaylineError
from wayline.services import outbound_http
from wayline.services.outbound_http import HttpOutcome, OutcomeKind
from wayline.services.outbound_url import parse_url
from wayline.services.webhook_payload import delivery_headers, event_body, example_data
from wayline.store.webhook import WebhookStore

logger = logging.getLogger("wayline.webhooks")

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_WORKERS = 4
#: Longest error text kept in the delivery log.
MAX_ERROR_LENGTH = 500
_RETRY_STATUSES = frozenset({429})


def retryable(outcome: HttpOutcome) -> bool:
    """Connection errors, timeouts, HTTP 429 and 5xx are worth another attempt; nothing else is."""
    if outcome.kind in (OutcomeKind.CONNECTION, OutcomeKind.TIMEOUT):
        return True
    status = outcome.status or 0
    return outcome.kind is OutcomeKind.RESPONSE and (status in _RETRY_STATUSES or 500 <= status <= 599)


def succeeded(outcome: HttpOutcome) -> bool:
    return outcome.kind is OutcomeKind.RESPONSE and 200 <= (outcome.status or 0) <= 299


def describe(outcome: HttpOutcome) -> str | None:
    """The error to log for an outcome (None for a success)."""
    if succeeded(outcome):
        return None
    if outcome.kind is OutcomeKind.RESPONSE:
        text = f"HTTP {outcome.status}"
        if outcome.status is not None and 300 <= outcome.status <= 399:
            text += " (redirects are not followed)"
        snippet = " ".join(outcome.body.split())[:200]
        return f"{text}: {snippet}" if snippet else text
    return (outcome.error or outcome.kind.value)[:MAX_ERROR_LENGTH]


class WebhookDispatcher:
    """Delivers events to the webhooks of a :class:`WebhookStore` (see the module docstring).

    ``allow_private`` lets deliveries reach loopback and private addresses (the server setting
    ``webhook_allow_private``); ``ssl_context`` replaces the system's trust store for HTTPS receivers.
    """

    def __init__(
        self,
        store: WebhookStore,
        *,
        allow_private: bool = False,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        workers: int = DEFAULT_WORKERS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.store = store
        self.allow_private = allow_private
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.ssl_context = ssl_context
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wayline-webhook")
        self._cond = threading.Condition()
        self._pending = 0  # jobs queued, waiting for their time, or running
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._closed = False
        self._timer_thread: threading.Thread | None = None

    # -- the emitter API -------------------------------------------------------------------------------------
    def emit(self, entity: str, action: str, data: Mapping[str, object]) -> None:
        """Deliver event ``entity.action`` with payload ``data`` to its webhooks, in the background.

        Returns at once; never raises (a bad event or an unserializable payload is logged and dropped).
        """
        try:
            event = WebhookEvent.parse(entity, action, field="event")
            body = event_body(event, data)  # serialized now: later changes to ``data`` do not leak in
        except Exception:
            logger.exception("webhook event %s.%s dropped", entity, action)
            return
        if not self._submit(partial(self._fan_out, event, body)):
            logger.warning("webhook event %s dropped: the dispatcher is closed", event)

    # -- test deliveries ------------------------------------------------------------------------------------
    def test(self, webhook: Webhook, event: WebhookEvent) -> WebhookTestResult:
        """Send ``event``'s example payload to ``webhook`` now, once (no retries), log it as a test delivery,
        and report the outcome as MLflow does (the answer's status and body)."""
        body = event_body(event, example_data(event))
        delivery: WebhookDelivery | None = None
        try:
            delivery = self.store.create_delivery(
                webhook_id=webhook.webhook_id, event=event, payload=body, test=True
            )
            delivery_id = delivery.delivery_id
        except WaylineError:
            logger.exception("cannot log the test delivery of webhook %s", webhook.webhook_id)
            delivery_id = str(uuid.uuid4())
        outcome = self._send(webhook, delivery_id, body)
        if delivery is not None:
            self._log(
                delivery_id,
                DeliveryStatus.SUCCEEDED if succeeded(outcome) else DeliveryStatus.FAILED,
                outcome,
            )
        if outcome.kind is OutcomeKind.RESPONSE:
            return WebhookTestResult(
                success=succeeded(outcome),
                response_status=outcome.status,
                response_body=outcome.body or None,
                error_message=None if succeeded(outcome) else describe(outcome),
            )
        return WebhookTestResult(success=False, error_message=f"Failed to test webhook: {describe(outcome)}")

    # -- lifecycle ------------------------------------------------------------------------------------------
    def drain(self, timeout: float) -> bool:
        """Wait until every delivery under way has finished (retries included); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Accept no more events, wait up to ``timeout`` (default: the request timeout plus 5 s) for the
        deliveries under way, then drop the retries still waiting (they stay PENDING in the log)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        finished = self.drain(self.timeout_s + 5 if timeout is None else timeout)
        with self._cond:
            dropped = len(self._timers)
            self._pending -= dropped
            self._timers.clear()
            self._cond.notify_all()
        if not finished:
            logger.warning(
                "webhook dispatcher closed with deliveries under way (%d retries dropped)", dropped
            )
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._timer_thread is not None:
            self._timer_thread.join(timeout=1)

    # -- scheduling -----------------------------------------------------------------------------------------
    def _submit(self, job: Callable[[], None], delay: float = 0.0, *, internal: bool = False) -> bool:
        """Run ``job`` on a worker, after ``delay`` seconds; False when closed (only ``internal`` follow-ups
        of work under way are still accepted, while closing)."""
        with self._cond:
            if self._closed and not internal:
                return False
            self._pending += 1
            if delay > 0:
                heapq.heappush(self._timers, (time.monotonic() + delay, next(self._order), job))
                self._start_timer_thread()
                self._cond.notify_all()
                return True
        try:
            self._pool.submit(self._run, job)
        except RuntimeError:  # the pool was shut down meanwhile
            self._done()
            return False
        return True

    def _start_timer_thread(self) -> None:
        if self._timer_thread is None:
            self._timer_thread = threading.Thread(
                target=self._timer_loop, name="wayline-webhook-timer", daemon=True
            )
            self._timer_thread.start()

    def _timer_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed and not self._timers and self._pending == 0:
                        return
                    if self._timers and self._timers[0][0] <= time.monotonic():
                        _, _, job = heapq.heappop(self._timers)
                        break
                    wait = self._timers[0][0] - time.monotonic() if self._timers else 1.0
                    self._cond.wait(max(0.0, min(wait, 1.0)))
            try:
                self._pool.submit(self._run, job)
            except RuntimeError:
                self._done()

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            logger.exception("webhook delivery job failed")
        finally:
            self._done()

    def _done(self) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    def _delay(self, attempt: int, outcome: HttpOutcome) -> float:
        if outcome.retry_after_s is not None:
            return min(self.max_backoff_s, outcome.retry_after_s)
        base = min(self.max_backoff_s, self.backoff_s * 2.0 ** (attempt - 1))
        return base * random.uniform(1.0, 1.2)  # jitter, so that retries of many deliveries spread out

    # -- delivering -----------------------------------------------------------------------------------------
    def _fan_out(self, event: WebhookEvent, body: str) -> None:
        for webhook in self.store.list_webhooks_by_event(event):
            try:
                delivery = self.store.create_delivery(
                    webhook_id=webhook.webhook_id, event=event, payload=body
                )
            except WaylineError:
                logger.exception("cannot log a delivery of %s to webhook %s", event, webhook.webhook_id)
                continue
            self._submit(
                partial(self._attempt, delivery.delivery_id, webhook.webhook_id, body, 1), internal=True
            )

    def _attempt(self, delivery_id: str, webhook_id: str, body: str, attempt: int) -> None:
        try:
            webhook = self.store.get_webhook(webhook_id)
        except ResourceNotFound:
            self._log(
                delivery_id,
                DeliveryStatus.FAILED,
                HttpOutcome(OutcomeKind.REFUSED, error="the webhook was deleted"),
            )
            return
        if not webhook.is_active:
            self._log(
                delivery_id,
                DeliveryStatus.FAILED,
                HttpOutcome(OutcomeKind.REFUSED, error="the webhook is disabled"),
            )
            return
        outcome = self._send(webhook, delivery_id, body)
        if succeeded(outcome):
            self._log(delivery_id, DeliveryStatus.SUCCEEDED, outcome)
        elif retryable(outcome) and attempt < self.max_attempts:
            self._log(delivery_id, DeliveryStatus.PENDING, outcome)
            retry = partial(self._attempt, delivery_id, webhook_id, body, attempt + 1)
            if not self._submit(retry, self._delay(attempt, outcome), internal=True):
                logger.warning("webhook delivery %s: retry dropped, the dispatcher is closed", delivery_id)
        else:
            self._log(delivery_id, DeliveryStatus.FAILED, outcome)
            logger.warning(
                "webhook delivery %s to %s failed: %s", delivery_id, webhook.name, describe(outcome)
            )

    def _send(self, webhook: Webhook, delivery_id: str, body: str) -> HttpOutcome:
        try:
            target = parse_url(webhook.url)
        except WaylineError as exc:
            return HttpOutcome(OutcomeKind.REFUSED, error=exc.message)
        headers = delivery_headers(delivery_id, body, webhook.secret, int(time.time()))
        return outbound_http.post(
            target,
            body.encode(),
            headers,
            allow_private=self.allow_private,
            timeout_s=self.timeout_s,
            ssl_context=self.ssl_context,
        )

    def _log(self, delivery_id: str, status: DeliveryStatus, outcome: HttpOutcome) -> None:
        response_status = outcome.status if outcome.kind is OutcomeKind.RESPONSE else None
        try:
            self.store.record_attempt(
                delivery_id, status=status, response_status=response_status, error=describe(outcome)
            )
        except WaylineError:
            logger.exception("cannot log an attempt of webhook delivery %s", delivery_id)


__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_TIMEOUT_S",
    "WebhookDispatcher",
    "describe",
    "retryable",
    "succeeded",
]
