"""Formatting helpers of the CLI: times, durations, numbers, sizes and truncation."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from wayline.cli.output import (
    format_duration,
    format_number,
    format_size,
    format_tags,
    format_timestamp,
    truncate,
)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (0, 850, "850ms"),
        (0, 12_340, "12.3s"),
        (0, 245_000, "4m 05s"),
        (0, 7_380_000, "2h 03m"),
        (0, 3 * 86_400_000 + 4 * 3_600_000, "3d 04h"),
        (0, None, "-"),
        (None, 5, "-"),
        (10, 5, "-"),
    ],
)
def test_format_duration(start: int | None, end: int | None, shown: str) -> None:
    assert format_duration(start, end) == shown


def test_format_timestamp() -> None:
    ms = 1_700_000_000_123
    local = datetime.fromtimestamp(ms / 1000)
    assert format_timestamp(ms) == local.strftime("%Y-%m-%d %H:%M:%S")
    assert format_timestamp(ms, seconds=False) == local.strftime("%Y-%m-%d %H:%M")
    assert format_timestamp(None) == "-"
    assert format_timestamp(2**62) == str(2**62)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.25, "0.25"),
        (3.0, "3"),
        (1 / 3, "0.333333"),
        (1234567.891, "1.23457e+06"),
        (1e20, "1e+20"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_format_number(value: float, shown: str) -> None:
    assert format_number(value) == shown


def test_format_size() -> None:
    assert format_size(None) == "-"
    assert format_size(5) == "5 B"
    assert format_size(2048) == "2.0 KiB"
    assert format_size(5 * 1024**3) == "5.0 GiB"


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("abcdefghij", 5) == "abcd…"
    assert truncate("/very/long/path/to/artifacts/7", 12, keep_end=True) == "…artifacts/7"
    assert truncate("two\nlines", 20) == "two lines"
    assert truncate("x", 0) == ""
    assert len(truncate("y" * 100, 18)) == 18


def test_format_tags() -> None:
    assert format_tags({"b": "2", "a": "1"}) == "a=1, b=2"
    assert format_tags({"k": "v" * 100}, width=10) == "k=vvvvvvv…"
