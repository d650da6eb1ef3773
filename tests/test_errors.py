from __future__ import annotations

import pytest

from wayline import errors
from wayline.errors import HTTP_STATUS, ErrorCode, WaylineError


def test_every_code_has_a_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert all(400 <= status < 600 for status in HTTP_STATUS.values())


@pytest.mark.parametrize(
    ("cls", "code", "status"),
    [
        (errors.InvalidParameterValue, "INVALID_PARAMETER_VALUE", 400),
        (errors.BadRequest, "BAD_REQUEST", 400),
        (errors.InvalidState, "INVALID_STATE", 400),
        (errors.ResourceNotFound, "RESOURCE_DOES_NOT_EXIST", 404),
        (errors.ResourceAlreadyExists, "RESOURCE_ALREADY_EXISTS", 400),
        (errors.ResourceConflict, "RESOURCE_CONFLICT", 409),
        (errors.PermissionDenied, "PERMISSION_DENIED", 403),
        (errors.Unauthenticated, "UNAUTHENTICATED", 401),
        (errors.RequestLimitExceeded, "REQUEST_LIMIT_EXCEEDED", 429),
        (errors.TemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", 503),
        (errors.NotImplementedFeature, "NOT_IMPLEMENTED", 501),
        (errors.InternalError, "INTERNAL_ERROR", 500),
    ],
)
def test_class_code_status_and_envelope(cls: type[WaylineError], code: str, status: int) -> None:
    err = cls("something about 'field'")
    assert isinstance(err, WaylineError)
    assert err.error_code.value == code
    assert err.http_status == status
    assert err.to_dict() == {"error_code": code, "message": "something about 'field'"}
    rebuilt = WaylineError.from_code(code, "again")
    assert type(rebuilt) is cls
    assert rebuilt.message == "again"


def test_from_unknown_code_is_internal() -> None:
    err = WaylineError.from_code("NO_SUCH_CODE", "boom")
    assert err.error_code is ErrorCode.INTERNAL_ERROR
    assert err.http_status == 500


def test_search_syntax_error_names_position() -> None:
    err = errors.SearchSyntaxError("unexpected ')'", text="a = 1)", position=5)
    assert err.position == 5
    assert "position 5" in str(err)
    assert err.error_code is ErrorCode.INVALID_PARAMETER_VALUE


def test_all_is_unique_and_complete() -> None:
    assert len(errors.__all__) == len(set(errors.__all__))
    exported = {name for name in dir(errors) if isinstance(getattr(errors, name), type)}
    public = {n for n in exported if not n.startswith("_") and n not in {"Enum"}}
    assert public <= set(errors.__all__)
