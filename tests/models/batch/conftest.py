"""Models for the batch-scoring tests: real sklearn models saved with Wayline's sklearn flavor."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.batch.batch_data import expected, features


@pytest.fixture(scope="session")
def regressor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linear regression (y = 2 x1 + 3 x2 + 1) with a signature inferred from its input example."""
    from sklearn.linear_model import LinearRegression

    from wayline.models.flavors.sklearn import save_model

    train = features(20)
    model = LinearRegression().fit(train, expected(train))
    path = tmp_path_factory.mktemp("models") / "regressor"
    save_model(model, path, input_example=train.head(3))
    return path


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier with string labels ("low" below x1 = 5, "high" from 5 on)."""
    from sklearn.tree import DecisionTreeClassifier

    from wayline.models.flavors.sklearn import save_model

    train = features(20)
    labels = ["low" if a < 5 else "high" for a in train["x1"]]
    model = DecisionTreeClassifier(random_state=0).fit(train, labels)
    path = tmp_path_factory.mktemp("models") / "classifier"
    save_model(model, path, input_example=train.head(3))
    return path


SCORES_CODE = """
import pandas as pd

from wayline.models.flavors.pyfunc import PythonModel
from wayline.models.flavors.pyfunc_code import set_model


class Scores(PythonModel):
    def predict(self, context, model_input, params=None):
        x1 = model_input["x1"]
        return pd.DataFrame(
            {"label": ["low" if v < 5 else "high" for v in x1], "score": x1 * 2.0 + model_input["x2"]}
        )


set_model(Scores())
"""


@pytest.fixture(scope="session")
def scores_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model from code (loading it runs code, so it needs trust) returning a DataFrame: label, score."""
    from wayline.models.flavors.pyfunc import save_model

    folder = tmp_path_factory.mktemp("code")
    code = folder / "scores_model.py"
    code.write_text(SCORES_CODE)
    path = folder / "scores"
    save_model(path, python_model=str(code), input_example=features(3))
    return path
