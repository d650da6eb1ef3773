"""The Python SDK: :class:`WaylineClient` (explicit ids), the fluent API (:mod:`wayline.client.fluent`,
exported from :mod:`wayline`) and the non-blocking :class:`MetricBatcher`."""

from wayline.client.batcher import MetricBatcher, MetricLoggingError
from wayline.client.client import WaylineClient

__all__ = ["MetricBatcher", "MetricLoggingError", "WaylineClient"]
