"""Wall-clock time in integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


__all__ = ["now_ms"]
