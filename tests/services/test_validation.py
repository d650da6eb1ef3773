from __future__ import annotations

import math

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameterValue
from wayline.services import limits
from wayline.services import validation as v


@pytest.mark.parametrize("key", ["loss", "val/acc", "a.b-c_d", "with space", "ns:key", "ünïcode"])
def test_good_keys(key: str) -> None:
    assert v.validate_key(key, field="key") == key


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "must not be empty"),
        ("../escape", "normalized relative paths"),
        ("/abs", "normalized relative paths"),
        ("a//b", "normalized relative paths"),
        ("a/./b", "normalized relative paths"),
        ("bad\x00key", "may only contain"),
        ("semi;colon", "may only contain"),
        ("x" * (limits.MAX_ENTITY_KEY_LENGTH + 1), "longer than the limit"),
        (42, "must be a string"),
    ],
)
def test_bad_keys_name_the_field(key: object, why: str) -> None:
    with pytest.raises(InvalidParameterValue, match=why) as info:
        v.validate_key(key, field="metrics.key")
    assert "'metrics.key'" in str(info.value)


def test_nfc_normalization_makes_lookalikes_one_name() -> None:
    composed = "caf\u00e9"
    decomposed = "cafe\u0301"
    assert v.validate_experiment_name(decomposed) == v.validate_experiment_name(composed)
    assert v.validate_key(decomposed, field="k") == composed


@pytest.mark.parametrize("value", [1, 1.5, -0.0, math.inf, -math.inf, math.nan])
def test_metric_values(value: float) -> None:
    out = v.validate_metric_value(value, field="value")
    assert (math.isnan(out) and math.isnan(value)) or out == value


@pytest.mark.parametrize("value", ["1.0", None, True, [1]])
def test_bad_metric_values(value: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'value'"):
        v.validate_metric_value(value, field="value")


def test_numpy_scalars_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    assert v.validate_metric_value(np.float32(0.5), field="value") == 0.5
    assert v.validate_metric_value(np.int64(3), field="value") == 3.0


def test_batch_limits() -> None:
    metric = Metric("m", 1.0, 0, 0)
    with pytest.raises(InvalidParameterValue, match="'metrics'"):
        v.validate_batch([metric] * 1001, [], [])
    with pytest.raises(InvalidParameterValue, match="'params'"):
        v.validate_batch([], [Param(f"p{i}", "v") for i in range(101)], [])
    with pytest.raises(InvalidParameterValue, match="'tags'"):
        v.validate_batch([], [], [RunTag(f"t{i}", "v") for i in range(101)])
    with pytest.raises(InvalidParameterValue, match="'batch'"):
        v.validate_batch([metric] * 950, [Param(f"p{i}", "v") for i in range(51)], [])
    metrics, params, tags = v.validate_batch([metric] * 998, [Param("p", "v")] * 2, [])
    assert len(metrics) == 998
    assert params == [Param("p", "v")]
    assert tags == []


def test_duplicate_param_with_two_values_in_one_batch() -> None:
    with pytest.raises(InvalidParameterValue, match="Duplicate parameter key 'lr'"):
        v.validate_batch([], [Param("lr", "0.1"), Param("lr", "0.2")], [])


def test_value_lengths() -> None:
    long_param = "x" * (limits.MAX_PARAM_VALUE_LENGTH + 1)
    with pytest.raises(InvalidParameterValue, match=r"params\[p\]\.value"):
        v.validate_param(Param("p", long_param))
    assert v.validate_param(Param("p", "x" * limits.MAX_PARAM_VALUE_LENGTH)).value
    with pytest.raises(InvalidParameterValue, match=r"tags\[t\]\.value"):
        v.validate_tag(RunTag("t", "x" * (limits.MAX_TAG_VALUE_LENGTH + 1)))


@pytest.mark.parametrize("step", [2**63, -(2**63) - 1, 1.5, "3", True])
def test_step_must_be_int64(step: object) -> None:
    with pytest.raises(InvalidParameterValue, match=r"metrics\[m\]\.step"):
        v.validate_metric(Metric("m", 1.0, 0, step))  # type: ignore[arg-type]


@pytest.mark.parametrize("run_id", ["", "../x", "a" * 300, "has space", 5])
def test_bad_run_ids(run_id: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'run_id'"):
        v.validate_run_id(run_id)


@pytest.mark.parametrize("experiment_id", ["", "abc", "-1", "1.0", "1" * 20])
def test_bad_experiment_ids(experiment_id: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'experiment_id'"):
        v.validate_experiment_id(experiment_id)


def test_experiment_names() -> None:
    assert v.validate_experiment_name("  spaced  ") == "spaced"
    for bad in ["", "   ", "bell\x07", "x" * (limits.MAX_EXPERIMENT_NAME_LENGTH + 1)]:
        with pytest.raises(InvalidParameterValue, match="'name'"):
            v.validate_experiment_name(bad)


@pytest.mark.parametrize("value", [0, -1, 50001, "10", True])
def test_max_results(value: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'max_results'"):
        v.validate_max_results(value, maximum=50000)


def test_batch_fast_path_keeps_the_rules() -> None:
    """Points already in final form pass through; others are converted or refused as one at a time."""
    fast = Metric("loss", 0.5, 1, 2)
    out = v.validate_metrics([fast, Metric("loss", 3, 1, 2), Metric("cafe\u0301", 1.0, 1, 2)])
    assert out[0] is fast
    assert out[1] == Metric("loss", 3.0, 1, 2)
    assert isinstance(out[1].value, float)
    assert out[2].key == "caf\u00e9"
    with pytest.raises(InvalidParameterValue, match=r"'metrics\.key'"):
        v.validate_metrics([fast, Metric("../up", 1.0, 1, 2)])
    with pytest.raises(InvalidParameterValue, match=r"metrics\[loss\]\.step"):
        v.validate_metrics([fast, Metric("loss", 1.0, 1, 2**63)])
    with pytest.raises(InvalidParameterValue, match=r"metrics\[loss\]\.value"):
        v.validate_metrics([Metric("loss", True, 1, 2)])
