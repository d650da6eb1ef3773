"""The two timed searches over HTTP, each answer checked against the data set's expected one.

One keep-alive ``requests.Session`` per search, as MLflow's Python client keeps one; and the same again with
a new connection per request (``Connection: close``), which MLflow's server answers without the ~40 ms
Nagle stall it adds on a kept-alive connection. A repetition is the ``GET`` and the decoding of its JSON
body (as in the shared REST harness); one warm-up request comes first and is not timed. A loop stops early,
after at least :data:`MIN_REPS` timed requests, once it has run ``budget_seconds``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from registry.dataset import MODEL_MAX_RESULTS, VERSION_MAX_RESULTS, Dataset
from registry.populate import API, HTTP_TIMEOUT, Progress

MIN_REPS = 3


@dataclass(frozen=True)
class Search:
    """One search: its route and parameters, and the check of an answer (None: correct; else what is
    wrong)."""

    name: str
    path: str
    params: dict[str, str | int]
    check: Callable[[dict[str, Any]], str | None]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def model_search(data: Dataset) -> Search:
    expected = data.expected_models()

    def check(doc: dict[str, Any]) -> str | None:
        names = [m["name"] for m in doc.get("registered_models", [])]
        if sorted(names) != expected or len(names) != len(expected):
            extra, missing = set(names) - set(expected), set(expected) - set(names)
            return (
                f"{len(names)} models, expected {len(expected)}; unexpected {sorted(extra)[:5]}, "
                f"missing {sorted(missing)[:5]}"
            )
        return None

    return Search(
        "models",
        "/registered-models/search",
        {"filter": data.model_filter, "max_results": MODEL_MAX_RESULTS},
        check,
    )


def version_search(data: Dataset) -> Search:
    expected = data.expected_versions()

    def check(doc: dict[str, Any]) -> str | None:
        got = [(v["name"], int(v["version"])) for v in doc.get("model_versions", [])]
        if set(got) != expected or len(got) != len(expected):
            return f"{len(got)} versions ({len(set(got) & expected)} of the {len(expected)} expected)"
        if doc.get("next_page_token"):
            return "a next_page_token after the last version"
        return None

    return Search(
        "versions",
        "/model-versions/search",
        {"filter": data.version_filter, "max_results": VERSION_MAX_RESULTS},
        check,
    )


def time_search(
    url: str, search: Search, reps: int, budget_seconds: float, on_progress: Progress, *, close: bool = False
) -> dict[str, Any]:
    """Warm up once, then time ``reps`` requests (fewer when the budget runs out); every answer checked.
    ``close``: each request on a new connection (``Connection: close``), else one keep-alive connection."""
    session = requests.Session()
    headers = {"Connection": "close"} if close else {}
    problems: list[str] = []

    def once() -> dict[str, Any]:
        response = session.get(
            f"{url}{API}{search.path}", params=search.params, headers=headers, timeout=HTTP_TIMEOUT
        )
        doc: dict[str, Any] = response.json()
        if response.status_code != 200:
            problems.append(f"HTTP {response.status_code}: {str(doc)[:300]}")
        return doc

    first = once()
    returned = len(first.get("registered_models", first.get("model_versions", [])))
    times_ms: list[float] = []
    started = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        doc = once()
        times_ms.append((time.perf_counter_ns() - t0) / 1e6)
        if (wrong := search.check(doc)) is not None and wrong not in problems:
            problems.append(wrong)
        on_progress(f"search {search.name}{' (new connections)' if close else ''}", len(times_ms), reps)
        if time.perf_counter() - started > budget_seconds and len(times_ms) >= MIN_REPS:
            break
    if (wrong := search.check(first)) is not None and wrong not in problems:
        problems.append(wrong)
    session.close()
    return {
        "path": search.path,
        "connection": "close" if close else "keep-alive",
        "params": search.params,
        "reps": len(times_ms),
        "reps_requested": reps,
        "p50_ms": statistics.median(times_ms),
        "p95_ms": percentile(times_ms, 95),
        "min_ms": min(times_ms),
        "max_ms": max(times_ms),
        "times_ms": [round(t, 2) for t in times_ms],
        "returned": returned,
        "correct": not problems,
        "problems": problems,
    }
