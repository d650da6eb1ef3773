"""The model-serving benchmark: ``wayline models serve`` side by side with ``mlflow models serve``.

Run with Wayline's venv: ``make bench-models`` or ``.venv/bin/python bench/models_bench.py --help``.

The same small scikit-learn model (a scaler and a logistic regression over 8 features, trained on the same
seeded data) is saved by each product's own sklearn flavor in its default format, then served by that
product with the same worker count on this machine. One asyncio client (``models/load.py``) drives
``POST /invocations`` with the same ``dataframe_split`` payload over keep-alive connections at each
concurrency (1, 8 and 32 by default) and records requests per second and p50/p99 latency; both servers'
answers to the payload are checked to be equal first. One table prints both figures, the ratio (> 1:
Wayline is better) and whether the target holds (2x MLflow's throughput at concurrency 32, p99 no worse).
JSON, server logs and a markdown copy go to ``bench/results/``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from bench_common import args_json, exit_on_sigterm, when_and_where
from models.load import LoadResult, run_load
from rich.console import Console
from rich.table import Table
from server.process import ServerProcess, free_port, launch, log_tail, memory
from tracking_bench import MLFLOW_PYTHON, MLFLOW_VERSION, ensure_mlflow_venv

import wayline

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PRODUCTS = ("mlflow", "wayline")
NAMES = {"mlflow": "MLflow", "wayline": "Wayline"}
#: What the reference needs beyond MLflow itself to save and serve the model.
MLFLOW_MODEL_PACKAGES = ("scikit-learn", "skops", "pandas")
TARGET_RATIO = 2.0
TARGET_CONCURRENCY = 32

console = Console() if sys.stdout.isatty() else Console(width=150)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--products", default=",".join(PRODUCTS), help="comma-separated: mlflow, wayline (default both)")
    add("--concurrency", default="1,8,32", help="comma-separated client connections")
    add("--workers", type=int, default=1, help="server processes, the same for both (MLflow: 1)")
    add("--rows", type=int, default=1, help="rows per request (dataframe_split)")
    add("--seconds", type=float, default=10.0, help="recorded seconds per concurrency level")
    add("--warmup-seconds", type=float, default=2.0, help="unrecorded seconds before each level")
    add("--start-timeout", type=float, default=120.0, help="seconds for a server to answer /ping")
    return parser.parse_args(argv)


def ensure_mlflow_models_venv() -> None:
    """MLflow's venv (shared with the other benchmarks) plus scikit-learn and skops to save and serve."""
    ensure_mlflow_venv()
    probe = subprocess.run(
        [str(MLFLOW_PYTHON), "-c", "import sklearn, skops, pandas"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        console.print(f"[bold]Adding {', '.join(MLFLOW_MODEL_PACKAGES)} to MLflow's venv…")
        subprocess.run(
            [str(MLFLOW_PYTHON), "-m", "pip", "install", "--quiet", *MLFLOW_MODEL_PACKAGES], check=True
        )


def python_of(product: str) -> str:
    return str(MLFLOW_PYTHON) if product == "mlflow" else sys.executable


def save_model(product: str, where: Path) -> Path:
    out = where / f"{product}-model"
    subprocess.run(
        [python_of(product), str(BENCH / "models" / "train.py"), "--product", product, "--out", str(out)],
        check=True,
        cwd=BENCH,
        env={**os.environ, "PYTHONPATH": str(BENCH)},
    )
    return out


def serve_command(product: str, model_dir: Path, port: int, workers: int) -> list[str]:
    common = ["-m", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if product == "mlflow":
        mlflow = str(Path(MLFLOW_PYTHON).parent / "mlflow")
        return [mlflow, "models", "serve", *common, "--env-manager", "local"]
    return [str(Path(sys.executable).parent / "wayline"), "models", "serve", *common]


def start(product: str, model_dir: Path, workers: int, logs: Path, timeout: float) -> ServerProcess:
    port = free_port()
    # MLflow's CLI runs `uvicorn` from PATH: its venv's bin goes first.
    bin_dir = str(Path(python_of(product)).parent)
    env = {
        **os.environ,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    server = launch(
        product,
        serve_command(product, model_dir, port, workers),
        cwd=logs,
        env=env,
        log_path=logs / f"{product}-serve.log",
    )
    server.url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    deadline = began + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{product} exited before /ping answered:\n{log_tail(server.log_path)}")
        try:
            if requests.get(f"{server.url}/ping", timeout=2).status_code == 200:
                server.startup_s = time.monotonic() - began
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{product}: no /ping 200 within {timeout} s:\n{log_tail(server.log_path)}")


def payload(rows: int) -> bytes:
    sys.path.insert(0, str(BENCH / "models"))
    from train import training_data

    x, _ = training_data()
    sample = x.head(rows)
    return json.dumps(
        {"dataframe_split": {"columns": list(sample.columns), "data": sample.to_numpy().tolist()}}
    ).encode()


def measure(
    product: str, model_dir: Path, args: argparse.Namespace, body: bytes, logs: Path
) -> dict[str, Any]:
    server = start(product, model_dir, args.workers, logs, args.start_timeout)
    try:
        answer = requests.post(
            f"{server.url}/invocations", data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        answer.raise_for_status()
        levels: list[LoadResult] = []
        for concurrency in args.levels:
            console.print(f"  {NAMES[product]}: concurrency {concurrency}…")
            levels.append(
                run_load(
                    f"{server.url}/invocations",
                    body,
                    concurrency=concurrency,
                    duration_s=args.seconds,
                    warmup_s=args.warmup_seconds,
                )
            )
        used = memory(server.pid)
        return {
            "predictions": answer.json(),
            "startup_s": round(server.startup_s, 2),
            "levels": [level.as_dict() for level in levels],
            "memory": used.as_dict(),
        }
    finally:
        server.stop()


def ratio(wayline_value: float | None, mlflow_value: float | None, *, lower_is_better: bool) -> float | None:
    if not wayline_value or not mlflow_value:
        return None
    return mlflow_value / wayline_value if lower_is_better else wayline_value / mlflow_value


def rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    table: list[list[str]] = []
    by_level = {
        p: {lv["concurrency"]: lv for lv in results[p]["levels"]} for p in results if "levels" in results[p]
    }
    mlflow, way = by_level.get("mlflow", {}), by_level.get("wayline", {})
    for concurrency in sorted(set(mlflow) | set(way)):
        m, w = mlflow.get(concurrency, {}), way.get(concurrency, {})
        for label, key, lower, digits in (
            ("req/s", "rps", False, 0),
            ("p50 ms", "p50_ms", True, 2),
            ("p99 ms", "p99_ms", True, 2),
        ):
            r = ratio(w.get(key), m.get(key), lower_is_better=lower)
            target = ""
            if concurrency == TARGET_CONCURRENCY and key == "rps" and r is not None:
                target = "yes" if r >= TARGET_RATIO else "NO"
            elif concurrency == TARGET_CONCURRENCY and key == "p99_ms" and r is not None:
                target = "yes" if r >= 1.0 else "NO"
            errors = f" ({m.get('errors', 0)}/{w.get('errors', 0)} errors)" if key == "rps" else ""
            table.append(
                [
                    f"concurrency {concurrency}, {label}{errors}",
                    "—" if key not in m else f"{m[key]:,.{digits}f}",
                    "—" if key not in w else f"{w[key]:,.{digits}f}",
                    "—" if r is None else f"{r:,.2f}×",
                    target,
                ]
            )
    if "memory" in results.get("mlflow", {}) and "memory" in results.get("wayline", {}):
        m_mem, w_mem = results["mlflow"]["memory"]["pss_mib"], results["wayline"]["memory"]["pss_mib"]
        relation = f"{m_mem / w_mem:,.2f}× less" if w_mem <= m_mem else f"{w_mem / m_mem:,.2f}× more"
        table.append(["memory after, PSS MiB", f"{m_mem:,.0f}", f"{w_mem:,.0f}", relation, ""])
    return table


def print_report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    heading = ("figure", f"MLflow {MLFLOW_VERSION}", f"Wayline {wayline.__version__}", "ratio", "target met")
    table = Table(title=f"Model serving, {args.workers} worker(s), {args.rows} row(s) per request")
    for name in heading:
        table.add_column(name, justify="left" if name == "figure" else "right")
    body = rows(results)
    for row in body:
        table.add_row(*row)
    console.print(table)
    lines = ["| " + " | ".join(heading) + " |", "| --- |" + " ---: |" * (len(heading) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    args = parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c]
    chosen = [p for p in args.products.split(",") if p]
    unknown = set(chosen) - set(PRODUCTS)
    if unknown:
        console.print(f"[red]unknown product(s): {', '.join(sorted(unknown))}")
        return 2
    if "mlflow" in chosen:
        ensure_mlflow_models_venv()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = RESULTS / f"models-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    body = payload(args.rows)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wayline-models-bench-") as tmp:
        for product in chosen:
            console.print(f"[bold]{NAMES[product]}[/]: saving the model and serving it…")
            try:
                results[product] = measure(product, save_model(product, Path(tmp)), args, body, logs)
            except (RuntimeError, subprocess.CalledProcessError, requests.RequestException) as exc:
                console.print(f"[red]{NAMES[product]} failed: {exc}")
                results[product] = {"error": str(exc)}
    answers = [r["predictions"] for r in results.values() if "predictions" in r]
    if len(answers) == 2 and answers[0] != answers[1]:
        console.print(f"[red]The two servers answered differently: {answers[0]} vs {answers[1]}")
    markdown = print_report(results, args)
    document = {**when_and_where(), "args": args_json(args), "results": results}
    (logs / "results.json").write_text(json.dumps(document, indent=2, default=str))
    (logs / "results.md").write_text(markdown + "\n")
    console.print(f"Results in {logs.relative_to(BENCH.parent)}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
