"""Runs whose params and tags come as key-value documents (as the SQL store reads them) behave as runs built
from dicts, and go out on the wire as the same JSON."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import orjson
import pytest

from wayline.entities import LifecycleStage, Metric, Run, RunData, RunInfo, RunStatus
from wayline.wire import run_to_json

_INFO = RunInfo("r1", "0", "name", "u", RunStatus.RUNNING, 1, None, "file:///a", LifecycleStage.ACTIVE)
_METRICS = (Metric("loss", 0.5, 10, 2),)
_PARAMS = '[{"key":"a","value":"1"},{"key":"b","value":"say \\"hi\\"\\n"}]'
_TAGS = '[{"key":"mlflow.runName","value":"name"}]'


def _documents(params: str = _PARAMS, tags: str = _TAGS) -> RunData:
    return RunData.of_documents(_METRICS, params, tags)


def _dicts() -> RunData:
    return RunData(_METRICS, {"a": "1", "b": 'say "hi"\n'}, {"mlflow.runName": "name"})


def test_documents_read_as_the_dicts_they_hold() -> None:
    data = _documents()
    assert data.params == {"a": "1", "b": 'say "hi"\n'}
    assert list(data.params) == ["a", "b"]
    assert data.params is data.params  # decoded once
    assert data == _dicts()
    assert repr(data) == repr(_dicts())
    assert data.document("params") == _PARAMS  # still there after decoding
    assert _dicts().document("tags") is None


@pytest.mark.parametrize(
    "clone",
    [
        lambda d: pickle.loads(pickle.dumps(d)),
        copy.copy,
        copy.deepcopy,
        lambda d: dataclasses.replace(d, metrics=()),
    ],
    ids=["pickle", "copy", "deepcopy", "replace"],
)
def test_copies_keep_the_pairs(clone: object) -> None:
    for data in (_documents(), _dicts()):
        copied = clone(data)  # type: ignore[operator]
        assert copied.params == _dicts().params
        assert copied.tags == _dicts().tags


def test_documents_are_frozen_and_know_only_their_fields() -> None:
    data = _documents()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.params = {}  # type: ignore[misc]
    with pytest.raises(AttributeError, match="no attribute 'parms'"):
        data.parms  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError):
        RunData().parms  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize("empty", ["[]", "{}"])
def test_empty_documents_are_empty(empty: str) -> None:
    data = _documents(empty, empty)
    assert (data.params, data.tags) == ({}, {})
    assert "params" not in run_to_json(Run(_INFO, data))["data"]


def test_the_wire_sends_the_documents_as_dicts_would_be_sent() -> None:
    from_documents = orjson.dumps(run_to_json(Run(_INFO, _documents())))
    from_dicts = orjson.dumps(run_to_json(Run(_INFO, _dicts())))
    assert from_documents == from_dicts
    assert _PARAMS.encode() in from_documents  # copied in, not re-encoded
