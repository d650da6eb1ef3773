"""A history held as store rows reads as Metric objects and encodes to MLflow JSON straight from the rows."""

from __future__ import annotations

import math

import orjson
import pytest

from wayline.entities import Metric
from wayline.entities.metric_history import MetricHistory, PointRecord
from wayline.wire import metric_list_to_json


def _records(key: str, rows: list[tuple[int, int, float | None]]) -> list[PointRecord]:
    """Records as the stores make them from ``(step, timestamp, value)`` rows: None is a NaN point."""
    return [{"key": key, "value": v, "timestamp": t, "step": s} for s, t, v in rows]


ROWS: list[tuple[int, int, float | None]] = [
    (0, 100, 0.5),
    (1, 101, None),
    (2, 102, math.inf),
    (3, 103, -math.inf),
]


def test_reads_as_a_sequence_of_metrics() -> None:
    history = MetricHistory("loss", _records("loss", ROWS))
    assert len(history) == 4
    assert history[0] == Metric("loss", 0.5, 100, 0)
    assert math.isnan(history[1].value)
    assert history[-1] == Metric("loss", -math.inf, 103, 3)
    assert history[2:] == [Metric("loss", math.inf, 102, 2), Metric("loss", -math.inf, 103, 3)]
    assert [m.step for m in history] == [0, 1, 2, 3]


def test_equals_any_sequence_of_the_same_points() -> None:
    finite = MetricHistory("m", _records("m", [(0, 1, 2.0), (1, 2, 3.0)]))
    same = [Metric("m", 2.0, 1, 0), Metric("m", 3.0, 2, 1)]
    assert finite == same
    assert same == finite
    assert finite == MetricHistory("m", _records("m", [(0, 1, 2.0), (1, 2, 3.0)]))
    assert finite != MetricHistory("m", _records("m", [(0, 1, 2.0), (1, 2, None)]))
    assert finite != same[:1]
    assert finite != [Metric("m", 2.0, 1, 0), Metric("m", 3.5, 2, 1)]
    assert finite != "m"


@pytest.mark.parametrize("as_rows", [True, False], ids=["history", "metrics"])
def test_encodes_non_finite_values_as_protobuf_strings(as_rows: bool) -> None:
    history = MetricHistory("loss", _records("loss", ROWS))
    points = history if as_rows else list(history)
    encoded = orjson.loads(orjson.dumps(metric_list_to_json(points)))
    assert encoded == [
        {"key": "loss", "value": 0.5, "timestamp": 100, "step": 0},
        {"key": "loss", "value": "NaN", "timestamp": 101, "step": 1},
        {"key": "loss", "value": "Infinity", "timestamp": 102, "step": 2},
        {"key": "loss", "value": "-Infinity", "timestamp": 103, "step": 3},
    ]
    # Encoding leaves the history's own records as they were.
    assert history.records == _records("loss", ROWS)
    assert math.isnan(history[1].value)


@pytest.mark.parametrize("as_rows", [True, False], ids=["history", "metrics"])
def test_encodes_finite_values_as_numbers(as_rows: bool) -> None:
    history = MetricHistory("acc", _records("acc", [(5, 10, 0.25), (6, 11, 1e300)]))
    points = history if as_rows else list(history)
    assert orjson.loads(orjson.dumps(metric_list_to_json(points))) == [
        {"key": "acc", "value": 0.25, "timestamp": 10, "step": 5},
        {"key": "acc", "value": 1e300, "timestamp": 11, "step": 6},
    ]


@pytest.mark.parametrize(
    ("rows", "values"),
    [
        ([(0, 1, None)], ["NaN"]),
        ([(0, 1, 1.5), (1, 2, None), (2, 3, 2.5)], [1.5, "NaN", 2.5]),
        # Finite values whose sum overflows: still numbers, not strings.
        ([(0, 1, 1.7e308), (1, 2, 1.7e308)], [1.7e308, 1.7e308]),
        ([(0, 1, 0.0), (1, 2, -0.0)], [0.0, -0.0]),
    ],
    ids=["only-nan", "nan-between-numbers", "sum-overflows", "zeros"],
)
def test_encodes_each_row_by_its_own_value(
    rows: list[tuple[int, int, float | None]], values: list[object]
) -> None:
    encoded = orjson.loads(orjson.dumps(metric_list_to_json(MetricHistory("m", _records("m", rows)))))
    assert [point["value"] for point in encoded] == values
    assert [math.copysign(1.0, v) for v in values if isinstance(v, float)] == [
        math.copysign(1.0, point["value"]) for point in encoded if isinstance(point["value"], float)
    ]
