"""The run page's artifact browser: a lazy folder tree and previews (text, JSON, CSV as a table, an image,
a model directory's MLmodel as a model card), "cannot preview" for binaries, and download links."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from wayline.client import WaylineClient

#: A 2x2 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAxMDAAAAmCAL/7hq5LAAAAABJRU5ErkJggg=="
)
MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: wayline.sklearn
    python_version: 3.11.4
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.4.0
model_uuid: 5c2b0a3f
signature:
  inputs: '[{"type": "double", "name": "sepal_length"}, {"type": "double", "name": "petal''s width"}]'
  outputs: '[{"type": "long", "name": "species"}]'
utc_time_created: '2024-05-01 10:00:00.000000'
"""


@pytest.fixture
def run_id(client: WaylineClient, unique: str, tmp_path: Path) -> str:
    experiment_id = client.create_experiment(f"artifacts-{unique}")
    run = client.create_run(experiment_id, run_name=f"artifacts-{unique}").info.run_id
    client.log_text(run, "first line\n<script>alert(1)</script>\n", "notes/readme.txt")
    client.log_dict(run, {"layers": [64, 32], "name": "mlp"}, "config.json")
    client.log_text(run, "epoch,loss\n1,0.9\n2,0.5\n3,0.25\n", "history.csv")
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text(MLMODEL)
    (model / "model.pkl").write_bytes(b"\x80\x04\x95binary")
    client.log_artifacts(run, model, "model")
    image = tmp_path / "plot.png"
    image.write_bytes(PNG)
    client.log_artifact(run, image, "plots")
    blob = tmp_path / "weights.dat"
    blob.write_bytes(bytes(range(256)) * 4)
    client.log_artifact(run, blob)
    client.set_terminated(run)
    return run


def _open(page: Any, path: str) -> None:
    page.locator(f'[data-testid="artifact-node"][data-path="{path}"]').click()


def test_text_json_and_csv_previews(page: Any, run_id: str) -> None:
    page.goto(f"/#/runs/{run_id}?tab=artifacts")
    expect(page.get_by_test_id("artifact-browser")).to_be_visible()
    _open(page, "notes")
    _open(page, "notes/readme.txt")
    text = page.get_by_test_id("preview-text")
    expect(text).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    assert "path=notes%2Freadme.txt" in page.url or "path=notes/readme.txt" in page.url
    href = page.get_by_test_id("artifact-preview").get_by_test_id("artifact-download").get_attribute("href")
    assert href == f"/get-artifact?run_id={run_id}&path=notes%2Freadme.txt"

    _open(page, "config.json")
    expect(page.get_by_test_id("preview-json")).to_contain_text('"layers": [\n    64,')

    _open(page, "history.csv")
    table = page.get_by_test_id("preview-table")
    expect(table.locator("thead th")).to_have_text(["epoch", "loss"])
    expect(table.locator("tbody tr")).to_have_count(3)


def test_image_model_card_and_binary(page: Any, run_id: str) -> None:
    page.goto(f"/#/runs/{run_id}?tab=artifacts")
    _open(page, "plots")
    _open(page, "plots/plot.png")
    image = page.get_by_test_id("preview-image")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-testid=preview-image]').naturalWidth === 2")

    _open(page, "model")
    card = page.get_by_test_id("model-card")
    expect(card.get_by_test_id("model-flavors")).to_contain_text("sklearn")
    expect(card.get_by_test_id("model-flavors")).to_contain_text("python_function")
    expect(card.get_by_test_id("signature-inputs")).to_contain_text("petal's width")
    expect(card.get_by_test_id("signature-outputs")).to_contain_text("species")

    _open(page, "model/model.pkl")
    expect(page.get_by_test_id("cannot-preview")).to_contain_text("Cannot preview model.pkl")
    _open(page, "weights.dat")
    expect(page.get_by_test_id("cannot-preview")).to_contain_text("binary")
    expect(page.get_by_test_id("cannot-preview").get_by_test_id("artifact-download")).to_be_visible()


def test_a_run_without_artifacts(page: Any, client: WaylineClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"no-artifacts-{unique}")
    run = client.create_run(experiment_id).info.run_id
    page.goto(f"/#/runs/{run}?tab=artifacts")
    expect(page.get_by_test_id("artifact-browser")).to_contain_text("No artifacts.")
