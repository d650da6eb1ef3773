"""Where services report what they changed: an :class:`EventSink` receives ``(entity, action, data)`` after
each committed mutation (names from :mod:`wayline.entities.webhook`, payloads in MLflow's shapes for MLflow's
events). The server wires the webhook dispatcher in; a service without a sink reports nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class EventSink(Protocol):
    """Receives events; must return quickly and never raise (delivery happens elsewhere)."""

    def emit(self, entity: str, action: str, data: Mapping[str, object]) -> None: ...


__all__ = ["EventSink"]
