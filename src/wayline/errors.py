"""One exception family for all of Wayline.

Every error carries an MLflow error code (the wire contract) and maps to one HTTP status through
:data:`HTTP_STATUS`::

    WaylineError                      INTERNAL_ERROR (500) unless told otherwise
    ├── InvalidParameterValue         INVALID_PARAMETER_VALUE (400)  bad input, names the field
    │   └── SearchSyntaxError         INVALID_PARAMETER_VALUE (400)  bad filter/order_by, names the position
    ├── BadRequest                    BAD_REQUEST (400)
    ├── InvalidState                  INVALID_STATE (400)            e.g. logging to a deleted run
    ├── ResourceNotFound              RESOURCE_DOES_NOT_EXIST (404)
    ├── ResourceAlreadyExists         RESOURCE_ALREADY_EXISTS (400)
    ├── ResourceConflict              RESOURCE_CONFLICT (409)
    ├── PermissionDenied              PERMISSION_DENIED (403)
    ├── Unauthenticated               UNAUTHENTICATED (401)
    ├── RequestLimitExceeded          REQUEST_LIMIT_EXCEEDED (429)
    ├── TemporarilyUnavailable        TEMPORARILY_UNAVAILABLE (503)
    ├── NotImplementedFeature         NOT_IMPLEMENTED (501)
    └── InternalError                 INTERNAL_ERROR (500)

Messages never contain secrets.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    """MLflow's error codes, as they appear in the REST error envelope."""

    INTERNAL_ERROR = "INTERNAL_ERROR"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    IO_ERROR = "IO_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    INVALID_STATE = "INVALID_STATE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    CUSTOMER_UNAUTHORIZED = "CUSTOMER_UNAUTHORIZED"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
    RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
    RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
    RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    ABORTED = "ABORTED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    CANCELLED = "CANCELLED"
    DATA_LOSS = "DATA_LOSS"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"


#: The one code-to-HTTP-status table (MLflow's mapping).
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.TEMPORARILY_UNAVAILABLE: 503,
    ErrorCode.IO_ERROR: 500,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.INVALID_PARAMETER_VALUE: 400,
    ErrorCode.ENDPOINT_NOT_FOUND: 404,
    ErrorCode.MALFORMED_REQUEST: 400,
    ErrorCode.INVALID_STATE: 400,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.FEATURE_DISABLED: 501,
    ErrorCode.CUSTOMER_UNAUTHORIZED: 401,
    ErrorCode.REQUEST_LIMIT_EXCEEDED: 429,
    ErrorCode.RESOURCE_DOES_NOT_EXIST: 404,
    ErrorCode.RESOURCE_ALREADY_EXISTS: 400,
    ErrorCode.RESOURCE_CONFLICT: 409,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_IMPLEMENTED: 501,
    ErrorCode.ABORTED: 409,
    ErrorCode.DEADLINE_EXCEEDED: 504,
    ErrorCode.CANCELLED: 499,
    ErrorCode.DATA_LOSS: 500,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_EXISTS: 409,
}


class WaylineError(Exception):
    """Base of every error Wayline raises on purpose."""

    default_code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, error_code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code or self.default_code

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.error_code, 500)

    def to_dict(self) -> dict[str, str]:
        """The MLflow error envelope."""
        return {"error_code": self.error_code.value, "message": self.message}

    @classmethod
    def from_code(cls, error_code: str, message: str) -> WaylineError:
        """Rebuild the most specific error for a code received over the wire."""
        try:
            code = ErrorCode(error_code)
        except ValueError:
            return WaylineError(message, error_code=ErrorCode.INTERNAL_ERROR)
        for sub in _all_subclasses(WaylineError):
            if sub.default_code is code and sub is not SearchSyntaxError:
                return sub(message)
        return WaylineError(message, error_code=code)

    def __str__(self) -> str:
        return self.message


def _all_subclasses(cls: type[WaylineError]) -> list[type[WaylineError]]:
    out: list[type[WaylineError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


class InvalidParameterValue(WaylineError):
    """Bad input. The message names the field."""

    default_code = ErrorCode.INVALID_PARAMETER_VALUE


#: Longest rendering of a bad value quoted in an error message.
MAX_SHOWN_VALUE = 120


def invalid_value(field: str, value: object, why: str) -> InvalidParameterValue:
    """The one wording of a bad argument: ``Invalid value <value> for parameter '<field>': <why>``.

    The value is shown with ``repr`` and shortened, so a megabyte of bad input never lands in a log line.
    """
    shown = repr(value)
    if len(shown) > MAX_SHOWN_VALUE:
        shown = shown[: MAX_SHOWN_VALUE - 3] + "..."
    return InvalidParameterValue(f"Invalid value {shown} for parameter '{field}': {why}")


class SearchSyntaxError(InvalidParameterValue):
    """A filter or order-by clause that does not parse; the message names the position."""

    def __init__(self, message: str, *, text: str = "", position: int | None = None) -> None:
        self.text = text
        self.position = position
        if position is not None and text:
            message = f"{message} at position {position} in {text!r}"
        super().__init__(message)


class BadRequest(WaylineError):
    default_code = ErrorCode.BAD_REQUEST


class InvalidState(WaylineError):
    default_code = ErrorCode.INVALID_STATE


class ResourceNotFound(WaylineError):
    default_code = ErrorCode.RESOURCE_DOES_NOT_EXIST


class ResourceAlreadyExists(WaylineError):
    default_code = ErrorCode.RESOURCE_ALREADY_EXISTS


class ResourceConflict(WaylineError):
    default_code = ErrorCode.RESOURCE_CONFLICT


class PermissionDenied(WaylineError):
    default_code = ErrorCode.PERMISSION_DENIED


class Unauthenticated(WaylineError):
    default_code = ErrorCode.UNAUTHENTICATED


class RequestLimitExceeded(WaylineError):
    default_code = ErrorCode.REQUEST_LIMIT_EXCEEDED


class TemporarilyUnavailable(WaylineError):
    default_code = ErrorCode.TEMPORARILY_UNAVAILABLE


class NotImplementedFeature(WaylineError):
    default_code = ErrorCode.NOT_IMPLEMENTED


class InternalError(WaylineError):
    default_code = ErrorCode.INTERNAL_ERROR


__all__ = [
    "HTTP_STATUS",
    "BadRequest",
    "ErrorCode",
    "InternalError",
    "InvalidParameterValue",
    "InvalidState",
    "NotImplementedFeature",
    "PermissionDenied",
    "RequestLimitExceeded",
    "ResourceAlreadyExists",
    "ResourceConflict",
    "ResourceNotFound",
    "SearchSyntaxError",
    "TemporarilyUnavailable",
    "Unauthenticated",
    "WaylineError",
    "invalid_value",
]
