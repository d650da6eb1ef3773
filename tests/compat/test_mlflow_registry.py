"""The model registry with the real ``mlflow`` client against Wayline's server (SQLite + local files,
PostgreSQL + S3): registering a logged model, aliases and ``models:/`` loading, stages with
``archive_existing_versions``, searches with filters and pages, tags, deletes, and errors surfacing as the
same ``MlflowException`` codes.
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import ServerProcess

mlflow = pytest.importorskip("mlflow")
np = pytest.importorskip("numpy")
linear_model = pytest.importorskip("sklearn.linear_model")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    pyfunc = pytest.importorskip("mlflow.pyfunc")
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:sklearn.*"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
]


@pytest.fixture
def client(live_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    # Our test models are saved with cloudpickle (skops is not installed); loading them is opted into here.
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow.set_tracking_uri(live_server.url)
    yield MlflowClient(tracking_uri=live_server.url)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _code(info: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(info.value.error_code)


def _train(slope: float = 2.0) -> tuple[object, object]:
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 5.0], [4.0, 2.0]])
    y = x @ np.array([slope, -1.0]) + 0.5
    return linear_model.LinearRegression().fit(x, y), x


def _log_model(slope: float = 2.0) -> tuple[str, str, object, object]:
    """A run with a logged sklearn model: (run id, model id, the model, its inputs)."""
    mlflow.set_experiment(_name("registry"))
    model, x = _train(slope)
    with mlflow.start_run() as run:
        info = mlflow_sklearn.log_model(model, name="model", serialization_format="cloudpickle")
    return run.info.run_id, info.model_id, model, x


def _run_source(client: MlflowClient) -> tuple[str, str]:
    """A run to register versions from (no files needed): its id and a runs:/ source."""
    experiment = client.create_experiment(_name("versions"))
    run_id = client.create_run(experiment).info.run_id
    return run_id, f"runs:/{run_id}/model"


def test_register_a_logged_model_and_load_it_by_alias_and_version(client: MlflowClient) -> None:
    name = _name("reg")
    run_id, model_id, model, x = _log_model()
    expected = model.predict(x)  # type: ignore[attr-defined]

    version = mlflow.register_model(f"runs:/{run_id}/model", name)
    assert (version.name, version.version, version.status) == (name, "1", "READY")
    assert (version.source, version.run_id) == (f"models:/{model_id}", run_id)
    logged = client.get_logged_model(model_id)
    assert client.get_model_version_download_uri(name, "1") == logged.artifact_location
    listed = json.loads(logged.tags["mlflow.modelVersions"])
    assert {"name": name, "version": 1} in listed

    client.set_registered_model_alias(name, "champion", "1")
    np.testing.assert_allclose(pyfunc.load_model(f"models:/{name}@champion").predict(x), expected)
    np.testing.assert_allclose(pyfunc.load_model(f"models:/{name}/1").predict(x), expected)
    np.testing.assert_allclose(mlflow_sklearn.load_model(f"models:/{name}/latest").predict(x), expected)
    assert client.get_model_version_by_alias(name, "champion").aliases == ["champion"]
    assert client.get_registered_model(name).aliases == {"champion": "1"}


def test_register_run_artifacts_and_load_them(client: MlflowClient, tmp_path: Path) -> None:
    """A model saved as plain run artifacts: the client registers the run's artifact URI as the source."""
    name = _name("files")
    model, x = _train(3.0)
    mlflow_sklearn.save_model(model, tmp_path / "saved", serialization_format="cloudpickle")
    mlflow.set_experiment(_name("files"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "saved"), "model")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert version.source == f"{run.info.artifact_uri}/model"
    assert version.run_id == run.info.run_id
    loaded = pyfunc.load_model(f"models:/{name}/{version.version}")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))  # type: ignore[attr-defined]


def test_registered_models(client: MlflowClient) -> None:
    prefix = _name("crud")
    created = client.create_registered_model(f"{prefix}-a", tags={"team": "ml"}, description="first")
    assert (created.name, created.description, created.tags) == (f"{prefix}-a", "first", {"team": "ml"})
    client.create_registered_model(f"{prefix}-b", tags={"team": "ops"})
    with pytest.raises(MlflowException) as info:
        client.create_registered_model(f"{prefix}-a")
    assert _code(info) == "RESOURCE_ALREADY_EXISTS"

    found = client.search_registered_models(f"name LIKE '{prefix}%'", order_by=["name DESC"])
    assert [m.name for m in found] == [f"{prefix}-b", f"{prefix}-a"]
    by_tag = client.search_registered_models(f"name LIKE '{prefix}%' AND tags.team = 'ml'")
    assert [m.name for m in by_tag] == [f"{prefix}-a"]
    page = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=1)
    assert len(page) == 1
    assert page.token
    rest = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=1, page_token=page.token)
    assert [m.name for m in rest] == [f"{prefix}-b"]

    client.update_registered_model(f"{prefix}-a", description="second")
    client.set_registered_model_tag(f"{prefix}-a", "stage", "dev")
    client.delete_registered_model_tag(f"{prefix}-a", "team")
    model = client.get_registered_model(f"{prefix}-a")
    assert (model.description, model.tags) == ("second", {"stage": "dev"})
    client.rename_registered_model(f"{prefix}-a", f"{prefix}-c")
    assert client.get_registered_model(f"{prefix}-c").tags == {"stage": "dev"}
    client.delete_registered_model(f"{prefix}-c")
    with pytest.raises(MlflowException) as info:
        client.get_registered_model(f"{prefix}-c")
    assert _code(info) == "RESOURCE_DOES_NOT_EXIST"


def test_stages_and_latest_versions(client: MlflowClient) -> None:
    name = _name("stages")
    client.create_registered_model(name)
    run_id, source = _run_source(client)
    for _ in range(3):
        client.create_model_version(name, source, run_id=run_id)
    client.transition_model_version_stage(name, "1", "Production")
    moved = client.transition_model_version_stage(name, "2", "production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["2"]
    assert sorted(v.version for v in client.get_latest_versions(name)) == ["1", "2", "3"]
    with pytest.raises(MlflowException) as info:
        client.transition_model_version_stage(name, "3", "Shipped")
    assert _code(info) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as info:
        client.transition_model_version_stage(name, "3", "Archived", archive_existing_versions=True)
    assert _code(info) == "INVALID_PARAMETER_VALUE"
    assert client.get_model_version(name, "3").current_stage == "None"


def test_search_model_versions_with_filters_and_pages(client: MlflowClient) -> None:
    name = _name("search")
    client.create_registered_model(name)
    run_id, source = _run_source(client)
    other_run, other_source = _run_source(client)
    for i in range(5):
        if i == 4:
            client.create_model_version(name, other_source, run_id=other_run, tags={"k": "last"})
        else:
            client.create_model_version(name, source, run_id=run_id)
    seen: list[str] = []
    token = None
    while True:
        page = client.search_model_versions(f"name = '{name}'", max_results=2, page_token=token)
        seen.extend(v.version for v in page)
        token = page.token
        if not token:
            break
    assert seen == ["5", "4", "3", "2", "1"]
    by_run = client.search_model_versions(f"run_id = '{other_run}'")
    assert [(v.version, v.tags) for v in by_run] == [("5", {"k": "last"})]
    ordered = client.search_model_versions(
        f"name = '{name}' AND version_number <= 2", order_by=["version_number ASC"]
    )
    assert [v.version for v in ordered] == ["1", "2"]
    tagged = client.search_model_versions(f"name = '{name}' AND tags.k = 'last'")
    assert [v.version for v in tagged] == ["5"]
    with pytest.raises(MlflowException) as info:
        client.search_model_versions("bogus = 1")
    assert _code(info) == "INVALID_PARAMETER_VALUE"


def test_version_tags_aliases_and_deletes(client: MlflowClient) -> None:
    name = _name("versions")
    client.create_registered_model(name)
    run_id, source = _run_source(client)
    for _ in range(2):
        client.create_model_version(name, source, run_id=run_id, description="v")
    client.update_model_version(name, "1", description="updated")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.delete_model_version_tag(name, "1", "validated")
    client.set_model_version_tag(name, "1", "owner", "alice")
    version = client.get_model_version(name, "1")
    assert (version.description, version.tags) == ("updated", {"owner": "alice"})

    client.set_registered_model_alias(name, "challenger", "2")
    assert client.get_model_version_by_alias(name, "challenger").version == "2"
    client.delete_registered_model_alias(name, "challenger")
    with pytest.raises(MlflowException) as info:
        client.get_model_version_by_alias(name, "challenger")
    assert _code(info) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as info:
        client.set_registered_model_alias(name, "latest", "1")
    assert _code(info) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as info:
        client.set_registered_model_alias(name, "champion", "7")
    assert _code(info) == "RESOURCE_DOES_NOT_EXIST"

    client.set_registered_model_alias(name, "champion", "2")
    client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as info:
        client.get_model_version(name, "2")
    assert _code(info) == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model(name).aliases == {}
    with pytest.raises(MlflowException) as info:
        client.get_model_version(name, "one")
    assert _code(info) == "INVALID_PARAMETER_VALUE"


def test_unsafe_sources_are_refused(client: MlflowClient) -> None:
    name = _name("unsafe")
    client.create_registered_model(name)
    run_id, _ = _run_source(client)
    for source in ("/etc/passwd", "file:///etc/passwd", f"runs:/{run_id}/../../x", "s3://elsewhere/model"):
        with pytest.raises(MlflowException) as info:
            client.create_model_version(name, source, run_id=run_id)
        assert _code(info) == "INVALID_PARAMETER_VALUE"
    assert list(client.search_model_versions(f"name = '{name}'")) == []
