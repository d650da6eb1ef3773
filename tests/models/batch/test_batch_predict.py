"""Batch scoring of files (wayline.models.batch, `wayline models predict`) with real saved sklearn models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from models.batch.batch_data import expected, features
from wayline.cli.main import WaylineGroup
from wayline.cli.model_batch import FORMATS as CLI_FORMATS
from wayline.cli.model_batch import build_docker_command, predict_command
from wayline.errors import InvalidParameterValue
from wayline.models.batch import predict_file
from wayline.models.batch_input import FORMATS


def write_input(frame: pd.DataFrame, path: Path, form: str) -> Path:
    if form == "csv":
        frame.to_csv(path, index=False)
    elif form == "parquet":
        frame.to_parquet(path, index=False)
    elif form == "records":
        path.write_text(frame.to_json(orient="records"))
    elif form == "jsonl":
        path.write_text(frame.to_json(orient="records", lines=True))
    elif form == "dataframe_split":
        split = frame.to_dict(orient="split")
        path.write_text(json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"]}}))
    elif form == "dataframe_records":
        path.write_text(json.dumps({"dataframe_records": frame.to_dict(orient="records")}))
    elif form == "pandas_split":
        path.write_text(frame.to_json(orient="split", index=False))
    return path


def read_output(path: Path) -> pd.DataFrame:
    suffix = path.suffix
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])
    document = json.loads(path.read_text())
    assert list(document) == ["predictions"]
    items = document["predictions"]
    if items and isinstance(items[0], dict):
        return pd.DataFrame(items)
    return pd.DataFrame({"prediction": items})


INPUTS = {
    "csv": "in.csv",
    "parquet": "in.parquet",
    "records": "in.json",
    "jsonl": "in.jsonl",
    "dataframe_split": "in.json",
    "dataframe_records": "in.json",
    "pandas_split": "in.json",
}


@pytest.mark.parametrize("form", sorted(INPUTS))
def test_every_input_form_is_scored(regressor_dir: Path, tmp_path: Path, form: str) -> None:
    frame = features(10)
    source = write_input(frame, tmp_path / INPUTS[form], form)
    result = predict_file(str(regressor_dir), source, tmp_path / "out.csv")
    assert result.rows == 10
    assert result.columns == ("prediction",)
    assert read_output(tmp_path / "out.csv")["prediction"].tolist() == pytest.approx(expected(frame))


@pytest.mark.parametrize("name", ["out.csv", "out.parquet", "out.json", "out.jsonl", "out.pq", "out.ndjson"])
def test_every_output_format_is_written(regressor_dir: Path, tmp_path: Path, name: str) -> None:
    frame = features(7)
    source = write_input(frame, tmp_path / "in.csv", "csv")
    target = tmp_path / "sub" / name
    result = predict_file(str(regressor_dir), source, target)
    assert result.output_path == target
    renamed = target.with_suffix({".pq": ".parquet", ".ndjson": ".jsonl"}.get(target.suffix, target.suffix))
    target.rename(renamed)
    assert read_output(renamed)["prediction"].tolist() == pytest.approx(expected(frame))
    assert [p.name for p in target.parent.iterdir()] == [renamed.name]  # no temporary file left


def test_json_output_of_string_predictions_is_mlflow_shaped(classifier_dir: Path, tmp_path: Path) -> None:
    source = write_input(features(8), tmp_path / "in.parquet", "parquet")
    predict_file(str(classifier_dir), source, tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == {"predictions": ["low"] * 5 + ["high"] * 3}


@pytest.mark.parametrize("name", ["out.csv", "out.parquet", "out.json", "out.jsonl"])
def test_keep_columns_puts_the_input_before_the_predictions(
    regressor_dir: Path, tmp_path: Path, name: str
) -> None:
    frame = features(5).assign(note=list("abcde"))
    source = write_input(frame, tmp_path / "in.jsonl", "jsonl")
    result = predict_file(str(regressor_dir), source, tmp_path / name, keep_columns=True, chunk_rows=2)
    assert result.columns == ("x1", "x2", "note", "prediction")
    out = read_output(tmp_path / name)
    assert list(out.columns) == ["x1", "x2", "note", "prediction"]
    assert out["note"].tolist() == list("abcde")
    assert out["x1"].tolist() == frame["x1"].tolist()
    assert out["prediction"].tolist() == pytest.approx(expected(frame))


def test_a_prediction_column_clashing_with_an_input_column_is_renamed(
    regressor_dir: Path, tmp_path: Path
) -> None:
    frame = features(3).assign(prediction=["old"] * 3)
    source = write_input(frame, tmp_path / "in.csv", "csv")
    predict_file(str(regressor_dir), source, tmp_path / "out.csv", keep_columns=True)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["x1", "x2", "prediction", "prediction_prediction"]
    assert out["prediction"].tolist() == ["old"] * 3


@pytest.mark.parametrize("form", ["csv", "parquet", "jsonl", "records"])
def test_progress_is_reported_per_chunk(regressor_dir: Path, tmp_path: Path, form: str) -> None:
    frame = features(10)
    source = write_input(frame, tmp_path / INPUTS[form], form)
    calls: list[tuple[int, int | None]] = []
    predict_file(
        str(regressor_dir),
        source,
        tmp_path / "out.parquet",
        chunk_rows=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 10), (3, 10), (6, 10), (9, 10), (10, 10)]
    assert pd.read_parquet(tmp_path / "out.parquet")["prediction"].tolist() == pytest.approx(expected(frame))


def test_a_missing_column_is_named_and_no_output_is_left(regressor_dir: Path, tmp_path: Path) -> None:
    source = write_input(features(4)[["x1"]], tmp_path / "in.csv", "csv")
    with pytest.raises(InvalidParameterValue, match="x2"):
        predict_file(str(regressor_dir), source, tmp_path / "out.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_a_missing_column_in_a_later_chunk_names_the_rows(regressor_dir: Path, tmp_path: Path) -> None:
    records = features(5).to_dict(orient="records")
    for record in records[2:4]:  # the second chunk has no x2 at all
        del record["x2"]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(InvalidParameterValue, match=r"rows 3-4") as caught:
        predict_file(str(regressor_dir), tmp_path / "in.jsonl", tmp_path / "out.csv", chunk_rows=2)
    assert "x2" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("in.txt", "x1,x2\n1,2\n", "unknown extension '.txt'"),
        ("in", "x1,x2\n1,2\n", "unknown extension '(none)'"),
        ("in.json", "{not json", "not a JSON file"),
        ("in.json", "[1, 2, 3]", "must hold records"),
        ("in.json", '{"rows": []}', "expected a list of records"),
        ("in.json", '{"dataframe_split": {"columns": ["x1"], "data": [[1, 2]]}}', "do not match its columns"),
        ("in.json", '{"dataframe_records": [], "instances": []}', "exactly one of"),
        ("in.jsonl", '{"x1": 1, "x2": 2}\n[1, 2]\n', "line 2 is not a JSON object"),
        ("in.jsonl", '{"x1": 1, "x2": 2}\nnope\n', "line 2 is not JSON"),
        ("in.parquet", "x1,x2\n1,2\n", "not a Parquet file"),
        ("in.csv", "", "the CSV file is empty"),
    ],
)
def test_bad_input_files_get_a_clear_error(
    regressor_dir: Path, tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(InvalidParameterValue, match="input_path") as caught:
        predict_file(str(regressor_dir), tmp_path / name, tmp_path / "out.csv")
    assert message in str(caught.value)
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_input_file_and_a_bad_output_name_are_refused(regressor_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="no such file"):
        predict_file(str(regressor_dir), tmp_path / "absent.csv", tmp_path / "out.csv")
    source = write_input(features(2), tmp_path / "in.csv", "csv")
    with pytest.raises(InvalidParameterValue, match=r"output_path.*unknown extension '\.xlsx'"):
        predict_file(str(regressor_dir), source, tmp_path / "out.xlsx")
    with pytest.raises(InvalidParameterValue, match="output_format"):
        predict_file(str(regressor_dir), source, tmp_path / "out.csv", output_format="xml")
    with pytest.raises(InvalidParameterValue, match="chunk_rows"):
        predict_file(str(regressor_dir), source, tmp_path / "out.csv", chunk_rows=0)


def test_explicit_formats_override_the_extensions(regressor_dir: Path, tmp_path: Path) -> None:
    frame = features(4)
    source = write_input(frame, tmp_path / "input.data", "csv")
    predict_file(str(regressor_dir), source, tmp_path / "out.data", input_format="csv", output_format="jsonl")
    lines = (tmp_path / "out.data").read_text().splitlines()
    assert [json.loads(line)["prediction"] for line in lines] == pytest.approx(expected(frame))


def test_a_model_returning_the_wrong_number_of_rows_is_an_error(tmp_path: Path) -> None:
    class Short:
        def predict(self, data: Any, params: Any = None) -> list[float]:
            return [1.0]

    source = write_input(features(3), tmp_path / "in.csv", "csv")
    with pytest.raises(Exception, match="returned 1 predictions for 3 rows"):
        predict_file(Short(), source, tmp_path / "out.csv")


def test_multi_column_outputs_become_columns_or_list_cells(tmp_path: Path) -> None:
    import numpy as np

    class TwoOutputs:
        def predict(self, data: Any, params: Any = None) -> Any:
            return np.column_stack([data["x1"], data["x1"] * 2])

    class Named:
        def predict(self, data: Any, params: Any = None) -> Any:
            return {"low": data["x1"] - 1, "high": data["x1"] + 1}

    source = write_input(features(3), tmp_path / "in.csv", "csv")
    predict_file(TwoOutputs(), source, tmp_path / "two.json")
    assert json.loads((tmp_path / "two.json").read_text()) == {"predictions": [[0, 0], [1, 2], [2, 4]]}
    predict_file(TwoOutputs(), source, tmp_path / "two.csv")
    assert pd.read_csv(tmp_path / "two.csv")["prediction"].tolist() == ["[0,0]", "[1,2]", "[2,4]"]
    predict_file(Named(), source, tmp_path / "named.parquet")
    assert pd.read_parquet(tmp_path / "named.parquet").to_dict(orient="list") == {
        "low": [-1, 0, 1],
        "high": [1, 2, 3],
    }


def test_params_of_a_json_payload_reach_the_model(tmp_path: Path) -> None:
    seen: list[Any] = []

    class Recorder:
        def predict(self, data: Any, params: Any = None) -> Any:
            seen.append(params)
            return data["x1"]

    payload = {"dataframe_records": [{"x1": 1}], "params": {"alpha": 0.5, "beta": 1}}
    (tmp_path / "in.json").write_text(json.dumps(payload))
    predict_file(Recorder(), tmp_path / "in.json", tmp_path / "out.json", params={"beta": 2})
    assert seen == [{"alpha": 0.5, "beta": 2}]


def test_the_cli_formats_are_the_library_formats() -> None:
    assert CLI_FORMATS == FORMATS


@pytest.fixture
def cli() -> click.Group:
    """`predict` and `build-docker` under a group that reports errors like `wayline`'s root."""

    @click.group(cls=WaylineGroup)
    def root() -> None:
        pass

    root.add_command(predict_command)
    root.add_command(build_docker_command)
    return root


def test_cli_predict_writes_the_output_file(
    cli: click.Group, regressor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    frame = features(6)
    source = write_input(frame, tmp_path / "in.parquet", "parquet")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli, ["predict", "-m", str(regressor_dir), "-i", str(source), "-o", str(out), "--chunk-rows", "4"]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 6 predictions to {out}" in result.stderr
    assert pd.read_csv(out)["prediction"].tolist() == pytest.approx(expected(frame))


def test_cli_predict_without_output_prints_json(
    cli: click.Group, classifier_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    source = write_input(features(7), tmp_path / "rows.txt", "csv")
    result = CliRunner().invoke(cli, ["predict", "-m", str(classifier_dir), "-i", str(source), "-t", "csv"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"predictions": ["low"] * 5 + ["high"] * 2}


def test_cli_predict_errors_are_one_line(
    cli: click.Group, regressor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    source = write_input(features(3)[["x2"]], tmp_path / "in.csv", "csv")
    result = CliRunner().invoke(
        cli, ["predict", "-m", str(regressor_dir), "-i", str(source), "-o", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "x1" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_a_dataframe_output_gives_its_columns_and_needs_trust_to_load(
    scores_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wayline.errors import PermissionDenied

    monkeypatch.delenv("WAYLINE_TRUSTED_MODELS", raising=False)
    frame = features(6)
    source = write_input(frame, tmp_path / "in.csv", "csv")
    with pytest.raises(PermissionDenied, match="trusted=True"):
        predict_file(str(scores_dir), source, tmp_path / "out.jsonl")
    result = predict_file(str(scores_dir), source, tmp_path / "out.jsonl", trusted=True, chunk_rows=4)
    assert result.columns == ("label", "score")
    out = read_output(tmp_path / "out.jsonl")
    assert out["label"].tolist() == ["low"] * 5 + ["high"]
    assert out["score"].tolist() == pytest.approx(
        [2.0 * a + b for a, b in zip(frame["x1"], frame["x2"], strict=True)]
    )


def test_cli_predict_trusted_flag(
    cli: click.Group, scores_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    monkeypatch.delenv("WAYLINE_TRUSTED_MODELS", raising=False)
    source = write_input(features(3), tmp_path / "in.csv", "csv")
    args = ["predict", "-m", str(scores_dir), "-i", str(source), "-o", str(tmp_path / "out.json")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert "--trusted on the CLI" in refused.stderr
    accepted = CliRunner().invoke(cli, [*args, "--trusted"])
    assert accepted.exit_code == 0, accepted.output
    document = json.loads((tmp_path / "out.json").read_text())
    assert [p["label"] for p in document["predictions"]] == ["low"] * 3
