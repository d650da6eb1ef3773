"""Reading an enum member from what a caller wrote: the member itself or its value in any case."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from wayline.errors import invalid_value

E = TypeVar("E", bound=Enum)


def parse_choice(cls: type[E], value: object, field: str) -> E:
    """The member of ``cls`` that ``value`` is or names (its value, any case, surrounding spaces ignored);
    anything else is INVALID_PARAMETER_VALUE naming ``field`` and listing the choices."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        text = value.strip().upper()
        for member in cls:
            if str(member.value).upper() == text:
                return member
    allowed = ", ".join(str(member.value) for member in cls)
    raise invalid_value(field, value, f"expected one of {allowed} (any case)")
