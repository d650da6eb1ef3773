"""The tracking workloads against MLflow (the reference), run with ``bench/.mlflow-venv/bin/python``.

Must not import wayline. See ``_common.py`` for the protocol and ``bench/README.md`` for what is measured.

``--budget-seconds`` caps each timed loop (MLflow's fluent ``log_metric`` writes synchronously, a few ms per
call): the loop stops early and the figures are rates, so they stay comparable with Wayline's full-size runs.
The search workload logs its first runs through MLflow's API (at most ``API_SAMPLE_RUNS``, a third of the
budget) to measure MLflow's population rate; the rest are bulk-inserted into MLflow's own tables (populating
100k runs through MLflow's API would take far too long). The bulk insert is not a product figure.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
import warnings
from typing import Any

import _common as c
import mlflow
import sqlalchemy as sa
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, ViewType

EXPERIMENT = "bench"
#: The search workload logs at most this many runs through MLflow's API (to measure its population rate);
#: the rest are bulk-inserted.
API_SAMPLE_RUNS = 2000


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")


def run_log_batch(args: Any) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.uri)
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
    return {
        "points": logged,
        "points_requested": args.points,
        "seconds": timed,
        "points_per_s": logged / timed,
        "stored_points": stored,
        "correct": stored == logged,
    }


def _fluent_loop(calls: int, budget_seconds: float, synchronous: bool, key: str) -> tuple[list[int], int]:
    chunk_ns: list[int] = []
    done = 0
    started = time.perf_counter()
    while done < calls:
        n = min(c.FLUENT_CHUNK, calls - done)
        t0 = time.perf_counter_ns()
        for i in range(done, done + n):
            mlflow.log_metric(key, i * 0.001, step=i, synchronous=synchronous)
        elapsed = time.perf_counter_ns() - t0
        if n == c.FLUENT_CHUNK:
            chunk_ns.append(elapsed)
        done += n
        if done % (c.FLUENT_CHUNK * 50) == 0:
            c.emit("progress", phase="fluent", done=done, total=calls)
        if budget_seconds and time.perf_counter() - started > budget_seconds:
            break
    return chunk_ns, done


def _calibrate_async(budget_seconds: float, requested: int) -> int:
    """Async logging drains slower than it enqueues: size the timed run from a short pilot run so that the
    enqueue loop plus the final flush fit the budget."""
    pilot = 300
    with mlflow.start_run(run_name="pilot"):
        t0 = time.perf_counter()
        for i in range(pilot):
            mlflow.log_metric("pilot", i * 0.001, step=i, synchronous=False)
        mlflow.flush_async_logging()
        per_point = (time.perf_counter() - t0) / pilot
    fits = int(budget_seconds / per_point) // c.FLUENT_CHUNK * c.FLUENT_CHUNK
    return max(c.FLUENT_CHUNK, min(requested, fits))


def run_fluent(args: Any, *, synchronous: bool) -> dict[str, Any]:
    mlflow.set_tracking_uri(args.uri)
    mlflow.set_experiment(EXPERIMENT)
    calls = args.points
    loop_budget = args.budget_seconds
    if not synchronous and args.budget_seconds:
        calls = _calibrate_async(args.budget_seconds, args.points)
        loop_budget = 0.0
    with mlflow.start_run() as run:
        t0 = time.perf_counter()
        chunk_ns, done = _fluent_loop(calls, loop_budget, synchronous, c.FLUENT_KEY)
        if not synchronous:
            mlflow.flush_async_logging()
    total = time.perf_counter() - t0
    stored = len(MlflowClient(tracking_uri=args.uri).get_metric_history(run.info.run_id, c.FLUENT_KEY))
    result = c.fluent_summary(chunk_ns, done, total)
    result.update(
        calls_requested=args.points, stored_points=stored, correct=stored == done, synchronous=synchronous
    )
    return result


def _table(engine: sa.Engine, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=engine)


def _fill(table: sa.Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``table`` with every column present: unknown nullable columns get NULL (MLflow's schema is
    read from the database, so a column added by a later MLflow version does not break the insert)."""
    missing = [col.name for col in table.columns if col.name not in rows[0]]
    for name in missing:
        col = table.columns[name]
        if not col.nullable and col.server_default is None:
            raise RuntimeError(f"MLflow's {table.name}.{name} is NOT NULL and unknown to the benchmark")
    fill = {name: None for name in missing if table.columns[name].server_default is None}
    return [{**fill, **row} for row in rows] if fill else rows


def _populate_api(
    client: MlflowClient, experiment_ids: list[str], dataset: list[c.SearchRun], budget_seconds: float
) -> tuple[list[str], float]:
    """Log the first runs through MLflow's API (create_run + log_batch, as Wayline's population does) for at
    most ``budget_seconds`` or ``API_SAMPLE_RUNS`` runs, to measure MLflow's population rate."""
    run_ids: list[str] = []
    t0 = time.perf_counter()
    for r in dataset[:API_SAMPLE_RUNS]:
        run_id = client.create_run(experiment_ids[r.experiment], run_name=f"run-{r.index}").info.run_id
        ts = c.now_ms()
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in r.metrics.items()],
            params=[Param(k, v) for k, v in r.params.items()],
        )
        run_ids.append(run_id)
        if len(run_ids) % 100 == 0:
            c.emit("progress", phase="populate (API sample)", done=len(run_ids), total=len(dataset))
        if time.perf_counter() - t0 > budget_seconds:
            break
    return run_ids, time.perf_counter() - t0


def _populate_bulk(
    engine: sa.Engine, experiment_ids: list[str], dataset: list[c.SearchRun], *, already: int
) -> list[str]:
    """Insert the runs straight into MLflow's tables, ``POPULATE_CHUNK`` runs per transaction."""
    tables = {n: _table(engine, n) for n in ("runs", "params", "metrics", "latest_metrics", "tags")}
    run_ids = [uuid.uuid4().hex for _ in dataset]
    base_ms = c.now_ms() - len(dataset)
    for start in range(0, len(dataset), c.POPULATE_CHUNK):
        chunk = dataset[start : start + c.POPULATE_CHUNK]
        rows: dict[str, list[dict[str, Any]]] = {n: [] for n in tables}
        for offset, r in enumerate(chunk):
            run_id = run_ids[start + offset]
            experiment_id = experiment_ids[r.experiment]
            ts = base_ms + r.index
            rows["runs"].append(
                {
                    "run_uuid": run_id,
                    "name": f"run-{r.index}",
                    "source_type": "LOCAL",
                    "source_name": "",
                    "entry_point_name": "",
                    "user_id": "bench",
                    "status": "FINISHED",
                    "start_time": ts,
                    "end_time": ts + 1,
                    "source_version": "",
                    "lifecycle_stage": "active",
                    "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts",
                    "experiment_id": int(experiment_id),
                }
            )
            rows["params"] += [{"key": k, "value": v, "run_uuid": run_id} for k, v in r.params.items()]
            points = [
                {"key": k, "value": v, "timestamp": ts, "step": 0, "is_nan": False, "run_uuid": run_id}
                for k, v in r.metrics.items()
            ]
            rows["metrics"] += points
            rows["latest_metrics"] += points
            rows["tags"] += [
                {"key": "mlflow.runName", "value": f"run-{r.index}", "run_uuid": run_id},
                {"key": "mlflow.user", "value": "bench", "run_uuid": run_id},
            ]
        with engine.begin() as conn:
            for name in ("runs", "params", "metrics", "latest_metrics", "tags"):
                conn.execute(tables[name].insert(), _fill(tables[name], rows[name]))
        done = already + start + len(chunk)
        c.emit("progress", phase="populate (bulk insert)", done=done, total=already + len(dataset))
    return run_ids


def _analyze(engine: sa.Engine) -> None:
    """Refresh PostgreSQL's planner statistics after the bulk insert (autovacuum would, a minute later)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def run_search(args: Any) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.uri)  # creates MLflow's schema
    experiment_ids = [
        client.create_experiment(name) for name in c.experiment_names(EXPERIMENT, args.experiments)
    ]
    dataset = list(c.search_dataset(args.runs, args.seed, args.experiments))
    expected = c.expected_search(dataset)
    api_budget = args.budget_seconds / 3 if args.budget_seconds else float("inf")
    run_ids, api_seconds = _populate_api(client, experiment_ids, dataset, api_budget)
    api_runs = len(run_ids)
    engine = sa.create_engine(args.uri)
    try:
        t0 = time.perf_counter()
        run_ids += _populate_bulk(engine, experiment_ids, dataset[api_runs:], already=api_runs)
        bulk_seconds = time.perf_counter() - t0
        _analyze(engine)
    finally:
        engine.dispose()
    expected_ids = [run_ids[i] for i in expected]
    del dataset

    def search() -> list[str]:
        runs = client.search_runs(
            [experiment_ids[0]],
            filter_string=c.SEARCH_FILTER,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=c.SEARCH_MAX_RESULTS,
            order_by=list(c.SEARCH_ORDER_BY),
        )
        return [r.info.run_id for r in runs]

    result = c.time_search(search, expected_ids, args.search_reps, args.budget_seconds)
    result.update(
        runs=args.runs,
        experiments=args.experiments,
        populated_by=(
            f"{api_runs} runs through MLflow's API (create_run + log_batch, timed), "
            f"{args.runs * args.experiments - api_runs} bulk-inserted into MLflow's tables "
            "(not a product figure)"
        ),
        populate_api_runs=api_runs,
        populate_api_seconds=api_seconds,
        populate_runs_per_s=api_runs / api_seconds if api_seconds > 0 else float("nan"),
        populate_bulk_seconds=bulk_seconds,
    )
    return result


def main() -> None:
    args = c.parse_args()
    _quiet()
    if args.workload == "log_batch":
        result = run_log_batch(args)
    elif args.workload == "fluent":
        result = run_fluent(args, synchronous=True)
    elif args.workload == "fluent_async":
        result = run_fluent(args, synchronous=False)
    else:
        result = run_search(args)
    result.update(product="mlflow", version=mlflow.__version__, workload=args.workload)
    c.emit("result", **result)


if __name__ == "__main__":
    main()
