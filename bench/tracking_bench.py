"""The tracking-core benchmark: Wayline side by side with MLflow's embedded store (SQLite, PostgreSQL).

Run with Wayline's venv: ``make bench`` or ``.venv/bin/python bench/tracking_bench.py --help``.

Each workload runs in a fresh subprocess, Wayline's with this interpreter and MLflow's with
``bench/.mlflow-venv/bin/python`` (created on first use: ``python -m venv`` + pip install
``mlflow==3.17.2`` and ``psycopg2-binary``), against a fresh temporary SQLite folder or a fresh PostgreSQL
database that is dropped afterwards, even on failure. The workloads print JSON lines (progress, then one
result); this script draws the progress, collects the results and prints one table with both figures, the
ratio (>1: Wayline is better) and whether each Wayline target is met. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import (
    DEFAULT_POSTGRES,
    Postgres,
    args_json,
    dig,
    exit_on_sigterm,
    follow_lines,
    product_uri,
    when_and_where,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

BENCH = Path(__file__).resolve().parent
WORKLOADS_DIR = BENCH / "workloads"
MLFLOW_VENV = BENCH / ".mlflow-venv"
MLFLOW_PYTHON = MLFLOW_VENV / "bin" / "python"
MLFLOW_REQUIREMENTS = ("mlflow==3.17.2", "psycopg2-binary")
MLFLOW_VERSION = "3.17.2"

#: Wayline's targets (from the issue).
TARGET_LOG_BATCH_SQLITE = 200_000  # points/s, SQLite only
TARGET_FLUENT_US = 10.0  # median µs per fluent log_metric call
TARGET_SEARCH_P50_MS = 100.0  # both backends

WORKLOAD_NAMES = ("log_batch", "fluent", "search")
BACKENDS = ("sqlite", "postgres")

#: Wide enough for the table when the output is a file or a pipe (rich assumes 80 columns there).
console = Console() if sys.stdout.isatty() else Console(width=150)


# -- set-up --------------------------------------------------------------------------------------------------
def ensure_mlflow_venv() -> None:
    """Create ``bench/.mlflow-venv`` with MLflow (the reference) unless it is already there."""
    check = "import mlflow, psycopg2, sqlalchemy; print(mlflow.__version__)"
    if MLFLOW_PYTHON.exists():
        probe = subprocess.run([str(MLFLOW_PYTHON), "-c", check], capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == MLFLOW_VERSION:
            return
    console.print(
        f"[bold]Creating {MLFLOW_VENV.relative_to(BENCH.parent)} with {', '.join(MLFLOW_REQUIREMENTS)}…"
    )
    if not MLFLOW_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
    subprocess.run(
        [
            str(MLFLOW_PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *MLFLOW_REQUIREMENTS,
        ],
        check=True,
    )


@dataclass(frozen=True)
class Product:
    name: str  # "wayline" or "mlflow"
    python: str
    script: Path


def products(skip_mlflow: bool) -> list[Product]:
    found = [Product("wayline", sys.executable, WORKLOADS_DIR / "wayline_tracking.py")]
    if not skip_mlflow:
        found.append(Product("mlflow", str(MLFLOW_PYTHON), WORKLOADS_DIR / "mlflow_tracking.py"))
    return found


@contextlib.contextmanager
def location(backend: str, product: str, pg: Postgres | None) -> Iterator[tuple[str, Path]]:
    """A fresh tracking URI and working folder for one workload; removed (database dropped) afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{product}-bench-"))
    url = ""
    try:
        if backend == "sqlite":
            # Wayline: its embedded default (a folder, <dir>/wayline.db). MLflow: a sqlite:/// file.
            uri = str(workdir / "store") if product == "wayline" else f"sqlite:///{workdir / 'mlflow.db'}"
        else:
            assert pg is not None
            url = pg.create(product)
            uri = product_uri(url, product)
        yield uri, workdir
    finally:
        if url and pg is not None:
            try:
                pg.drop(url)
            except Exception as exc:
                console.print(f"[red]could not drop {url}: {exc}")
        shutil.rmtree(workdir, ignore_errors=True)


# -- running one workload ------------------------------------------------------------------------------------
class WorkloadError(Exception):
    pass


def run_workload(
    product: Product,
    *,
    workload: str,
    uri: str,
    workdir: Path,
    extra: list[str],
    timeout: float,
    on_progress: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLINE_", "MLFLOW_"))}
    env["WAYLINE_ARTIFACT_ROOT"] = str(workdir / "artifacts")
    command = [product.python, str(product.script), workload, "--uri", uri, *extra]
    stderr_path = workdir / "stderr.log"
    result: dict[str, Any] | None = None

    def on_line(line: str) -> None:
        nonlocal result
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            return
        if event.get("event") == "progress":
            on_progress(event)
        elif event.get("event") == "result":
            result = event

    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=workdir, env=env
        )
        assert proc.stdout is not None
        code = follow_lines(proc, proc.stdout, timeout, on_line)
    if code != 0 or result is None:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-15:]
        why = f"timed out after {timeout:.0f} s" if code == -signal.SIGKILL else f"exit code {code}"
        raise WorkloadError(f"{product.name} {workload} failed ({why}):\n" + "\n".join(tail))
    result.pop("event", None)
    return result


# -- the report ----------------------------------------------------------------------------------------------
def _num(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "—"
    return f"{a / b:,.1f}×" if a / b >= 10 else f"{a / b:,.2f}×"


def _met(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]yes" if ok else "[red]NO"


def headline(result: dict[str, Any]) -> str:
    """One line for the log as each workload finishes (the table comes at the end)."""
    workload = result.get("workload")
    if workload == "log_batch":
        return f"{result['points_per_s']:,.0f} points/s over {result['points']:,} points"
    if workload in ("fluent", "fluent_async"):
        return (
            f"median {result['per_call_us_median']:,.2f} µs/call, "
            f"{result['end_to_end_points_per_s']:,.0f} points/s end to end over {result['calls']:,} calls"
        )
    return (
        f"p50 {result['p50_ms']:,.1f} ms, p95 {result['p95_ms']:,.1f} ms over {result['reps']} reps; "
        f"population {result.get('populate_runs_per_s', float('nan')):,.1f} runs/s; "
        f"correct: {result['correct']}"
    )


def build_rows(backend: str, res: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(measure, Wayline, MLflow, ratio, target, met) for one backend."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    w = dig(res, ("log_batch", "wayline", "points_per_s"))
    m = dig(res, ("log_batch", "mlflow", "points_per_s"))
    target = TARGET_LOG_BATCH_SQLITE if backend == "sqlite" else None
    rows.append(
        (
            "log_batch, points/s",
            _num(w),
            _num(m),
            _ratio(w, m),
            f"≥ {target:,}" if target else "",
            _met(w >= target) if target and w is not None else "",
        )
    )
    w_med = dig(res, ("fluent", "wayline", "per_call_us_median"))
    for label, variant in (("sync", "mlflow"), ("async", "mlflow_async")):
        m_med = dig(res, ("fluent", variant, "per_call_us_median"))
        rows.append(
            (
                f"fluent log_metric µs/call, median (vs MLflow {label})",
                _num(w_med, 2),
                _num(m_med, 1),
                _ratio(m_med, w_med),
                f"≤ {TARGET_FLUENT_US:g} µs",
                _met(w_med <= TARGET_FLUENT_US) if w_med is not None else "",
            )
        )
    w99 = dig(res, ("fluent", "wayline", "per_call_us_p99"))
    m99 = dig(res, ("fluent", "mlflow", "per_call_us_p99"))
    rows.append(
        (
            "fluent log_metric µs/call, p99 (vs MLflow sync)",
            _num(w99, 2),
            _num(m99, 1),
            _ratio(m99, w99),
            "",
            "",
        )
    )
    w_e2e = dig(res, ("fluent", "wayline", "end_to_end_points_per_s"))
    for label, variant in (("sync", "mlflow"), ("async", "mlflow_async")):
        m_e2e = dig(res, ("fluent", variant, "end_to_end_points_per_s"))
        rows.append(
            (
                f"fluent end to end, points/s (vs MLflow {label})",
                _num(w_e2e),
                _num(m_e2e),
                _ratio(w_e2e, m_e2e),
                "",
                "",
            )
        )
    w_pop = dig(res, ("search", "wayline", "populate_runs_per_s"))
    m_pop = dig(res, ("search", "mlflow", "populate_runs_per_s"))
    rows.append(("search population, runs/s (†)", _num(w_pop), _num(m_pop, 1), _ratio(w_pop, m_pop), "", ""))
    for q, label in (("p50_ms", "p50"), ("p95_ms", "p95")):
        w_q = dig(res, ("search", "wayline", q))
        m_q = dig(res, ("search", "mlflow", q))
        is_p50 = q == "p50_ms"
        rows.append(
            (
                f"search_runs {label}, ms",
                _num(w_q, 1),
                _num(m_q, 1),
                _ratio(m_q, w_q),
                f"≤ {TARGET_SEARCH_P50_MS:g} ms" if is_p50 else "",
                _met(w_q <= TARGET_SEARCH_P50_MS) if is_p50 and w_q is not None else "",
            )
        )
    checks = []
    for product in ("wayline", "mlflow"):
        ok = [dig(res, (wl, product, "correct")) for wl in WORKLOAD_NAMES]
        ok += [dig(res, ("fluent", "mlflow_async", "correct"))] if product == "mlflow" else []
        known = [x for x in ok if x is not None]
        checks.append("—" if not known else ("[green]all correct" if all(known) else "[red]WRONG"))
    rows.append(("results checked", checks[0], checks[1], "", "", ""))
    return rows


def size_notes(all_results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    notes = []
    for backend, res in all_results.items():
        parts = []
        for product, label in (
            ("wayline", "Wayline"),
            ("mlflow", "MLflow"),
            ("mlflow_async", "MLflow async"),
        ):
            lb = dig(res, ("log_batch", product, "points"))
            fl = dig(res, ("fluent", product, "calls"))
            se = dig(res, ("search", product))
            bits = []
            if lb is not None:
                bits.append(f"log_batch {lb:,} points")
            if fl is not None:
                bits.append(f"fluent {fl:,} calls")
            if se:
                shared = se.get("experiments", 1)
                among = f" (one experiment of {shared} sharing every key)" if shared > 1 else ""
                bits.append(f"search {se['runs']:,} runs{among} × {se['reps']} reps")
            if bits:
                parts.append(f"{label}: " + ", ".join(bits))
        notes.append(f"[bold]{backend}[/bold] sizes — " + "; ".join(parts))
    if not args.skip_mlflow:
        notes.append(
            f"MLflow's timed loops are capped at {args.mlflow_budget_seconds:g} s each (its fluent "
            "log_metric writes synchronously, ~ms per call); figures are rates, so they compare across sizes."
        )
        sample = ", ".join(
            f"{backend} {n:,}"
            for backend, r in all_results.items()
            if (n := dig(r, ("search", "mlflow", "populate_api_runs"))) is not None
        )
        notes.append(
            "(†) Population: Wayline logged every run through its API (create_run + log_batch per run). "
            f"MLflow logged only its first runs that way ({sample or 'none'}; a third of its budget), which "
            "gives its rate; the rest of MLflow's runs were bulk-inserted straight into its SQL tables "
            "(runs, params, metrics, latest_metrics, tags), untimed. Both searches run on the same data."
        )
    notes.append(
        "Ratio: Wayline ÷ MLflow for throughput, MLflow ÷ Wayline for latency: > 1 means Wayline is better."
    )
    return notes


def print_report(all_results: dict[str, Any], errors: list[str], args: argparse.Namespace) -> None:
    table = Table(title="Tracking core: Wayline vs MLflow " + MLFLOW_VERSION, show_lines=False)
    for col, justify in (
        ("backend", "left"),
        ("measure", "left"),
        ("Wayline", "right"),
        ("MLflow", "right"),
        ("ratio", "right"),
        ("Wayline target", "right"),
        ("met", "center"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for i, (backend, res) in enumerate(all_results.items()):
        if i:
            table.add_section()
        for j, row in enumerate(build_rows(backend, res)):
            table.add_row(backend if j == 0 else "", *row)
    console.print(table)
    for note in size_notes(all_results, args):
        console.print(note)
    search = next(
        (dig(r, ("search", "wayline")) for r in all_results.values() if dig(r, ("search", "wayline"))), None
    )
    if search:
        console.print(
            f"Search: filter {search['filter']!r}, order_by {search['order_by']}, "
            f"max_results {search['max_results']}."
        )
    for error in errors:
        console.print(f"[red]{error}")


# -- main ----------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_NAMES), help="comma-separated subset")
    parser.add_argument("--points", type=int, default=1_000_000, help="points for log_batch and fluent")
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the searched experiment")
    parser.add_argument("--search-reps", type=int, default=30, help="timed searches (after one warm-up)")
    parser.add_argument(
        "--experiments",
        type=int,
        default=1,
        help="search: experiments of --runs runs each, sharing every key (a team server); one is searched",
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="run Wayline only")
    parser.add_argument(
        "--mlflow-budget-seconds",
        type=float,
        default=30.0,
        help="cap on each of MLflow's timed loops (log_batch, fluent, async fluent, search reps)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="server URL, without a database")
    parser.add_argument(
        "--timeout-seconds", type=float, default=1200.0, help="kill a workload after this long"
    )
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for b in args.backends:
        if b not in BACKENDS:
            parser.error(f"unknown backend {b!r}; expected {', '.join(BACKENDS)}")
    for w in args.workloads:
        if w not in WORKLOAD_NAMES:
            parser.error(f"unknown workload {w!r}; expected {', '.join(WORKLOAD_NAMES)}")
    return args


def plan(args: argparse.Namespace) -> list[tuple[str, str, Product, str]]:
    """(backend, workload, product, variant) in run order: each workload, Wayline then MLflow."""
    steps = []
    for backend in args.backends:
        for workload in args.workloads:
            for product in products(args.skip_mlflow):
                steps.append((backend, workload, product, product.name))
                if product.name == "mlflow" and workload == "fluent":
                    steps.append((backend, "fluent_async", product, "mlflow_async"))
    return steps


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    if not args.skip_mlflow:
        ensure_mlflow_venv()
    pg: Postgres | None = None
    if "postgres" in args.backends:
        pg = Postgres(args.postgres_url, tag="bench")
        pg.check()
    started = time.perf_counter()
    all_results: dict[str, dict[str, dict[str, Any]]] = {b: {} for b in args.backends}
    errors: list[str] = []
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,  # in a log, the line printed as each workload ends is enough
        ) as progress:
            for backend, workload, product, variant in plan(args):
                name = workload.removesuffix("_async")
                extra = [
                    "--points",
                    str(args.points),
                    "--runs",
                    str(args.runs),
                    "--search-reps",
                    str(args.search_reps),
                    "--experiments",
                    str(args.experiments),
                    "--seed",
                    str(args.seed),
                ]
                if product.name == "mlflow":
                    extra += ["--budget-seconds", str(args.mlflow_budget_seconds)]
                label = f"{backend} · {variant} · {workload}"
                task = progress.add_task(label, total=None)

                def on_progress(event: dict[str, Any], task: Any = task, label: str = label) -> None:
                    progress.update(
                        task,
                        description=f"{label}: {event['phase']}",
                        completed=event["done"],
                        total=event["total"],
                    )

                t0 = time.perf_counter()
                try:
                    with location(backend, product.name, pg) as (uri, workdir):
                        result = run_workload(
                            product,
                            workload=workload,
                            uri=uri,
                            workdir=workdir,
                            extra=extra,
                            timeout=args.timeout_seconds,
                            on_progress=on_progress,
                        )
                except (WorkloadError, OSError, subprocess.SubprocessError) as exc:
                    errors.append(f"{backend}: {exc}")
                    progress.update(task, description=f"[red]{label}: failed")
                    progress.stop_task(task)
                    continue
                result["wall_seconds"] = time.perf_counter() - t0
                all_results[backend].setdefault(name, {})[variant] = result
                progress.update(task, description=f"{label}: done in {result['wall_seconds']:.0f} s")
                console.print(f"{label}: {headline(result)} ({result['wall_seconds']:.0f} s)")
                progress.stop_task(task)
    finally:
        if pg is not None:
            pg.drop_all()
    print_report(all_results, errors, args)
    console.print(f"Total time {time.perf_counter() - started:.0f} s.")
    if args.json:
        payload = {
            **when_and_where(),
            "mlflow_version": MLFLOW_VERSION,
            "args": args_json(args),
            "results": all_results,
            "errors": errors,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"Wrote {args.json}")
    wrong = any(
        r.get("correct") is False for res in all_results.values() for wl in res.values() for r in wl.values()
    )
    return 1 if errors or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
