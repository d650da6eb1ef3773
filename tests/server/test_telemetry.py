"""FastAPI's OpenTelemetry instrumentation: on for every request, RPC routes included, when a provider is
configured as the server starts; otherwise off, and the RPC fast path runs ahead of FastAPI's stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from servers import start_server
from wayline.server.app import create_app
from wayline.server.fast_path import RpcFastPath
from wayline.server.settings import ServerSettings
from wayline.server.telemetry import native_telemetry_wanted

#: Run by the server's interpreter at start-up (``sitecustomize``): an OpenTelemetry SDK tracer provider
#: whose spans' names and URL paths are appended to ``$SPANS_FILE``, as ``opentelemetry-instrument`` would
#: set one up.
_SITECUSTOMIZE = """
import os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult


class _Names(SpanExporter):
    def export(self, spans):
        with open(os.environ["SPANS_FILE"], "a", encoding="utf-8") as out:
            out.writelines(f"{span.name} {span.attributes.get('url.path')}\\n" for span in spans)
        return SpanExportResult.SUCCESS


_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_Names()))
trace.set_tracer_provider(_provider)
"""


def test_requests_are_traced_when_a_provider_is_configured(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    spans = tmp_path / "spans.txt"
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    server = start_server(tmp_path / "data", env={"PYTHONPATH": path, "SPANS_FILE": str(spans)})
    try:
        created = requests.post(
            server.url + "/api/2.0/mlflow/experiments/create", json={"name": "traced"}, timeout=30
        )
        assert created.status_code == 200, created.text
        searched = requests.post(
            server.url + "/api/2.0/mlflow/experiments/search", json={"max_results": 10}, timeout=30
        )
        assert searched.status_code == 200, searched.text
    finally:
        server.stop()
    traced = spans.read_text(encoding="utf-8").splitlines()
    assert "POST /api/2.0/mlflow/experiments/create" in traced, traced
    assert "POST /api/2.0/mlflow/experiments/search" in traced, traced


def _settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'wayline.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )


def test_fast_path_moves_inside_fastapi_when_telemetry_is_wanted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not native_telemetry_wanted()  # no provider in the test process
    assert create_app(_settings(tmp_path)).fast_path_ahead
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert native_telemetry_wanted()
    app = create_app(_settings(tmp_path))
    assert not app.fast_path_ahead
    assert any(middleware.cls is RpcFastPath for middleware in app.user_middleware)
    assert app.fast_routes
