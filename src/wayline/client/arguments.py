"""Checks of arguments that only the Python client has (dicts of tags, local paths, entity lists).

Everything a store sees is checked again by :mod:`wayline.services.validation`; these checks come first so
that a bad argument is reported by its own name, before any run is started or anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from wayline.errors import invalid_value
from wayline.services.tracking import stringify

E = TypeVar("E")


def string_map(value: object, field: str) -> dict[str, str]:
    """A ``{key: value}`` argument (None for none), values stringified; keys are checked by the service."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid_value(field, value, "must be a dict")
    return {key: stringify(val) for key, val in value.items()}


def entity_list(items: object, kind: type[E], field: str) -> list[E]:
    """A list whose every item is a ``kind``."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise invalid_value(field, items, f"must be a list of {kind.__name__}")
    for item in items:
        if not isinstance(item, kind):
            raise invalid_value(field, item, f"every item must be a {kind.__name__}")
    return list(items)


def local_path(value: object, field: str, *, directory: bool) -> Path:
    """An existing local file (or directory)."""
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise invalid_value(field, value, "must be a path")
    path = Path(value)
    if directory and not path.is_dir():
        raise invalid_value(field, str(value), "not an existing directory")
    if not directory and not path.is_file():
        raise invalid_value(field, str(value), "not an existing regular file")
    return path


def optional_string(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid_value(field, value, "must be a string")
    return value


__all__ = ["entity_list", "local_path", "optional_string", "string_map"]
