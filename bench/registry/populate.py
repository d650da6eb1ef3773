"""Filling a product's store with the data set: a timed sample through its server's REST API, then the rest
inserted straight into its tables.

Creating 100k versions through MLflow's REST API would take hours here, so each server first creates the
first registered models (with their tags) and versions (with theirs) one request at a time, which makes it
create its schema and gives its create rates; then the server is stopped and the remaining rows go into its
tables with ``executemany``, untimed (not a product figure). The columns are read from the database, so a
column added by a later version of either product fails loudly (NOT NULL, no default) or gets NULL.

MLflow's registry tables are keyed by the model's name (and ``workspace``, filled by its server default);
Wayline's by a surrogate ``model_key`` (read back after the models are inserted), and a model's
``last_version`` must equal its largest version number (new versions are numbered from it). Wayline's history
table (``registry_events``) gets no rows for the inserted models and versions: no search reads it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa

from registry.dataset import Dataset, Model, Version

#: ``on_progress(phase, done, total)``.
Progress = Callable[[str, int, int], None]

API = "/api/2.0/mlflow"
HTTP_TIMEOUT = 300.0
MODEL_CHUNK = 2_000
VERSION_CHUNK = 10_000
TABLES = ("registered_models", "registered_model_tags", "model_versions", "model_version_tags")


@dataclass(frozen=True)
class Sample:
    """What the REST sample created, and how long its requests took."""

    run_id: str
    models: int
    models_seconds: float
    versions: int
    versions_seconds: float

    @property
    def source(self) -> str:
        return f"runs:/{self.run_id}/model"

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "models": self.models,
            "models_seconds": round(self.models_seconds, 3),
            "models_per_s": self.models / self.models_seconds if self.models_seconds else None,
            "versions": self.versions,
            "versions_seconds": round(self.versions_seconds, 3),
            "versions_per_s": self.versions / self.versions_seconds if self.versions_seconds else None,
        }


class PopulateError(RuntimeError):
    """A request of the sample failed or answered something else than what was asked."""


def _post(session: requests.Session, url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = session.post(f"{url}{API}{path}", json=body, timeout=HTTP_TIMEOUT)
    if response.status_code != 200:
        raise PopulateError(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    doc: dict[str, Any] = response.json()
    return doc


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def api_sample(url: str, data: Dataset, count: int, on_progress: Progress) -> Sample:
    """Create the first ``count`` models and the first ``count`` versions (of those models) through the
    server at ``url``, one request each, timing the requests; the versions' source is a run made here."""
    session = requests.Session()
    run = _post(session, url, "/runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)})
    run_id = str(run["run"]["info"]["run_id"])
    models = data.models[: min(count, len(data.models))]
    n_versions = min(count, data.version_count, len(models) * data.versions_per_model)
    total = len(models) + n_versions
    started = time.perf_counter()
    for done, model in enumerate(models, 1):
        _post(session, url, "/registered-models/create", {"name": model.name, "tags": _tags(model.tags)})
        if done % 20 == 0:
            on_progress("REST sample: registered-models/create", done, total)
    models_seconds = time.perf_counter() - started
    started = time.perf_counter()
    source = f"runs:/{run_id}/model"
    for done, version in enumerate(itertools.islice(data.versions(), n_versions), 1):
        body = {"name": version.name, "source": source, "run_id": run_id, "tags": _tags(version.tags)}
        got = _post(session, url, "/model-versions/create", body)["model_version"]
        if int(got["version"]) != version.version:
            raise PopulateError(f"{version.name}: got version {got['version']}, expected {version.version}")
        if done % 20 == 0:
            on_progress("REST sample: model-versions/create", len(models) + done, total)
    versions_seconds = time.perf_counter() - started
    session.close()
    return Sample(run_id, len(models), models_seconds, n_versions, versions_seconds)


# -- the bulk insert ---------------------------------------------------------------------------------------
def sqlalchemy_url(store_uri: str) -> str:
    """The store's URL for this interpreter's drivers (psycopg 3; MLflow's spelling names psycopg2)."""
    for prefix in ("postgresql+psycopg2://", "postgresql://"):
        if store_uri.startswith(prefix):
            return "postgresql+psycopg://" + store_uri[len(prefix) :]
    return store_uri


def _fill(table: sa.Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``table`` with every column it needs: unknown nullable columns get NULL, columns with a
    server default are left to it; an unknown NOT NULL column without a default is an error."""
    missing = [col for col in table.columns if col.name not in rows[0]]
    fill: dict[str, Any] = {}
    for col in missing:
        if col.server_default is not None or col is table.autoincrement_column:
            continue
        if not col.nullable:
            raise RuntimeError(f"{table.name}.{col.name} is NOT NULL and unknown to the benchmark")
        fill[col.name] = None
    return [{**fill, **row} for row in rows] if fill else rows


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


class _Layout:
    """One product's rows for the four registry tables."""

    def __init__(self, product: str, data: Dataset, sample: Sample, base_ms: int) -> None:
        self.product = product
        self.data = data
        self.sample = sample
        self.base_ms = base_ms
        self.keys: dict[str, int] = {}  # Wayline: model name -> model_key

    def model(self, m: Model) -> dict[str, Any]:
        ts = self.base_ms + m.index
        if self.product == "mlflow":
            return {"name": m.name, "creation_time": ts, "last_updated_time": ts, "description": None}
        last = self.data.versions_per_model if m.index < self.data.versioned_models else 0
        return {
            "name": m.name,
            "description": "",
            "owner": "",
            "protected": False,
            "creation_time": ts,
            "last_updated_time": ts,
            "last_version": last,
        }

    def owner(self, name: str) -> dict[str, Any]:
        return {"name": name} if self.product == "mlflow" else {"model_key": self.keys[name]}

    def model_tags(self, m: Model) -> list[dict[str, Any]]:
        return [{**self.owner(m.name), "key": k, "value": v} for k, v in m.tags.items()]

    def version(self, v: Version) -> dict[str, Any]:
        ts = self.base_ms + v.model_index * self.data.versions_per_model + v.version
        row = {
            **self.owner(v.name),
            "version": v.version,
            "creation_time": ts,
            "last_updated_time": ts,
            "current_stage": "None",
            "user_id": "bench",
            "source": self.sample.source,
            "run_id": self.sample.run_id,
            "run_link": "",
            "status": "READY",
        }
        if self.product == "mlflow":
            return {**row, "description": None, "status_message": None}
        return {**row, "description": "", "status_message": "", "model_id": ""}

    def version_tags(self, v: Version) -> list[dict[str, Any]]:
        return [
            {**self.owner(v.name), "version": v.version, "key": k, "value": val} for k, val in v.tags.items()
        ]


def bulk_insert(product: str, store_uri: str, data: Dataset, sample: Sample, on_progress: Progress) -> float:
    """Insert the models and versions the sample did not create; ANALYZE on PostgreSQL. Returns seconds."""
    engine = sa.create_engine(sqlalchemy_url(store_uri))
    started = time.perf_counter()
    try:
        tables = {name: sa.Table(name, sa.MetaData(), autoload_with=engine) for name in TABLES}
        layout = _Layout(
            product, data, sample, int(time.time() * 1000) - data.version_count - len(data.models)
        )
        total = len(data.models) - sample.models + data.version_count - sample.versions
        done = 0

        def insert(conn: sa.Connection, name: str, rows: Sequence[dict[str, Any]]) -> None:
            if rows:
                conn.execute(tables[name].insert(), _fill(tables[name], list(rows)))

        for chunk in _chunks(iter(data.models[sample.models :]), MODEL_CHUNK):
            with engine.begin() as conn:
                insert(conn, "registered_models", [layout.model(m) for m in chunk])
                if product == "wayline":
                    layout.keys |= _model_keys(conn, tables["registered_models"], [m.name for m in chunk])
                insert(conn, "registered_model_tags", [t for m in chunk for t in layout.model_tags(m)])
            done += len(chunk)
            on_progress("bulk insert: registered models", done, total)
        if product == "wayline":
            with engine.begin() as conn:
                sampled = [m.name for m in data.models[: sample.models]]
                layout.keys |= _model_keys(conn, tables["registered_models"], sampled)
                _fix_last_versions(conn, tables["registered_models"], data, sample)
        for chunk in _chunks(data.versions(sample.versions), VERSION_CHUNK):
            with engine.begin() as conn:
                insert(conn, "model_versions", [layout.version(v) for v in chunk])
                insert(conn, "model_version_tags", [t for v in chunk for t in layout.version_tags(v)])
            done += len(chunk)
            on_progress("bulk insert: model versions", done, total)
        _check_counts(engine, data)
        seconds = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            on_progress("ANALYZE", done, total)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return seconds


def _model_keys(conn: sa.Connection, table: sa.Table, names: list[str]) -> dict[str, int]:
    query = sa.select(table.c.name, table.c.model_key).where(table.c.name.in_(names))
    return {name: int(key) for name, key in conn.execute(query)}


def _fix_last_versions(conn: sa.Connection, table: sa.Table, data: Dataset, sample: Sample) -> None:
    """The sampled models whose versions the bulk insert completes: their ``last_version`` becomes the
    largest version they will have (the sample's requests set it to the largest it created)."""
    names = [m.name for m in data.models[: min(sample.models, data.versioned_models)]]
    if names:
        conn.execute(
            table.update().where(table.c.name.in_(names)).values(last_version=data.versions_per_model)
        )


def _check_counts(engine: sa.Engine, data: Dataset) -> None:
    with engine.connect() as conn:
        models = conn.exec_driver_sql("SELECT count(*) FROM registered_models").scalar_one()
        versions = conn.exec_driver_sql("SELECT count(*) FROM model_versions").scalar_one()
    if (models, versions) != (len(data.models), data.version_count):
        raise PopulateError(
            f"after the insert the store holds {models} models and {versions} versions; "
            f"expected {len(data.models)} and {data.version_count}"
        )
