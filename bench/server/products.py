"""How each product's server is started on a fresh store, up to its first ``/health`` 200."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from server.process import ServerProcess, ServerStartError, free_port, launch, wait_for_health, wait_for_url
from server.stores import Store

REPO = Path(__file__).resolve().parents[2]
MLFLOW_BIN = REPO / "bench" / ".mlflow-venv" / "bin" / "mlflow"
PRODUCTS = ("mlflow", "wayline")
#: The scenarios the ceiling server answers (``null_server.py``).
CEILING_SCENARIOS = ("metric_ingest", "metric_history", "concurrency")
#: Wayline prints ``Wayline server listening on http://127.0.0.1:PORT`` once its socket is bound.
WAYLINE_URL_PATTERN = r"listening on (http://\S+)"


@dataclass(frozen=True)
class ServerOptions:
    """The command-line choices that shape the servers (the same for every backend)."""

    mlflow_workers: int
    wayline_workers: int
    #: ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION``: None leaves MLflow's default (on: a job runner + 7 consumers).
    mlflow_job_execution: bool | None
    start_timeout_s: float


def wayline_bin() -> Path:
    """``wayline`` beside the interpreter running this script (Wayline's venv), else the repo's ``.venv``."""
    beside = Path(sys.executable).parent / "wayline"
    return beside if beside.exists() else REPO / ".venv" / "bin" / "wayline"


def clean_env() -> dict[str, str]:
    """This environment without ``MLFLOW_*`` and ``WAYLINE_*`` settings: neither server inherits any."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}


def mlflow_command(store: Store, port: int, workers: int) -> list[str]:
    return [
        str(MLFLOW_BIN),
        "server",
        "--backend-store-uri",
        store.uri,
        "--artifacts-destination",
        str(store.artifacts),
        "--serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def wayline_command(store: Store, workers: int) -> list[str]:
    return [
        str(wayline_bin()),
        "server",
        "--port",
        "0",
        "--backend-store-uri",
        store.uri,
        "--artifacts-destination",
        str(store.artifacts),
        "--workers",
        str(workers),
    ]


def start_server(product: str, store: Store, options: ServerOptions, log_path: Path) -> ServerProcess:
    """Launch ``product``'s server on ``store``, wait for ``/health``; stops the server if that fails."""
    env = clean_env()
    port = 0
    if product == "mlflow":
        if not MLFLOW_BIN.exists():
            raise ServerStartError(f"{MLFLOW_BIN} is missing (make bench creates bench/.mlflow-venv)")
        if options.mlflow_job_execution is not None:
            env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "true" if options.mlflow_job_execution else "false"
        port = free_port()
        command = mlflow_command(store, port, options.mlflow_workers)
    else:
        command = wayline_command(store, options.wayline_workers)
    started = time.monotonic()
    deadline = started + options.start_timeout_s
    server = launch(product, command, cwd=store.workdir, env=env, log_path=log_path)
    try:
        if port:
            server.url = f"http://127.0.0.1:{port}"
        else:
            server.url = wait_for_url(server, WAYLINE_URL_PATTERN, deadline=deadline).rstrip("/")
        wait_for_health(server, deadline=deadline)
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - started
    return server


def ceiling_command(port: int, workers: int) -> list[str]:
    """``null_server.py`` with Wayline's venv and Wayline's number of workers."""
    script = Path(__file__).resolve().parent / "null_server.py"
    return [sys.executable, str(script), "--port", str(port), "--workers", str(workers)]


def start_ceiling(
    workdir: Path, options: ServerOptions, log_path: Path, *, history_points: int
) -> ServerProcess:
    """Launch the ceiling server (serving ``history_points``-point histories) and wait for ``/health``."""
    port = free_port()
    started = time.monotonic()
    env = clean_env() | {"WAYLINE_BENCH_HISTORY_POINTS": str(history_points)}
    command = ceiling_command(port, options.wayline_workers)
    server = launch("ceiling", command, cwd=workdir, env=env, log_path=log_path)
    try:
        server.url = f"http://127.0.0.1:{port}"
        wait_for_health(server, deadline=started + options.start_timeout_s)
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - started
    return server
