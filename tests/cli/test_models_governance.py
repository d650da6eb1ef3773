"""``wayline models`` governance commands: requests and decisions, comments, state, protection and owner.

The request/approve/reject flow runs end to end through the CLI against a real server started with
``WAYLINE_REGISTRY_APPROVERS=bob``, each invocation authenticated as its user (HTTP Basic from
``WAYLINE_TRACKING_USERNAME``); the rest runs on the embedded stores (SQLite and PostgreSQL), where the
acting user is ``WAYLINE_USER``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from click.testing import Result

from cli.helpers import Backend, assert_error, invoke_cli, table_rows, unique
from loopback import quiet_http_env
from servers import ServerProcess, start_server
from wayline.cli.model_governance import parse_at
from wayline.client.client import WaylineClient

APPROVER = "bob"


def _as(uri: str, user: str, *args: str) -> Result:
    """The CLI as ``user``: HTTP Basic credentials on a server, ``WAYLINE_USER`` on an embedded store."""
    env = {
        "WAYLINE_USER": user,
        "WAYLINE_TRACKING_USERNAME": user,
        "WAYLINE_TRACKING_PASSWORD": "secret",
        "WAYLINE_REGISTRY_APPROVERS": APPROVER,
        "WAYLINE_ALLOW_SELF_APPROVAL": None,
    }
    return invoke_cli(uri, list(args), env)


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def _json(result: Result) -> object:
    return orjson.loads(_ok(result).stdout)


def _register(uri: str, tmp_path: Path, name: str) -> str:
    """A run with a ``model`` directory, registered through the CLI as a new version of ``name``."""
    folder = tmp_path / unique("files")
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    with WaylineClient(uri) as client:
        run_id = client.create_run(client.create_experiment(unique("exp"))).info.run_id
        client.log_artifacts(run_id, folder, "model")
    created = _json(_as(uri, "ana", "models", "create", name, "--source", f"runs:/{run_id}/model", "--json"))
    assert isinstance(created, dict)
    return str(created["model_version"]["version"])


# -- end to end against a server ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def governed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("server-cli-governance"), env={"WAYLINE_REGISTRY_APPROVERS": APPROVER}
    )
    yield server
    server.stop()


def test_request_approve_reject_flow_through_the_cli(
    governed_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_http_env(monkeypatch)
    uri = governed_server.url
    name = unique("churn")
    one = _register(uri, tmp_path, name)
    two = _register(uri, tmp_path, name)

    # a protected model: ana cannot move it herself
    protected = _json(_as(uri, APPROVER, "models", "protect", name, "--json"))
    assert isinstance(protected, dict)
    assert protected["registered_model"]["protected"] is True
    assert_error(_as(uri, "ana", "models", "transition", name, one, "Production"))
    assert_error(_as(uri, "ana", "models", "set-alias", name, "champion", one))

    # ana asks; she and carol may not approve; bob does, and the version moves
    asked = _json(
        _as(
            uri,
            "ana",
            "models",
            "request",
            name,
            one,
            "--stage",
            "Production",
            "--comment",
            "beats v0",
            "--json",
        )
    )
    assert isinstance(asked, dict)
    request = asked["request"]
    assert (request["status"], request["kind"], request["stage"]) == ("PENDING", "STAGE", "Production")
    assert (request["requested_by"], request["comment"], request["version"]) == ("ana", "beats v0", one)
    request_id = str(request["id"])
    assert_error(_as(uri, "ana", "models", "approve", request_id))
    assert_error(_as(uri, "carol", "models", "approve", request_id))
    approved = _ok(_as(uri, APPROVER, "models", "approve", request_id, "--comment", "checked"))
    assert approved.stdout.strip() == (
        f"Approved request {request_id}: stage Production for version {one} of '{name}'."
    )
    assert_error(_as(uri, APPROVER, "models", "approve", request_id))  # only once

    # an alias request, rejected: nothing changes
    text = _ok(_as(uri, "ana", "models", "request", name, two, "--alias", "champion")).stdout
    assert text.startswith(f"Requested alias champion for version {two} of '{name}' (request ")
    alias_id = text.rsplit("request ", 1)[1].rstrip(").\n")
    rejected = _json(_as(uri, APPROVER, "models", "reject", alias_id, "--comment", "not yet", "--json"))
    assert isinstance(rejected, dict)
    assert (rejected["request"]["status"], rejected["request"]["decided_by"]) == ("REJECTED", APPROVER)
    assert_error(_as(uri, "ana", "models", "uri", f"{name}@champion"), "champion")

    # and a cancelled one
    third = _json(_as(uri, "ana", "models", "request", name, two, "--stage", "Staging", "--json"))
    assert isinstance(third, dict)
    third_id = str(third["request"]["id"])
    assert_error(_as(uri, APPROVER, "models", "cancel", third_id))
    _ok(_as(uri, "ana", "models", "cancel", third_id))

    # where things stand, and how they got there
    versions = _json(_as(uri, "ana", "models", "versions", name, "--json"))
    assert isinstance(versions, list)
    assert {v["version"]: v["current_stage"] for v in versions} == {one: "Production", two: "None"}
    listed = _json(_as(uri, "carol", "models", "requests", name, "--json"))
    assert isinstance(listed, list)
    assert {str(r["id"]): r["status"] for r in listed} == {
        request_id: "APPROVED",
        alias_id: "REJECTED",
        third_id: "CANCELLED",
    }
    pending = _json(_as(uri, "carol", "models", "requests", name, "--status", "pending", "--json"))
    assert pending == []
    table = table_rows(_ok(_as(uri, "carol", "models", "requests", name, "--version", one)).stdout)
    assert [row[:5] for row in table] == [[request_id, name, one, "stage Production", "APPROVED"]]
    kinds = {e["kind"] for e in _json(_as(uri, "carol", "models", "history", name, "--json"))}  # type: ignore[union-attr]
    assert {"transition_requested", "request_approved", "request_rejected", "request_cancelled"} <= kinds
    state = _json(_as(uri, "carol", "models", "state", name, "--json"))
    assert isinstance(state, dict)
    assert state["name"] == name
    assert {v["version"]: v["current_stage"] for v in state["versions"]} == {one: "Production", two: "None"}

    # comments
    _ok(_as(uri, "ana", "models", "comment", name, one, "recall drops on 2023"))
    comments = _json(_as(uri, "carol", "models", "comments", name, one, "--json"))
    assert isinstance(comments, list)
    assert [(c["author"], c["comment"]) for c in comments] == [("ana", "recall drops on 2023")]
    assert_error(_as(uri, "carol", "models", "delete-comment", str(comments[0]["id"])))


# -- embedded ----------------------------------------------------------------------------------------------
def test_request_needs_exactly_one_target(backend: Backend, tmp_path: Path) -> None:
    name = unique("churn")
    version = _register(backend.uri, tmp_path, name)
    assert_error(_as(backend.uri, "ana", "models", "request", name, version), "--stage", "--alias")
    assert_error(
        _as(backend.uri, "ana", "models", "request", name, version, "--stage", "Staging", "--alias", "a"),
        "--stage",
    )
    assert_error(
        _as(backend.uri, "ana", "models", "request", name, version, "--alias", "a", "--archive-existing"),
        "--archive-existing",
    )
    assert_error(_as(backend.uri, "ana", "models", "request", name, version, "--stage", "Prod"), "Prod")
    assert_error(_as(backend.uri, "ana", "models", "request", name, "99", "--stage", "Staging"))
    assert _json(_as(backend.uri, "ana", "models", "requests", name, "--json")) == []


def test_approve_and_state_on_the_embedded_store(backend: Backend, tmp_path: Path) -> None:
    name = unique("churn")
    one = _register(backend.uri, tmp_path, name)
    two = _register(backend.uri, tmp_path, name)
    _ok(_as(backend.uri, APPROVER, "models", "transition", name, one, "Production"))
    before = _json(_as(backend.uri, "ana", "models", "state", name, "--json"))
    asked = _json(
        _as(
            backend.uri,
            "ana",
            "models",
            "request",
            name,
            two,
            "--stage",
            "production",
            "--archive-existing",
            "--json",
        )
    )
    assert isinstance(asked, dict)
    assert asked["request"]["archive_existing_versions"] is True
    request_id = str(asked["request"]["id"])
    assert_error(_as(backend.uri, "ana", "models", "approve", request_id))
    assert_error(_as(backend.uri, "carol", "models", "approve", request_id))
    approved = _json(_as(backend.uri, APPROVER, "models", "approve", request_id, "--json"))
    assert isinstance(approved, dict)
    assert (approved["request"]["status"], approved["request"]["decision_comment"]) == ("APPROVED", "")

    assert isinstance(before, dict)
    assert {v["version"]: v["current_stage"] for v in before["versions"]} == {one: "Production", two: "None"}
    rows = table_rows(_ok(_as(backend.uri, "ana", "models", "state", name)).stdout)
    assert [row[:2] for row in rows] == [[two, "Production"], [one, "Archived"]]
    empty = _ok(_as(backend.uri, "ana", "models", "state", name, "--at", "0")).stdout
    assert "had no versions then" in empty
    assert_error(_as(backend.uri, "ana", "models", "state", name, "--at", "yesterday"), "--at")
    assert_error(_as(backend.uri, "ana", "models", "requests", "--version", "1"), "--version")
    assert_error(_as(backend.uri, "ana", "models", "requests", "--status", "done"), "--status")


def test_comments_edit_and_delete(backend: Backend, tmp_path: Path) -> None:
    name = unique("churn")
    version = _register(backend.uri, tmp_path, name)
    added = _json(_as(backend.uri, "ana", "models", "comment", name, version, "first look", "--json"))
    assert isinstance(added, dict)
    comment = added["comment"]
    assert (comment["author"], comment["comment"], comment["version"]) == ("ana", "first look", version)
    comment_id = str(comment["id"])
    assert_error(_as(backend.uri, "carol", "models", "edit-comment", comment_id, "mine now"))
    edited = _json(_as(backend.uri, "ana", "models", "edit-comment", comment_id, "second look", "--json"))
    assert isinstance(edited, dict)
    assert edited["comment"]["comment"] == "second look"
    rows = table_rows(_ok(_as(backend.uri, "carol", "models", "comments", name, version)).stdout)
    assert [(row[0], row[-2], row[-1]) for row in rows] == [(comment_id, "ana", "second look")]
    _ok(_as(backend.uri, "ana", "models", "delete-comment", comment_id))
    none = _ok(_as(backend.uri, "ana", "models", "comments", name, version)).stdout
    assert none.strip() == f"No comments on version {version} of '{name}'."


def test_protect_and_set_owner(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_REGISTRY_APPROVERS", APPROVER)
    name = unique("churn")
    version = _register(backend.uri, tmp_path, name)
    assert _ok(_as(backend.uri, APPROVER, "models", "protect", name)).stdout.strip() == (
        f"Registered model '{name}' is now protected."
    )
    assert_error(_as(backend.uri, "ana", "models", "set-alias", name, "champion", version))
    _ok(_as(backend.uri, APPROVER, "models", "set-alias", name, "champion", version))
    off = _json(_as(backend.uri, APPROVER, "models", "protect", name, "--off", "--json"))
    assert isinstance(off, dict)
    assert off["registered_model"]["protected"] is False
    _ok(_as(backend.uri, "ana", "models", "delete-alias", name, "champion"))
    owner = _json(_as(backend.uri, "ana", "models", "set-owner", name, "ml-team", "--json"))
    assert isinstance(owner, dict)
    assert owner["registered_model"]["owner"] == "ml-team"
    assert_error(_as(backend.uri, "ana", "models", "set-owner", unique("missing"), "ml-team"))


def test_parse_at() -> None:
    assert parse_at("1700000000000") == 1_700_000_000_000
    assert parse_at("2024-05-01T12:00:00Z") == 1_714_564_800_000
    end_of_day = datetime(2024, 5, 1, 23, 59, 59, 999999).timestamp() * 1000
    assert parse_at("2024-05-01") == int(end_of_day)
