"""The ``wayline`` CLI pointed at a server: the same commands over the REST store, one-line errors."""

from __future__ import annotations

import orjson
import pytest

from cli.helpers import assert_error, invoke_cli, unique
from loopback import quiet_http_env
from servers import ServerProcess


@pytest.fixture(autouse=True)
def http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_http_env(monkeypatch)


def test_experiments_are_created_and_listed_on_the_server(live_server: ServerProcess) -> None:
    name = unique("cli")
    created = invoke_cli(live_server.url, ["experiments", "create", name, "--tag", "team=ml", "--json"])
    assert created.exit_code == 0, created.output
    listed = invoke_cli(live_server.url, ["experiments", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert name in [e["name"] for e in orjson.loads(listed.stdout)]
    assert_error(invoke_cli(live_server.url, ["experiments", "create", name]), name)


def test_an_unreachable_server_is_a_one_line_error() -> None:
    result = invoke_cli(
        "http://127.0.0.1:9", ["experiments", "list"], env={"WAYLINE_HTTP_REQUEST_MAX_RETRIES": "0"}
    )
    assert_error(result, "Could not reach http://127.0.0.1:9")


def test_runs_describe_lists_artifacts_through_the_server(live_server: ServerProcess) -> None:
    from wayline.client import WaylineClient

    with WaylineClient(live_server.url) as client:
        run_id = client.create_run(client.create_experiment(unique("describe"))).info.run_id
        client.log_text(run_id, "hello", "notes/readme.txt")
        client.log_text(run_id, "top", "top.txt")
    # only the flag names the server: the artifact listing must use it too, not the environment
    described = invoke_cli(live_server.url, ["runs", "describe", run_id, "--json"])
    assert described.exit_code == 0, described.output
    listing = orjson.loads(described.stdout)["artifacts"]
    assert listing.get("error") is None, listing
    assert {f["path"] for f in listing["files"]} == {"notes", "top.txt"}
