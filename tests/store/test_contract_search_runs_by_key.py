"""search_runs ordered by one metric, param or tag (the segmented fast path): order and paging across the
segment boundaries (numbers, NaN, missing), ties, both directions, with and without a filter, with the
bounded index prefix forced to fall back to the whole segment, and with short heads, the second starting
after the first's last entry."""

from __future__ import annotations

import base64
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameterValue
from wayline.store.sql import SqlTrackingStore, run_search


@dataclass
class _Run:
    run_id: str
    metric: float | None
    param: str | None
    tag: str | None
    group: str | None


def _populate(store: SqlTrackingStore, new_run: Callable[..., str]) -> list[_Run]:
    rnd = random.Random(11)
    out: list[_Run] = []
    for i in range(41):
        run_id = new_run(name=f"r{i:02d}")
        values = [0.5, 1.0, 1.0, math.nan, math.inf, -math.inf, -2.0]
        metric = rnd.choice(values) if rnd.random() < 0.75 else None
        param = rnd.choice(["a", "b", "b", "c" * 500]) if rnd.random() < 0.7 else None
        tag = rnd.choice(["x", "Y", "y"]) if rnd.random() < 0.7 else None
        group = rnd.choice(["k", "j"]) if rnd.random() < 0.8 else None
        params = [Param("p", param)] if param is not None else []
        if group is not None:
            params.append(Param("g", group))
        store.log_batch(
            run_id,
            metrics=[Metric("m", metric, 1, 0)] if metric is not None else [],
            params=params,
            tags=[RunTag("t", tag)] if tag is not None else [],
        )
        out.append(_Run(run_id, metric, param, tag, group))
    return out


def _expected(runs: list[_Run], kind: str, ascending: bool, keep: Callable[[_Run], bool]) -> list[str]:
    """The documented order, computed with stable sorts: run_id, then the value, then NaN, then missing."""
    rows = sorted((r for r in runs if keep(r)), key=lambda r: r.run_id)
    value_of: Callable[[_Run], object] = {"metric": lambda r: r.metric, "param": lambda r: r.param}.get(
        kind, lambda r: r.tag
    )
    present = [r for r in rows if value_of(r) is not None]
    missing = [r for r in rows if value_of(r) is None]
    if kind == "metric":
        numbers = [r for r in present if not math.isnan(r.metric)]  # type: ignore[arg-type]
        nans = [r for r in present if math.isnan(r.metric)]  # type: ignore[arg-type]
        numbers.sort(key=lambda r: r.metric, reverse=not ascending)  # type: ignore[arg-type,return-value]
        present = numbers + nans if ascending else nans + numbers
    else:
        present.sort(key=lambda r: value_of(r).encode(), reverse=not ascending)  # type: ignore[attr-defined]
    return [r.run_id for r in present + missing]


def _pages(store: SqlTrackingStore, experiment_id: str, size: int, **kwargs: object) -> list[str]:
    out: list[str] = []
    token = None
    while True:
        page = store.search_runs([experiment_id], max_results=size, page_token=token, **kwargs)  # type: ignore[arg-type]
        assert len(page) <= size
        out.extend(r.info.run_id for r in page)
        token = page.next_page_token
        if token is None:
            return out


FILTERS: list[tuple[str | None, Callable[[_Run], bool]]] = [
    (None, lambda r: True),
    ("params.g = 'k'", lambda r: r.group == "k"),
    (
        "metrics.m != 1.0 and params.g IN ('k', 'j')",
        lambda r: r.group is not None and r.metric not in (None, 1.0),
    ),
    # Comparisons of the order key itself are applied to its own rows as the index is walked.
    ("metrics.m < 1.0", lambda r: r.metric is not None and r.metric < 1.0),  # NaN < 1.0 is False
    (
        "metrics.m >= 0.5 and params.p != 'a'",
        lambda r: r.metric is not None and r.metric >= 0.5 and r.param not in (None, "a"),
    ),
    ("tags.t LIKE 'y%' and metrics.m IS NOT NULL", lambda r: r.tag == "y" and r.metric is not None),
    ("params.p IS NULL and tags.t != 'x'", lambda r: r.param is None and r.tag not in (None, "x")),
]


@pytest.mark.parametrize("probe", ["default", "tiny", "staged"])
def test_order_by_one_key_pages_across_segments(
    store: SqlTrackingStore,
    experiment_id: str,
    new_run: Callable[..., str],
    probe: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if probe == "tiny":  # every bounded prefix falls short: the whole-segment query runs as well
        for factor in ("_PROBE_SHORT_FACTOR", "_PROBE_FACTOR"):
            monkeypatch.setattr(run_search, factor, 1)
        for least in ("_PROBE_SHORT_MIN", "_PROBE_MIN"):
            monkeypatch.setattr(run_search, least, 1)
    if probe == "staged":  # a page's worth of entries, then the next two pages' worth after its edge
        monkeypatch.setattr(run_search, "_PROBE_SHORT_FACTOR", 1)
        monkeypatch.setattr(run_search, "_PROBE_FACTOR", 3)
        for least in ("_PROBE_SHORT_MIN", "_PROBE_MIN"):
            monkeypatch.setattr(run_search, least, 1)
    runs = _populate(store, new_run)
    for kind, key in (("metric", "metrics.m"), ("param", "params.p"), ("tag", "tags.t")):
        for ascending in (True, False):
            order_by = [f"{key} {'ASC' if ascending else 'DESC'}"]
            for filter_string, keep in FILTERS:
                want = _expected(runs, kind, ascending, keep)
                kwargs = {"filter_string": filter_string, "order_by": order_by}
                got = [r.info.run_id for r in store.search_runs([experiment_id], **kwargs)]  # type: ignore[arg-type]
                assert got == want, (order_by, filter_string)
                for size in (1, 3, 7):
                    paged = _pages(store, experiment_id, size, **kwargs)
                    assert paged == want, (order_by, filter_string, size)


def test_one_key_order_agrees_with_the_general_order(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    """The same key followed by a tie-break that changes nothing goes through the general (CASE) path."""
    _populate(store, new_run)
    for key in ("metrics.m", "params.p", "tags.t"):
        for direction in ("ASC", "DESC"):
            fast = store.search_runs([experiment_id], order_by=[f"{key} {direction}"])
            general = store.search_runs([experiment_id], order_by=[f"{key} {direction}", "attributes.run_id"])
            assert [r.info.run_id for r in fast] == [r.info.run_id for r in general], (key, direction)


def _tampered(token: str, values: list[object]) -> str:
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["s"] = values
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_token_naming_no_segment_is_refused(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    _populate(store, new_run)
    for order_by, bad in (
        (["metrics.m DESC"], [2, 0, 1.0, "x"]),
        (["metrics.m"], [1, 1, 0.0, "x"]),
        (["params.p"], [3, "a", "x"]),
    ):
        token = store.search_runs([experiment_id], max_results=2, order_by=order_by).next_page_token
        assert token is not None
        bad_token = _tampered(token, bad)
        with pytest.raises(InvalidParameterValue, match="page_token"):
            store.search_runs([experiment_id], max_results=2, order_by=order_by, page_token=bad_token)


def test_long_values_compare_and_sort_whole(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    """Values around and beyond the indexed prefix (200 characters on PostgreSQL) compare and sort whole."""
    values = {
        "short": "é" * 199,
        "edge": "é" * 200,
        "long": "é" * 200 + "a",
        "longer": "é" * 200 + "b" * 6000,
        "other": "é" * 199 + "z",
        "wide": "\U0001f600" * 6000,  # 24 kB of UTF-8: beyond a btree entry, not beyond the prefix index
    }
    ids = {}
    for name, value in values.items():
        ids[name] = new_run(name=name)
        store.log_batch(ids[name], params=[Param("p", value)], tags=[RunTag("t", value + "!")])
    store.log_batch(ids["wide"], tags=[RunTag("wide", "\U0001f600" * 8000)])

    def names(filter_string: str, order_by: list[str] | None = None) -> list[str]:
        page = store.search_runs([experiment_id], filter_string=filter_string, order_by=order_by)
        return sorted(r.info.run_name for r in page) if order_by is None else [r.info.run_name for r in page]

    for name, value in values.items():
        assert names(f"params.p = '{value}'") == [name]
        assert names(f"tags.t = '{value}!'") == [name]
    assert names(f"params.p IN ('{values['edge']}', '{values['longer']}')") == ["edge", "longer"]
    assert names(f"params.p IN ('{values['short']}', 'x')") == ["short"]
    assert names(f"params.p != '{values['edge']}'") == ["long", "longer", "other", "short", "wide"]
    assert names(f"tags.wide = '{chr(0x1F600) * 8000}'") == ["wide"]
    by_value = sorted(values, key=lambda n: values[n].encode())
    assert names("", ["params.p"]) == by_value
    assert names("", ["params.p DESC"]) == by_value[::-1]
    assert names("", ["tags.t DESC"]) == sorted(values, key=lambda n: (values[n] + "!").encode())[::-1]
    for size in (1, 2):
        paged = _pages(store, experiment_id, size, order_by=["params.p DESC"])
        assert paged == [ids[n] for n in by_value[::-1]]


@pytest.mark.parametrize("probe", ["default", "staged"])
def test_order_by_one_key_across_experiments_pages_like_one(
    store: SqlTrackingStore, new_run: Callable[..., str], probe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of several experiments walks each one's head of the key's index in its own order and merges
    the heads: the pages, across segments and experiments, are the documented order of their runs together,
    and the runs of an experiment not searched never appear."""
    if probe == "staged":
        monkeypatch.setattr(run_search, "_PROBE_SHORT_FACTOR", 1)
        monkeypatch.setattr(run_search, "_PROBE_FACTOR", 3)
        for least in ("_PROBE_SHORT_MIN", "_PROBE_MIN"):
            monkeypatch.setattr(run_search, least, 1)
    experiments = [store.create_experiment(f"across-{e}") for e in range(3)]
    placed: dict[str, str] = {}
    turn = iter(range(10_000))

    def in_turn(name: str) -> str:
        experiment = experiments[next(turn) % 3]
        run_id = new_run(experiment, name=name)
        placed[run_id] = experiment
        return run_id

    runs = _populate(store, in_turn)
    searched = [experiments[0], experiments[2]]
    for kind, key in (("metric", "metrics.m"), ("param", "params.p"), ("tag", "tags.t")):
        for ascending in (True, False):
            order_by = [f"{key} {'ASC' if ascending else 'DESC'}"]
            for filter_string, keep in FILTERS[:3]:
                mine = [r for r in runs if placed[r.run_id] in searched]
                want = _expected(mine, kind, ascending, keep)
                kwargs = {"filter_string": filter_string, "order_by": order_by}
                for size in (2, 5, 100):
                    out: list[str] = []
                    token = None
                    while True:
                        page = store.search_runs(searched, max_results=size, page_token=token, **kwargs)  # type: ignore[arg-type]
                        out.extend(r.info.run_id for r in page)
                        token = page.next_page_token
                        if token is None:
                            break
                    assert out == want, (order_by, filter_string, size)
