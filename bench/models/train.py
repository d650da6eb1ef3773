"""Train the benchmark's model and save it with one product's sklearn flavor.

Run by each product's own Python (``--product mlflow`` in ``bench/.mlflow-venv``, ``--product wayline`` in
Wayline's venv), so each saves the same model in its own default format: the same seeded data, the same
estimator and the same hyper-parameters give the same coefficients. Prints the saved directory's path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = 8
ROWS = 2_000
SEED = 7


def training_data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(ROWS, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = (x @ weights + rng.normal(scale=0.5, size=ROWS) > 0).astype(np.int64)
    return pd.DataFrame(x, columns=[f"f{i}" for i in range(FEATURES)]), y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--product", choices=("mlflow", "wayline"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="the model directory to create")
    args = parser.parse_args()
    x, y = training_data()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(x, y)
    example = x.head(3)
    if args.product == "mlflow":
        import mlflow.sklearn

        mlflow.sklearn.save_model(model, str(args.out), input_example=example)
    else:
        from wayline.models.flavors import sklearn as wayline_sklearn

        wayline_sklearn.save_model(model, args.out, input_example=example)
    print(args.out)


if __name__ == "__main__":
    main()
