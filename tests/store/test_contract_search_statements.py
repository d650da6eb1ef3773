"""A search's statements are built once per search shape (filter text, order, experiments, view type, page
size, first or later page) and reused: the statements, never the answers, and a later page's sort values are
bound at each call. Each test asks a search, changes what it should see or asks one that differs in a single
part of its shape, and checks that the answer follows, for every kind of order (a metric, param or tag key
walked in index order; the default and attribute orders, sorted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from wayline.entities import Metric, Page, Param, Run, RunTag, ViewType
from wayline.store.sql import SqlTrackingStore

#: An order and the names it gives runs ``a`` (m 0.2, p "a", t "a", started first) and ``b`` (m 0.1, p "b",
#: t "b", started later).
ORDERS: list[tuple[list[str] | None, list[str]]] = [
    (["metrics.m ASC"], ["b", "a"]),
    (["params.p DESC"], ["b", "a"]),
    (["tags.t ASC"], ["a", "b"]),
    (None, ["b", "a"]),
    (["attributes.start_time ASC"], ["a", "b"]),
]


#: One of ``ORDERS``.
Case = tuple[list[str] | None, list[str]]


@pytest.fixture(params=ORDERS, ids=lambda case: str(case[0]))
def case(request: pytest.FixtureRequest) -> Case:
    order_case: Case = request.param
    return order_case


def _names(page: Page[Run]) -> list[str]:
    return [run.info.run_name for run in page]


def _logged(new_run: Callable[..., str], store: SqlTrackingStore, name: str, value: float, **kw: str) -> str:
    run_id: str = new_run(name=name, **kw)
    store.log_batch(
        run_id, metrics=[Metric("m", value, 1, 0)], params=[Param("p", name)], tags=[RunTag("t", name)]
    )
    return run_id


def _pair(new_run: Callable[..., str], store: SqlTrackingStore, **kw: str) -> tuple[str, str]:
    return _logged(new_run, store, "a", 0.2, **kw), _logged(new_run, store, "b", 0.1, **kw)


def test_a_repeated_search_sees_what_changed_in_between(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str], case: Case
) -> None:
    order, both = case

    def search() -> list[str]:
        return _names(store.search_runs([experiment_id], filter_string="metrics.m < 0.5", order_by=order))

    first = _logged(new_run, store, "a", 0.2)
    assert search() == ["a"]
    second = _logged(new_run, store, "b", 0.1)
    assert search() == both
    store.delete_run(first)
    assert search() == ["b"]
    store.log_batch(second, metrics=[Metric("m", 0.9, 2, 1)])  # its latest value no longer matches
    assert search() == []


def test_searches_differing_only_in_a_literal_answer_apart(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str], case: Case
) -> None:
    order, both = case
    _pair(new_run, store)

    def search(filter_string: str) -> list[str]:
        return _names(store.search_runs([experiment_id], filter_string=filter_string, order_by=order))

    for _ in range(2):  # each shape asked again after the others
        assert search("metrics.m < 0.15") == ["b"]
        assert search("metrics.m < 0.5") == both
        assert search("params.p = 'a'") == ["a"]
        assert search("params.p = 'b'") == ["b"]
        assert search("tags.t != 'b'") == ["a"]


def test_searches_differing_only_in_experiments_or_view_answer_apart(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str], case: Case
) -> None:
    order, both = case
    other = store.create_experiment("other")
    a, _ = _pair(new_run, store)
    _logged(new_run, store, "c", 0.3, experiment=other)
    store.delete_run(a)

    def search(ids: Sequence[str], view: ViewType = ViewType.ACTIVE_ONLY) -> list[str]:
        return _names(store.search_runs(ids, filter_string="metrics.m < 0.5", order_by=order, view_type=view))

    for _ in range(2):
        assert search([experiment_id]) == ["b"]
        assert search([other]) == ["c"]
        assert sorted(search([experiment_id, other])) == ["b", "c"]
        assert search([experiment_id], ViewType.DELETED_ONLY) == ["a"]
        assert search([experiment_id], ViewType.ALL) == both


def test_page_sizes_and_the_pages_after_a_reused_first_page(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str], case: Case
) -> None:
    order, both = case
    _pair(new_run, store)
    for _ in range(2):
        one = store.search_runs([experiment_id], order_by=order, max_results=1)
        assert _names(one) == both[:1]
        assert one.next_page_token
        rest = store.search_runs(
            [experiment_id], order_by=order, max_results=1, page_token=one.next_page_token
        )
        assert _names(rest) == both[1:]
        assert _names(store.search_runs([experiment_id], order_by=order, max_results=2)) == both


def test_every_later_page_reads_after_its_own_token(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str], case: Case
) -> None:
    order, _ = case
    for name, value in zip("cafgbed", [0.4, 0.1, 0.7, 0.3, 0.6, 0.2, 0.5], strict=True):
        _logged(new_run, store, name, value)
    for filter_string in (None, "metrics.m < 0.55"):
        whole = _names(store.search_runs([experiment_id], filter_string=filter_string, order_by=order))
        assert len(whole) == (7 if filter_string is None else 5)
        for _ in range(2):  # the later pages' statements are built once and serve every token
            paged: list[str] = []
            token = None
            for _ in range(len(whole)):  # bounded: a page that did not move on would loop
                page = store.search_runs(
                    [experiment_id],
                    filter_string=filter_string,
                    order_by=order,
                    max_results=2,
                    page_token=token,
                )
                paged.extend(_names(page))
                token = page.next_page_token
                if not token:
                    break
            assert paged == whole
