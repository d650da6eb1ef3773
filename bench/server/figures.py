"""Which figures are compared, which way is better, and Wayline's target for each.

A figure is read from one server's *record*: the harness's ``results`` plus a ``server`` entry that this
benchmark adds (start-up time, memory of the process tree idle and after the run). The ratio is Wayline ÷
MLflow for rates and MLflow ÷ Wayline for times and memory, so > 1 always means Wayline is better.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bench_common import dig

Record = dict[str, Any]


@dataclass(frozen=True)
class Figure:
    label: str
    path: tuple[str, ...]
    higher_is_better: bool
    digits: int = 1
    #: Wayline's target as a ratio over MLflow (None: shown for context, no target).
    min_ratio: float | None = None
    #: An absolute ceiling on Wayline's own value (a latency in ms), besides or instead of the ratio.
    max_value: float | None = None


FIGURES: tuple[Figure, ...] = (
    Figure(
        "create_runs: runs/s (create + log-batch 10 params, 5 tags)",
        ("create_runs", "runs_per_s"),
        True,
        min_ratio=2,
    ),
    Figure("create_runs: per-run p50, ms", ("create_runs", "latency_per_run", "p50_ms"), False),
    Figure(
        "create_runs: log-metric 'rmse' req/s, sequential",
        ("create_runs", "rmse_log_metric", "req_per_s"),
        True,
    ),
    Figure(
        "metric_ingest: points/s, 1 client (log-batch 1000 pts)",
        ("metric_ingest", "single", "points_per_s"),
        True,
        digits=0,
        min_ratio=30,
    ),
    Figure(
        "metric_ingest: per-request p50, ms, 1 client",
        ("metric_ingest", "single", "latency_per_request", "p50_ms"),
        False,
    ),
    Figure(
        "metric_ingest: points/s, 8 clients",
        ("metric_ingest", "concurrent", "points_per_s"),
        True,
        digits=0,
        min_ratio=30,
    ),
    Figure(
        "metric_ingest: per-request p99, ms, 8 clients",
        ("metric_ingest", "concurrent", "latency_per_request", "p99_ms"),
        False,
    ),
    Figure(
        "metric_ingest: points/s, 1 client process (loadgen)",
        ("loadgen", "ingest_single", "points_per_s"),
        True,
        digits=0,
        min_ratio=30,
    ),
    Figure(
        "metric_ingest: points/s, 8 client processes (loadgen)",
        ("loadgen", "ingest", "points_per_s"),
        True,
        digits=0,
        min_ratio=30,
    ),
    Figure(
        "metric_ingest: per-request p99, ms, 8 client processes",
        ("loadgen", "ingest", "latency_per_request", "p99_ms"),
        False,
    ),
    Figure(
        "metric_history: s, full history paged (25k/page)",
        ("metric_history", "paged", "seconds_median"),
        False,
        digits=3,
        min_ratio=20,
    ),
    Figure(
        "metric_history: s, full history in one call",
        ("metric_history", "unpaged", "seconds_median"),
        False,
        digits=3,
        min_ratio=20,
    ),
    Figure(
        "metric_history: s, full history paged (25k/page), 1 client process (loadgen)",
        ("loadgen", "history", "paged", "seconds_median"),
        False,
        digits=3,
        min_ratio=20,
    ),
    Figure(
        "metric_history: s, full history in one call, 1 client process (loadgen)",
        ("loadgen", "history", "one_call", "seconds_median"),
        False,
        digits=3,
        min_ratio=20,
    ),
    Figure(
        "metric_history: s, get-history-bulk-interval (sampled)",
        ("metric_history", "bulk_interval", "seconds_median"),
        False,
        digits=3,
    ),
    Figure(
        "search_runs: filtered + ordered, max 100: p50 ms",
        ("search_runs", "filtered", "p50_ms"),
        False,
        min_ratio=20,
    ),
    Figure(
        "search_runs: filtered + ordered, max 100: p95 ms",
        ("search_runs", "filtered", "p95_ms"),
        False,
        min_ratio=2,
    ),
    Figure(
        "search_runs: filtered + ordered, max 100: p50 ms, 1 client process (loadgen)",
        ("loadgen", "search", "latency_per_request", "p50_ms"),
        False,
        min_ratio=20,
    ),
    Figure(
        "search_runs: filtered + ordered, max 100: p95 ms, 1 client process (loadgen)",
        ("loadgen", "search", "latency_per_request", "p95_ms"),
        False,
        min_ratio=2,
    ),
    Figure(
        "search_runs: page through all runs (1000/page): p50 ms",
        ("search_runs", "page_through", "p50_ms"),
        False,
        min_ratio=2,  # the 20x search target is the filtered search; a page-through is "every other figure"
    ),
    Figure(
        "search_runs: page through all runs (1000/page): p95 ms",
        ("search_runs", "page_through", "p95_ms"),
        False,
        min_ratio=2,
    ),
    Figure("artifacts: upload MB/s (proxied PUT)", ("artifacts", "upload_MB_per_s"), True, min_ratio=2),
    Figure("artifacts: download MB/s (proxied GET)", ("artifacts", "download_MB_per_s"), True, min_ratio=2),
    Figure("concurrency: log-metric req/s, 16 threads", ("concurrency", "req_per_s"), True, min_ratio=10),
    Figure("concurrency: p50 ms", ("concurrency", "p50_ms"), False),
    Figure("concurrency: p95 ms", ("concurrency", "p95_ms"), False),
    Figure("concurrency: p99 ms", ("concurrency", "p99_ms"), False, max_value=100),
    Figure(
        "concurrency: log-metric req/s, 16 client processes (loadgen)",
        ("loadgen", "concurrency", "req_per_s"),
        True,
        min_ratio=10,
    ),
    Figure(
        "concurrency, 16 client processes: p50 ms",
        ("loadgen", "concurrency", "latency_per_request", "p50_ms"),
        False,
    ),
    Figure(
        "concurrency, 16 client processes: p99 ms",
        ("loadgen", "concurrency", "latency_per_request", "p99_ms"),
        False,
        max_value=100,
    ),
    Figure("server start-up, launch to /health 200, s", ("server", "startup_s"), False, digits=1),
    Figure(
        "memory idle: RSS MiB (process tree)", ("server", "memory_idle", "rss_mib"), False, 0, min_ratio=3
    ),
    Figure(
        "memory idle: PSS MiB (process tree)", ("server", "memory_idle", "pss_mib"), False, 0, min_ratio=3
    ),
    Figure("memory after the run: RSS MiB", ("server", "memory_after", "rss_mib"), False, 0, min_ratio=3),
    Figure("memory after the run: PSS MiB", ("server", "memory_after", "pss_mib"), False, 0, min_ratio=3),
)


@dataclass(frozen=True)
class Row:
    figure: Figure
    mlflow: float | None
    wayline: float | None
    ratio: float | None
    #: True/False against the target; None when there is no target or MLflow's figure is missing.
    met: bool | None

    @property
    def target(self) -> str:
        parts = []
        if self.figure.min_ratio is not None:
            parts.append(f"≥ {self.figure.min_ratio:g}×")
        if self.figure.max_value is not None:
            parts.append(f"Wayline < {self.figure.max_value:g} ms")
        return ", ".join(parts)


def value(record: Record | None, path: tuple[str, ...]) -> float | None:
    node = dig(record, path)
    if isinstance(node, bool) or not isinstance(node, (int, float)) or math.isnan(node):
        return None
    return float(node)


def ratio(figure: Figure, mlflow: float | None, wayline: float | None) -> float | None:
    if not mlflow or not wayline:
        return None
    return wayline / mlflow if figure.higher_is_better else mlflow / wayline


def judge(figure: Figure, wayline: float | None, r: float | None) -> bool | None:
    """Is the target met? False when Wayline has no figure (its scenario failed); None without a target."""
    if figure.min_ratio is None and figure.max_value is None:
        return None
    if wayline is None:
        return False
    if figure.max_value is not None and not wayline < figure.max_value:
        return False
    if figure.min_ratio is None:
        return True
    return None if r is None else r >= figure.min_ratio


def compare(mlflow: Record | None, wayline: Record | None, scenarios: Collection[str]) -> list[Row]:
    """One row per figure of the scenarios that ran (a harness scenario, or ``loadgen.<scenario>``); an
    untargeted figure neither server has is left out."""
    rows = []
    for figure in FIGURES:
        part = figure.path[0]
        if part != "server" and part not in scenarios and ".".join(figure.path[:2]) not in scenarios:
            continue
        m, w = value(mlflow, figure.path), value(wayline, figure.path)
        if m is None and w is None and figure.min_ratio is None and figure.max_value is None:
            continue
        r = ratio(figure, m, w)
        rows.append(Row(figure, m, w, r, judge(figure, w, r)))
    return rows


def problems(record: Record | None) -> list[str]:
    """Failed scenarios and failed correctness checks in one server's record, one line each."""
    if record is None:
        return []
    found = []
    for scenario, result in record.items():
        if scenario != "server" and isinstance(result, dict) and "error" in result:
            found.append(f"{scenario}: {result['error']}")
    for scenario, result in (record.get("loadgen") or {}).items():
        if isinstance(result, dict) and "error" in result:
            found.append(f"loadgen {scenario}: {result['error']}")
    checks = (
        (("metric_ingest", "concurrent", "errors"), 0, "metric_ingest: requests failed with 8 clients"),
        (("metric_history", "paged", "complete"), True, "metric_history: paged history incomplete"),
        (("metric_history", "unpaged", "complete"), True, "metric_history: one-call history incomplete"),
        (
            ("metric_history", "bulk_interval", "available"),
            True,
            "metric_history: no get-history-bulk-interval",
        ),
        (("search_runs", "filtered", "correct"), True, "search_runs: filtered search returned wrong runs"),
        (("search_runs", "page_through", "complete"), True, "search_runs: page-through missed runs"),
        (("artifacts", "sha256_ok"), True, "artifacts: downloaded bytes differ from the upload"),
        (("concurrency", "errors"), 0, "concurrency: requests failed"),
        (("loadgen", "ingest_single", "errors"), 0, "loadgen ingest_single: requests failed"),
        (("loadgen", "ingest_single", "verified"), True, "loadgen ingest_single: stored history incomplete"),
        (("loadgen", "ingest", "errors"), 0, "loadgen ingest: requests failed"),
        (("loadgen", "ingest", "verified"), True, "loadgen ingest: stored histories incomplete"),
        (("loadgen", "concurrency", "errors"), 0, "loadgen concurrency: requests failed"),
        (("loadgen", "concurrency", "verified"), True, "loadgen concurrency: latest metrics wrong"),
        (("loadgen", "search", "errors"), 0, "loadgen search: requests failed"),
        (("loadgen", "search", "verified"), True, "loadgen search: wrong or differing answers"),
        (("loadgen", "history", "verified"), True, "loadgen history: a read missed or changed points"),
    )
    for path, want, message in checks:
        got = dig(record, path)
        if got is not None and got != want:
            samples = dig(record, (*path[:-1], "error_samples")) or []
            detail = f"; first: {samples[0]}" if samples else ""
            found.append(f"{message} ({'.'.join(path)} = {got!r}{detail})")
    unpaged_error = dig(record, ("metric_history", "unpaged", "error"))
    if unpaged_error:
        found.append(f"metric_history: one-call history failed: {unpaged_error}")
    return found
