"""A history held as store rows reads as Metric objects and encodes to MLflow JSON straight from the rows."""

from __future__ import annotations

import math

import orjson
import pytest

from wayline.entities import Metric
from wayline.entities.metric_history import MetricHistory
from wayline.wire import metric_list_to_json

ROWS = [(0, 100, 0.5, False), (1, 101, 0.0, True), (2, 102, math.inf, False), (3, 103, -math.inf, 0)]


def test_reads_as_a_sequence_of_metrics() -> None:
    history = MetricHistory("loss", ROWS)
    assert len(history) == 4
    assert history[0] == Metric("loss", 0.5, 100, 0)
    assert math.isnan(history[1].value)
    assert history[-1] == Metric("loss", -math.inf, 103, 3)
    assert history[2:] == [Metric("loss", math.inf, 102, 2), Metric("loss", -math.inf, 103, 3)]
    assert [m.step for m in history] == [0, 1, 2, 3]


def test_equals_any_sequence_of_the_same_points() -> None:
    finite = MetricHistory("m", [(0, 1, 2.0, False), (1, 2, 3.0, False)])
    same = [Metric("m", 2.0, 1, 0), Metric("m", 3.0, 2, 1)]
    assert finite == same
    assert same == finite
    assert finite == MetricHistory("m", [(0, 1, 2.0, 0), (1, 2, 3.0, 0)])
    assert finite != same[:1]
    assert finite != [Metric("m", 2.0, 1, 0), Metric("m", 3.5, 2, 1)]
    assert finite != "m"


@pytest.mark.parametrize("as_rows", [True, False], ids=["history", "metrics"])
def test_encodes_non_finite_values_as_protobuf_strings(as_rows: bool) -> None:
    history = MetricHistory("loss", ROWS)
    points = history if as_rows else list(history)
    encoded = orjson.loads(orjson.dumps(metric_list_to_json(points)))
    assert encoded == [
        {"key": "loss", "value": 0.5, "timestamp": 100, "step": 0},
        {"key": "loss", "value": "NaN", "timestamp": 101, "step": 1},
        {"key": "loss", "value": "Infinity", "timestamp": 102, "step": 2},
        {"key": "loss", "value": "-Infinity", "timestamp": 103, "step": 3},
    ]


@pytest.mark.parametrize("as_rows", [True, False], ids=["history", "metrics"])
def test_encodes_finite_values_as_numbers(as_rows: bool) -> None:
    history = MetricHistory("acc", [(5, 10, 0.25, False), (6, 11, 1e300, 0)])
    points = history if as_rows else list(history)
    assert orjson.loads(orjson.dumps(metric_list_to_json(points))) == [
        {"key": "acc", "value": 0.25, "timestamp": 10, "step": 5},
        {"key": "acc", "value": 1e300, "timestamp": 11, "step": 6},
    ]
