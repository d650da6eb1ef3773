"""The ``log-batch`` body decoder: the usual batch read as columns per key, every other batch read point by
point, and both giving the same points in the order they were sent."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from wayline.entities import Metric
from wayline.entities.metric_columns import MetricColumns
from wayline.errors import InvalidParameterValue
from wayline.server.messages.log_batch import decode_log_batch
from wayline.services.validation import validate_metrics

RUN = "0" * 32


def _body(metrics: list[Any], **extra: Any) -> bytes:
    return orjson.dumps({"run_id": RUN, "metrics": metrics, **extra})


def _points(keys: list[str], n: int) -> list[dict[str, Any]]:
    """``n`` steps of each key, interleaved as a client sends them; steps descend for the odd keys."""
    return [
        {"key": key, "value": step / 7 + k, "timestamp": 1000 + step, "step": step if k % 2 == 0 else -step}
        for step in range(n)
        for k, key in enumerate(keys)
    ]


def _expected(raw: list[dict[str, Any]]) -> list[Metric]:
    return [Metric(p["key"], float(p["value"]), int(p["timestamp"]), int(p.get("step", 0))) for p in raw]


@pytest.mark.parametrize("key_count", [1, 2, 4, 5, 23])
def test_the_usual_batch_is_columns_per_key_in_the_order_sent(key_count: int) -> None:
    keys = [f"k{i}" for i in range(key_count)]
    raw = _points(keys, 40)
    metrics = decode_log_batch(_body(raw)).metrics
    assert isinstance(metrics, MetricColumns)
    assert list(metrics.columns) == keys
    for k, key in enumerate(keys):
        steps, timestamps, values = metrics.columns[key]
        assert steps == [s if k % 2 == 0 else -s for s in range(40)]
        assert timestamps == [1000 + s for s in range(40)]
        assert values == [s / 7 + k for s in range(40)]
    assert list(metrics) == _expected(raw)
    assert len(metrics) == len(raw)
    assert metrics[3] == _expected(raw)[3]
    assert list(metrics[-3:]) == _expected(raw)[-3:]


def test_a_batch_without_steps_logs_them_at_step_zero() -> None:
    raw = [{"key": "m", "value": 1.5, "timestamp": 7}, {"key": "n", "value": -0.0, "timestamp": 8}]
    metrics = decode_log_batch(_body(raw)).metrics
    assert isinstance(metrics, MetricColumns)
    assert list(metrics) == [Metric("m", 1.5, 7, 0), Metric("n", -0.0, 8, 0)]


@pytest.mark.parametrize(
    "odd_point",
    [
        {"key": "m", "value": 2, "timestamp": 5, "step": 1},  # an integer value
        {"key": "m", "value": "NaN", "timestamp": 5, "step": 1},  # protobuf's JSON spelling
        {"key": "m", "value": 2.0, "timestamp": "5", "step": 1},  # an int64 as a string
        {"key": "m", "value": 2.0, "timestamp": 5.0, "step": 1},  # an integral float
        {"key": "m", "value": 2.0, "timestamp": 5},  # no step, where the others have one
        {"key": "m", "value": 2.0, "timestamp": 5, "step": 1, "model_id": ""},  # an empty model id
    ],
)
def test_any_other_batch_is_read_point_by_point_to_the_same_points(odd_point: dict[str, Any]) -> None:
    raw = [*_points(["a", "b"], 3), odd_point]
    metrics = decode_log_batch(_body(raw)).metrics
    assert not isinstance(metrics, MetricColumns)
    value = metrics[-1].value
    assert value == 2.0 or math.isnan(value)
    assert (metrics[-1].key, metrics[-1].timestamp) == ("m", 5)
    assert list(metrics[:-1]) == _expected(raw[:-1])


def test_a_point_of_a_logged_model_keeps_its_link() -> None:
    raw = [*_points(["a"], 2), {"key": "m", "value": 1.0, "timestamp": 5, "step": 1, "model_id": "m-1"}]
    batch = decode_log_batch(_body(raw))
    assert [(link.index, link.model_id) for link in batch.links] == [(2, "m-1")]
    assert batch.metrics[2] == Metric("m", 1.0, 5, 1)


@pytest.mark.parametrize(
    ("odd_point", "field"),
    [
        ({"key": "", "value": 1.0, "timestamp": 5, "step": 1}, "metrics[2].key"),
        ({"key": ["m"], "value": 1.0, "timestamp": 5, "step": 1}, "metrics[2].key"),
        ({"key": {"m": 1}, "value": 1.0, "timestamp": 5, "step": 1}, "metrics[2].key"),
        ({"key": "m", "value": None, "timestamp": 5, "step": 1}, "metrics[2].value"),
        ({"key": "m", "value": 1.0, "timestamp": True, "step": 1}, "metrics[2].timestamp"),
        ({"key": "m", "value": 1.0, "timestamp": 5, "step": [1]}, "metrics[2].step"),
        (["m", 1.0, 5, 1], "metrics[2]"),
    ],
)
def test_a_bad_point_is_refused_naming_it(odd_point: Any, field: str) -> None:
    raw: list[Any] = [*_points(["a"], 2), odd_point]
    with pytest.raises(InvalidParameterValue) as caught:
        decode_log_batch(_body(raw))
    assert field in caught.value.message


def test_columns_out_of_int64_are_refused_naming_the_field() -> None:
    raw = [*_points(["a"], 2), {"key": "a", "value": 1.0, "timestamp": 5, "step": 2**63}]
    metrics = decode_log_batch(_body(raw)).metrics
    assert isinstance(metrics, MetricColumns)
    with pytest.raises(InvalidParameterValue) as caught:
        validate_metrics(metrics)
    assert "metrics[a].step" in caught.value.message
    assert "64-bit" in caught.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (b"-9223372036854775809", "step"),  # -2**63 - 1: the parser makes it a float, -2**63 exactly
        (b"-1e19", "step"),
        (b"9.3e18", "step"),
    ],
)
def test_an_integer_beyond_int64_read_as_a_float_is_refused(text: bytes, field: str) -> None:
    body = b'{"run_id": "%s", "metrics": [{"key": "a", "value": 1.0, "timestamp": 5, "step": %s}]}' % (
        RUN.encode(),
        text,
    )
    with pytest.raises(InvalidParameterValue) as caught:
        decode_log_batch(body)
    assert f"metrics[0].{field}" in caught.value.message
    assert "64-bit" in caught.value.message


def test_the_int64_bounds_themselves_are_kept_exactly() -> None:
    body = (
        b'{"run_id": "%s", "metrics": [{"key": "a", "value": 1.0, "timestamp": 9223372036854775807,'
        b' "step": -9223372036854775808}, {"key": "a", "value": 2.0, "timestamp": 1, "step": 1e18}]}'
    ) % RUN.encode()
    first, second = validate_metrics(decode_log_batch(body).metrics)
    assert (first.timestamp, first.step) == (2**63 - 1, -(2**63))
    assert second.step == 10**18


def test_columns_with_a_bad_key_are_refused_naming_the_field() -> None:
    metrics = decode_log_batch(_body(_points(["ok", "../up"], 2))).metrics
    assert isinstance(metrics, MetricColumns)
    with pytest.raises(InvalidParameterValue) as caught:
        validate_metrics(metrics)
    assert "metrics.key" in caught.value.message


def test_valid_columns_pass_as_they_are_and_keys_spelled_apart_are_normalized() -> None:
    metrics = decode_log_batch(_body(_points(["a", "b"], 3))).metrics
    assert validate_metrics(metrics) is metrics
    decomposed, composed = "e\u0301", "\u00e9"
    spelled = decode_log_batch(_body(_points([decomposed, composed], 2))).metrics
    checked = validate_metrics(spelled)
    assert [m.key for m in checked] == [composed] * 4
    assert [m.step for m in checked] == [0, 0, 1, -1]
