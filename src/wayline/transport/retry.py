"""What is retried: connections that fail or drop, 429 and 503 (with ``Retry-After``), and read timeouts of
idempotent methods only."""

from __future__ import annotations

from types import TracebackType

from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from wayline.transport.config import HttpConfig

#: Longest ``Retry-After`` wait honoured, in seconds (a server asking for more is waited on this long).
MAX_RETRY_AFTER = 120.0
#: Methods retried after a read timeout (the server may have acted on any other).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses retried; no other status ever is.
RETRY_STATUSES = frozenset({429, 503})


class WaylineRetry(Retry):
    """urllib3's Retry, with read timeouts retried only for idempotent methods and Retry-After capped."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> WaylineRetry:
        if isinstance(error, ReadTimeoutError) and (method or "").upper() not in IDEMPOTENT_METHODS:
            # The server may have acted on it: give up rather than send it again.
            raise error.with_traceback(_stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), MAX_RETRY_AFTER)


def build_retry(config: HttpConfig) -> WaylineRetry:
    n = config.max_retries
    return WaylineRetry(
        total=n,
        connect=n,
        read=n,
        status=n,
        other=0,  # TLS failures and the like are not transient: fail at once
        redirect=0,
        allowed_methods=None,  # every method; read timeouts are narrowed in WaylineRetry.increment
        status_forcelist=RETRY_STATUSES,
        backoff_factor=config.backoff_factor,
        backoff_jitter=config.backoff_jitter,
        raise_on_status=False,  # the last 429/503 answer is returned and decoded like any error
        respect_retry_after_header=True,
    )


__all__ = ["IDEMPOTENT_METHODS", "MAX_RETRY_AFTER", "RETRY_STATUSES", "WaylineRetry", "build_retry"]
