"""The tracking workloads against Wayline, run with Wayline's venv (``.venv/bin/python``).

Must not import mlflow. See ``_common.py`` for the protocol and ``bench/README.md`` for what is measured.
Everything goes through Wayline's public API: the fluent module, ``WaylineClient`` and ``wayline.entities``;
the search workload's runs are populated with ``create_run`` + ``log_batch`` (one of each per run), and that
population rate is reported too.
"""

from __future__ import annotations

import time
from typing import Any

import _common as c

import wayline
from wayline.client.client import WaylineClient
from wayline.entities import Metric, Param

EXPERIMENT = "bench"


def run_log_batch(args: Any) -> dict[str, Any]:
    client = WaylineClient(args.uri)
    try:
        experiment_id = client.create_experiment(EXPERIMENT)
        run_id = client.create_run(experiment_id).info.run_id
        timed = 0.0
        logged = 0
        for batch in c.batch_points(args.points):
            ts = c.now_ms()
            metrics = [Metric(key, value, ts, step) for key, value, step in batch]
            t0 = time.perf_counter()
            client.log_batch(run_id, metrics=metrics)
            timed += time.perf_counter() - t0
            logged += len(metrics)
            if logged % (c.BATCH_SIZE * 20) == 0:
                c.emit("progress", phase="log_batch", done=logged, total=args.points)
            if args.budget_seconds and timed > args.budget_seconds:
                break
        client.set_terminated(run_id)
        stored = sum(len(client.get_metric_history(run_id, key)) for key in c.BATCH_KEYS)
    finally:
        client.close()
    return {
        "points": logged,
        "points_requested": args.points,
        "seconds": timed,
        "points_per_s": logged / timed,
        "stored_points": stored,
        "correct": stored == logged,
    }


def run_fluent(args: Any) -> dict[str, Any]:
    wayline.set_tracking_uri(args.uri)
    wayline.set_experiment(EXPERIMENT)
    calls = args.points
    key = c.FLUENT_KEY
    log_metric = wayline.log_metric
    chunk_ns: list[int] = []
    done = 0
    with wayline.start_run() as run:
        t0 = time.perf_counter()
        started = t0
        while done < calls:
            n = min(c.FLUENT_CHUNK, calls - done)
            c0 = time.perf_counter_ns()
            for i in range(done, done + n):
                log_metric(key, i * 0.001, step=i)
            elapsed = time.perf_counter_ns() - c0
            if n == c.FLUENT_CHUNK:
                chunk_ns.append(elapsed)
            done += n
            if done % (c.FLUENT_CHUNK * 500) == 0:
                c.emit("progress", phase="fluent", done=done, total=calls)
            if args.budget_seconds and time.perf_counter() - started > args.budget_seconds:
                break
        wayline.flush()
    total = time.perf_counter() - t0
    client = WaylineClient(args.uri)
    try:
        stored = len(client.get_metric_history(run.info.run_id, key))
    finally:
        client.close()
    result = c.fluent_summary(chunk_ns, done, total)
    result.update(calls_requested=args.points, stored_points=stored, correct=stored == done)
    return result


def _analyze_postgres(uri: str) -> None:
    """Refresh the planner statistics after a bulk population (autovacuum would, a minute later)."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("ANALYZE")


def run_search(args: Any) -> dict[str, Any]:
    client = WaylineClient(args.uri)
    try:
        experiment_ids = [
            client.create_experiment(name) for name in c.experiment_names(EXPERIMENT, args.experiments)
        ]
        dataset = list(c.search_dataset(args.runs, args.seed, args.experiments))
        expected = c.expected_search(dataset)
        run_ids: list[str] = []
        t0 = time.perf_counter()
        for r in dataset:
            run_id = client.create_run(experiment_ids[r.experiment], run_name=f"run-{r.index}").info.run_id
            ts = c.now_ms()
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, ts, 0) for k, v in r.metrics.items()],
                params=[Param(k, v) for k, v in r.params.items()],
            )
            run_ids.append(run_id)
            if len(run_ids) % c.POPULATE_CHUNK == 0 or len(run_ids) == len(dataset):
                c.emit("progress", phase="populate", done=len(run_ids), total=len(dataset))
        populate_seconds = time.perf_counter() - t0
        del dataset
        if args.uri.startswith(("postgresql://", "postgres://")):
            _analyze_postgres(args.uri)
        expected_ids = [run_ids[i] for i in expected]

        def search() -> list[str]:
            page = client.search_runs(
                [experiment_ids[0]],
                filter_string=c.SEARCH_FILTER,
                max_results=c.SEARCH_MAX_RESULTS,
                order_by=list(c.SEARCH_ORDER_BY),
            )
            return [r.info.run_id for r in page]

        result = c.time_search(search, expected_ids, args.search_reps, args.budget_seconds)
    finally:
        client.close()
    result.update(
        runs=args.runs,
        experiments=args.experiments,
        populated_by="Wayline's API: create_run + log_batch per run",
        populate_seconds=populate_seconds,
        populate_runs_per_s=args.runs * args.experiments / populate_seconds,
    )
    return result


def main() -> None:
    args = c.parse_args()
    if args.workload == "log_batch":
        result = run_log_batch(args)
    elif args.workload == "fluent":
        result = run_fluent(args)
    elif args.workload == "search":
        result = run_search(args)
    else:
        raise SystemExit(f"workload {args.workload!r} is MLflow-only")
    result.update(product="wayline", version=wayline.__version__, workload=args.workload)
    c.emit("result", **result)


if __name__ == "__main__":
    main()
