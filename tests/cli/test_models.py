"""``wayline models ...`` over a real embedded store (SQLite, and PostgreSQL) and over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cli.helpers import Backend, assert_error, invoke_cli, table_rows, unique
from loopback import quiet_http_env
from servers import ServerProcess
from wayline.cli.models import model_uri_of, parse_until
from wayline.client.client import WaylineClient
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue


@dataclass
class Registry:
    """A tracking URI, a client on it, and a model with three versions from one run:
    1 Archived, 2 Production (alias ``champion``), 3 None; version 3's files differ."""

    uri: str
    client: WaylineClient
    name: str
    run_id: str

    def cli(self, *args: str) -> Result:
        return invoke_cli(self.uri, list(args), {"WAYLINE_USER": "ana"})


def _make_registry(uri: str, tmp_path: Path) -> Iterator[Registry]:
    with WaylineClient(uri) as client:
        run = client.create_run(client.create_experiment(unique("exp")))
        for path, weights in (("model-a", b"A" * 2048), ("model-b", b"B" * 4096)):
            folder = tmp_path / path
            (folder / "data").mkdir(parents=True)
            (folder / "MLmodel").write_text(f"flavors: {{}}\nname: {path}\n", encoding="utf-8")
            (folder / "data" / "weights.bin").write_bytes(weights)
            client.log_artifacts(run.info.run_id, folder, path)
        name = unique("churn")
        client.create_registered_model(name, {"team": "ml"}, "churn model", owner="risk")
        for path in ("model-a", "model-a", "model-b"):
            client.register_model(f"runs:/{run.info.run_id}/{path}", name)
        client.transition_model_version_stage(name, 1, "Archived")
        client.transition_model_version_stage(name, 2, "Production")
        client.set_registered_model_alias(name, "champion", 2)
        yield Registry(uri, client, name, run.info.run_id)


@pytest.fixture
def registry(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """On the embedded SQLite store and (marked postgres) on PostgreSQL."""
    monkeypatch.setenv("WAYLINE_USER", "ana")
    yield from _make_registry(backend.uri, tmp_path)


@pytest.fixture
def remote_registry(
    sqlite_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Registry]:
    quiet_http_env(monkeypatch)
    yield from _make_registry(sqlite_server.url, tmp_path)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- reading ------------------------------------------------------------------------------------------------
def test_list_table_and_json(registry: Registry) -> None:
    result = registry.cli("models", "list", "--filter", f"name = '{registry.name}'")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == [
        "Name",
        "Latest",
        "Stages",
        "Aliases",
        "Owner",
        "Updated",
        "Tags",
    ]
    [row] = table_rows(result.stdout)
    assert row[:5] == [registry.name, "3", "Production:2, Archived:1", "champion=2", "risk"]
    assert row[-1] == "team=ml"

    [model] = ok_json(registry.cli("models", "list", "--filter", f"name = '{registry.name}'", "--json"))
    assert model["name"] == registry.name
    assert model["owner"] == "risk"
    assert model["protected"] is False
    assert model["tags"] == [{"key": "team", "value": "ml"}]
    assert model["aliases"] == [{"alias": "champion", "version": "2"}]
    assert {v["current_stage"]: v["version"] for v in model["latest_versions"]} == {
        "None": "3",
        "Production": "2",
        "Archived": "1",
    }


def test_list_order_and_max_results(registry: Registry) -> None:
    prefix = unique("order")
    for suffix in ("a", "b", "c"):
        registry.client.create_registered_model(f"{prefix}-{suffix}")
    args = ["models", "list", "--filter", f"name LIKE '{prefix}-%'", "--json"]
    names = [m["name"] for m in ok_json(registry.cli(*args, "--order-by", "name DESC"))]
    assert names == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    names = [m["name"] for m in ok_json(registry.cli(*args, "--max-results", "2"))]
    assert names == [f"{prefix}-a", f"{prefix}-b"]


def test_describe(registry: Registry) -> None:
    result = registry.cli("models", "describe", registry.name)
    assert result.exit_code == 0, result.output
    assert "churn model" in result.stdout
    assert "champion=2" in result.stdout
    rows = table_rows(result.stdout)
    assert [(r[1], r[2]) for r in rows] == [("3", "None"), ("2", "Production"), ("1", "Archived")]

    data = ok_json(registry.cli("models", "describe", registry.name, "--json"))
    assert isinstance(data, dict)
    assert data["registered_model"]["description"] == "churn model"
    assert [v["version"] for v in data["model_versions"]] == ["3", "2", "1"]
    assert data["model_versions"][1]["aliases"] == ["champion"]


def test_versions(registry: Registry) -> None:
    result = registry.cli("models", "versions", registry.name)
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert [r[1] for r in rows] == ["3", "2", "1"]
    assert rows[1][3] == "champion"
    assert registry.run_id[:8] in rows[0]

    data = ok_json(
        registry.cli(
            "models",
            "versions",
            registry.name,
            "--filter",
            "current_stage != 'Archived'",
            "--order-by",
            "version_number ASC",
            "--json",
        )
    )
    assert [v["version"] for v in data] == ["2", "3"]


def test_uri_prints_the_download_uri_only(registry: Registry) -> None:
    v2 = registry.client.get_model_version(registry.name, 2)
    for ref in (f"{registry.name}@champion", f"{registry.name}/2", f"{registry.name}/production"):
        result = registry.cli("models", "uri", ref)
        assert result.exit_code == 0, result.output
        assert result.stdout == v2.source + "\n"
        assert result.stderr == ""
    data = ok_json(registry.cli("models", "uri", f"models:/{registry.name}/latest", "--json"))
    assert data == {
        "model_uri": f"models:/{registry.name}/latest",
        "name": registry.name,
        "version": "3",
        "download_uri": registry.client.get_model_version(registry.name, 3).source,
    }


def test_download_by_alias_and_by_printed_uri(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "champion"
    result = registry.cli("models", "download", f"{registry.name}@champion", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert (out / "data" / "weights.bin").read_bytes() == b"A" * 2048

    printed = registry.cli("models", "uri", f"{registry.name}/3").stdout.strip()
    data = ok_json(registry.cli("models", "download", printed, "--output", str(tmp_path / "v3"), "--json"))
    assert data == {"model_uri": printed, "download_uri": printed, "local_path": str(tmp_path / "v3")}
    assert (tmp_path / "v3" / "data" / "weights.bin").read_bytes() == b"B" * 4096

    one = registry.cli("models", "download", f"models:/{registry.name}/3/MLmodel", "-o", str(tmp_path / "f"))
    assert one.stdout.strip() == str(tmp_path / "f" / "MLmodel")


# -- changing -----------------------------------------------------------------------------------------------
def test_create_plain_and_with_a_source(registry: Registry) -> None:
    name = unique("new")
    result = registry.cli(
        "models", "create", name, "--description", "d", "--owner", "team-x", "--tag", "k=v=w"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Created registered model '{name}'.\n"
    model = registry.client.get_registered_model(name)
    assert (model.description, model.owner, model.tags) == ("d", "team-x", {"k": "v=w"})

    data = ok_json(
        registry.cli("models", "create", name, "--source", f"runs:/{registry.run_id}/model-b", "--json")
    )
    assert isinstance(data, dict)
    assert data["model_version"]["version"] == "1"
    assert data["model_version"]["run_id"] == registry.run_id
    assert data["registered_model"]["name"] == name

    assert_error(registry.cli("models", "create", name), "already exists")


def test_aliases_and_transition(registry: Registry) -> None:
    result = registry.cli("models", "set-alias", registry.name, "candidate", "3")
    assert result.exit_code == 0, result.output
    assert registry.client.get_model_version_by_alias(registry.name, "candidate").version == 3
    data = ok_json(registry.cli("models", "set-alias", registry.name, "champion", "3", "--json"))
    assert data == {"name": registry.name, "alias": "champion", "version": "3"}

    data = ok_json(registry.cli("models", "delete-alias", registry.name, "candidate", "--json"))
    assert data == {"name": registry.name, "alias": "candidate"}
    assert [a.alias for a in registry.client.get_registered_model(registry.name).aliases] == ["champion"]

    result = registry.cli(
        "models", "transition", registry.name, "3", "production", "--archive-existing", "--comment", "better"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Version 3 of '{registry.name}' is now in Production.\n"
    assert registry.client.get_model_version(registry.name, 2).current_stage is Stage.ARCHIVED
    data = ok_json(registry.cli("models", "transition", registry.name, "2", "Staging", "--json"))
    assert isinstance(data, dict)
    assert data["current_stage"] == "Staging"


def test_history(registry: Registry) -> None:
    registry.cli("models", "transition", registry.name, "3", "Staging", "--comment", "try it")
    result = registry.cli("models", "history", registry.name)
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[-1][1:] == ["3", "stage_changed", "None", "Staging", "ana", "try it"]

    events = ok_json(registry.cli("models", "history", registry.name, "--version", "2", "--json"))
    assert isinstance(events, list)
    assert {e["kind"] for e in events} >= {"version_created", "stage_changed", "alias_set"}
    assert all(e["version"] == "2" for e in events)

    first = events[0]["timestamp"]
    older = ok_json(registry.cli("models", "history", registry.name, "--until", str(first - 1), "--json"))
    assert all(e["timestamp"] < first for e in older)
    assert ok_json(registry.cli("models", "history", registry.name, "--until", "2001-01-01", "--json")) == []


def test_delete_a_version_then_the_model(registry: Registry) -> None:
    data = ok_json(registry.cli("models", "delete", registry.name, "--version", "3", "--json"))
    assert data == {"deleted": {"name": registry.name, "version": "3"}}
    assert [v.version for v in registry.client.search_model_versions(f"name = '{registry.name}'")] == [2, 1]
    result = registry.cli("models", "delete", registry.name)
    assert result.stdout == f"Deleted registered model '{registry.name}'.\n"
    assert_error(registry.cli("models", "describe", registry.name), registry.name)


# -- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["models", "describe", "no-such-model"], ["no-such-model"]),
        (["models", "uri", "NAME"], ["MODEL", "NAME@ALIAS"]),
        (["models", "uri", "{name}@nobody"], ["nobody"]),
        (["models", "uri", "{name}/9"], []),
        (["models", "transition", "{name}", "1", "Prod"], ["stage", "Production"]),
        (["models", "set-alias", "{name}", "a", "99"], []),
        (["models", "delete", "{name}", "--version", "x"], ["version"]),
        (["models", "history", "{name}", "--until", "tomorrow"], ["--until"]),
        (["models", "list", "--max-results", "0"], ["--max-results"]),
        (["models", "list", "--filter", "name ="], ["filter"]),
        (["models", "create", "m", "--tag", "novalue"], ["--tag", "KEY=VALUE"]),
        (["models", "download", "{name}/1/../../etc", "-o", "x"], ["model_uri"]),
        (["models", "create", "{name}", "--source", "/etc"], ["source"]),
    ],
)
def test_errors_are_one_line_and_change_nothing(
    registry: Registry, args: list[str], fragments: list[str]
) -> None:
    before = registry.client.get_registered_model(registry.name)
    result = registry.cli(*[a.format(name=registry.name) for a in args])
    assert_error(result, *fragments)
    assert "Traceback" not in result.output
    assert registry.client.get_registered_model(registry.name) == before


def test_model_references() -> None:
    assert model_uri_of("churn@champion") == "models:/churn@champion"
    assert model_uri_of(" churn/3 ") == "models:/churn/3"
    assert model_uri_of("models:/churn/Staging") == "models:/churn/Staging"
    with pytest.raises(InvalidParameterValue, match="MODEL"):
        model_uri_of("churn")


def test_until_values() -> None:
    assert parse_until(None) is None
    assert parse_until("1700000000000") == 1_700_000_000_000
    assert parse_until("2023-11-14T22:13:20Z") == 1_700_000_000_000
    assert parse_until("2023-11-14T22:13:20+00:00") == 1_700_000_000_000
    day_end = parse_until("2023-11-14")
    assert day_end is not None
    assert parse_until("2023-11-14T00:00:00") < day_end
    with pytest.raises(InvalidParameterValue, match="--until"):
        parse_until("soon")


# -- over HTTP ----------------------------------------------------------------------------------------------
def test_ci_flow_against_a_server(remote_registry: Registry, tmp_path: Path) -> None:
    """What a CI job does: find the production model's URI, download it, promote a candidate."""
    reg = remote_registry
    printed = reg.cli("models", "uri", f"{reg.name}@champion")
    assert printed.exit_code == 0, printed.output
    uri = printed.stdout.strip()
    assert uri == reg.client.get_model_version_download_uri(reg.name, 2)

    result = reg.cli("models", "download", f"{reg.name}@champion", "-o", str(tmp_path / "prod"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prod" / "data" / "weights.bin").read_bytes() == b"A" * 2048
    result = reg.cli("models", "download", uri, "-o", str(tmp_path / "direct"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "direct" / "MLmodel").is_file()

    assert reg.cli("models", "set-alias", reg.name, "champion", "3").exit_code == 0
    assert reg.client.get_model_version_by_alias(reg.name, "champion").version == 3
    events = ok_json(reg.cli("models", "history", reg.name, "--json"))
    assert [e["to_value"] for e in events if e["kind"] == "alias_set"][-1].startswith("champion")
    assert_error(reg.cli("models", "describe", unique("missing")), "missing")
