"""wayline.models.spark.spark_udf on a real local PySpark session (Java 17, pyspark from PyPI).

One session for the module (Spark starts in ~10 s); the model is shipped to the executors with
SparkContext.addFile, so each test deletes its local copy of the model before the job runs.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.batch.batch_data import expected, features
from wayline.errors import InvalidParameterValue
from wayline.models.spark import spark_udf

pyspark = pytest.importorskip("pyspark")

# PySpark 4 warns that it does not fully support pandas 3 yet; the scoring here works with it.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    saved = {name: os.environ.get(name) for name in ("PYSPARK_PYTHON", "SPARK_LOCAL_IP")}
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the executors' Python: this venv, with Wayline
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (
        SparkSession.builder.master("local[1]")
        .appName("wayline-spark-udf-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "4")  # several Arrow batches per task
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model-copy"
    shutil.copytree(model_dir, copy)
    return copy


def test_columns_as_arguments_or_as_a_struct(spark: Any, regressor_dir: Path, tmp_path: Path) -> None:
    from pyspark.sql.functions import col, struct
    from pyspark.sql.types import DoubleType

    frame = features(10)
    df = spark.createDataFrame(frame)
    local = _copy(regressor_dir, tmp_path)
    by_ddl = spark_udf(spark, str(local), "double")
    by_type = spark_udf(spark, str(local), result_type=DoubleType())
    shutil.rmtree(local)  # the executors score from the shipped archive
    rows = (
        df.withColumn("by_args", by_ddl("x1", "x2"))
        .withColumn("by_cols", by_type(*[col(c) for c in df.columns]))
        .withColumn("by_struct", by_ddl(struct("x2", "x1")))  # named by the struct's fields, any order
        .orderBy("x1")
        .collect()
    )
    want = expected(frame)
    for name in ("by_args", "by_cols", "by_struct"):
        assert [r[name] for r in rows] == pytest.approx(want), name


def test_string_array_and_float_results(
    spark: Any, regressor_dir: Path, classifier_dir: Path, tmp_path: Path
) -> None:
    frame = features(8)
    df = spark.createDataFrame(frame)
    labels = spark_udf(spark, str(classifier_dir), "string")
    arrays = spark_udf(spark, str(regressor_dir), "array<double>")
    floats = spark_udf(spark, str(regressor_dir), "float")
    rows = (
        df.select(
            "x1",
            labels("x1", "x2").alias("label"),
            arrays("x1", "x2").alias("array"),
            floats("x1", "x2").alias("float"),
        )
        .orderBy("x1")
        .collect()
    )
    assert [r["label"] for r in rows] == ["low"] * 5 + ["high"] * 3
    assert [r["array"] for r in rows] == [pytest.approx([v]) for v in expected(frame)]
    assert [r["float"] for r in rows] == pytest.approx(expected(frame), rel=1e-6)
    assert dict(df.select(floats("x1", "x2").alias("f")).dtypes)["f"] == "float"


def test_a_struct_result_is_filled_by_column_name_and_trust_reaches_the_executors(
    spark: Any, scores_dir: Path, regressor_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql.functions import struct

    monkeypatch.delenv("WAYLINE_TRUSTED_MODELS", raising=False)
    frame = features(7)
    df = spark.createDataFrame(frame)
    udf = spark_udf(spark, str(scores_dir), "score double, label string", trusted=True)
    rows = df.select("x1", udf(struct("x1", "x2")).alias("out")).orderBy("x1").collect()
    assert [r["out"]["label"] for r in rows] == ["low"] * 5 + ["high"] * 2
    assert [r["out"]["score"] for r in rows] == pytest.approx(
        [2.0 * a + b for a, b in zip(frame["x1"], frame["x2"], strict=True)]
    )
    untrusted = spark_udf(spark, str(scores_dir), "score double, label string")
    with pytest.raises(Exception, match="WAYLINE_TRUSTED_MODELS"):
        df.select(untrusted("x1", "x2")).collect()
    one_value = spark_udf(spark, str(regressor_dir), "prediction double, label string")
    with pytest.raises(Exception, match="no column 'label' for the struct result"):
        df.select(one_value(struct("x1", "x2"))).collect()


def test_too_many_columns_fail_with_the_signatures_names(spark: Any, regressor_dir: Path) -> None:
    df = spark.createDataFrame(features(3).assign(x3=1.0))
    udf = spark_udf(spark, str(regressor_dir))
    with pytest.raises(
        Exception, match=r"the UDF got 3 columns but the model's signature has 2 inputs \(x1, x2\)"
    ):
        df.select(udf("x1", "x2", "x3")).collect()


@pytest.mark.parametrize(
    ("result_type", "message"),
    [
        ("map<string, double>", "supported types"),
        ("array<array<double>>", "supported types"),
        ("no such type", "not a Spark type"),
        ("", "expected a Spark type"),
    ],
)
def test_unsupported_result_types_are_refused_on_the_driver(
    spark: Any, regressor_dir: Path, result_type: str, message: str
) -> None:
    with pytest.raises(InvalidParameterValue, match="result_type") as caught:
        spark_udf(spark, str(regressor_dir), result_type)
    assert message in str(caught.value)


def test_only_the_local_environment_is_supported(spark: Any, regressor_dir: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="env_manager"):
        spark_udf(spark, str(regressor_dir), env_manager="conda")
