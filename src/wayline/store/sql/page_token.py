"""Opaque keyset page tokens: URL-safe base64 of a small JSON document.

A token carries what it pages (``kind``), a fingerprint of the query it belongs to (so a token cannot be
replayed against another filter or order) and the sort values of the last row returned. Nothing in it is
trusted: a token that does not decode, belongs to another query or holds values of the wrong shape is
InvalidParameterValue naming ``page_token``. Floats survive the round trip exactly, infinities and NaN
included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from wayline.errors import InvalidParameterValue

#: A sort value as it travels in a token.
TokenValue = str | int | float | bool | None

_VERSION = 1


def fingerprint(*parts: object) -> str:
    """A short stable digest of the query a token belongs to."""
    text = json.dumps([repr(part) for part in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode(kind: str, query: str, values: Sequence[TokenValue]) -> str:
    payload = {"v": _VERSION, "k": kind, "q": query, "s": list(values)}
    raw = json.dumps(payload, separators=(",", ":"), allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid(token: object, reason: str) -> InvalidParameterValue:
    shown = token if isinstance(token, str) and len(token) <= 80 else "..."
    return InvalidParameterValue(f"Invalid value {shown!r} for parameter 'page_token': {reason}")


def decode(token: str, kind: str, query: str, types: Sequence[type | tuple[type, ...]]) -> list[Any]:
    """The sort values of ``token``, checked against the query and the expected ``types`` of each value."""
    if not isinstance(token, str) or not token:
        raise invalid(token, "not a page token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid(token, "not a page token") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION or payload.get("k") != kind:
        raise invalid(token, "not a page token for this request")
    if payload.get("q") != query:
        raise invalid(token, "it belongs to another query (filter, order or scope changed)")
    values = payload.get("s")
    if not isinstance(values, list) or len(values) != len(types):
        raise invalid(token, "malformed sort values")
    for value, expected in zip(values, types, strict=True):
        if isinstance(value, bool) and expected is not bool:
            raise invalid(token, "malformed sort values")
        if not isinstance(value, expected):
            raise invalid(token, "malformed sort values")
    return values


__all__ = ["TokenValue", "decode", "encode", "fingerprint", "invalid"]
