"""HTTP transport to a tracking server: one ``requests`` session with retries, credentials and TLS settings.

The REST tracking store (``store/rest.py``) and the HTTP artifact repository (``artifacts/http.py``) both
talk through an :class:`HttpTransport`. It sits below both layers (beside ``errors.py``), since artifacts must
not import the store layer.

- **Pool**: one keep-alive connection pool per transport, sized for the metric batcher's thread plus the
  caller's threads (``WAYLINE_HTTP_POOL_MAXSIZE``); a forked child process gets a fresh session.
- **Retries** with exponential backoff (urllib3's ``Retry``): a connection that cannot be made or that drops
  before the answer arrives, and the answers 429 and 503 (honouring ``Retry-After``, capped at
  :data:`MAX_RETRY_AFTER` seconds). A request that timed out waiting for its answer is retried only when its
  method is idempotent (GET, PUT, DELETE, HEAD), since the server may have acted on it. No other status is
  ever retried, and redirects are not followed.
- **Errors**: an answer with MLflow's envelope ``{"error_code", "message"}`` becomes
  ``WaylineError.from_code(code, message)``; any other failing answer a :class:`WaylineError` with the status
  and a short excerpt of the body. Messages and logs never contain credentials.

Settings come from the environment (:meth:`HttpConfig.from_env`); each ``WAYLINE_`` name falls back to its
``MLFLOW_`` twin, so a machine set up for the ``mlflow`` client works unchanged.
"""

from wayline.transport.config import HttpConfig
from wayline.transport.retry import (
    IDEMPOTENT_METHODS,
    MAX_RETRY_AFTER,
    RETRY_STATUSES,
    WaylineRetry,
    build_retry,
)
from wayline.transport.session import HttpTransport
from wayline.transport.url import ServerUrl, parse_server_url, redact_url

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "HttpConfig",
    "HttpTransport",
    "ServerUrl",
    "WaylineRetry",
    "build_retry",
    "parse_server_url",
    "redact_url",
]
