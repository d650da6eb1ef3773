"""Helpers for client tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from wayline.entities import Metric, Param, RunTag
from wayline.errors import TemporarilyUnavailable
from wayline.store.tracking import TrackingStore


def unique(prefix: str = "exp") -> str:
    """A name no other test uses (the PostgreSQL database is shared by a worker's tests)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class FlakyStore:
    """A fault injector at the store boundary: a real store whose ``log_batch`` calls numbered in ``fail_on``
    (1-based) raise :class:`TemporarilyUnavailable`, as a database that went away would."""

    def __init__(self, inner: TrackingStore, fail_on: Sequence[int] = ()) -> None:
        self.inner = inner
        self.fail_on = set(fail_on)
        self.calls = 0
        self.sizes: list[int] = []

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self.calls += 1
        self.sizes.append(len(metrics))
        if self.calls in self.fail_on:
            raise TemporarilyUnavailable(f"injected failure of log_batch call {self.calls}")
        self.inner.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
