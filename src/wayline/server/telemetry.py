"""Whether FastAPI's native OpenTelemetry instrumentation is wanted, decided once when the app is built.

FastAPI 0.16x instruments every request with OpenTelemetry when a tracer, meter or logger provider is
configured, and asks the OpenTelemetry API whether one is, on every request (~0.08 ms of a search here).
Wayline decides once, when ``create_app`` runs: if a provider is configured by then
(``opentelemetry-instrument wayline server``, or a program that sets one up before building the app) or
``FASTAPI_OTEL_AUTO_CONFIGURE`` is ``true``, FastAPI's instrumentation stays on for every request; otherwise
it is off, and the app's front (:mod:`wayline.server.front`) answers RPC routes before FastAPI's middleware
stack.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from fastapi import FastAPI

#: The OpenTelemetry API's stand-ins for a provider nobody has set (``(module, class)``).
_UNSET_PROVIDERS = frozenset(
    {
        ("opentelemetry.trace", "ProxyTracerProvider"),
        ("opentelemetry.trace", "NoOpTracerProvider"),
        ("opentelemetry.metrics._internal", "_ProxyMeterProvider"),
        ("opentelemetry.metrics._internal", "NoOpMeterProvider"),
        ("opentelemetry._logs._internal", "ProxyLoggerProvider"),
        ("opentelemetry._logs._internal", "NoOpLoggerProvider"),
    }
)


def _configured_providers() -> list[Any]:
    """The OpenTelemetry providers someone has set (none without the OpenTelemetry API)."""
    try:
        from opentelemetry import _logs, metrics, trace
    except ImportError:
        return []
    providers = (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    return [p for p in providers if (type(p).__module__, type(p).__name__) not in _UNSET_PROVIDERS]


def native_telemetry_wanted() -> bool:
    """Whether FastAPI should instrument requests (see the module): never with a FastAPI that cannot."""
    if not fastapi_supports_telemetry():
        return False
    if os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").strip().lower() == "true":
        return True
    return bool(_configured_providers())


def fastapi_supports_telemetry() -> bool:
    """Whether this FastAPI has native telemetry (a ``telemetry`` argument)."""
    return "telemetry" in inspect.signature(FastAPI.__init__).parameters


def telemetry_arguments(wanted: bool) -> dict[str, Any]:
    """``FastAPI(...)``'s arguments for native telemetry: off unless ``wanted``, and none for a FastAPI that
    has no such thing."""
    if wanted or not fastapi_supports_telemetry():  # FastAPI's default, or nothing to turn off
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


__all__ = ["fastapi_supports_telemetry", "native_telemetry_wanted", "telemetry_arguments"]
