"""Each product's SQLite store holding the data set, built once and cached under ``bench/results/``.

Logging 100k runs through MLflow's REST API would take hours here, so each store is built the same way:

1. the product's own server starts on an empty SQLite file (it creates its schema), and over REST creates the
   two experiments (so each product sets their artifact locations its own way) and the history run; then it
   stops;
2. the runs (with ``mlflow.runName`` and ``mlflow.user`` tags, params, metrics, latest metrics) and the
   history run's 1M points go straight into the product's tables with ``sqlite3`` ``executemany``, untimed
   (not a product figure). The columns are read from the database (``PRAGMA table_info``): a column the
   benchmark does not know is left to its default or NULL, and one that is NOT NULL without a default fails
   loudly. MLflow stores a row per point (``metrics``); Wayline stores a run's points of one key as blocks of
   at most 1,000 (``metric_blocks``), packed by Wayline's own ``metric_blocks.pack``.

The finished store is ``<cache>/<data key>/<product>.db`` with a ``<product>.json`` beside it (experiment and
run ids); it is written under a temporary name and renamed when complete, so an interrupted build is redone.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from server.process import ServerProcess
from server.products import ServerOptions, start_server
from server.stores import Store

from ui import dataset as ds
from wayline.store.sql.metric_blocks import pack

API = "/api/2.0/mlflow"
CHUNK_RUNS = 5_000
CHUNK_POINTS = 100_000
#: Points per block of Wayline's ``metric_blocks`` (at most as many as one ``log_batch`` writes).
BLOCK_POINTS = 1_000
#: ``on_progress(phase, done, total)``.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuiltStore:
    """A cached store and the ids the benchmark navigates to."""

    product: str
    db: str
    artifacts: str
    runs_experiment_id: str
    history_experiment_id: str
    history_run_id: str

    def store(self) -> Store:
        db = Path(self.db)
        return Store("sqlite", f"sqlite:///{db}", Path(self.artifacts), db.parent)


@dataclass(frozen=True)
class Naming:
    """How a product names its run-id column, and the extra run columns it needs."""

    run_id: str
    run_extra: dict[str, Any]


NAMING = {
    "mlflow": Naming(
        "run_uuid",
        {"source_type": "LOCAL", "source_name": "", "entry_point_name": "", "source_version": ""},
    ),
    "wayline": Naming("run_id", {}),
}


def ensure_store(
    product: str,
    data: ds.Dataset,
    *,
    cache: Path,
    options: ServerOptions,
    on_progress: Progress,
    log_dir: Path,
) -> tuple[BuiltStore, bool]:
    """The cached store for ``product`` (built now if missing); the flag says whether it was built now."""
    folder = cache / data.key
    meta_path = folder / f"{product}.json"
    if meta_path.exists():
        built = BuiltStore(**json.loads(meta_path.read_text()))
        if Path(built.db).exists():
            _upgrade_schema(product, built.db)
            return built, False
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f"{product}.building"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    artifacts = work / "artifacts"
    artifacts.mkdir()
    db = work / f"{product}.db"
    ids = _create_with_server(
        product, data, Store("sqlite", f"sqlite:///{db}", artifacts, work), options, log_dir
    )
    _bulk_insert(product, db, data, ids, on_progress)
    final_db, final_artifacts = folder / f"{product}.db", folder / f"{product}-artifacts"
    for stale in (final_db, Path(f"{final_db}-wal"), Path(f"{final_db}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(final_artifacts, ignore_errors=True)
    db.rename(final_db)
    artifacts.rename(final_artifacts)
    shutil.rmtree(work, ignore_errors=True)
    built = BuiltStore(product, str(final_db), str(final_artifacts), **ids)
    meta_path.write_text(json.dumps(asdict(built), indent=2))
    return built, True


def _upgrade_schema(product: str, db: str) -> None:
    """A store cached by an older Wayline gets the current schema (new indexes), as a user's would."""
    if product != "wayline":
        return
    wayline = Path(sys.executable).with_name("wayline")
    subprocess.run([str(wayline), "db", "upgrade", f"sqlite:///{db}"], check=True, capture_output=True)


def _create_with_server(
    product: str, data: ds.Dataset, store: Store, options: ServerOptions, log_dir: Path
) -> dict[str, str]:
    """Start the product's server on the empty store: its schema, the two experiments, the history run."""
    server: ServerProcess = start_server(product, store, options, log_dir / f"{product}-create.log")
    try:
        s = requests.Session()

        def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = s.post(f"{server.url}{API}/{path}", json=body, timeout=60)
            response.raise_for_status()
            return dict(response.json())

        runs_exp = call("experiments/create", {"name": ds.RUNS_EXPERIMENT})["experiment_id"]
        history_exp = call("experiments/create", {"name": ds.HISTORY_EXPERIMENT})["experiment_id"]
        run = call(
            "runs/create",
            {"experiment_id": history_exp, "run_name": ds.HISTORY_RUN, "start_time": data.history_start_ms()},
        )["run"]
        call(
            "runs/update",
            {"run_id": run["info"]["run_id"], "status": "FINISHED", "end_time": data.history_start_ms() + 1},
        )
    finally:
        server.stop()
    return {
        "runs_experiment_id": str(runs_exp),
        "history_experiment_id": str(history_exp),
        "history_run_id": str(run["info"]["run_id"]),
    }


def _artifact_location(conn: sqlite3.Connection, experiment_id: str) -> str:
    row = conn.execute(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?", (int(experiment_id),)
    ).fetchone()
    return str(row[0]).rstrip("/")


class _Inserter:
    """``executemany`` into a table by column name, checked against the table's columns."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        table: str,
        columns: Iterable[str],
        constants: dict[str, Any] | None = None,
    ) -> None:
        """``constants``: columns given the same value in every row, where the table has them (Wayline's
        params, tags and latest metrics carry their run's experiment; MLflow's do not)."""
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        known = {row[1]: row for row in info}
        present = {name: value for name, value in (constants or {}).items() if name in known}
        self.extra = tuple(present.values())
        self.columns = [*columns, *present]
        unknown = [c for c in self.columns if c not in known]
        if unknown:
            raise RuntimeError(f"{table} has no column(s) {unknown}: the product's schema changed")
        for name, (_cid, _n, _type, notnull, default, pk) in known.items():
            if name not in self.columns and notnull and default is None and not pk:
                raise RuntimeError(
                    f"{table}.{name} is NOT NULL without a default and unknown to the benchmark"
                )
        marks = ", ".join("?" for _ in self.columns)
        self.sql = f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES ({marks})"
        self.conn = conn

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.conn.executemany(self.sql, [(*row, *self.extra) for row in rows] if self.extra else rows)


class _PointInserter:
    """Metric points ``(run id, key, value, timestamp, step, is_nan)`` into the product's table of them:
    MLflow's ``metrics``, a row per point; Wayline's ``metric_blocks``, a row per block of at most
    ``BLOCK_POINTS`` points of one run and key (the points of one call are grouped by run and key)."""

    def __init__(self, product: str, conn: sqlite3.Connection, run_id_column: str) -> None:
        self.blocks = product == "wayline"
        if self.blocks:
            # The columns ``Block.row`` fills, checked against the table like any other.
            columns = list(pack([(0, 0, 0.0)]).row("", ""))
            self.rows = _Inserter(conn, "metric_blocks", columns)
        else:
            columns = [run_id_column, "key", "value", "timestamp", "step", "is_nan"]
            self.rows = _Inserter(conn, "metrics", columns)

    def insert(self, points: list[tuple[Any, ...]]) -> None:
        if not self.blocks:
            self.rows.insert(points)
            return
        keys: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
        for run_id, key, value, timestamp, step, is_nan in points:
            keys.setdefault((run_id, key), []).append((step, timestamp, math.nan if is_nan else value))
        blocks = []
        for (run_id, key), series in keys.items():
            for start in range(0, len(series), BLOCK_POINTS):
                row = pack(series[start : start + BLOCK_POINTS]).row(run_id, key)
                blocks.append(tuple(row[column] for column in self.rows.columns))
        self.rows.insert(blocks)


def _bulk_insert(
    product: str, db: Path, data: ds.Dataset, ids: dict[str, str], on_progress: Progress
) -> None:
    naming = NAMING[product]
    rid = naming.run_id
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        exp_id = ids["runs_experiment_id"]
        location = _artifact_location(conn, exp_id)
        extra = list(naming.run_extra)
        runs = _Inserter(
            conn,
            "runs",
            [
                rid,
                "experiment_id",
                "name",
                "user_id",
                "status",
                "start_time",
                "end_time",
                "lifecycle_stage",
                "artifact_uri",
                *extra,
            ],
        )
        experiment = {"experiment_id": int(exp_id)}
        params = _Inserter(conn, "params", [rid, "key", "value"], experiment)
        tags = _Inserter(conn, "tags", [rid, "key", "value"], experiment)
        metrics = _PointInserter(product, conn, rid)
        point = [rid, "key", "value", "timestamp", "step", "is_nan"]
        latest = _Inserter(conn, "latest_metrics", point, experiment)
        extra_values = tuple(naming.run_extra.values())
        for chunk in _chunks(data.iter_runs(), CHUNK_RUNS):
            run_rows, param_rows, tag_rows, metric_rows = [], [], [], []
            for r in chunk:
                run_rows.append(
                    (
                        r.run_id,
                        int(exp_id),
                        r.name,
                        ds.USER,
                        "FINISHED",
                        r.start_time,
                        r.start_time + 500,
                        "active",
                        f"{location}/{r.run_id}/artifacts",
                        *extra_values,
                    )
                )
                param_rows += [(r.run_id, k, v) for k, v in r.params.items()]
                tag_rows += [(r.run_id, "mlflow.runName", r.name), (r.run_id, "mlflow.user", ds.USER)]
                metric_rows += [(r.run_id, k, v, r.start_time, 0, 0) for k, v in r.metrics.items()]
            with conn:
                runs.insert(run_rows)
                params.insert(param_rows)
                tags.insert(tag_rows)
                metrics.insert(metric_rows)
                latest.insert(metric_rows)
            on_progress(f"{product}: runs", chunk[-1].index + 1, data.runs)
        run_id = ids["history_run_id"]
        last: tuple[Any, ...] = ()
        done = 0
        for points in _chunks(data.iter_history(), CHUNK_POINTS):
            rows = [(run_id, ds.HISTORY_METRIC, v, ts, step, 0) for step, ts, v in points]
            with conn:
                metrics.insert(rows)
            last = rows[-1]
            done += len(rows)
            on_progress(f"{product}: 1M-point metric", done, data.points)
        history_latest = _Inserter(
            conn, "latest_metrics", point, {"experiment_id": int(ids["history_experiment_id"])}
        )
        with conn:
            history_latest.insert([last])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
