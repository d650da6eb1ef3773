"""MLflow 3 logged models with the real ``mlflow`` client against Wayline's server (SQLite + local files,
PostgreSQL + S3): ``mlflow_sklearn.log_model`` in a run, loading back through ``runs:/`` and ``models:/``,
and the client's logged-model API.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator

import pytest

from servers import ServerProcess

mlflow = pytest.importorskip("mlflow")
np = pytest.importorskip("numpy")
linear_model = pytest.importorskip("sklearn.linear_model")
with warnings.catch_warnings():
    # Importing the flavors makes mlflow warn about its own type hints; that is mlflow's business.
    warnings.simplefilter("ignore", UserWarning)
    pyfunc = pytest.importorskip("mlflow.pyfunc")
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelStatus  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

# Warnings raised inside mlflow and scikit-learn (pydantic, setuptools/pkg_resources, their own deprecations)
# are not Wayline's; everything else still fails the test.
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


def _train() -> tuple[object, object]:
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 5.0], [4.0, 2.0]])
    y = x @ np.array([2.0, -1.0]) + 0.5
    return linear_model.LinearRegression().fit(x, y), x


def test_log_model_and_load_it_back(client: MlflowClient) -> None:
    experiment = mlflow.set_experiment(f"models-{uuid.uuid4().hex[:10]}")
    model, x = _train()
    with mlflow.start_run() as run:
        mlflow.log_param("fit_intercept", True)
        mlflow.log_metric("rmse", 0.01, step=0)
        info = mlflow_sklearn.log_model(model, name="model", serialization_format="cloudpickle")
        mlflow.log_metric("r2", 0.99)  # step 0, after the model: linked to it by the client
    run_id = run.info.run_id
    expected = model.predict(x)  # type: ignore[attr-defined]

    assert info.model_uri == f"models:/{info.model_id}"
    by_run = pyfunc.load_model(f"runs:/{run_id}/model")
    by_id = pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(by_run.predict(x), expected)
    np.testing.assert_allclose(by_id.predict(x), expected)
    np.testing.assert_allclose(mlflow_sklearn.load_model(info.model_uri).predict(x), expected)

    logged = client.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.name == "model"
    assert logged.source_run_id == run_id
    assert logged.experiment_id == experiment.experiment_id
    assert logged.artifact_location == (
        f"mlflow-artifacts:/{experiment.experiment_id}/models/{info.model_id}/artifacts"
    )
    assert logged.params["fit_intercept"] == "True"
    # The run's metrics at the model's step are copied to the model; later ones at that step are linked.
    assert {(m.key, m.value, m.run_id) for m in logged.metrics} == {
        ("rmse", 0.01, run_id),
        ("r2", 0.99, run_id),
    }
    assert logged.tags.get("mlflow.user")

    fetched = client.get_run(run_id)
    assert [(o.model_id, o.step) for o in fetched.outputs.model_outputs] == [(info.model_id, 0)]

    found = client.search_logged_models([experiment.experiment_id], filter_string="name = 'model'")
    assert [m.model_id for m in found] == [info.model_id]
    files = {f.path for f in client.list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "model.pkl", "requirements.txt"} <= files


def test_logged_model_api(client: MlflowClient) -> None:
    exp_id = client.create_experiment(f"api-{uuid.uuid4().hex[:10]}")
    run = client.create_run(exp_id)
    created = mlflow.initialize_logged_model(
        name="agent",
        source_run_id=run.info.run_id,
        tags={"team": "ml"},
        params={"temperature": "0.1"},
        model_type="Agent",
        experiment_id=exp_id,
    )
    assert created.status == LoggedModelStatus.PENDING
    assert created.model_type == "Agent"

    client.set_logged_model_tags(created.model_id, {"stage": "dev"})
    client.delete_logged_model_tag(created.model_id, "team")
    client.log_model_params(created.model_id, {"top_p": "0.9"})
    ready = client.finalize_logged_model(created.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    model = client.get_logged_model(created.model_id)
    assert model.tags["stage"] == "dev"
    assert "team" not in model.tags
    assert model.params == {"temperature": "0.1", "top_p": "0.9"}

    other = mlflow.initialize_logged_model(name="other", experiment_id=exp_id)
    page = client.search_logged_models(
        [exp_id], order_by=[{"field_name": "name", "ascending": True}], max_results=1
    )
    assert [m.name for m in page] == ["agent"]
    assert page.token
    rest = client.search_logged_models(
        [exp_id], order_by=[{"field_name": "name", "ascending": True}], page_token=page.token
    )
    assert [m.model_id for m in rest] == [other.model_id]
    ready_only = client.search_logged_models([exp_id], filter_string="status = 'READY'")
    assert [m.model_id for m in ready_only] == [created.model_id]

    client.delete_logged_model(other.model_id)
    with pytest.raises(MlflowException) as missing:
        client.get_logged_model(other.model_id)
    assert str(missing.value.error_code) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as bad:
        mlflow.initialize_logged_model(name="bad/name", experiment_id=exp_id)
    assert str(bad.value.error_code) == "INVALID_PARAMETER_VALUE"
