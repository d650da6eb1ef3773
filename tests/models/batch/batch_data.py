"""Data shared by the batch-scoring tests."""

from __future__ import annotations

import pandas as pd


def features(rows: int = 10) -> pd.DataFrame:
    """Two feature columns: an integer and a float one."""
    return pd.DataFrame({"x1": list(range(rows)), "x2": [0.5 * i - 1.25 for i in range(rows)]})


def expected(frame: pd.DataFrame) -> list[float]:
    """What the regressor predicts: y = 2 x1 + 3 x2 + 1."""
    return [2.0 * a + 3.0 * b + 1.0 for a, b in zip(frame["x1"], frame["x2"], strict=True)]
