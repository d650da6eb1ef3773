"""The web UI's routes: the page and its assets from a bundle folder, and the build steps without one."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings


def _client(tmp_path: Path, ui_dir: Path) -> TestClient:
    settings = ServerSettings(backend_store_uri=str(tmp_path / "data"), ui_dir=str(ui_dir))
    return TestClient(create_app(settings))


def _bundle(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text('<!doctype html><div id="root"></div><script src="./assets/app-1.js">')
    (folder / "assets" / "app-1.js").write_text("console.log('app')")
    (folder / "secret.txt").write_text("not an asset")
    return folder


def test_page_and_assets_are_served_from_the_bundle(tmp_path: Path) -> None:
    with _client(tmp_path, _bundle(tmp_path / "bundle")) as client:
        page = client.get("/")
        asset = client.get("/assets/app-1.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-cache"
    assert '<div id="root">' in page.text
    assert asset.status_code == 200
    assert asset.text == "console.log('app')"
    assert "immutable" in asset.headers["cache-control"]


def test_only_files_of_the_assets_folder_are_served(tmp_path: Path) -> None:
    with _client(tmp_path, _bundle(tmp_path / "bundle")) as client:
        for name in ("..%2Fsecret.txt", "%2e%2e%2fsecret.txt", "..%5Csecret.txt", "missing.js", ".hidden"):
            response = client.get(f"/assets/{name}")
            assert response.status_code == 404, name
            assert response.json()["error_code"] in ("RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")


def test_a_missing_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    with _client(tmp_path, tmp_path / "nothing-here") as client:
        page = client.get("/")
        api = client.get("/api/2.0/mlflow/experiments/search", params={"max_results": 5})
    assert page.status_code == 503
    assert "make ui" in page.text
    assert api.status_code == 200  # the API does not depend on the UI
