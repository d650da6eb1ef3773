"""What both workload scripts share: arguments, the seeded search data set, the expected answer, statistics
and the JSON-lines protocol with the driver (``bench/tracking_bench.py``).

Standard library only: this module is imported by ``wayline_tracking.py`` (Wayline's venv) and by
``mlflow_tracking.py`` (MLflow's venv), so it must import neither product.

Protocol: a workload prints one JSON object per line on stdout. ``{"event": "progress", ...}`` lines drive the
driver's progress bar; the last line is ``{"event": "result", ...}`` with the figures. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

WORKLOADS = ("log_batch", "fluent", "fluent_async", "search")

#: log_batch: points per call, and the metric keys the points are spread over.
BATCH_SIZE = 1000
BATCH_KEYS = ("train_loss", "val_loss")
#: fluent: the per-call cost is measured over chunks of this many calls.
FLUENT_CHUNK = 100
FLUENT_KEY = "loss"

#: search: the data set and the query.
P1_VALUES = ("x", "y", "z", "w")
N_PARAMS = 10
N_METRICS = 5
SEARCH_FILTER = "metrics.m0 < 0.5 and params.p1 = 'x'"
SEARCH_ORDER_BY = ("metrics.m1 DESC",)
SEARCH_MAX_RESULTS = 100
SEARCH_MIN_REPS = 3
#: search population: runs per progress event (and per bulk-insert transaction for MLflow).
POPULATE_CHUNK = 1000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One tracking workload; prints JSON lines on stdout.")
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("--uri", required=True, help="tracking URI")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--search-reps", type=int, default=30)
    parser.add_argument(
        "--experiments",
        type=int,
        default=1,
        help="search: spread the runs over this many experiments sharing every key; the first is searched",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=0.0,
        help="stop the timed loop once it has run this long (0: no budget); rates stay comparable",
    )
    parser.add_argument("--seed", type=int, default=20240611)
    return parser.parse_args(argv)


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def now_ms() -> int:
    return int(time.time() * 1000)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def batch_points(points: int) -> Iterator[list[tuple[str, float, int]]]:
    """The log_batch workload's points, ``BATCH_SIZE`` per batch: ``(key, value, step)``, keys alternating."""
    for start in range(0, points, BATCH_SIZE):
        batch = []
        for i in range(start, min(start + BATCH_SIZE, points)):
            step = i // len(BATCH_KEYS)
            batch.append((BATCH_KEYS[i % len(BATCH_KEYS)], 1.0 / (step + 1), step))
        yield batch


def fluent_summary(chunk_ns: Sequence[int], calls: int, total_seconds: float) -> dict[str, Any]:
    """Per-call cost from the per-chunk timings, and the end-to-end rate."""
    per_call_us = [ns / FLUENT_CHUNK / 1000.0 for ns in chunk_ns]
    return {
        "calls": calls,
        "chunk_size": FLUENT_CHUNK,
        "per_call_us_median": statistics.median(per_call_us) if per_call_us else float("nan"),
        "per_call_us_p99": percentile(per_call_us, 99),
        "end_to_end_seconds": total_seconds,
        "end_to_end_points_per_s": calls / total_seconds if total_seconds > 0 else float("nan"),
    }


@dataclass(frozen=True)
class SearchRun:
    index: int
    params: dict[str, str]
    metrics: dict[str, float]
    #: Which of the workload's experiments the run belongs to (0 is the one searched).
    experiment: int = 0


def search_dataset(runs: int, seed: int, experiments: int = 1) -> Iterator[SearchRun]:
    """The seeded runs of the search workload: 10 params (p1 in x/y/z/w), 5 uniform metrics m0..m4;
    ``runs`` in each of ``experiments`` experiments, dealt in turn (run ``i`` in experiment ``i %
    experiments``), all sharing the same keys, as the experiments of a team server do."""
    rng = random.Random(seed)
    for i in range(runs * experiments):
        params = {
            "p0": str(rng.randrange(1000)),
            "p1": rng.choice(P1_VALUES),
            **{f"p{k}": f"v{rng.randrange(50)}" for k in range(2, N_PARAMS)},
        }
        metrics = {f"m{k}": rng.random() for k in range(N_METRICS)}
        yield SearchRun(i, params, metrics, i % experiments)


def experiment_names(base: str, experiments: int) -> list[str]:
    """The names of the search workload's experiments: ``base`` for the searched one, then ``base-1``..."""
    return [base if k == 0 else f"{base}-{k}" for k in range(experiments)]


def expected_search(dataset: Sequence[SearchRun]) -> list[int]:
    """The indexes of the runs the query of experiment 0 must return, in order (the Python-side
    computation)."""
    hits = [r for r in dataset if r.experiment == 0 and r.metrics["m0"] < 0.5 and r.params["p1"] == "x"]
    hits.sort(key=lambda r: r.metrics["m1"], reverse=True)
    return [r.index for r in hits[:SEARCH_MAX_RESULTS]]


def time_search(search: Any, expected_ids: list[str], reps: int, budget_seconds: float) -> dict[str, Any]:
    """Warm up once, then time ``search()`` (returning run ids) ``reps`` times, or fewer (at least
    ``SEARCH_MIN_REPS``) when the budget runs out. Every answer is checked against ``expected_ids``."""
    first = search()
    correct = first == expected_ids
    if not correct:
        log(f"search returned {len(first)} ids; first mismatch: {_first_diff(first, expected_ids)}")
    times_ms: list[float] = []
    started = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        ids = search()
        times_ms.append((time.perf_counter_ns() - t0) / 1e6)
        correct = correct and ids == expected_ids
        emit("progress", phase="search", done=len(times_ms), total=reps)
        over = budget_seconds > 0 and time.perf_counter() - started > budget_seconds
        if over and len(times_ms) >= SEARCH_MIN_REPS:
            break
    return {
        "reps": len(times_ms),
        "reps_requested": reps,
        "p50_ms": statistics.median(times_ms),
        "p95_ms": percentile(times_ms, 95),
        "min_ms": min(times_ms),
        "max_ms": max(times_ms),
        "results": len(first),
        "expected_results": len(expected_ids),
        "correct": correct,
        "filter": SEARCH_FILTER,
        "order_by": list(SEARCH_ORDER_BY),
        "max_results": SEARCH_MAX_RESULTS,
    }


def _first_diff(got: list[str], want: list[str]) -> str:
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return f"position {i}: got {a}, expected {b}"
    return f"lengths {len(got)} vs {len(want)}"
