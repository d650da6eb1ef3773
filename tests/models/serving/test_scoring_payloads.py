"""Every payload form of MLflow's scoring protocol, the output shapes, and every 4xx (the server keeps
serving after each one), on the in-process ASGI app with real models."""

from __future__ import annotations

import base64
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.serving.serving_support import expected, features, run, scoring_client, split_payload

FRAME = features(4)


def _payloads() -> list[tuple[str, dict[str, Any]]]:
    records = FRAME.to_dict(orient="records")
    columns = {name: FRAME[name].tolist() for name in FRAME.columns}
    return [
        ("dataframe_split", split_payload(FRAME)),
        ("dataframe_split with index", {"dataframe_split": {**FRAME.to_dict(orient="split")}}),
        ("dataframe_records", {"dataframe_records": records}),
        ("instances as records", {"instances": records}),
        ("instances as columns", {"instances": columns}),
        ("inputs as columns", {"inputs": columns}),
        ("params with split", {**split_payload(FRAME), "params": {}}),
    ]


@pytest.mark.parametrize(("form", "payload"), _payloads(), ids=[p[0] for p in _payloads()])
def test_every_json_form_scores_the_regressor(
    regressor_dir: Path, form: str, payload: dict[str, Any]
) -> None:
    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            response = await client.post("/invocations", json=payload)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.json()["predictions"] == pytest.approx(expected(FRAME))

    run(body)


def test_csv_and_parquet_bodies(regressor_dir: Path) -> None:
    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            csv = await client.post(
                "/invocations",
                content=FRAME.to_csv(index=False).encode(),
                headers={"Content-Type": "text/csv; charset=utf-8"},
            )
            assert csv.status_code == 200, csv.text
            assert csv.json()["predictions"] == pytest.approx(expected(FRAME))
            buffer = io.BytesIO()
            FRAME.to_parquet(buffer)
            parquet = await client.post(
                "/invocations",
                content=buffer.getvalue(),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            )
            assert parquet.status_code == 200, parquet.text
            assert parquet.json()["predictions"] == pytest.approx(expected(FRAME))

    run(body)


def test_float_columns_take_json_integers_and_ints_take_integral_floats(regressor_dir: Path) -> None:
    """x1 is a long column and x2 a double one: 1.0 fits x1, 2 fits x2 (JSON has one number type)."""

    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            response = await client.post(
                "/invocations", json={"dataframe_split": {"columns": ["x1", "x2"], "data": [[1.0, 2]]}}
            )
            assert response.status_code == 200, response.text
            assert response.json()["predictions"] == pytest.approx([2 + 6 + 1])

    run(body)


def test_health_version_and_metadata(regressor_dir: Path) -> None:
    from wayline import __version__

    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            for path in ("/ping", "/health"):
                assert (await client.get(path)).status_code == 200
            version = await client.get("/version")
            assert version.text == __version__
            meta = (await client.get("/metadata")).json()
            assert meta["model_uri"] == str(regressor_dir)
            assert meta["model_version"] is None
            assert set(meta["flavors"]) == {"python_function", "sklearn"}
            assert [c["name"] for c in meta["signature"]["inputs"]] == ["x1", "x2"]
            assert meta["signature"]["inputs"][0]["type"] == "long"
            example = meta["input_example"]
            assert example["dataframe_split"]["columns"] == ["x1", "x2"]
            # The stored example is itself a valid request.
            again = await client.post("/invocations", json=example)
            assert again.status_code == 200
            assert len(again.json()["predictions"]) == 3

    run(body)


@pytest.mark.parametrize("shape", ["ndarray", "matrix", "frame", "series", "list", "dict"])
def test_output_shapes_match_mlflow(shaped_dir: Path, shape: str) -> None:
    """The JSON of each output type is what MLflow's own scoring server writes for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow.pyfunc.scoring_server import predictions_to_json

    from models.serving.serving_support import Shaped

    raw = Shaped().predict(None, FRAME, {"shape": shape})
    out = io.StringIO()
    predictions_to_json(raw, out)
    mlflow_json = json.loads(out.getvalue())

    async def body() -> None:
        async with scoring_client(shaped_dir, trusted=True) as (_, client):
            response = await client.post(
                "/invocations", json={**split_payload(FRAME), "params": {"shape": shape}}
            )
            assert response.status_code == 200, response.text
            assert response.json() == mlflow_json

    run(body)


def test_binary_columns_are_base64(tmp_path: Path) -> None:
    from wayline.models.flavors.pyfunc import save_model
    from wayline.models.signature import ColSpec, ModelSignature, Schema
    from wayline.models.signature_types import DataType

    def lengths(model_input: pd.DataFrame) -> list[int]:
        return [len(v) for v in model_input["blob"]]

    signature = ModelSignature(Schema([ColSpec(DataType.binary, "blob")]))
    save_model(tmp_path / "m", lengths, signature=signature)

    async def body() -> None:
        async with scoring_client(tmp_path / "m", trusted=True) as (_, client):
            blobs = [base64.b64encode(b"abc").decode(), base64.b64encode(b"\x00" * 7).decode()]
            response = await client.post(
                "/invocations", json={"dataframe_records": [{"blob": b} for b in blobs]}
            )
            assert response.status_code == 200, response.text
            assert response.json() == {"predictions": [3, 7]}

    run(body)


# --- errors ---------------------------------------------------------------------------------------


def _json(body: object) -> tuple[bytes, str]:
    return json.dumps(body).encode(), "application/json"


BAD_REQUESTS: list[tuple[str, bytes, str | None, int, str, str]] = [
    (
        "malformed JSON",
        b'{"dataframe_split": ',
        "application/json",
        400,
        "INVALID_PARAMETER_VALUE",
        "not valid JSON",
    ),
    ("not an object", *_json([1, 2]), 400, "BAD_REQUEST", "received a list"),
    ("unknown field", *_json({"dataframe": {}}), 400, "BAD_REQUEST", "Unknown field(s) ['dataframe']"),
    (
        "several fields",
        *_json({"instances": [1], "inputs": [1]}),
        400,
        "BAD_REQUEST",
        "several: instances, inputs",
    ),
    ("no field", *_json({"params": {}}), 400, "BAD_REQUEST", "received none"),
    ("params not an object", *_json({"inputs": [1], "params": [1]}), 400, "BAD_REQUEST", "'params'"),
    (
        "split without data",
        *_json({"dataframe_split": {"columns": ["x1"]}}),
        400,
        "INVALID_PARAMETER_VALUE",
        "must have 'data'",
    ),
    (
        "split rows not matching columns",
        *_json({"dataframe_split": {"columns": ["x1", "x2"], "data": [[1, 2, 3]]}}),
        400,
        "INVALID_PARAMETER_VALUE",
        "not a valid table",
    ),
    (
        "records not a list",
        *_json({"dataframe_records": {"x1": 1}}),
        400,
        "INVALID_PARAMETER_VALUE",
        "must be a list of records",
    ),
    (
        "missing column",
        *_json({"dataframe_records": [{"x1": 1}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "missing column(s) ['x2']",
    ),
    (
        "wrong type",
        *_json({"dataframe_records": [{"x1": "one", "x2": 1.0}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "column 'x1'",
    ),
    (
        "fractional value in an integer column",
        *_json({"dataframe_records": [{"x1": 1.5, "x2": 1.0}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "column 'x1'",
    ),
    (
        "ragged inputs",
        *_json({"inputs": {"x1": [1, 2], "x2": [1.0]}}),
        400,
        "INVALID_PARAMETER_VALUE",
        "",
    ),
    ("bad CSV", b"\xff\xfe", "text/csv", 400, "INVALID_PARAMETER_VALUE", "not valid UTF-8"),
    ("empty CSV", b"", "text/csv", 400, "INVALID_PARAMETER_VALUE", "CSV"),
    (
        "bad Parquet",
        b"not parquet",
        "application/vnd.apache.parquet",
        400,
        "INVALID_PARAMETER_VALUE",
        "Parquet",
    ),
    ("unsupported type", b"x", "text/plain", 415, "BAD_REQUEST", "Unsupported content type 'text/plain'"),
    ("no content type", b"{}", None, 415, "BAD_REQUEST", "no Content-Type"),
    ("other charset", b"{}", "application/json; charset=latin-1", 415, "BAD_REQUEST", "UTF-8"),
    (
        "MLflow 1 format parameter",
        b"{}",
        "application/json; format=pandas-split",
        415,
        "BAD_REQUEST",
        "format",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "content_type", "status", "code", "message"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_requests_get_a_named_error_and_the_server_keeps_serving(  # noqa: PLR0917
    regressor_dir: Path,
    case: str,
    content: bytes,
    content_type: str | None,
    status: int,
    code: str,
    message: str,
) -> None:
    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            headers = {} if content_type is None else {"Content-Type": content_type}
            response = await client.post("/invocations", content=content, headers=headers)
            assert response.status_code == status, response.text
            error = response.json()
            assert error["error_code"] == code
            assert message in error["message"]
            good = await client.post("/invocations", json=split_payload(FRAME))
            assert good.status_code == 200
            assert good.json()["predictions"] == pytest.approx(expected(FRAME))

    run(body)


def test_a_body_over_the_limit_gets_413(regressor_dir: Path) -> None:
    big = split_payload(features(20_000))

    async def body() -> None:
        async with scoring_client(regressor_dir, max_body_mib=0.1) as (_, client):
            response = await client.post("/invocations", json=big)
            assert response.status_code == 413
            assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
            assert "--max-body-mib" in response.json()["message"]

            async def chunks() -> Any:  # no Content-Length: counted while read
                payload = json.dumps(big).encode()
                for start in range(0, len(payload), 16_384):
                    yield payload[start : start + 16_384]

            streamed = await client.post(
                "/invocations", content=chunks(), headers={"Content-Type": "application/json"}
            )
            assert streamed.status_code == 413
            assert (await client.post("/invocations", json=split_payload(FRAME))).status_code == 200

    run(body)


def test_a_model_error_is_a_400_naming_it(recorder_dir: Path) -> None:
    async def body() -> None:
        async with scoring_client(recorder_dir, trusted=True) as (_, client):
            response = await client.post("/invocations", json=split_payload(features(2, start=-1)))
            assert response.status_code == 400
            assert response.json()["error_code"] == "BAD_REQUEST"
            assert "ValueError: x1 must not be negative" in response.json()["message"]
            assert (await client.post("/invocations", json=split_payload(FRAME))).status_code == 200

    run(body)


def test_unknown_routes_and_methods(regressor_dir: Path) -> None:
    async def body() -> None:
        async with scoring_client(regressor_dir) as (_, client):
            missing = await client.get("/nope")
            assert missing.status_code == 404
            assert missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
            assert (await client.get("/invocations")).status_code == 405
            assert (await client.post("/ping")).status_code == 405

    run(body)


def test_a_model_that_needs_trust_is_refused_without_it(recorder_dir: Path) -> None:
    from wayline.errors import PermissionDenied
    from wayline.models.serving.app import ScoringApp, ServeOptions

    app = ScoringApp(ServeOptions(str(recorder_dir)))
    with pytest.raises(PermissionDenied, match="trusted"):
        run(app.startup)
    np.testing.assert_equal(app.holder.current, None)
