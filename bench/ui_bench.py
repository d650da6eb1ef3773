"""The web UI benchmark: Wayline's UI beside the reference MLflow UI, in headless Chromium, on the same data.

One experiment of 100k runs (10 params, 10 metrics each) and one run with a 1M-point metric, in each product's
SQLite store (built once by bulk insert and cached under ``bench/results/ui-data/``; see ``ui/stores.py``).
Each product's server runs alone (one worker), MLflow first; Playwright (sync API) drives
``/usr/bin/chromium`` and times, in the page's own clock (see ``ui/browser.py``):

* the runs page interactive: navigation start to the first frame showing the newest run as the first row;
* a sort applied: the click that sorts by ``metrics.m0`` to the frame whose first row is the expected run;
* a filter applied: Enter in the filter box (``metrics.m0 > 0.99``) to the frame whose first row is the
  expected run;
* the 1M-point chart drawn: navigation start to the frame in which the run page's chart of that metric holds
  its line.

Each figure: one warm-up attempt, then ``--reps`` attempts, each in a new browser context; the median. An
attempt that does not finish within ``--timeout-seconds`` is a "timeout". Prints the table (figure | MLflow |
Wayline | ratio | target), writes ``bench/results/ui-<stamp>.json`` and screenshots beside it.

    make bench-ui
    .venv/bin/python bench/ui_bench.py --runs 2000 --points 10000 --reps 2     # a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import args_json, exit_on_sigterm, when_and_where
from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.table import Table
from server.process import ServerProcess
from server.products import ServerOptions, start_server
from tracking_bench import MLFLOW_VERSION, ensure_mlflow_venv
from ui import dataset as ds
from ui import report
from ui.browser import Bench, Figure
from ui.profiles import PROFILES
from ui.stores import BuiltStore, ensure_store

BENCH = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FIGURE_NAMES = tuple(report.FIGURES)

console = Console() if sys.stdout.isatty() else Console(width=150)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--products", default="mlflow,wayline", help="which UIs, in this order")
    p.add_argument("--figures", default=",".join(FIGURE_NAMES), help="a subset of " + ",".join(FIGURE_NAMES))
    p.add_argument("--runs", type=int, default=100_000, help="runs in the runs experiment")
    p.add_argument("--points", type=int, default=1_000_000, help="points of the long metric")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--reps", type=int, default=5, help="timed attempts per figure, after one warm-up")
    p.add_argument("--timeout-seconds", type=float, default=60.0, help="an attempt's limit")
    p.add_argument("--budget-seconds", type=float, default=240.0, help="a figure's attempts stop after this")
    p.add_argument("--settle-seconds", type=float, default=5.0, help="idle time after a server's /health")
    p.add_argument(
        "--start-timeout", type=float, default=300.0, help="seconds for a server to answer /health"
    )
    p.add_argument("--cache-dir", type=Path, default=BENCH / "results" / "ui-data")
    p.add_argument("--results-dir", type=Path, default=BENCH / "results")
    args = p.parse_args(argv)
    args.products = [x for x in args.products.split(",") if x]
    args.figures = [x for x in args.figures.split(",") if x]
    for product in args.products:
        if product not in PROFILES:
            p.error(f"--products: unknown product {product!r}")
    for figure in args.figures:
        if figure not in FIGURE_NAMES:
            p.error(f"--figures: unknown figure {figure!r}")
    return args


def progress(phase: str, done: int, total: int) -> None:
    if done == total or done % (total // 5 or 1) < 5_000:
        console.print(f"  {phase}: {done:,} / {total:,}")


def method_of(product: str, figure: str) -> str:
    profile = PROFILES[product]
    if figure == "sort":
        how = "click" if profile.sort_click else "URL"
        order = "descending" if profile.sort_descending else "ascending"
        return f"{how}, metrics.{ds.SORT_METRIC} {order}"
    if figure == "filter":
        return f"type {ds.FILTER!r}, Enter"
    return "navigation"


def run_product(
    product: str, args: argparse.Namespace, expected: ds.Expected, shots: Path, log_dir: Path
) -> dict[str, Figure]:
    options = ServerOptions(
        mlflow_workers=1, wayline_workers=1, mlflow_job_execution=False, start_timeout_s=args.start_timeout
    )
    data = ds.Dataset(args.runs, args.points, args.seed)
    started = time.monotonic()
    built, new = ensure_store(
        product, data, cache=args.cache_dir, options=options, on_progress=progress, log_dir=log_dir
    )
    how = f"built in {time.monotonic() - started:.0f} s" if new else "cached"
    console.print(f"[bold]{product}[/]: store {how} ({built.db})")
    figures: dict[str, Figure] = {}
    server = _start(product, built, options, args, log_dir)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                for name in args.figures:
                    bench = Bench(
                        browser,
                        server.url,
                        PROFILES[product],
                        built,
                        expected,
                        timeout_s=args.timeout_seconds,
                        shots=shots,
                    )
                    figure = bench.measure(name, method_of(product, name), args.reps, args.budget_seconds)
                    figures[name] = figure
                    console.print(
                        f"  {name}: median {report.cell(figure)} ms over {len(report.counted(figure))} "
                        f"({', '.join(_attempt_text(a) for a in figure.attempts)})"
                    )
                    if any(a.ms is None for a in figure.attempts):
                        # An abandoned request may still be running in the server (MLflow's sort over 100k
                        # runs takes minutes): a fresh server, so that it slows no later figure.
                        server.stop()
                        server = _start(product, built, options, args, log_dir)
            finally:
                browser.close()
    finally:
        server.stop()
    return figures


def _start(
    product: str, built: BuiltStore, options: ServerOptions, args: argparse.Namespace, log_dir: Path
) -> ServerProcess:
    """The product's server on its store, after ``--settle-seconds`` of idle time."""
    server = start_server(product, built.store(), options, log_dir / f"{product}-server-{time.time_ns()}.log")
    console.print(
        f"  server up in {server.startup_s:.1f} s at {server.url}; settling {args.settle_seconds:.0f} s"
    )
    time.sleep(args.settle_seconds)
    return server


def _attempt_text(attempt: Any) -> str:
    if attempt.ms is not None:
        return f"{attempt.ms:.0f}"
    return f"{attempt.error} (first row {attempt.first_row!r})"


def print_table(results: dict[str, dict[str, Figure]], data: ds.Dataset) -> None:
    table = Table(
        title=f"Web UI in headless Chromium, {data.runs:,} runs, a {data.points:,}-point metric: median ms"
    )
    for col, justify in (
        ("figure", "left"),
        ("MLflow", "right"),
        ("Wayline", "right"),
        ("ratio", "right"),
        ("target", "right"),
        ("met", "center"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in report.rows(results):
        table.add_row(*row)
    console.print(table)
    console.print(
        "ratio: MLflow ÷ Wayline (> 1: Wayline faster; '> N×' when MLflow timed out). "
        + "; ".join(f"{p}: sort by {method_of(p, 'sort')}" for p in results)
    )


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    args = parse_args(argv)
    data = ds.Dataset(args.runs, args.points, args.seed)
    expected = ds.expected_first(data)
    if expected.default_first in (expected.sort_desc_first, expected.sort_asc_first, expected.filter_first):
        console.print(
            "[yellow]warning: a sorted or filtered view's first run is the default one (seed): its time is 0"
        )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    shots = args.results_dir / f"ui-{stamp}"
    shots.mkdir()
    if "mlflow" in args.products:
        ensure_mlflow_venv()
    results: dict[str, dict[str, Figure]] = {}
    failed = False
    for product in args.products:
        try:
            results[product] = run_product(product, args, expected, shots, shots)
        except Exception as exc:
            failed = True
            console.print(f"[red]{product}: {type(exc).__name__}: {exc}")
            results[product] = {}
    print_table(results, data)
    document = {
        **when_and_where(),
        "mlflow_version": MLFLOW_VERSION,
        "options": args_json(args),
        "data": {
            "key": data.key,
            "expected": vars(expected),
            "filter": ds.FILTER,
            "sort": f"metrics.{ds.SORT_METRIC}",
        },
        "targets_ms": {name: target for name, (_label, target) in report.FIGURES.items()},
        "results": {
            product: {name: report.figure_json(fig) for name, fig in figures.items()}
            for product, figures in results.items()
        },
    }
    out = args.results_dir / f"ui-{stamp}.json"
    out.write_text(json.dumps(document, indent=2, default=str))
    console.print(f"results: {out}; screenshots and server logs: {shots}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
