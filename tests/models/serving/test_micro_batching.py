"""Adaptive micro-batching: concurrent compatible requests are merged into one call to the model, split
back by rows; a lone request never waits; a failing merged batch is retried request by request."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from models.serving.serving_support import features, run, scoring_client, split_payload
from wayline.models.serving.app import ScoringApp
from wayline.models.serving.batcher import split_output


def _recorded(app: ScoringApp) -> list[int]:
    served = app.holder.current
    assert served is not None
    sizes: list[int] = served.model.unwrap_python_model().sizes
    return sizes


def _answer(frame: pd.DataFrame, scale: float = 1.0) -> list[float]:
    return [scale * (10.0 * a + b) for a, b in zip(frame["x1"], frame["x2"], strict=True)]


def test_concurrent_requests_are_merged_and_split_back(recorder_dir: Path) -> None:
    frames = [features(2 + i % 3, start=10 * i) for i in range(24)]

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True, max_batch_size=1000) as (app, client):
            responses = await asyncio.gather(
                *(client.post("/invocations", json=split_payload(f)) for f in frames)
            )
            for frame, response in zip(frames, responses, strict=True):
                assert response.status_code == 200, response.text
                assert response.json()["predictions"] == pytest.approx(_answer(frame))
            sizes = _recorded(app)
            assert max(sizes) > max(len(f) for f in frames)  # the model saw a merged batch
            assert sum(sizes) == sum(len(f) for f in frames)  # every row scored exactly once
            assert len(sizes) < len(frames)
            stats = app.batcher.stats
            assert stats.merged_batches >= 1
            assert stats.requests == len(frames)
            assert stats.retries == 0

    run(body)


def test_batches_respect_the_row_limit(recorder_dir: Path) -> None:
    frames = [features(3, start=10 * i) for i in range(12)]

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True, max_batch_size=7) as (app, client):
            responses = await asyncio.gather(
                *(client.post("/invocations", json=split_payload(f)) for f in frames)
            )
            assert all(r.status_code == 200 for r in responses)
            sizes = _recorded(app)
            assert max(sizes) == 6  # two requests of 3 rows; a third would exceed 7
            assert app.batcher.stats.merged_batches >= 1

    run(body)


def test_requests_with_different_params_or_columns_are_not_merged(recorder_dir: Path) -> None:
    frame = features(2)

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True) as (app, client):
            payloads: list[dict[str, Any]] = [
                {**split_payload(frame), "params": {"scale": 1.0}},
                {**split_payload(frame), "params": {"scale": 2.0}},
                {"dataframe_split": {"columns": ["x2", "x1"], "data": frame[["x2", "x1"]].values.tolist()}},
            ]
            responses = await asyncio.gather(*(client.post("/invocations", json=p) for p in payloads))
            assert [r.json()["predictions"] for r in responses] == [
                pytest.approx(_answer(frame)),
                pytest.approx(_answer(frame, 2.0)),
                pytest.approx(_answer(frame)),
            ]
            assert _recorded(app) == [2, 2, 2]
            assert app.batcher.stats.merged_batches == 0

    run(body)


def test_one_bad_request_does_not_fail_the_others(recorder_dir: Path) -> None:
    good = [features(2, start=10 * i) for i in range(6)]
    bad = features(2, start=-1)  # x1 = -1: the model raises

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True) as (app, client):
            frames = [*good[:3], bad, *good[3:]]
            responses = await asyncio.gather(
                *(client.post("/invocations", json=split_payload(f)) for f in frames)
            )
            statuses = [r.status_code for r in responses]
            assert statuses == [200, 200, 200, 400, 200, 200, 200]
            assert "x1 must not be negative" in responses[3].json()["message"]
            for frame, response in zip(frames, responses, strict=True):
                if response.status_code == 200:
                    assert response.json()["predictions"] == pytest.approx(_answer(frame))
            assert app.batcher.stats.retries >= 1

    run(body)


def test_a_lone_request_does_not_wait(recorder_dir: Path) -> None:
    """With a max wait of a minute, a request alone is still sent at once: no batch was held back."""

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True, max_wait_ms=60_000) as (app, client):
            for start in range(3):
                response = await asyncio.wait_for(
                    client.post("/invocations", json=split_payload(features(2, start=start))), 30
                )
                assert response.status_code == 200
            assert app.batcher.stats.waits == 0
            assert app.batcher.stats.batches == 3

    run(body)


def test_a_batch_waits_for_a_request_still_arriving(recorder_dir: Path) -> None:
    """A request whose body is still on its way holds the batch back (up to max wait) and joins it."""
    slow_frame, quick_frame = features(2, start=0), features(3, start=100)

    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True, max_wait_ms=30_000) as (app, client):
            release = asyncio.Event()

            async def slow_body() -> Any:
                yield b'{"dataframe_split": '
                await release.wait()
                yield httpx.Response(200, json=split_payload(slow_frame)["dataframe_split"]).content + b"}"

            slow = asyncio.create_task(
                client.post("/invocations", content=slow_body(), headers={"Content-Type": "application/json"})
            )
            quick = asyncio.create_task(client.post("/invocations", json=split_payload(quick_frame)))
            for _ in range(1000):
                if app.batcher.stats.waits:
                    break
                await asyncio.sleep(0.005)
            assert app.batcher.stats.waits == 1  # the quick request waits for the arriving one
            assert not quick.done()
            release.set()
            slow_response, quick_response = await asyncio.wait_for(asyncio.gather(slow, quick), 30)
            assert slow_response.json()["predictions"] == pytest.approx(_answer(slow_frame))
            assert quick_response.json()["predictions"] == pytest.approx(_answer(quick_frame))
            assert _recorded(app) == [5]

    run(body)


def test_max_batch_size_one_turns_merging_off(recorder_dir: Path) -> None:
    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True, max_batch_size=1) as (app, client):
            frames = [features(1, start=i) for i in range(5)]
            responses = await asyncio.gather(
                *(client.post("/invocations", json=split_payload(f)) for f in frames)
            )
            assert all(r.status_code == 200 for r in responses)
            assert _recorded(app) == [1] * 5

    run(body)


def test_tensor_inputs_are_scored_alone(regressor_dir: Path) -> None:
    async def body() -> None:
        async with scoring_client(regressor_dir) as (app, client):
            payload = {"inputs": {"x1": [1, 2], "x2": [0.5, 1.0]}}
            responses = await asyncio.gather(*(client.post("/invocations", json=payload) for _ in range(4)))
            assert all(r.status_code == 200 for r in responses)
            assert app.batcher.stats.merged_batches == 0
            assert app.batcher.stats.batches == 4

    run(body)


@pytest.mark.parametrize(
    ("output", "parts"),
    [
        (np.arange(5), [[0, 1], [2, 3, 4]]),
        (list("abcde"), [["a", "b"], ["c", "d", "e"]]),
        (pd.Series(range(5)), [[{0: 0}, {0: 1}], [{0: 2}, {0: 3}, {0: 4}]]),
        (pd.DataFrame({"a": range(5)}), [[{"a": 0}, {"a": 1}], [{"a": 2}, {"a": 3}, {"a": 4}]]),
        (
            {"a": np.arange(5), "b": list("abcde")},
            [{"a": [0, 1], "b": ["a", "b"]}, {"a": [2, 3, 4], "b": ["c", "d", "e"]}],
        ),
    ],
)
def test_split_output(output: Any, parts: list[Any]) -> None:
    from wayline.models.serving.output import jsonable

    split = split_output(output, [2, 3])
    assert split is not None

    def plain(value: Any) -> Any:
        value = jsonable(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value.tolist() if hasattr(value, "tolist") else list(value)

    assert [plain(p) for p in split] == parts


@pytest.mark.parametrize("output", [np.arange(4), np.float64(1.0), {"a": 1}, "text", [1, 2]])
def test_outputs_without_a_row_per_input_row_cannot_be_split(output: Any) -> None:
    assert split_output(output, [2, 3]) is None
