"""The model-registry search benchmark: Wayline's server side by side with the reference MLflow server.

Run with Wayline's venv: ``make bench-registry`` or ``.venv/bin/python bench/registry_bench.py --help``.

For each backend (SQLite, PostgreSQL) and each product (MLflow, then Wayline), on a fresh store: the server
starts on the empty store and creates a sample of registered models and versions through its REST API
(timed: the create rates); it stops, and the rest of the data set (10k models with 5 tags each, 100k versions
by default) is inserted straight into its tables, untimed, then ``ANALYZE`` on PostgreSQL; the server starts
again and answers the two searches over HTTP (``registered-models/search`` with three tag filters,
``model-versions/search`` by name), p50 and p95 after one warm-up, every answer checked against the one
computed in Python. One table gives both figures, the ratio (> 1: Wayline is better) and whether Wayline's
50 ms target is met. JSON, server logs and a markdown copy go to ``bench/results/``. See
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import DEFAULT_POSTGRES, Postgres, args_json, exit_on_sigterm, when_and_where
from registry import dataset, populate, report, searches
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from server.process import ServerProcess
from server.products import PRODUCTS, ServerOptions, start_server
from server.stores import BACKENDS, Store, fresh_store
from tracking_bench import MLFLOW_VERSION, ensure_mlflow_venv

import wayline

BENCH = Path(__file__).resolve().parent
PRODUCT_NAMES = {"mlflow": "MLflow", "wayline": "Wayline"}

#: Wide enough for the table when the output is a file or a pipe (rich assumes 80 columns there).
console = Console() if sys.stdout.isatty() else Console(width=150)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgres")
    add("--products", default=",".join(PRODUCTS), help="comma-separated: mlflow, wayline (default both)")
    add("--models", type=int, default=10_000, help="registered models, 5 tags each")
    add("--versions", type=int, default=100_000, help="model versions in all, 2 tags each")
    add(
        "--versions-per-model",
        type=int,
        default=100,
        help="versions of each model that has versions (the first --versions / this many models)",
    )
    add("--reps", type=int, default=20, help="timed requests per search, after one warm-up")
    add(
        "--api-sample",
        type=int,
        default=200,
        help="models, and versions, created through each server's REST API (timed); the rest is inserted",
    )
    add(
        "--budget-seconds",
        type=float,
        default=60.0,
        help=f"stop a timed search loop after this long (at least {searches.MIN_REPS} requests)",
    )
    add("--mlflow-workers", type=int, default=4, help="uvicorn workers of mlflow server (its default, 4)")
    add("--wayline-workers", type=int, default=4, help="worker processes of wayline server")
    add("--postgres-url", default=DEFAULT_POSTGRES, help="server for the throwaway databases, no database")
    add("--start-timeout", type=float, default=300.0, help="seconds for a server to answer /health")
    add(
        "--settle-seconds",
        type=float,
        default=10.0,
        help="idle time between the populated server's /health and the first search (MLflow's job runner "
        "starts its consumers then)",
    )
    add("--seed", type=int, default=20240611, help="the data set's seed")
    add("--results-dir", type=Path, default=BENCH / "results", help="where JSON, logs and markdown go")
    args = parser.parse_args(argv)
    for flag in ("models", "versions", "versions_per_model", "reps", "mlflow_workers", "wayline_workers"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.api_sample < 0:
        parser.error("--api-sample must not be negative")
    args.backends = _choices(parser, "backend", args.backends, BACKENDS)
    args.products = _choices(parser, "product", args.products, PRODUCTS)
    try:
        args.data = dataset.build(args.models, args.versions, args.versions_per_model, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def _choices(parser: argparse.ArgumentParser, what: str, raw: str, allowed: tuple[str, ...]) -> list[str]:
    picked = [x.strip() for x in raw.split(",") if x.strip()]
    for x in picked:
        if x not in allowed:
            parser.error(f"unknown {what} {x!r}; expected {', '.join(allowed)}")
    if not picked:
        parser.error(f"no {what} given")
    return picked


class Bench:
    """One benchmark run: the settings, the data set, the progress display and the file names."""

    def __init__(self, args: argparse.Namespace, progress: Progress, pg: Postgres | None) -> None:
        self.args = args
        self.data: dataset.Dataset = args.data
        self.progress = progress
        self.pg = pg
        self.options = ServerOptions(args.mlflow_workers, args.wayline_workers, None, args.start_timeout)
        self.stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.load_start = os.getloadavg()[0]
        self.results_dir: Path = args.results_dir

    def log_path(self, backend: str, product: str, phase: str) -> Path:
        return self.results_dir / f"registry-{self.stamp}-{backend}-{product}-{phase}.server.log"

    def say(self, text: str) -> None:
        self.progress.console.print(f"{time.strftime('%H:%M:%S')} {text}", highlight=False)

    def run_one(self, backend: str, product: str) -> dict[str, Any]:
        """Populate and measure one product on a fresh ``backend`` store; never raises (errors are kept)."""
        label = f"{backend} · {PRODUCT_NAMES[product]}"
        task = self.progress.add_task(f"{label}: starting", total=None)
        record: dict[str, Any] = {"errors": [], "logs": []}
        started = time.perf_counter()
        try:
            with fresh_store(backend, product, self.pg) as store:
                self._populate_and_measure(store, product, record, label, task)
        except Exception as exc:  # reported under the table; the other product still runs
            record["errors"].append(f"{type(exc).__name__}: {exc}")
        took = time.perf_counter() - started
        record["wall_seconds"] = round(took, 1)
        failed = record["errors"] or any(not s["correct"] for s in record.get("searches", {}).values())
        status = "[red]failed" if failed else "done"
        self.progress.update(task, description=f"{label}: {status} in {took:.0f} s")
        self.progress.stop_task(task)
        self.say(f"{label}: {status} in {took:.0f} s")
        return record

    def _start(self, product: str, store: Store, record: dict[str, Any], phase: str) -> ServerProcess:
        log = self.log_path(store.backend, product, phase)
        record["logs"].append(str(log))
        return start_server(product, store, self.options, log)

    def _populate_and_measure(
        self, store: Store, product: str, record: dict[str, Any], label: str, task: TaskID
    ) -> None:
        def on_progress(phase: str, done: int, total: int) -> None:
            self.progress.update(task, description=f"{label}: {phase}", completed=done, total=total)

        server = self._start(product, store, record, "sample")
        try:
            sample = populate.api_sample(server.url, self.data, self.args.api_sample, on_progress)
        finally:
            server.stop()
        record["sample"] = sample.as_dict()
        self.say(
            f"{label}: REST sample {sample.models} models in {sample.models_seconds:.1f} s, "
            f"{sample.versions} versions in {sample.versions_seconds:.1f} s"
        )
        bulk = populate.bulk_insert(product, store.uri, self.data, sample, on_progress)
        record["bulk_insert_seconds"] = round(bulk, 1)
        self.say(f"{label}: the rest inserted into its tables in {bulk:.0f} s (untimed figure)")
        on_progress("starting the server on the populated store", 0, 1)
        server = self._start(product, store, record, "search")
        try:
            record["startup_s"] = round(server.startup_s, 2)
            on_progress(f"idle ({self.args.settle_seconds:g} s)", 0, 1)
            time.sleep(self.args.settle_seconds)
            record["searches"] = {}
            for close in (False, True):
                for search in (searches.model_search(self.data), searches.version_search(self.data)):
                    result = searches.time_search(
                        server.url, search, self.args.reps, self.args.budget_seconds, on_progress, close=close
                    )
                    record["searches"][search.name + ("_close" if close else "")] = result
                    verdict = "correct" if result["correct"] else "WRONG: " + "; ".join(result["problems"])
                    self.say(
                        f"{label}: search {search.name} ({result['connection']}): "
                        f"p50 {result['p50_ms']:,.1f} ms, p95 {result['p95_ms']:,.1f} ms "
                        f"over {result['reps']} requests; {verdict}"
                    )
        finally:
            server.stop()


def setup_line(args: argparse.Namespace) -> str:
    names = {
        "mlflow": f"MLflow {MLFLOW_VERSION} ({args.mlflow_workers} workers)",
        "wayline": f"Wayline {wayline.__version__} ({args.wayline_workers} workers)",
    }
    return " vs ".join(names[p] for p in args.products)


def notes(bench: Bench, records: report.Records) -> list[str]:
    data, args = bench.data, bench.args
    reps = "; ".join(
        f"{backend} {PRODUCT_NAMES[p]} " + "/".join(str(s["reps"]) for s in r["searches"].values())
        for backend, per in records.items()
        for p, r in per.items()
        if r.get("searches")
    )
    bulk = "; ".join(
        f"{backend} {PRODUCT_NAMES[p]} {r['bulk_insert_seconds']:g} s"
        for backend, per in records.items()
        for p, r in per.items()
        if "bulk_insert_seconds" in r
    )
    sample = next((r["sample"] for per in records.values() for r in per.values() if "sample" in r), None)
    sample_text = (
        f"{sample['models']:,} models and {sample['versions']:,} versions" if sample else "no sample"
    )
    tags = ", ".join(f"{k} ({len(v)} values)" for k, v in dataset.MODEL_TAGS.items())
    return [
        f"Data: {len(data.models):,} registered models, each with 5 tags ({tags}); "
        f"{data.version_count:,} model versions = {data.versioned_models:,} models × "
        f"{data.versions_per_model} versions, each with 2 tags (dataset, git_sha). Seed {data.seed}.",
        f"Search models: GET /api/2.0/mlflow/registered-models/search?filter={data.model_filter}"
        f"&max_results={dataset.MODEL_MAX_RESULTS}: {data.matching_models()} models match "
        f"({len(data.expected_models())} on the first page).",
        f"Search versions: GET /api/2.0/mlflow/model-versions/search?filter={data.version_filter}"
        f"&max_results={dataset.VERSION_MAX_RESULTS}: {data.versions_per_model} versions.",
        f"p50/p95 over {args.reps} requests after one warm-up (request + JSON decoding, one keep-alive "
        f"session), or fewer once a loop ran {args.budget_seconds:g} s; timed requests per search: "
        f"{reps or 'none'} (models, versions; then both with new connections). Every answer checked "
        "against the set computed in Python.",
        "New connection per request (Connection: close): MLflow's multi-worker uvicorn leaves Nagle on, so "
        "on a kept-alive connection each response waits ~40 ms for the client's delayed ACK; on a new "
        "connection it does not. Those rows show the search without that stall (and with a TCP "
        "handshake).",
        f"(†) Population: each server created the first {sample_text} through its REST API on an empty "
        "store, one request at a time, one client (these rates); MLflow's multi-worker uvicorn leaves Nagle "
        "on (≈ 40 ms stall per small keep-alive request, see the server benchmark), which is in its rates. "
        "Then the server was stopped and the rest inserted straight into its tables (executemany, untimed, "
        f"not a product figure: {bulk or 'none'}), ANALYZE on PostgreSQL, and the server started again.",
        "Ratio: Wayline ÷ MLflow for rates, MLflow ÷ Wayline for latencies; > 1: Wayline is better.",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; 1-min load average "
        f"{bench.load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.",
    ]


def problems(records: report.Records) -> list[str]:
    found = []
    for backend, per in records.items():
        for product, record in per.items():
            where = f"{backend} · {PRODUCT_NAMES[product]}"
            here = [f"{where}: {e}" for e in record.get("errors", [])]
            for name, search in record.get("searches", {}).items():
                here += [f"{where}: search {name}: {p}" for p in search["problems"]]
            if here and record.get("logs"):
                here.append(f"{where}: server logs {', '.join(record['logs'])}")
            found += here
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    if "mlflow" in args.products:
        ensure_mlflow_venv()
    pg = Postgres(args.postgres_url, tag="regbench") if "postgres" in args.backends else None
    if pg is not None:
        pg.check()
    args.results_dir.mkdir(parents=True, exist_ok=True)
    records: report.Records = {backend: {} for backend in args.backends}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    started = time.perf_counter()
    cleanup_errors: list[str] = []
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        bench = Bench(args, progress, pg)
        try:
            for backend in args.backends:
                for product in args.products:
                    records[backend][product] = bench.run_one(backend, product)
        finally:
            cleanup_errors = pg.drop_all() if pg is not None else []
    title = f"Model registry search: {setup_line(args)}"
    report.print_table(console, title, records)
    note_lines = notes(bench, records)
    for line in note_lines:
        console.print(line, highlight=False)
    found = problems(records) + cleanup_errors
    for line in found:
        console.print(f"[red]{line}", highlight=False)
    total = time.perf_counter() - started
    stem = args.results_dir / f"registry-{bench.stamp}"
    summary = {
        **when_and_where(),
        "setup": setup_line(args),
        "args": {k: v for k, v in args_json(args).items() if k != "data"},
        "total_seconds": round(total, 1),
        "records": records,
        "notes": note_lines,
        "problems": found,
    }
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    md = f"## {title}\n\n{report.markdown(records)}\n" + "".join(f"- {n}\n" for n in note_lines + found)
    stem.with_suffix(".md").write_text(md)
    console.print(f"Total time {total:.0f} s. Wrote {stem}.md and .json.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
