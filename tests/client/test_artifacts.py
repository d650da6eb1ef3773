"""Artifacts through the client and the fluent API: text, dicts, figures, images, files, listing, download."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure
from PIL import Image

import wayline
from client.helpers import unique
from wayline.client.client import WaylineClient
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound


@pytest.fixture
def run_id(client: WaylineClient) -> str:
    return client.create_run(client.create_experiment(unique())).info.run_id


def _read(client: WaylineClient, run_id: str, path: str, tmp_path: Path) -> bytes:
    return Path(client.download_artifacts(run_id, path, tmp_path / "download")).read_bytes()


def test_log_text_and_dict(client: WaylineClient, run_id: str, tmp_path: Path) -> None:
    client.log_text(run_id, "héllo\n", "notes/readme.txt")
    client.log_dict(run_id, {"b": 1, "a": [1, 2], "c": {"d": None}}, "config.json")
    client.log_dict(run_id, {"b": 1, "a": [1, 2]}, "config/params.yaml")
    client.log_dict(run_id, {"x": 1}, "other.yml")
    assert _read(client, run_id, "notes/readme.txt", tmp_path).decode() == "héllo\n"
    assert json.loads(_read(client, run_id, "config.json", tmp_path)) == {
        "b": 1,
        "a": [1, 2],
        "c": {"d": None},
    }
    text = _read(client, run_id, "config/params.yaml", tmp_path).decode()
    assert yaml.safe_load(text) == {"b": 1, "a": [1, 2]}
    assert text.startswith("b: 1")  # key order kept
    assert yaml.safe_load(_read(client, run_id, "other.yml", tmp_path)) == {"x": 1}


def test_log_figure(client: WaylineClient, run_id: str, tmp_path: Path) -> None:
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1, 2], [1, 0, 1])
    client.log_figure(run_id, figure, "plots/curve.png")
    client.log_figure(run_id, figure, "plots/curve.svg")
    png = _read(client, run_id, "plots/curve.png", tmp_path)
    assert png.startswith(b"\x89PNG")
    assert b"<svg" in _read(client, run_id, "plots/curve.svg", tmp_path)
    with pytest.raises(InvalidParameterValue, match="'figure'"):
        client.log_figure(run_id, "not a figure", "plots/x.png")
    with pytest.raises(InvalidParameterValue, match="'artifact_file'"):
        client.log_figure(run_id, figure, "plots/x.unknownformat")


def test_log_image(client: WaylineClient, run_id: str, tmp_path: Path) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    client.log_image(run_id, gray, "images/gray.png")
    rgb = np.zeros((4, 5, 3), dtype=np.float64)
    rgb[..., 0] = 1.0
    client.log_image(run_id, rgb, "images/red.png")
    client.log_image(run_id, Image.new("RGBA", (3, 2), (0, 0, 255, 128)), "images/blue.jpg")
    with Image.open(BytesIO(_read(client, run_id, "images/gray.png", tmp_path))) as image:
        assert np.array_equal(np.asarray(image), gray)
    with Image.open(BytesIO(_read(client, run_id, "images/red.png", tmp_path))) as image:
        assert image.size == (5, 4)
        assert image.getpixel((0, 0)) == (255, 0, 0)
    with Image.open(BytesIO(_read(client, run_id, "images/blue.jpg", tmp_path))) as image:
        assert image.format == "JPEG"
    for bad in (np.full((2, 2), 2.0), np.full((2, 2), 300), np.zeros((2, 2, 2)), "pixels", np.array([["a"]])):
        with pytest.raises(InvalidParameterValue, match="'image'"):
            client.log_image(run_id, bad, "images/bad.png")
    with pytest.raises(InvalidParameterValue, match="'artifact_file'"):
        client.log_image(run_id, gray, "images/gray.txt")
    assert [f.path for f in client.list_artifacts(run_id, "images")] == [
        "images/blue.jpg",
        "images/gray.png",
        "images/red.png",
    ]


def test_files_listing_and_download(client: WaylineClient, run_id: str, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("bb")
    client.log_artifact(run_id, source / "a.txt")
    client.log_artifact(run_id, str(source / "a.txt"), "copies")
    client.log_artifacts(run_id, source, "tree")
    assert client.list_artifacts(run_id) == [
        FileInfo("a.txt", False, 1),
        FileInfo("copies", True, None),
        FileInfo("tree", True, None),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "tree")] == ["tree/a.txt", "tree/sub"]
    local = Path(client.download_artifacts(run_id, "tree", tmp_path / "out"))
    assert (local / "sub" / "b.txt").read_text() == "bb"
    temp = Path(client.download_artifacts(run_id, "copies/a.txt"))
    assert temp.read_text() == "a"
    with pytest.raises(ResourceNotFound):
        client.download_artifacts(run_id, "missing.txt", tmp_path / "out")


@pytest.mark.parametrize("artifact_file", ["../escape.txt", "/etc/passwd", "a/../../b.txt", "", "dir/", 7])
def test_artifact_paths_must_stay_inside_the_run(
    client: WaylineClient, run_id: str, artifact_file: object
) -> None:
    with pytest.raises(InvalidParameterValue, match="artifact_file"):
        client.log_text(run_id, "x", artifact_file)  # type: ignore[arg-type]
    assert client.list_artifacts(run_id) == []


def test_artifacts_of_a_deleted_run(client: WaylineClient, run_id: str, tmp_path: Path) -> None:
    client.log_text(run_id, "kept", "kept.txt")
    client.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="deleted"):
        client.log_dict(run_id, {}, "x.json")
    assert [f.path for f in client.list_artifacts(run_id)] == ["kept.txt"]  # reading still works
    assert _read(client, run_id, "kept.txt", tmp_path) == b"kept"


def test_fluent_artifacts(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"\x00\x01")
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "c.txt").write_text("c")
    figure = Figure()
    figure.add_subplot().bar([1, 2], [3, 4])
    with wayline.start_run() as run:
        wayline.log_text("text", "t.txt")
        wayline.log_dict({"k": "v"}, "d.yaml")
        wayline.log_figure(figure, "f.png")
        wayline.log_image(np.zeros((2, 2), dtype=np.uint8), "i.png")
        wayline.log_artifact(source, "model")
        wayline.log_artifacts(folder)
    with WaylineClient() as client:
        paths = {f.path for f in client.list_artifacts(run.run_id)}
        assert {"t.txt", "d.yaml", "f.png", "i.png", "model", "c.txt"} <= paths
        assert [f.path for f in client.list_artifacts(run.run_id, "model")] == ["model/model.bin"]
