"""Models and helpers shared by the scoring-server tests: a real sklearn regressor saved with Wayline's
sklearn flavor, custom pyfunc models (one that records the batches it scores, one per output shape), and
an in-process client for the ASGI app."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import pandas as pd

from wayline.models.flavors.pyfunc import PythonModel
from wayline.models.serving.app import ScoringApp, ServeOptions

T = TypeVar("T")


def features(rows: int = 5, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x1": np.arange(start, start + rows),
            "x2": [((i * 7) % 5) * 0.5 - 1.0 for i in range(start, start + rows)],
        }
    )


def expected(frame: pd.DataFrame, scale: float = 1.0) -> list[float]:
    """What the regressor of ``scale`` predicts: scale * (2 x1 + 3 x2 + 1)."""
    return [scale * (2.0 * a + 3.0 * b + 1.0) for a, b in zip(frame["x1"], frame["x2"], strict=True)]


def fit_regressor(scale: float = 1.0) -> Any:
    from sklearn.linear_model import LinearRegression

    train = features(20)
    return LinearRegression().fit(train, expected(train, scale))


def split_payload(frame: pd.DataFrame) -> dict[str, Any]:
    split = frame.to_dict(orient="split")
    return {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}


class BatchRecorder(PythonModel):
    """Returns 10 * x1 + x2 and records how many rows each call scored; fails on a negative x1.

    ``delay`` seconds of sleep per call make concurrent requests queue up behind a running batch.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"delay": self.delay}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["delay"])  # type: ignore[misc]

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        with self.lock:
            self.sizes.append(len(model_input))
        if self.delay:
            time.sleep(self.delay)
        if (model_input["x1"] < 0).any():
            raise ValueError("x1 must not be negative")
        scale = (params or {}).get("scale", 1.0)
        return (10.0 * model_input["x1"] + model_input["x2"]).to_numpy() * scale


class Shaped(PythonModel):
    """Answers in the shape the ``shape`` param names: frame, series, ndarray, list, dict, scalar."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        shape = (params or {}).get("shape", "ndarray")
        x1 = model_input["x1"].to_numpy()
        if shape == "frame":
            return pd.DataFrame({"a": x1 * 2, "b": [f"r{v}" for v in x1]})
        if shape == "series":
            return pd.Series(x1 * 2.5, name="score")
        if shape == "list":
            return [int(v) for v in x1]
        if shape == "dict":
            return {"double": x1 * 2, "label": np.array([f"r{v}" for v in x1])}
        if shape == "matrix":
            return np.stack([x1, x1 * 3], axis=1)
        return x1 * 2.0


@asynccontextmanager
async def scoring_client(
    model_uri: str | Path, **options: Any
) -> AsyncIterator[tuple[ScoringApp, httpx.AsyncClient]]:
    """The app (started, as uvicorn's lifespan would) and an in-process client; shut down after."""
    app = ScoringApp(ServeOptions(str(model_uri), **options))
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scoring") as client:
            yield app, client
    finally:
        await app.shutdown()


def run(test: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body on a fresh event loop."""
    return asyncio.run(test())  # type: ignore[arg-type]
