"""Every route refuses bad input with MLflow's envelope and a 4xx, never a 5xx, and changes nothing stored.

The routes are read from the app itself (``create_app(...).routes``, including routers it includes), and each
route's request fields from its OpenAPI operation, so a route added later is walked too. For each route the
walk sends: malformed JSON, a JSON array, a JSON scalar, each field with a value of the wrong type, no fields,
unknown ids, oversize strings, an oversize ``max_results``, and path-traversal spellings where a field or a
path parameter is a path or URI. After every refused request the database and the artifact store are
compared with a snapshot taken before it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from app_routes import all_routes
from tracking_api import API, sqlite_template, unique
from wayline.server.app import create_app
from wayline.server.settings import ServerSettings
from wayline.store.sql.schema import metadata

UNKNOWN = {
    "run_id": "0" * 32,
    "experiment_id": "987654321",
    "model_id": "m-" + "0" * 32,
    "source_run_id": "0" * 32,
}
TRAVERSALS = [
    "../x",
    "..\\x",
    "%2e%2e%2fx",
    "%252e%252e%252fx",
    "a/../../x",
    "//proc/self/environ",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "file:///etc/passwd",
    "a;b",
    "a?b=1",
    "a#frag",
    "http:///?/../../",
]
#: Fields holding a path or a URI: every traversal spelling must be refused there.
PATH_FIELDS = {
    "artifact_location",
    "path",
    "artifact_path",
    "artifact_directory_path",
    "artifact_uri",
    "source",
}
OVERSIZE = "x" * 100_000
#: Query strings are shorter (HTTP clients cap a URL), still far beyond every limit.
OVERSIZE_QUERY = "x" * 20_000
#: Alias fields: the real field wins when both are given, so the alias is probed on its own.
ALIASES = {"run_uuid": "run_id"}
BIG_NUMBER = 10**9
#: Probes a route may answer with 200 on purpose, and why.
LENIENT = {
    # MLflow caps the web UI's bulk history at 25000 points instead of refusing (SECURITY.md allows clamping).
    ("/ajax-api/2.0/mlflow/metrics/get-history-bulk", "oversize max_results"),
}


@dataclass
class Operation:
    method: str
    path: str
    raw: bool
    query: dict[str, dict[str, Any]]
    path_params: list[str]
    body: dict[str, dict[str, Any]] | None
    required: set[str]


def operations(app: FastAPI) -> list[Operation]:
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    out = []
    for route in all_routes(app):
        for method in sorted(route.methods):
            op = document["paths"][route.path_format][method.lower()]
            params = op.get("parameters", [])
            query = {p["name"]: p.get("schema", {}) for p in params if p["in"] == "query"}
            required = {p["name"] for p in params if p["in"] == "query" and p.get("required")}
            body = None
            content = op.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                schema = schemas[ref.rsplit("/", 1)[1]]
                body = schema.get("properties", {})
                required = set(schema.get("required", []))
            elif "application/json" in content:
                body = {}
            out.append(
                Operation(
                    method=method,
                    path=route.path,
                    raw=not op.get("x-error-envelope"),
                    query=query,
                    path_params=re.findall(r"{(\w+)(?::path)?}", route.path),
                    body=body,
                    required=required,
                )
            )
    return out


class Store:
    """The app's database and artifact folder, and a digest of everything stored in them."""

    def __init__(self, db: Path, artifacts: Path) -> None:
        self.engine = sa.create_engine(f"sqlite:///{db}")
        self.artifacts = artifacts

    def digest(self) -> str:
        h = hashlib.sha256()
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
                h.update(f"{table.name}:{rows}".encode())
        for file in sorted(self.artifacts.rglob("*")):
            size = file.stat().st_size if file.is_file() else "dir"
            h.update(f"{file.relative_to(self.artifacts)}:{size}".encode())
        return h.hexdigest()


@dataclass
class World:
    client: TestClient
    store: Store
    run_id: str
    experiment_id: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("bad-input")
    db = data / "wayline.db"
    db.write_bytes(sqlite_template(tmp_path_factory).read_bytes())
    artifacts = data / "artifacts"
    artifacts.mkdir()
    settings = ServerSettings(backend_store_uri=f"sqlite:///{db}", artifacts_destination=str(artifacts))
    with TestClient(create_app(settings)) as client:
        experiment_id = client.post(API + "/experiments/create", json={"name": unique("world")}).json()[
            "experiment_id"
        ]
        run_id = client.post(API + "/runs/create", json={"experiment_id": experiment_id}).json()["run"][
            "info"
        ]["run_id"]
        client.post(
            API + "/runs/log-metric", json={"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}
        )
        store = Store(db, artifacts)
        yield World(client, store, run_id, experiment_id)
        store.engine.dispose()


def _kind(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        kinds = [_kind(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return kinds[0] if kinds else "string"
    if "$ref" in schema or "allOf" in schema:
        return "object"
    if "enum" in schema:
        return "string"
    return str(schema.get("type", "string"))


WRONG = {"string": {"nested": 1}, "integer": {"nested": 1}, "number": {"nested": 1}, "boolean": {"nested": 1}}


def _wrong(kind: str) -> Any:
    return WRONG.get(kind, [1] if kind == "object" else {"nested": 1})


def _plausible(name: str, schema: dict[str, Any], world: World) -> Any:
    """A value a valid request could carry (existing ids), so that one bad field is what a probe tests."""
    if name in ("run_id", "run_uuid", "source_run_id"):
        return world.run_id
    if name == "experiment_id":
        return world.experiment_id
    if name in ("experiment_ids", "run_ids"):
        return [world.experiment_id if name == "experiment_ids" else world.run_id]
    kind = _kind(schema)
    return {"string": "x", "integer": 1, "number": 1.0, "boolean": False, "array": []}.get(kind, {})


def _probes(op: Operation, world: World) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """``(description, request kwargs, must be refused)`` for one operation."""
    fields = op.body if op.body is not None else op.query
    big = OVERSIZE if op.body is not None else OVERSIZE_QUERY
    plausible = {name: _plausible(name, schema, world) for name, schema in fields.items()}
    baseline = {name: value for name, value in plausible.items() if name not in ALIASES}
    path_values = dict.fromkeys(op.path_params, "x")

    def url(values: dict[str, str]) -> str:
        out = op.path
        for name, value in values.items():
            out = re.sub(r"{" + name + r"(:path)?}", lambda _, text=value: text, out)
        return out

    def send(
        body: Any = None, *, raw: bytes | None = None, query: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"method": op.method, "url": url(path_values)}
        if raw is not None:
            kwargs["content"] = raw
            kwargs["headers"] = {"content-type": "application/json"}
        elif op.body is not None:
            kwargs["json"] = body
        if query is not None:
            kwargs["params"] = query
        return kwargs

    has_input = bool(fields) or bool(op.path_params)
    if op.body is not None and not op.raw:
        yield "malformed JSON", send(raw=b'{"a": '), True
        yield "JSON array", send(raw=b"[1, 2]"), True
        yield "JSON scalar", send(raw=b'"text"'), True
    if op.required:
        yield (
            "no fields",
            send({} if op.body is not None else None, query={} if op.body is None else None),
            True,
        )
    for name, schema in fields.items():
        kind = _kind(schema)
        base = baseline
        if name in ALIASES:
            base = {k: v for k, v in plausible.items() if k != ALIASES[name]}
        if op.body is not None or kind in ("integer", "number", "boolean"):
            wrong = _wrong(kind) if op.body is not None else "not-a-number"
            changed = {**base, name: wrong}
            yield f"wrong type for {name}", _with(send, op, changed), True
        if kind == "string" or (kind == "array" and op.body is None):
            changed = {**base, name: big if kind == "string" else [big]}
            yield f"oversize {name}", _with(send, op, changed), True
        if name == "max_results":
            yield "oversize max_results", _with(send, op, {**base, name: BIG_NUMBER}), True
        if name in UNKNOWN:
            yield f"unknown {name}", _with(send, op, {**base, name: UNKNOWN[name]}), True
        if name in PATH_FIELDS:
            for spelling in TRAVERSALS:
                yield f"{name}={spelling!r}", _with(send, op, {**base, name: spelling}), True
    for name in op.path_params:
        for spelling in [*TRAVERSALS, OVERSIZE_QUERY]:
            values = {**path_values, name: spelling.replace("?", "%3F").replace("#", "%23")}
            kwargs = send(baseline, query=baseline if op.body is None else None)
            kwargs["url"] = url(values)
            yield f"path {name}={spelling[:20]!r}", kwargs, True
    if not has_input:
        yield "junk query", send(query={"junk": OVERSIZE_QUERY}), False


def _with(send: Any, op: Operation, values: dict[str, Any]) -> dict[str, Any]:
    if op.body is not None:
        return dict(send(values))
    return dict(send(query=values))


def _check(world: World, op: Operation, what: str, kwargs: dict[str, Any], refused: bool) -> str | None:
    before = world.store.digest()
    response = world.client.request(**kwargs)
    where = f"{op.method} {op.path} [{what}] -> {response.status_code}"
    if response.status_code >= 500 and not _unsupported(response):
        return f"{where}: {response.text[:200]}"
    if not refused or (op.path, what) in LENIENT:
        return None
    if not 400 <= response.status_code < 500 and not _unsupported(response):
        return f"{where}: accepted {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"{where}: not JSON: {response.text[:200]}"
    if not (
        isinstance(body, dict)
        and isinstance(body.get("error_code"), str)
        and isinstance(body.get("message"), str)
    ):
        return f"{where}: not the error envelope: {body!r:.200}"
    if world.store.digest() != before:
        return f"{where}: the refused request changed what is stored"
    return None


def _unsupported(response: Any) -> bool:
    """501 NOT_IMPLEMENTED: a feature the configured store lacks (multipart upload on a local folder), which
    MLflow answers the same way whatever the input."""
    try:
        return response.status_code == 501 and response.json().get("error_code") == "NOT_IMPLEMENTED"
    except ValueError:
        return False


def _operations() -> list[Operation]:
    import tempfile

    with tempfile.TemporaryDirectory() as data:
        app = create_app(ServerSettings(backend_store_uri=data))
        ops = operations(app)
        app.state.context.close()
    return ops


OPERATIONS = _operations()


def test_the_walk_covers_the_tracking_routes() -> None:
    walked = {(op.method, op.path) for op in OPERATIONS}
    for route in (
        "/experiments/create",
        "/runs/log-batch",
        "/runs/search",
        "/metrics/get-history-bulk-interval",
    ):
        assert any(path == API + route for _, path in walked), route
    assert ("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk") in walked
    assert len(walked) >= 50


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_route_refuses_bad_input(world: World, op: Operation) -> None:
    problems = [
        problem
        for what, kwargs, refused in _probes(op, world)
        if (problem := _check(world, op, what, kwargs, refused)) is not None
    ]
    assert not problems, "\n".join(problems)
