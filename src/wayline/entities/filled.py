"""Frozen dataclasses filled without their ``__init__``, for the read paths that make thousands at once."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def filled(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` with exactly ``fields``, set the way pickle restores one:
    a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which for a page of 100
    runs (a run, its info and its data each) costs more than reading the page's rows. ``fields`` must name
    every field; the entities have no ``__post_init__`` to skip."""
    instance: T = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


__all__ = ["filled"]
