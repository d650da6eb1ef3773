"""Serving ``models:/name@alias`` from a real Wayline tracking server: when the alias moves the server
loads the new version in the background and switches without failing a request; a version that does
not load leaves the old one serving."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import wayline
from models.serving.serving_support import (
    expected,
    features,
    fit_regressor,
    run,
    scoring_client,
    split_payload,
)
from servers import ServerProcess
from wayline.client import active
from wayline.client.client import WaylineClient

FRAME = features(3)


@pytest.fixture
def registry(sqlite_server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A registered model with versions 1 (scale 1) and 2 (scale 10), alias champion on 1."""
    from wayline.models.flavors.sklearn import log_model

    for name in ("MLFLOW_TRACKING_URI", "WAYLINE_EXPERIMENT_NAME", "WAYLINE_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WAYLINE_TRACKING_URI", sqlite_server.url)
    monkeypatch.setenv("WAYLINE_DISABLE_SYSTEM_TAGS", "true")
    active._reset()
    name = f"served-{tmp_path.name}"
    wayline.set_experiment(f"serving-{tmp_path.name}")
    for scale in (1.0, 10.0):
        with wayline.start_run():
            log_model(fit_regressor(scale), name="model", input_example=FRAME, registered_model_name=name)
    with WaylineClient(sqlite_server.url) as client:
        client.set_registered_model_alias(name, "champion", 1)
    yield name
    active._reset()


def _move_alias(url: str, name: str, version: int) -> None:
    with WaylineClient(url) as client:
        client.set_registered_model_alias(name, "champion", version)


def test_the_server_follows_the_alias_without_failing_a_request(
    registry: str, sqlite_server: ServerProcess
) -> None:
    url = sqlite_server.url

    async def body() -> None:
        async with scoring_client(f"models:/{registry}@champion", tracking_uri=url, poll_interval_s=0.2) as (
            app,
            client,
        ):
            meta = (await client.get("/metadata")).json()
            assert meta["model_version"] == "1"
            assert meta["registered_model_name"] == registry
            assert meta["source_uri"] == f"models:/{registry}/1"
            answers: list[list[float]] = []
            failures: list[str] = []
            stop = asyncio.Event()

            async def loop_requests() -> None:
                while not stop.is_set():
                    response = await client.post("/invocations", json=split_payload(FRAME))
                    if response.status_code != 200:
                        failures.append(response.text)
                    else:
                        answers.append(response.json()["predictions"])
                    await asyncio.sleep(0)

            clients = [asyncio.create_task(loop_requests()) for _ in range(4)]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(_move_alias, url, registry, 2)
            for _ in range(300):
                if app.holder.switches:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # requests keep flowing on the new version
            stop.set()
            await asyncio.gather(*clients)

            assert failures == []
            assert app.holder.switches == 1
            old, new = expected(FRAME), expected(FRAME, 10.0)
            assert answers[0] == pytest.approx(old)
            assert answers[-1] == pytest.approx(new)
            assert all(a == pytest.approx(old) or a == pytest.approx(new) for a in answers)
            meta = (await client.get("/metadata")).json()
            assert meta["model_version"] == "2"
            assert meta["source_uri"] == f"models:/{registry}/2"

    run(body)


def test_a_version_that_does_not_load_leaves_the_old_one_serving(
    registry: str, sqlite_server: ServerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """Version 3 is pickled: without --trusted it is refused, and version 1 keeps serving."""
    from wayline.models.flavors.sklearn import log_model

    with wayline.start_run():
        log_model(
            fit_regressor(5.0),
            name="model",
            serialization_format="cloudpickle",
            input_example=FRAME,
            registered_model_name=registry,
        )
    url = sqlite_server.url

    async def body() -> None:
        async with scoring_client(f"models:/{registry}@champion", tracking_uri=url, poll_interval_s=0.1) as (
            app,
            client,
        ):
            await asyncio.to_thread(_move_alias, url, registry, 3)
            for _ in range(300):
                if app.holder.failed_loads:
                    break
                await asyncio.sleep(0.05)
            assert app.holder.failed_loads >= 1
            response = await client.post("/invocations", json=split_payload(FRAME))
            assert response.status_code == 200
            assert response.json()["predictions"] == pytest.approx(expected(FRAME))
            assert (await client.get("/metadata")).json()["model_version"] == "1"
            # Moving the alias on to a good version switches again.
            await asyncio.to_thread(_move_alias, url, registry, 2)
            for _ in range(300):
                if app.holder.switches:
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/metadata")).json()["model_version"] == "2"

    with caplog.at_level("ERROR", logger="wayline.models.serving.follower"):
        run(body)
    assert any(
        "Cannot load version 3" in r.getMessage() and "trusted" in r.getMessage() for r in caplog.records
    )
