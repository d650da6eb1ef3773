"""Fixtures for CLI tests: a real store in tmp_path (or PostgreSQL), data logged through the service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import Result

from cli.helpers import T0, Backend, Churn, Invoke, invoke_cli, log_run
from wayline.entities import Dataset, DatasetInput, ExperimentTag, InputTag, RunStatus
from wayline.services.tracking import TrackingService
from wayline.store.resolve import open_tracking_store


@pytest.fixture
def sqlite_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    monkeypatch.delenv("WAYLINE_ARTIFACT_ROOT", raising=False)
    uri = str(tmp_path / "wayline-data")
    store = open_tracking_store(uri)
    yield Backend(uri, TrackingService(store))
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """The embedded SQLite store, and (marked postgres) the session's PostgreSQL database."""
    monkeypatch.setenv("WAYLINE_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    if request.param == "sqlite":
        uri = str(tmp_path / "wayline-data")
    else:
        uri = request.getfixturevalue("postgres_url")
    store = open_tracking_store(uri)
    yield Backend(uri, TrackingService(store))
    store.close()


@pytest.fixture
def run_cli(sqlite_backend: Backend) -> Invoke:
    """``run_cli("runs", "list", env=...)`` against the embedded store."""

    def _invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
        return invoke_cli(sqlite_backend.uri, list(args), env)

    return _invoke


@pytest.fixture
def churn(sqlite_backend: Backend) -> Churn:
    service = sqlite_backend.service
    eid = service.create_experiment("churn", tags=[ExperimentTag("team", "ml")])
    vision = service.create_experiment("vision")
    best = log_run(
        service,
        eid,
        "bold-owl",
        metrics={"rmse": 0.25, "accuracy": 0.91},
        params={"model": "rf", "depth": "8"},
        tags={"team": "ml"},
        start=T0 + 2000,
    )
    service.log_inputs(
        best,
        [
            DatasetInput(
                Dataset("train-set", "d1g3st", "local", "/data/train.csv"),
                (InputTag("mlflow.data.context", "training"),),
            )
        ],
    )
    middle = log_run(
        service,
        eid,
        "calm-fox",
        metrics={"rmse": 0.4, "accuracy": 0.85},
        params={"model": "gbm"},
        start=T0 + 1000,
    )
    worst = log_run(
        service,
        eid,
        "wild-cat",
        metrics={"rmse": 0.9},
        params={"model": "rf"},
        start=T0,
        duration=12_300,
        status=RunStatus.FAILED,
    )
    return Churn(eid, vision, best, middle, worst)
