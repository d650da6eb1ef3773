"""Bad input to every public client and fluent function: a WaylineError naming the field, nothing stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import wayline
from wayline.client.client import WaylineClient
from wayline.entities import Dataset, DatasetInput, Metric, Param, ViewType
from wayline.errors import WaylineError


@dataclass
class World:
    client: WaylineClient
    experiment_id: str
    run_id: str
    file: Path
    folder: Path


@pytest.fixture
def world(fluent_state: str, tmp_path: Path) -> Iterator[World]:
    file = tmp_path / "file.txt"
    file.write_text("x")
    folder = tmp_path / "folder"
    folder.mkdir()
    with WaylineClient(fluent_state) as client:
        eid = client.create_experiment("existing", tags={"team": "ml"})
        run_id = client.create_run(eid, tags={"t": "1"}).info.run_id
        client.log_param(run_id, "p", "1")
        client.log_metric(run_id, "m", 1.0)
        client.log_text(run_id, "a", "a.txt")
        yield World(client, eid, run_id, file, folder)


def _snapshot(client: WaylineClient) -> object:
    experiments = client.search_experiments(view_type=ViewType.ALL, max_results=1000).items
    runs = client.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL).items

    def tree(run_id: str, path: str | None = None) -> list[object]:
        entries: list[object] = []
        for info in client.list_artifacts(run_id, path):
            entries.append(info)
            if info.is_dir:
                entries.extend(tree(run_id, info.path))
        return entries

    return (
        sorted(experiments, key=lambda e: e.experiment_id),
        sorted(((r, tree(r.info.run_id)) for r in runs), key=lambda pair: pair[0].info.run_id),
    )


Case = tuple[str, Callable[[World], Any], str]
NO_DIGEST = DatasetInput(Dataset("d", "", "local", "x"))

CLIENT_CASES: list[Case] = [
    ("create_experiment name", lambda w: w.client.create_experiment(""), "'name'"),
    ("create_experiment tags", lambda w: w.client.create_experiment("n", tags=[("a", "b")]), "'tags'"),
    ("create_experiment tag key", lambda w: w.client.create_experiment("n", tags={"": 1}), "key"),
    (
        "create_experiment location",
        lambda w: w.client.create_experiment("n", artifact_location=""),
        "location",
    ),
    ("get_experiment", lambda w: w.client.get_experiment("abc"), "'experiment_id'"),
    ("get_experiment_by_name", lambda w: w.client.get_experiment_by_name(5), "'name'"),
    ("search_experiments view", lambda w: w.client.search_experiments(view_type="SOME"), "'view_type'"),
    ("search_experiments max", lambda w: w.client.search_experiments(max_results=0), "'max_results'"),
    ("search_experiments filter", lambda w: w.client.search_experiments(filter_string="name ==="), "filter"),
    ("search_experiments order", lambda w: w.client.search_experiments(order_by=["name UP"]), "'order_by'"),
    ("rename_experiment", lambda w: w.client.rename_experiment(w.experiment_id, ""), "'new_name'"),
    ("delete_experiment", lambda w: w.client.delete_experiment("x"), "'experiment_id'"),
    ("restore_experiment", lambda w: w.client.restore_experiment(None), "'experiment_id'"),
    ("set_experiment_tag", lambda w: w.client.set_experiment_tag(w.experiment_id, "", "v"), "key"),
    ("delete_experiment_tag", lambda w: w.client.delete_experiment_tag(w.experiment_id, "../k"), "'key'"),
    ("create_run experiment", lambda w: w.client.create_run("abc"), "'experiment_id'"),
    (
        "create_run start_time",
        lambda w: w.client.create_run(w.experiment_id, start_time="now"),
        "'start_time'",
    ),
    ("create_run tags", lambda w: w.client.create_run(w.experiment_id, tags="t"), "'tags'"),
    ("create_run run_name", lambda w: w.client.create_run(w.experiment_id, run_name=5), "'run_name'"),
    ("get_run", lambda w: w.client.get_run("../x"), "'run_id'"),
    ("update_run status", lambda w: w.client.update_run(w.run_id, status="DONE"), "'status'"),
    ("update_run name", lambda w: w.client.update_run(w.run_id, name=3), "'name'"),
    ("set_terminated status", lambda w: w.client.set_terminated(w.run_id, status="x"), "'status'"),
    ("set_terminated end_time", lambda w: w.client.set_terminated(w.run_id, end_time="x"), "'end_time'"),
    ("delete_run", lambda w: w.client.delete_run(""), "'run_id'"),
    ("restore_run", lambda w: w.client.restore_run(""), "'run_id'"),
    ("log_metric key", lambda w: w.client.log_metric(w.run_id, "", 1), "key"),
    ("log_metric value", lambda w: w.client.log_metric(w.run_id, "m", "1"), "'value'"),
    ("log_metric huge value", lambda w: w.client.log_metric(w.run_id, "m", 10**400), "'value'"),
    ("log_metric timestamp", lambda w: w.client.log_metric(w.run_id, "m", 1, timestamp="x"), "timestamp"),
    ("log_metric step", lambda w: w.client.log_metric(w.run_id, "m", 1, step=1.5), "step"),
    ("log_param value", lambda w: w.client.log_param(w.run_id, "k", "x" * 6001), "value"),
    ("log_param key", lambda w: w.client.log_param(w.run_id, "", 1), "key"),
    ("log_param change", lambda w: w.client.log_param(w.run_id, "p", 2), "p"),
    ("log_params", lambda w: w.client.log_params(w.run_id, [1]), "'params'"),
    ("set_tag", lambda w: w.client.set_tag(w.run_id, "a/../b", 1), "key"),
    ("delete_tag", lambda w: w.client.delete_tag(w.run_id, ""), "'key'"),
    ("log_batch metrics", lambda w: w.client.log_batch(w.run_id, metrics=[1]), "'metrics'"),
    ("log_batch params", lambda w: w.client.log_batch(w.run_id, params="p"), "'params'"),
    ("log_batch tags", lambda w: w.client.log_batch(w.run_id, tags=[Param("a", "b")]), "'tags'"),
    (
        "log_batch mixed",
        lambda w: w.client.log_batch(w.run_id, metrics=[Metric("ok", 1.0, 1)], params=[Param("", "v")]),
        "key",
    ),
    ("log_inputs", lambda w: w.client.log_inputs(w.run_id, [NO_DIGEST]), "'dataset.digest'"),
    ("log_inputs type", lambda w: w.client.log_inputs(w.run_id, ["d"]), "'datasets'"),
    ("get_metric_history", lambda w: w.client.get_metric_history(w.run_id, ""), "key"),
    ("search_runs ids", lambda w: w.client.search_runs("abc"), "'experiment_ids'"),
    ("search_runs filter type", lambda w: w.client.search_runs(["0"], filter_string=5), "'filter_string'"),
    ("search_runs filter", lambda w: w.client.search_runs(["0"], "metrics.x ~ 1"), "'filter_string'"),
    ("search_runs view", lambda w: w.client.search_runs(["0"], run_view_type="x"), "'run_view_type'"),
    ("search_runs max", lambda w: w.client.search_runs(["0"], max_results=0), "'max_results'"),
    ("search_runs order", lambda w: w.client.search_runs(["0"], order_by=[1]), "'order_by'"),
    ("log_artifact", lambda w: w.client.log_artifact(w.run_id, w.folder), "'local_path'"),
    ("log_artifact path", lambda w: w.client.log_artifact(w.run_id, w.file, "../up"), "'artifact_path'"),
    ("log_artifacts", lambda w: w.client.log_artifacts(w.run_id, w.file), "'local_dir'"),
    ("log_text", lambda w: w.client.log_text(w.run_id, 5, "a.txt"), "'text'"),
    ("log_text file", lambda w: w.client.log_text(w.run_id, "x", "../a.txt"), "'artifact_file'"),
    ("log_dict", lambda w: w.client.log_dict(w.run_id, [1], "d.json"), "'dictionary'"),
    ("log_dict json", lambda w: w.client.log_dict(w.run_id, {"a": object()}, "d.json"), "'dictionary'"),
    ("log_figure", lambda w: w.client.log_figure(w.run_id, None, "f.png"), "'figure'"),
    ("log_image", lambda w: w.client.log_image(w.run_id, "x", "i.png"), "'image'"),
    ("list_artifacts", lambda w: w.client.list_artifacts(w.run_id, "../x"), "'path'"),
    ("download_artifacts", lambda w: w.client.download_artifacts(w.run_id, 5), "'path'"),
    ("download_artifacts dst", lambda w: w.client.download_artifacts(w.run_id, "a.txt", 5), "'dst_path'"),
]

FLUENT_CASES: list[Case] = [
    ("set_tracking_uri", lambda w: wayline.set_tracking_uri(5), "'uri'"),
    ("set_experiment name", lambda w: wayline.set_experiment(5), "'name'"),
    ("set_experiment id", lambda w: wayline.set_experiment(experiment_id="x"), "'experiment_id'"),
    ("start_run run_id", lambda w: wayline.start_run(run_id="../x"), "'run_id'"),
    ("start_run experiment", lambda w: wayline.start_run(experiment_id="abc"), "'experiment_id'"),
    ("start_run run_name", lambda w: wayline.start_run(run_name=5), "'run_name'"),
    ("start_run nested", lambda w: wayline.start_run(nested="yes"), "'nested'"),
    ("start_run tags", lambda w: wayline.start_run(tags=[1]), "'tags'"),
    ("start_run tag key", lambda w: wayline.start_run(tags={"../k": "v"}), "key"),
    ("start_run description", lambda w: wayline.start_run(description=5), "'description'"),
    ("end_run", lambda w: wayline.end_run("x"), "'status'"),
    ("log_param", lambda w: wayline.log_param("", 1), "key"),
    ("log_params", lambda w: wayline.log_params([1]), "'params'"),
    ("log_params value", lambda w: wayline.log_params({"k": "x" * 7000}), "value"),
    ("log_metric key", lambda w: wayline.log_metric("", 1), "'key'"),
    ("log_metric value", lambda w: wayline.log_metric("m", "x"), "'value'"),
    ("log_metric step", lambda w: wayline.log_metric("m", 1, step="x"), "'step'"),
    ("log_metric timestamp", lambda w: wayline.log_metric("m", 1, timestamp=1.5), "'timestamp'"),
    ("log_metrics", lambda w: wayline.log_metrics([1]), "'metrics'"),
    ("log_metrics value", lambda w: wayline.log_metrics({"a": 1, "b": "x"}), "metrics[b]"),
    ("log_metrics step", lambda w: wayline.log_metrics({"a": 1}, step="x"), "'step'"),
    ("set_tag", lambda w: wayline.set_tag("", 1), "key"),
    ("set_tags", lambda w: wayline.set_tags("x"), "'tags'"),
    ("delete_tag", lambda w: wayline.delete_tag(""), "'key'"),
    ("log_artifact", lambda w: wayline.log_artifact(w.folder / "missing"), "'local_path'"),
    ("log_artifact fd", lambda w: wayline.log_artifact(0), "'local_path'"),
    ("log_artifacts", lambda w: wayline.log_artifacts(w.file), "'local_dir'"),
    ("log_text", lambda w: wayline.log_text(5, "a.txt"), "'text'"),
    ("log_text file", lambda w: wayline.log_text("x", "/etc/passwd"), "'artifact_file'"),
    ("log_dict", lambda w: wayline.log_dict("x", "a.json"), "'dictionary'"),
    ("log_figure", lambda w: wayline.log_figure(None, "a.png"), "'figure'"),
    ("log_image", lambda w: wayline.log_image("x", "a.png"), "'image'"),
    ("log_input", lambda w: wayline.log_input("x"), "'dataset'"),
    (
        "log_input context",
        lambda w: wayline.log_input(Dataset("d", "1", "local", "x"), context=5),
        "'context'",
    ),
    ("log_input digest", lambda w: wayline.log_input(NO_DIGEST.dataset), "'dataset.digest'"),
    ("get_run", lambda w: wayline.get_run(""), "'run_id'"),
    ("get_experiment", lambda w: wayline.get_experiment("x"), "'experiment_id'"),
    ("get_experiment_by_name", lambda w: wayline.get_experiment_by_name(""), "'name'"),
    ("search_runs format", lambda w: wayline.search_runs(output_format="csv"), "'output_format'"),
    ("search_runs max", lambda w: wayline.search_runs(max_results=0), "'max_results'"),
    ("search_runs filter", lambda w: wayline.search_runs(filter_string="params.x"), "'filter_string'"),
    ("search_experiments", lambda w: wayline.search_experiments(max_results=-1), "'max_results'"),
]


@pytest.mark.parametrize(
    ("case", "call", "field"), CLIENT_CASES + FLUENT_CASES, ids=lambda x: x if isinstance(x, str) else ""
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: World, case: str, call: Callable[[World], Any], field: str
) -> None:
    before = _snapshot(world.client)
    with pytest.raises(WaylineError) as caught:
        call(world)
    assert field in str(caught.value), f"{case}: {caught.value}"
    assert wayline.active_run() is None  # no run was started by the failed call
    assert _snapshot(world.client) == before
