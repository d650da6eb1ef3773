"""Wayline's governance routes in process, on SQLite and PostgreSQL: comments, transition requests and their
decisions (the acting user from HTTP Basic credentials, approvers from the server's settings), protected
models refusing direct changes over MLflow's routes, the registry's state at a date, the error envelope of
every refusal (which changes nothing), and a webhook delivery fired by a registry change."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from loopback import Reply, serve
from tracking_api import API, BACKENDS, TrackingApi, error_of, open_api, unique
from wayline.server.context import ServerContext
from wayline.store.sql import schema
from wayline.store.sql.schema_governance import model_version_comments, transition_requests

WAYLINE = "/api/2.0/wayline"
BAD, NOT_FOUND, DENIED, STATE = (
    "INVALID_PARAMETER_VALUE",
    "RESOURCE_DOES_NOT_EXIST",
    "PERMISSION_DENIED",
    "INVALID_STATE",
)
TABLES = (
    schema.registered_models,
    schema.model_versions,
    schema.registered_model_aliases,
    schema.registry_events,
    model_version_comments,
    transition_requests,
)
REQUEST_KEYS = [
    "id",
    "name",
    "version",
    "kind",
    "stage",
    "archive_existing_versions",
    "requested_by",
    "comment",
    "status",
    "creation_timestamp",
    "decided_by",
    "decision_comment",
    "decision_timestamp",
]
DAY = 86_400_000


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    with open_api(
        request.param, request, tmp_path, default_user="robot", registry_approvers="carol, dave"
    ) as opened:
        yield opened


def _ctx(api: TrackingApi) -> ServerContext:
    ctx: ServerContext = api.client.app.state.context  # type: ignore[attr-defined]
    return ctx


def _as(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:secret".encode()).decode()}


def _send(
    api: TrackingApi, method: str, route: str, body: Any = None, *, user: str = "", prefix: str = WAYLINE
) -> Any:
    headers = _as(user) if user else {}
    if method == "GET":
        return api.client.get(prefix + route, params=body or {}, headers=headers)
    return api.client.request(method, prefix + route, json=body if body is not None else {}, headers=headers)


def _ok(api: TrackingApi, method: str, route: str, body: Any = None, **kw: Any) -> Any:
    return api.ok(_send(api, method, route, body, **kw))


def _digest(api: TrackingApi) -> str:
    h = hashlib.sha256()
    with _ctx(api).tracking.store.engine.connect() as conn:  # type: ignore[attr-defined]
        for table in TABLES:
            rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
            h.update(f"{table.name}:{rows}".encode())
    return h.hexdigest()


def _model(api: TrackingApi, versions: int = 2, *, protected: bool = False) -> str:
    name = unique("model")
    _ok(api, "POST", "/registered-models/create", {"name": name}, prefix=API, user="alice")
    for _ in range(versions):
        source = "mlflow-artifacts:/models/m"
        _ok(api, "POST", "/model-versions/create", {"name": name, "source": source}, prefix=API, user="alice")
    if protected:
        _ok(api, "PATCH", "/registered-models/update", {"name": name, "protected": True}, user="alice")
    return name


def _stage(api: TrackingApi, name: str, version: int) -> str:
    body = _ok(api, "GET", "/model-versions/get", {"name": name, "version": str(version)}, prefix=API)
    return str(body["model_version"]["current_stage"])


def _request(api: TrackingApi, name: str, version: int, user: str = "alice", **fields: Any) -> dict[str, Any]:
    body = {"name": name, "version": str(version), **(fields or {"stage": "Production"})}
    request: dict[str, Any] = _ok(api, "POST", "/transition-requests", body, user=user)["request"]
    return request


# -- protected models ----------------------------------------------------------------------------------------
def test_protected_model_refuses_direct_changes_by_non_approvers(api: TrackingApi) -> None:
    name = _model(api, protected=True)
    before = _digest(api)
    refused = [
        ("POST", "/model-versions/transition-stage", {"name": name, "version": "1", "stage": "Production"}),
        ("POST", "/registered-models/alias", {"name": name, "alias": "champion", "version": "1"}),
        ("DELETE", "/registered-models/alias", {"name": name, "alias": "champion"}),
    ]
    for user in ("alice", ""):  # a named user, and the default user
        for method, route, body in refused:
            message = error_of(_send(api, method, route, body, prefix=API, user=user), 403, DENIED)
            assert "protected" in message
    assert _digest(api) == before
    # An approver changes the model directly.
    body = {"name": name, "version": "1", "stage": "Production"}
    moved = _ok(api, "POST", "/model-versions/transition-stage", body, prefix=API, user="carol")
    assert moved["model_version"]["current_stage"] == "Production"
    body = {"name": name, "alias": "champion", "version": "1"}
    _ok(api, "POST", "/registered-models/alias", body, prefix=API, user="dave")
    found = _ok(api, "GET", "/registered-models/alias", {"name": name, "alias": "champion"}, prefix=API)
    assert found["model_version"]["version"] == "1"


# -- transition requests -------------------------------------------------------------------------------------
def test_request_then_approve_makes_the_change_and_records_it(api: TrackingApi) -> None:
    name = _model(api, protected=True)
    _ok(
        api,
        "POST",
        "/model-versions/transition-stage",
        {"name": name, "version": "1", "stage": "Production"},
        prefix=API,
        user="carol",
    )
    request = _request(api, name, 2, stage="production", archive_existing_versions=True, comment="better AUC")
    assert list(request) == REQUEST_KEYS
    assert request["kind"] == "STAGE"
    assert (request["stage"], request["status"], request["requested_by"]) == (
        "Production",
        "PENDING",
        "alice",
    )
    assert (request["decided_by"], request["decision_comment"], request["decision_timestamp"]) == ("", "", 0)
    assert isinstance(request["creation_timestamp"], int)
    assert _stage(api, name, 2) == "None"
    assert _ok(api, "GET", "/transition-requests/get", {"id": request["id"]}) == {"request": request}

    answer = _ok(
        api, "POST", "/transition-requests/approve", {"id": request["id"], "comment": "ok"}, user="carol"
    )
    assert set(answer) == {"request", "model_version"}
    approved = answer["request"]
    assert (approved["status"], approved["decided_by"], approved["decision_comment"]) == (
        "APPROVED",
        "carol",
        "ok",
    )
    assert approved["decision_timestamp"] >= request["creation_timestamp"]
    assert answer["model_version"]["current_stage"] == "Production"
    assert (_stage(api, name, 1), _stage(api, name, 2)) == ("Archived", "Production")
    events = _ok(api, "GET", "/registered-models/history", {"name": name})["events"]
    assert [(e["kind"], e.get("version"), e.get("actor")) for e in events][-4:] == [
        ("transition_requested", "2", "alice"),
        ("stage_changed", "1", "carol"),
        ("stage_changed", "2", "carol"),
        ("request_approved", "2", "carol"),
    ]
    assert events[-4]["comment"] == "better AUC"
    listed = _ok(api, "GET", "/transition-requests", {"name": name, "status": "approved"})["requests"]
    assert listed == [approved]
    assert _ok(api, "GET", "/transition-requests", {"name": name, "status": "PENDING"}) == {"requests": []}


def test_alias_request(api: TrackingApi) -> None:
    name = _model(api, protected=True)
    request = _request(api, name, 2, alias="champion")
    assert (request["kind"], request["alias"]) == ("ALIAS", "champion")
    assert "stage" not in request
    _ok(api, "POST", "/transition-requests/approve", {"id": request["id"]}, user="dave")
    found = _ok(api, "GET", "/registered-models/alias", {"name": name, "alias": "champion"}, prefix=API)
    assert found["model_version"]["version"] == "2"


def test_reject_and_cancel_leave_everything_as_is(api: TrackingApi) -> None:
    name = _model(api)
    first, second = _request(api, name, 1), _request(api, name, 2)
    rejected = _ok(
        api, "POST", "/transition-requests/reject", {"id": first["id"], "comment": "no"}, user="carol"
    )
    assert (rejected["request"]["status"], rejected["request"]["decision_comment"]) == ("REJECTED", "no")
    error_of(_send(api, "POST", "/transition-requests/cancel", {"id": second["id"]}, user="bob"), 403, DENIED)
    cancelled = _ok(api, "POST", "/transition-requests/cancel", {"id": second["id"]}, user="alice")
    assert cancelled["request"]["status"] == "CANCELLED"
    assert (_stage(api, name, 1), _stage(api, name, 2)) == ("None", "None")


def test_refused_decisions_change_nothing(api: TrackingApi) -> None:
    name = _model(api)
    request = _request(api, name, 1, user="carol")
    before = _digest(api)
    approve = "/transition-requests/approve"
    assert "may not approve" in error_of(
        _send(api, "POST", approve, {"id": request["id"]}, user="carol"), 403, DENIED
    )
    error_of(_send(api, "POST", approve, {"id": request["id"]}, user="alice"), 403, DENIED)
    error_of(
        _send(api, "POST", "/transition-requests/reject", {"id": request["id"]}, user="bob"), 403, DENIED
    )
    assert _digest(api) == before
    _ok(api, "POST", approve, {"id": request["id"]}, user="dave")
    decided = _digest(api)
    for route in (approve, "/transition-requests/reject"):
        message = error_of(_send(api, "POST", route, {"id": request["id"]}, user="carol"), 400, STATE)
        assert "APPROVED" in message
    error_of(
        _send(api, "POST", "/transition-requests/cancel", {"id": request["id"]}, user="carol"), 400, STATE
    )
    error_of(_send(api, "POST", approve, {"id": "99999"}, user="dave"), 404, NOT_FOUND)
    assert _digest(api) == decided


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "1"}, "stage"),
        ({"version": "1", "stage": "Staging", "alias": "x"}, "stage"),
        ({"version": "1", "stage": "Live"}, "stage"),
        ({"version": "1", "alias": "latest"}, "alias"),
        ({"version": "x", "stage": "Staging"}, "version"),
        ({"version": "1", "stage": "None", "archive_existing_versions": True}, "archive_existing_versions"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    api: TrackingApi, body: dict[str, Any], field: str
) -> None:
    name = _model(api)
    before = _digest(api)
    message = error_of(
        _send(api, "POST", "/transition-requests", {"name": name, **body}, user="alice"), 400, BAD
    )
    assert field in message
    assert _digest(api) == before


def test_unknown_models_versions_and_ids(api: TrackingApi) -> None:
    name = _model(api, 1)
    before = _digest(api)
    error_of(
        _send(api, "POST", "/transition-requests", {"name": name, "version": "5", "stage": "Staging"}),
        404,
        NOT_FOUND,
    )
    error_of(
        _send(api, "POST", "/model-versions/comments", {"name": "nope", "version": "1", "comment": "x"}),
        404,
        NOT_FOUND,
    )
    error_of(_send(api, "GET", "/transition-requests/get", {"id": "12345"}), 404, NOT_FOUND)
    assert "id" in error_of(_send(api, "GET", "/transition-requests/get", {"id": "abc"}), 400, BAD)
    assert "status" in error_of(_send(api, "GET", "/transition-requests", {"status": "DONE"}), 400, BAD)
    assert "timestamp" in error_of(
        _send(api, "GET", "/registered-models/state-at", {"name": name, "timestamp": "soon"}), 400, BAD
    )
    error_of(
        _send(api, "GET", "/registered-models/state-at", {"name": "nope", "timestamp": "1"}), 404, NOT_FOUND
    )
    assert _digest(api) == before


# -- comments ------------------------------------------------------------------------------------------------
def test_comments(api: TrackingApi) -> None:
    name = _model(api, 1)
    body = {"name": name, "version": "1", "comment": "looks good"}
    comment = _ok(api, "POST", "/model-versions/comments", body, user="alice")["comment"]
    assert list(comment) == [
        "id",
        "name",
        "version",
        "author",
        "comment",
        "creation_timestamp",
        "last_updated_timestamp",
    ]
    assert (comment["name"], comment["version"], comment["author"], comment["comment"]) == (
        name,
        "1",
        "alice",
        "looks good",
    )
    assert isinstance(comment["id"], str)
    before = _digest(api)
    patch = {"id": comment["id"], "comment": "hijacked"}
    assert "author" in error_of(
        _send(api, "PATCH", "/model-versions/comments", patch, user="bob"), 403, DENIED
    )
    error_of(_send(api, "DELETE", "/model-versions/comments", {"id": comment["id"]}, user="bob"), 403, DENIED)
    assert "comment" in error_of(
        _send(api, "POST", "/model-versions/comments", {**body, "comment": " "}, user="alice"), 400, BAD
    )
    assert _digest(api) == before
    edited = _ok(
        api, "PATCH", "/model-versions/comments", {"id": comment["id"], "comment": "great"}, user="alice"
    )
    assert edited["comment"]["comment"] == "great"
    listed = _ok(api, "GET", "/model-versions/comments", {"name": name, "version": "1"})
    assert listed == {"comments": [edited["comment"]]}
    assert _ok(api, "DELETE", "/model-versions/comments", {"id": comment["id"]}, user="alice") == {}
    assert _ok(api, "GET", "/model-versions/comments", {"name": name, "version": "1"}) == {"comments": []}
    kinds = [e["kind"] for e in _ok(api, "GET", "/registered-models/history", {"name": name})["events"]]
    assert kinds[-1] == "comment_added"


# -- the registry's state at a date --------------------------------------------------------------------------
def _redate(api: TrackingApi, name: str, dates: list[int]) -> None:
    """Give the model's events these times, in order (they carry the real clock's otherwise)."""
    e, rm = schema.registry_events, schema.registered_models
    with _ctx(api).tracking.store.engine.begin() as conn:  # type: ignore[attr-defined]
        key = conn.execute(sa.select(rm.c.model_key).where(rm.c.name == name)).scalar_one()
        ids = list(
            conn.execute(sa.select(e.c.event_id).where(e.c.model_key == key).order_by(e.c.event_id)).scalars()
        )
        assert len(ids) == len(dates)
        for event_id, when in zip(ids, dates, strict=True):
            conn.execute(e.update().where(e.c.event_id == event_id).values(timestamp=when))


def test_which_version_was_in_production_on_a_date(api: TrackingApi) -> None:
    name = _model(api, 3)
    transition = "/model-versions/transition-stage"
    _ok(api, "POST", transition, {"name": name, "version": "1", "stage": "Production"}, prefix=API)
    request = _request(api, name, 2, stage="Production", archive_existing_versions=True)
    _ok(api, "POST", "/transition-requests/approve", {"id": request["id"]}, user="carol")
    _ok(
        api,
        "POST",
        "/registered-models/alias",
        {"name": name, "alias": "champion", "version": "2"},
        prefix=API,
    )
    _ok(
        api,
        "POST",
        transition,
        {"name": name, "version": "3", "stage": "Production", "archive_existing_versions": True},
        prefix=API,
    )
    # model and 3 versions created on day 1; v1 -> Production day 10; request day 15; approved day 20
    # (archive v1, v2 -> Production, decision); alias day 25; v3 -> Production day 30 (archive v2, v3).
    _redate(api, name, [DAY] * 4 + [10 * DAY, 15 * DAY] + [20 * DAY] * 3 + [25 * DAY] + [30 * DAY] * 2)

    def production(day: int) -> list[str]:
        state = _ok(api, "GET", "/registered-models/state-at", {"name": name, "timestamp": day * DAY})
        assert (state["name"], state["timestamp"]) == (name, day * DAY)
        return [v["version"] for v in state["versions"] if v["current_stage"] == "Production"]

    assert [production(day) for day in (0, 5, 12, 17, 22, 27, 35)] == [
        [],
        [],
        ["1"],
        ["1"],
        ["2"],
        ["2"],
        ["3"],
    ]
    state = _ok(api, "GET", "/registered-models/state-at", {"name": name, "timestamp": str(27 * DAY)})
    assert state["versions"] == [
        {"version": "1", "current_stage": "Archived", "aliases": []},
        {"version": "2", "current_stage": "Production", "aliases": ["champion"]},
        {"version": "3", "current_stage": "None", "aliases": []},
    ]


# -- webhooks ------------------------------------------------------------------------------------------------
def test_a_registry_change_fires_a_webhook(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    with (
        open_api("sqlite", request, tmp_path, webhook_allow_private=True, registry_approvers="carol") as api,
        serve(lambda _: Reply(200, b"ok")) as receiver,
    ):
        events = [
            {"entity": "model_version_stage", "action": "updated"},
            {"entity": "transition_request", "action": "approved"},
        ]
        hook = {"name": "ci", "url": receiver.url + "/hook", "events": events}
        _ok(api, "POST", "/webhooks", hook, prefix=API)
        name = _model(api, 1)
        request_id = _request(api, name, 1, stage="Staging")["id"]
        _ok(api, "POST", "/transition-requests/approve", {"id": request_id, "comment": "go"}, user="carol")
        assert _ctx(api).webhook_service().dispatcher.drain(30)
    bodies = sorted((json.loads(seen.body) for seen in receiver.seen), key=lambda b: str(b["entity"]))
    assert [(b["entity"], b["action"]) for b in bodies] == [
        ("model_version_stage", "updated"),
        ("transition_request", "approved"),
    ]
    assert bodies[0]["data"] == {
        "name": name,
        "version": "1",
        "from_stage": "None",
        "to_stage": "Staging",
        "archive_existing_versions": False,
        "actor": "carol",
        "comment": "go",
    }
    assert bodies[1]["data"]["decided_by"] == "carol"
    assert bodies[1]["data"]["request_id"] == request_id
