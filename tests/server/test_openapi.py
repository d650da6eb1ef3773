"""The OpenAPI document and the REST docs cover every route the app serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app_routes import all_routes
from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

DOCS = Path(__file__).resolve().parents[2] / "docs"
REST_DOCS = ("rest-api.md", "server-artifacts.md", "logged-models.md", "server.md", "webhooks.md")
_UNDOCUMENTED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    data = tmp_path_factory.mktemp("openapi")
    app = create_app(ServerSettings(backend_store_uri=str(data)))
    return TestClient(app)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    out = [(method, route.path) for route in all_routes(client.app) for method in sorted(route.methods)]  # type: ignore[arg-type]
    assert len(out) >= 90  # the walk found the included routers
    return out


def test_every_route_is_in_the_openapi_document(app_client: TestClient) -> None:
    document = app_client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    missing = [
        (method, path)
        for method, path in _routes(app_client)
        if method.lower() not in document["paths"].get(path.replace(":path}", "}"), {})
    ]
    assert not missing
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_request_models_are_resolvable_in_the_document(app_client: TestClient) -> None:
    document = app_client.get("/openapi.json").json()
    text = str(document)
    schemas = document.get("components", {}).get("schemas", {})
    for ref in set(re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", text)):
        assert ref in schemas, ref


def test_docs_page_is_served(app_client: TestClient) -> None:
    page = app_client.get("/docs")
    assert page.status_code == 200
    assert "openapi.json" in page.text


def test_every_api_route_is_in_the_rest_docs(app_client: TestClient) -> None:
    text = "\n".join((DOCS / name).read_text(encoding="utf-8") for name in REST_DOCS)
    missing = []
    for method, path in _routes(app_client):
        if path in _UNDOCUMENTED or (path.startswith("/ajax-api/") and _has_api_twin(app_client, path)):
            continue
        short = re.sub(r"^/(ajax-)?api/[0-9.]+/[a-z-]+", "", path) or path
        # a path parameter may be written {name} or <placeholder> in the docs
        pattern = re.sub(r"\\\{\w+(:path)?\\\}", r"(\\{\\w+\\}|<[^>]+>)", re.escape(short))
        if not re.search(pattern + r"(?![\w/-])", text):
            missing.append(f"{method} {path}")
    assert not missing, "undocumented routes: " + ", ".join(missing)


def _has_api_twin(client: TestClient, path: str) -> bool:
    twin = path.replace("/ajax-api/", "/api/", 1)
    return any(p == twin for _, p in _routes(client))
