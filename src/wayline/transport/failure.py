"""Failed requests as :class:`WaylineError`: MLflow's error envelope when the answer has one, else the HTTP
status with a short excerpt of the body; and requests that got no answer (unreachable, timeout, TLS)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import orjson
import requests
from urllib3.exceptions import ReadTimeoutError

from wayline.errors import ErrorCode, InvalidParameterValue, WaylineError
from wayline.transport.config import HttpConfig
from wayline.transport.url import ServerUrl, redact_url

#: How much of an error body is read, and how much of it a message quotes.
MAX_ERROR_BODY = 64 * 1024
EXCERPT_LENGTH = 200

#: The status of a failing answer without an envelope, as an error code.
_STATUS_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.ENDPOINT_NOT_FOUND,
    405: ErrorCode.BAD_REQUEST,
    409: ErrorCode.RESOURCE_CONFLICT,
    413: ErrorCode.BAD_REQUEST,
    429: ErrorCode.REQUEST_LIMIT_EXCEEDED,
    501: ErrorCode.NOT_IMPLEMENTED,
    502: ErrorCode.TEMPORARILY_UNAVAILABLE,
    503: ErrorCode.TEMPORARILY_UNAVAILABLE,
    504: ErrorCode.DEADLINE_EXCEEDED,
}

Scrub = Callable[[str], str]


def error_from_response(
    response: requests.Response, method: str, path: str, *, server: ServerUrl, scrub: Scrub
) -> WaylineError:
    """The error a failing answer stands for: MLflow's envelope when it has one."""
    status = response.status_code
    try:
        body = response.raw.read(MAX_ERROR_BODY, decode_content=True) or b""
    except Exception:  # a broken error body still yields an error naming the status
        body = b""
    if 300 <= status < 400:
        location = redact_url(scrub(response.headers.get("Location", "")))
        return InvalidParameterValue(
            f"{server} answered {method} {path} with HTTP {status}, a redirect to {location!r}; "
            "redirects are not followed: set the tracking URI to the address the server names"
        )
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error_code"), str):
        message = decoded.get("message")
        return WaylineError.from_code(
            decoded["error_code"], scrub(message if isinstance(message, str) else "")
        )
    code = _STATUS_CODES.get(status, ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.BAD_REQUEST)
    hint = ""
    if status in (401, 403):
        hint = (
            " (credentials come from WAYLINE_TRACKING_TOKEN, or WAYLINE_TRACKING_USERNAME and "
            "WAYLINE_TRACKING_PASSWORD)"
        )
    quoted = excerpt(body, scrub)
    return WaylineError.from_code(
        code.value, f"HTTP {status} from {method} {path}{hint}" + (f": {quoted}" if quoted else "")
    )


def excerpt(body: bytes, scrub: Scrub) -> str:
    """The start of a body as one printable line of at most :data:`EXCERPT_LENGTH` characters."""
    text = body[: EXCERPT_LENGTH * 4].decode("utf-8", errors="replace")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    text = scrub(text)
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 3] + "..."


def transport_error(
    exc: Exception, method: str, path: str, *, server: ServerUrl, config: HttpConfig, scrub: Scrub
) -> WaylineError:
    """A request that got no answer: connection refused or dropped, timeout, TLS failure."""
    reason = scrub(_reason(exc))
    where = f"{server} ({method} {path})"
    unreachable = f"Could not reach {where} after {config.max_retries} retries: {reason}"
    if isinstance(exc, requests.exceptions.SSLError):
        return WaylineError(
            f"TLS connection to {where} failed: {reason}. Set WAYLINE_TRACKING_SERVER_CERT_PATH to "
            "the CA bundle that signed the server's certificate",
            error_code=ErrorCode.IO_ERROR,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return WaylineError.from_code(ErrorCode.TEMPORARILY_UNAVAILABLE.value, unreachable)
    if isinstance(exc, requests.exceptions.Timeout) or _caused_by(exc, ReadTimeoutError):
        return WaylineError(
            f"No answer from {where} within {config.timeout:g} seconds (WAYLINE_HTTP_REQUEST_TIMEOUT)",
            error_code=ErrorCode.DEADLINE_EXCEEDED,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return WaylineError.from_code(ErrorCode.TEMPORARILY_UNAVAILABLE.value, unreachable)
    return WaylineError(f"Request to {where} failed: {reason}", error_code=ErrorCode.IO_ERROR)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (urllib3's ``reason``, exception arguments, ``__cause__``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "reason", None)
        if isinstance(inner, BaseException):
            current = inner
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            current = current.__cause__ or current.__context__


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(cause, kind) for cause in _causes(exc))


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 failure, briefly (no URL, no headers)."""
    last = list(_causes(exc))[-1]
    text = str(last)
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    text = re.sub(r"\(host=.*?\)", "", text).strip(" :")
    text = " ".join(text.split())
    return (text or type(last).__name__)[:EXCERPT_LENGTH]


__all__ = ["EXCERPT_LENGTH", "MAX_ERROR_BODY", "error_from_response", "excerpt", "transport_error"]
