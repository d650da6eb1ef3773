"""Fixtures for client tests: a real store in tmp_path (or PostgreSQL), and clean fluent state per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.helpers import FlakyStore
from wayline.client import active
from wayline.client.client import WaylineClient
from wayline.services.tracking import TrackingService
from wayline.store.resolve import open_tracking_store


@pytest.fixture(autouse=True)
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test starts with no active run, no client, and its own embedded store as the tracking URI."""
    for name in (
        "MLFLOW_TRACKING_URI",
        "WAYLINE_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_NAME",
        "WAYLINE_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_ID",
        "WAYLINE_DISABLE_SYSTEM_TAGS",
        "WAYLINE_ASYNC_FLUSH_INTERVAL",
        "WAYLINE_ASYNC_MAX_QUEUE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WAYLINE_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri = str(tmp_path / "wayline-data")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", uri)
    active._reset()
    yield uri
    active._reset()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tracking_uri(request: pytest.FixtureRequest, fluent_state: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The embedded SQLite store, and (marked postgres) the session's PostgreSQL database."""
    if request.param == "sqlite":
        return fluent_state
    uri: str = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", uri)
    return uri


@pytest.fixture
def client(tracking_uri: str) -> Iterator[WaylineClient]:
    with WaylineClient(tracking_uri) as c:
        yield c


@pytest.fixture
def sqlite_client(fluent_state: str) -> Iterator[WaylineClient]:
    with WaylineClient(fluent_state) as c:
        yield c


@pytest.fixture
def flaky_service(tracking_uri: str) -> Iterator[tuple[TrackingService, FlakyStore]]:
    store = FlakyStore(open_tracking_store(tracking_uri))
    yield TrackingService(store), store  # type: ignore[arg-type]
    store.inner.close()
