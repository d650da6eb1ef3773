"""``wayline experiments ...`` over a real embedded store."""

from __future__ import annotations

import json

import pytest

from cli.helpers import Backend, Churn, Invoke, assert_error, table_rows
from wayline.entities import LifecycleStage, ViewType


def names(backend: Backend, view: ViewType = ViewType.ALL) -> dict[str, str]:
    page = backend.service.search_experiments(view_type=view)
    return {e.name: e.lifecycle_stage.value for e in page}


def test_list_table_shows_every_active_experiment(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("experiments", "list")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == ["ID", "Name", "Artifact", "location", "Created", "Tags"]
    rows = {row[1].strip(): row for row in table_rows(result.stdout)}
    assert set(rows) == {"churn", "vision", "Default"}
    churn_row = [cell.strip() for cell in rows["churn"]]
    assert churn_row[0] == churn.experiment_id
    assert churn_row[2].endswith(churn.experiment_id)
    assert churn_row[-1] == "team=ml"
    assert "Stage" not in result.stdout


def test_list_json_uses_mlflow_field_names(run_cli: Invoke, sqlite_backend: Backend, churn: Churn) -> None:
    result = run_cli("experiments", "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    by_name = {e["name"]: e for e in data}
    assert set(by_name) == {"churn", "vision", "Default"}
    entry = by_name["churn"]
    stored = sqlite_backend.service.get_experiment(churn.experiment_id)
    assert entry == {
        "experiment_id": churn.experiment_id,
        "name": "churn",
        "artifact_location": stored.artifact_location,
        "lifecycle_stage": "active",
        "creation_time": stored.creation_time,
        "last_update_time": stored.last_update_time,
        "tags": [{"key": "team", "value": "ml"}],
    }
    assert isinstance(entry["creation_time"], int)
    assert "tags" not in by_name["vision"]  # empty fields are left out, as the server leaves them out


def test_list_filter_order_and_max_results(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("experiments", "list", "--filter", "tags.team = 'ml'", "--json")
    assert [e["name"] for e in json.loads(result.stdout)] == ["churn"]

    result = run_cli("experiments", "list", "--order-by", "name DESC", "--json")
    assert [e["name"] for e in json.loads(result.stdout)] == ["vision", "churn", "Default"]

    result = run_cli("experiments", "list", "--order-by", "name", "--max-results", "2")
    assert result.exit_code == 0, result.output
    assert [row[1].strip() for row in table_rows(result.stdout)] == ["Default", "churn"]


def test_list_views_show_the_stage(run_cli: Invoke, churn: Churn) -> None:
    assert run_cli("experiments", "delete", "vision").exit_code == 0
    deleted = run_cli("experiments", "list", "--view", "deleted")
    assert deleted.exit_code == 0, deleted.output
    assert "Stage" in deleted.stdout.splitlines()[0]
    rows = table_rows(deleted.stdout)
    assert [(r[1].strip(), r[2].strip()) for r in rows] == [("vision", "deleted")]

    every = json.loads(run_cli("experiments", "list", "--view", "ALL", "--json").stdout)
    assert {e["name"]: e["lifecycle_stage"] for e in every} == {
        "churn": "active",
        "vision": "deleted",
        "Default": "active",
    }
    active = json.loads(run_cli("experiments", "list", "--json").stdout)
    assert "vision" not in {e["name"] for e in active}


def test_list_empty_view(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("experiments", "list", "--view", "deleted")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No experiments found."
    assert json.loads(run_cli("experiments", "list", "--view", "deleted", "--json").stdout) == []


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--filter", "name = "], ["position 7", "'name = '"]),
        (["--filter", "metrics.rmse < 1"], ["metrics keys are not supported", "position 0"]),
        (["--order-by", "name sideways"], ["position 5"]),
        (["--max-results", "0"], ["'--max-results'", "between 1 and 50000"]),
        (["--max-results", "50001"], ["'--max-results'"]),
    ],
)
def test_list_bad_input_is_one_line(
    run_cli: Invoke, churn: Churn, args: list[str], fragments: list[str]
) -> None:
    assert_error(run_cli("experiments", "list", *args), *fragments)


def test_list_usage_errors_keep_exit_code_2(run_cli: Invoke) -> None:
    assert run_cli("experiments", "list", "--max-results", "many").exit_code == 2
    assert run_cli("experiments", "list", "--view", "gone").exit_code == 2
    assert run_cli("experiments", "frobnicate").exit_code == 2


def test_create_prints_the_id(run_cli: Invoke, sqlite_backend: Backend, tmp_path: object) -> None:
    result = run_cli(
        "experiments", "create", "nightly", "--tag", "team=ml", "--tag", "query=a=b", "--tag", "empty="
    )
    assert result.exit_code == 0, result.output
    experiment_id = result.stdout.strip()
    assert experiment_id.isdigit()
    created = sqlite_backend.service.get_experiment(experiment_id)
    assert created.name == "nightly"
    assert created.tags == {"team": "ml", "query": "a=b", "empty": ""}


def test_create_json_and_artifact_location(run_cli: Invoke, sqlite_backend: Backend) -> None:
    result = run_cli("experiments", "create", "with-loc", "--artifact-location", "/srv/art/x", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"experiment_id"}
    assert sqlite_backend.service.get_experiment(data["experiment_id"]).artifact_location == "/srv/art/x"


@pytest.mark.parametrize("tag", ["novalue", "=value", " =x"])
def test_create_bad_tag_creates_nothing(run_cli: Invoke, sqlite_backend: Backend, tag: str) -> None:
    before = names(sqlite_backend)
    line = assert_error(run_cli("experiments", "create", "tagged", "--tag", tag), "'--tag'", "KEY=VALUE")
    assert repr(tag) in line
    assert names(sqlite_backend) == before
    assert sqlite_backend.service.get_experiment_by_name("tagged") is None


def test_create_duplicate_and_invalid_names(run_cli: Invoke, sqlite_backend: Backend, churn: Churn) -> None:
    before = names(sqlite_backend)
    assert_error(run_cli("experiments", "create", "churn"), "churn")
    assert_error(run_cli("experiments", "create", "   "), "'name'")
    assert names(sqlite_backend) == before


def test_delete_restore_by_name_and_id(run_cli: Invoke, sqlite_backend: Backend, churn: Churn) -> None:
    service = sqlite_backend.service
    result = run_cli("experiments", "delete", "churn")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Deleted experiment 'churn' (id {churn.experiment_id}).\n"
    assert service.get_experiment(churn.experiment_id).lifecycle_stage is LifecycleStage.DELETED
    assert service.get_run(churn.best).info.lifecycle_stage is LifecycleStage.DELETED

    result = run_cli("experiments", "restore", churn.experiment_id)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Restored experiment 'churn' (id {churn.experiment_id}).\n"
    assert service.get_experiment(churn.experiment_id).lifecycle_stage is LifecycleStage.ACTIVE

    assert run_cli("experiments", "delete", churn.vision_id).exit_code == 0
    assert run_cli("experiments", "restore", "vision").exit_code == 0
    assert service.get_experiment(churn.vision_id).lifecycle_stage is LifecycleStage.ACTIVE


def test_rename(run_cli: Invoke, sqlite_backend: Backend, churn: Churn) -> None:
    result = run_cli("experiments", "rename", "churn", "churn-2024")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Renamed experiment 'churn' (id {churn.experiment_id}) to 'churn-2024'.\n"
    assert sqlite_backend.service.get_experiment(churn.experiment_id).name == "churn-2024"
    before = names(sqlite_backend)
    assert_error(run_cli("experiments", "rename", churn.vision_id, "churn-2024"), "churn-2024")
    assert names(sqlite_backend) == before


@pytest.mark.parametrize("command", ["delete", "restore"])
def test_unknown_experiment_is_named(
    run_cli: Invoke, sqlite_backend: Backend, churn: Churn, command: str
) -> None:
    before = names(sqlite_backend)
    assert_error(run_cli("experiments", command, "no-such-exp"), "Experiment 'no-such-exp' not found")
    assert_error(run_cli("experiments", command, "4242"), "Experiment with id 4242 not found")
    assert_error(run_cli("experiments", "rename", "no-such-exp", "x"), "'no-such-exp'")
    assert names(sqlite_backend) == before
