"""Registry searches on SQLite and PostgreSQL: filters on registered models and model versions, orders,
keyset pages, and the errors of bad filters, orders and tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest

from wayline.entities import Page
from wayline.entities.registry import RegistryOrder, Stage
from wayline.errors import InvalidParameterValue, SearchSyntaxError
from wayline.store.sql import SqlRegistryStore, SqlTrackingStore

T = TypeVar("T")
RUN_A = "a" * 32
RUN_B = "b" * 32


@pytest.fixture
def registry(store: SqlTrackingStore) -> Iterator[SqlRegistryStore]:
    with SqlRegistryStore(engine=store.engine) as opened:
        yield opened


@pytest.fixture
def models(registry: SqlRegistryStore) -> SqlRegistryStore:
    """Six models with tags; ``beta`` and ``gamma`` have versions."""
    registry.create_registered_model("alpha", tags={"team": "ml", "env": "prod"})
    registry.create_registered_model("Beta", tags={"team": "ML", "my key.x": "dotted"})
    registry.create_registered_model("beta", tags={"team": "data"})
    registry.create_registered_model("gamma", tags={"team": "ml", "env": "dev"})
    registry.create_registered_model("a_b", tags={"pattern": "50%_off"})
    registry.create_registered_model("axb")
    registry.create_model_version("beta", "s3://b/1")
    registry.create_model_version("gamma", "s3://b/2")
    return registry


@pytest.fixture
def versions(registry: SqlRegistryStore) -> SqlRegistryStore:
    """``m1`` with versions 1-4, ``m2`` with 1-2, ``other`` with 1; stages, runs, sources and tags vary."""
    registry.create_registered_model("m1")
    registry.create_registered_model("m2")
    registry.create_registered_model("other")
    for i in range(1, 5):
        registry.create_model_version(
            "m1", f"s3://bucket/m1/{i}", run_id=RUN_A if i % 2 else RUN_B, tags={"n": str(i)}
        )
    registry.create_model_version("m2", "s3://bucket/m2/1", run_id=RUN_A, tags={"n": "1", "q": "yes"})
    registry.create_model_version("m2", "file:///local/m2/2")
    registry.create_model_version("other", "s3://elsewhere/1", tags={"q": "no"})
    registry.transition_model_version_stage("m1", 2, Stage.PRODUCTION)
    registry.transition_model_version_stage("m1", 3, Stage.STAGING)
    registry.transition_model_version_stage("m2", 1, Stage.PRODUCTION)
    registry.set_registered_model_alias("m1", "champion", 2)
    return registry


def _names(registry: SqlRegistryStore, filter_string: str | None = None, **kwargs: Any) -> list[str]:
    page = registry.search_registered_models(filter_string=filter_string, **kwargs)
    assert page.next_page_token is None
    return [m.name for m in page]


def _versions(registry: SqlRegistryStore, filter_string: str | None = None, **kwargs: Any) -> list[str]:
    page = registry.search_model_versions(filter_string=filter_string, **kwargs)
    assert page.next_page_token is None
    return [f"{v.name}/{v.version}" for v in page]


def _all_pages(search: Callable[..., Page[T]], size: int, **kwargs: Any) -> tuple[list[T], int]:
    items: list[T] = []
    token: str | None = None
    pages = 0
    while True:
        page = search(max_results=size, page_token=token, **kwargs)
        items += page.items
        pages += 1
        assert len(page.items) <= size
        token = page.next_page_token
        if token is None:
            return items, pages


# -- registered models: filters ------------------------------------------------------------------------------
def test_models_default_order_is_name_bytewise(models: SqlRegistryStore) -> None:
    assert _names(models) == ["Beta", "a_b", "alpha", "axb", "beta", "gamma"]
    assert _names(models, "  ") == _names(models)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'beta'", ["beta"]),
        ("name='beta'", ["beta"]),
        ('name = "Beta"', ["Beta"]),
        ("name != 'beta'", ["Beta", "a_b", "alpha", "axb", "gamma"]),
        ("name LIKE 'b%'", ["beta"]),
        ("name like '%eta'", ["Beta", "beta"]),
        ("name ILIKE 'B%'", ["Beta", "beta"]),
        ("name LIKE 'a_b'", ["a_b", "axb"]),
        ("name LIKE 'a\\_b'", ["a_b"]),
        ("name IN ('alpha', 'gamma', 'nope')", ["alpha", "gamma"]),
        ("name NOT IN ('alpha', 'gamma')", ["Beta", "a_b", "axb", "beta"]),
        ("attributes.name = 'alpha'", ["alpha"]),
        ("`name` = 'alpha'", ["alpha"]),
        ("tags.team = 'ml'", ["alpha", "gamma"]),
        ("tag.team = 'ml'", ["alpha", "gamma"]),
        ("tags.team != 'ml'", ["Beta", "beta"]),  # models without the tag never match
        ("tags.team LIKE 'm%'", ["alpha", "gamma"]),
        ("tags.team ILIKE 'm%'", ["Beta", "alpha", "gamma"]),
        ("tags.team = 'ml' AND tags.env = 'prod'", ["alpha"]),
        ("tags.team = 'ml' and tags.env = 'prod' and name LIKE 'a%'", ["alpha"]),
        ("tags.team = 'ml' AND tags.env = 'staging'", []),
        ("tags.`my key.x` = 'dotted'", ["Beta"]),
        ("tags.my key = 'dotted'", None),  # a syntax error, see below
        ("tags.pattern LIKE '50\\%\\_off'", ["a_b"]),
        ("tags.pattern LIKE '50\\%x%'", []),
        ("tags.nothing = 'x'", []),
    ],
)
def test_model_filters(models: SqlRegistryStore, filter_string: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(SearchSyntaxError):
            models.search_registered_models(filter_string=filter_string)
        return
    assert _names(models, filter_string) == expected


def test_found_models_are_whole(models: SqlRegistryStore) -> None:
    models.set_registered_model_alias("gamma", "champion", 1)
    (gamma,) = models.search_registered_models(filter_string="name = 'gamma'")
    assert gamma == models.get_registered_model("gamma")
    assert [v.version for v in gamma.latest_versions] == [1]
    assert gamma.latest_versions[0].aliases == ("champion",)


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("owner = 'x'", "unknown key 'owner'.*name"),
        ("version_number = 1", "unknown key 'version_number'"),
        ("name = 'a' OR name = 'b'", "OR is not supported"),
        ("(name = 'a')", "parentheses are not supported"),
        ("name = 'a' AND (name = 'b')", "parentheses are not supported"),
        ("name = alpha", "expected a quoted string"),
        ("name = 1", "expected a quoted string"),
        ("name > 'a'", "operator '>' is not valid for 'name'"),
        ("tags.team IN ('ml')", "operator 'IN' is not valid for 'tags.team'"),
        ("tags.team IS NULL", "IS NULL and IS NOT NULL are not supported"),
        ("tags = 'x'", "'tags' needs a key name"),
        ("name", "expected a comparison operator"),
        ("name = 'a' name = 'b'", "expected AND or the end"),
        ("name = 'a' AND", "expected a key"),
        ("name IN ()", "needs at least one value"),
        ("name IN ('a' 'b')", "expected ',' or '\\)'"),
        ("name NOT LIKE 'a'", "expected IN after NOT"),
        ("name = 'unterminated", "unterminated string"),
        ("name = 'a' & name = 'b'", "use AND / OR"),
    ],
)
def test_bad_model_filters(models: SqlRegistryStore, filter_string: str, message: str) -> None:
    with pytest.raises(SearchSyntaxError, match=message) as caught:
        models.search_registered_models(filter_string=filter_string)
    assert isinstance(caught.value, InvalidParameterValue)
    assert "position" in str(caught.value)


def test_too_long_filters_are_refused(models: SqlRegistryStore) -> None:
    with pytest.raises(SearchSyntaxError, match="filter is too long"):
        models.search_registered_models(filter_string="name = '" + "x" * 30_000 + "'")


# -- registered models: orders and pages ---------------------------------------------------------------------
def test_model_orders(models: SqlRegistryStore) -> None:
    everything = list(models.search_registered_models())
    models.update_registered_model("alpha", description="touched")

    by_created = sorted(everything, key=lambda m: (-m.creation_timestamp, m.name))
    assert _names(models, order_by=[RegistryOrder("creation_timestamp", ascending=False)]) == [
        m.name for m in by_created
    ]
    current = list(models.search_registered_models())
    by_updated = sorted(current, key=lambda m: (m.last_updated_timestamp, m.name))
    expected = [m.name for m in by_updated]
    assert _names(models, order_by=[RegistryOrder("last_updated_timestamp")]) == expected
    assert _names(models, order_by=[RegistryOrder("timestamp")]) == expected
    assert _names(models, order_by=[RegistryOrder("timestamp", ascending=False)])[0] == "alpha"
    assert _names(models, order_by=[RegistryOrder("name", ascending=False)]) == [
        "gamma",
        "beta",
        "axb",
        "alpha",
        "a_b",
        "Beta",
    ]


@pytest.mark.parametrize(
    ("orders", "message"),
    [
        ([RegistryOrder("owner")], "'owner' for parameter 'order_by'"),
        ([RegistryOrder("version_number")], "'version_number' for parameter 'order_by'"),
        ([RegistryOrder("name"), RegistryOrder("name", ascending=False)], "appears more than once"),
        ([RegistryOrder("timestamp"), RegistryOrder("last_updated_timestamp")], "appears more than once"),
    ],
)
def test_bad_model_orders(models: SqlRegistryStore, orders: list[RegistryOrder], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        models.search_registered_models(order_by=orders)


@pytest.mark.parametrize(
    "orders",
    [
        [],
        [RegistryOrder("name", ascending=False)],
        [RegistryOrder("creation_timestamp")],
        [RegistryOrder("last_updated_timestamp", ascending=False)],
    ],
)
def test_model_pages_cover_every_match_once(models: SqlRegistryStore, orders: list[RegistryOrder]) -> None:
    for i in range(20):
        models.create_registered_model(f"bulk-{i:02d}", tags={"bulk": "yes"})
    whole = [m.name for m in models.search_registered_models(order_by=orders)]
    paged, pages = _all_pages(models.search_registered_models, 3, order_by=orders)
    assert [m.name for m in paged] == whole
    assert pages == 9  # 26 models

    tagged, _ = _all_pages(models.search_registered_models, 4, filter_string="tags.bulk = 'yes'")
    assert [m.name for m in tagged] == [f"bulk-{i:02d}" for i in range(20)]


def _tampered(token: str, change: Callable[[dict[str, Any]], None]) -> str:
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    change(payload)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_model_page_tokens_are_checked(models: SqlRegistryStore) -> None:
    first = models.search_registered_models(max_results=2)
    token = first.next_page_token
    assert token is not None

    def set_values(values: list[Any]) -> Callable[[dict[str, Any]], None]:
        return lambda payload: payload.__setitem__("s", values)

    bad_tokens = [
        "not-a-token!",
        "e30",  # {}
        _tampered(token, set_values([1])),
        _tampered(token, set_values([None])),
        _tampered(token, set_values(["a", "b"])),
        _tampered(token, lambda payload: payload.__setitem__("k", "model_versions")),
    ]
    for bad in bad_tokens:
        with pytest.raises(InvalidParameterValue, match="page_token"):
            models.search_registered_models(max_results=2, page_token=bad)
    # A token belongs to its query: another filter or order refuses it.
    with pytest.raises(InvalidParameterValue, match="another query"):
        models.search_registered_models(max_results=2, page_token=token, filter_string="name = 'x'")
    with pytest.raises(InvalidParameterValue, match="another query"):
        models.search_registered_models(
            max_results=2, page_token=token, order_by=[RegistryOrder("name", ascending=False)]
        )
    with pytest.raises(InvalidParameterValue, match="page_token"):
        models.search_model_versions(max_results=2, page_token=token)
    second = models.search_registered_models(max_results=2, page_token=token)
    assert [m.name for m in second] == ["alpha", "axb"]


@pytest.mark.parametrize("size", [0, -1, 1001, True, "10"])
def test_model_page_sizes(models: SqlRegistryStore, size: Any) -> None:
    with pytest.raises(InvalidParameterValue, match="max_results"):
        models.search_registered_models(max_results=size)


def test_model_page_size_limits(models: SqlRegistryStore) -> None:
    assert len(models.search_registered_models(max_results=1000)) == 6
    assert len(models.search_registered_models(max_results=1)) == 1


# -- model versions: filters ---------------------------------------------------------------------------------
def test_versions_default_order_is_name_then_newest(versions: SqlRegistryStore) -> None:
    assert _versions(versions) == ["m1/4", "m1/3", "m1/2", "m1/1", "m2/2", "m2/1", "other/1"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'm1'", ["m1/4", "m1/3", "m1/2", "m1/1"]),
        ("name != 'm1'", ["m2/2", "m2/1", "other/1"]),
        ("name LIKE 'm%'", ["m1/4", "m1/3", "m1/2", "m1/1", "m2/2", "m2/1"]),
        ("name ILIKE 'M2'", ["m2/2", "m2/1"]),
        ("name IN ('m2', 'other')", ["m2/2", "m2/1", "other/1"]),
        ("name = 'm1' AND version_number = 2", ["m1/2"]),
        ("name = 'm1' AND version_number = '2'", ["m1/2"]),
        ("name = 'm1' AND version_number != 2", ["m1/4", "m1/3", "m1/1"]),
        ("name = 'm1' AND version_number > 2", ["m1/4", "m1/3"]),
        ("name = 'm1' AND version_number >= 2", ["m1/4", "m1/3", "m1/2"]),
        ("version_number < 2", ["m1/1", "m2/1", "other/1"]),
        ("version_number <= 1", ["m1/1", "m2/1", "other/1"]),
        (f"run_id = '{RUN_B}'", ["m1/4", "m1/2"]),
        (f"run_id != '{RUN_B}'", ["m1/3", "m1/1", "m2/2", "m2/1", "other/1"]),
        (f"run_id IN ('{RUN_A}', 'zzz')", ["m1/3", "m1/1", "m2/1"]),
        (f"run_id NOT IN ('{RUN_A}')", ["m1/4", "m1/2", "m2/2", "other/1"]),
        ("run_id = ''", ["m2/2", "other/1"]),
        ("source_path = 's3://bucket/m1/3'", ["m1/3"]),
        ("source_path LIKE 's3://bucket/%'", ["m1/4", "m1/3", "m1/2", "m1/1", "m2/1"]),
        ("source_path ILIKE 'FILE://%'", ["m2/2"]),
        ("source_path != 's3://elsewhere/1'", ["m1/4", "m1/3", "m1/2", "m1/1", "m2/2", "m2/1"]),
        ("current_stage = 'Production'", ["m1/2", "m2/1"]),
        ("current_stage = 'production'", ["m1/2", "m2/1"]),
        ("current_stage != 'None'", ["m1/3", "m1/2", "m2/1"]),
        ("current_stage IN ('staging', 'PRODUCTION')", ["m1/3", "m1/2", "m2/1"]),
        ("current_stage NOT IN ('None', 'Staging')", ["m1/2", "m2/1"]),
        ("tags.n = '1'", ["m1/1", "m2/1"]),
        ("tags.n != '1'", ["m1/4", "m1/3", "m1/2"]),  # versions without the tag never match
        ("tags.q LIKE '%'", ["m2/1", "other/1"]),
        ("tags.q ILIKE 'YES'", ["m2/1"]),
        ("tags.n = '1' AND tags.q = 'yes'", ["m2/1"]),
        ("name = 'm1' AND tags.n > '2'", None),  # a syntax error, see below
        (f"name = 'm1' AND run_id = '{RUN_A}' AND current_stage = 'Staging'", ["m1/3"]),
    ],
)
def test_version_filters(versions: SqlRegistryStore, filter_string: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(SearchSyntaxError):
            versions.search_model_versions(filter_string=filter_string)
        return
    assert _versions(versions, filter_string) == expected


def test_found_versions_are_whole(versions: SqlRegistryStore) -> None:
    (found,) = versions.search_model_versions(filter_string="name = 'm1' AND version_number = 2")
    assert found == versions.get_model_version("m1", 2)
    assert found.aliases == ("champion",)
    assert found.tags == {"n": "2"}
    assert found.current_stage is Stage.PRODUCTION


@pytest.mark.parametrize(
    ("filter_string", "message"),
    [
        ("version = 1", "unknown key 'version'"),
        ("stage = 'None'", "unknown key 'stage'"),
        ("version_number = 1.5", "expected an integer"),
        ("version_number = 'two'", "expected an integer"),
        ("version_number = 99999999999", "out of range"),
        ("version_number LIKE '1'", "operator 'LIKE' is not valid"),
        ("source_path IN ('a')", "operator 'IN' is not valid for 'source_path'"),
        ("current_stage LIKE 'P%'", "operator 'LIKE' is not valid"),
        ("current_stage = 'Live'", "invalid stage 'Live'.*None, Staging, Production, Archived"),
        ("current_stage IN ('Staging', 'Live')", "invalid stage 'Live'"),
        ("name = 'm1' OR name = 'm2'", "OR is not supported"),
    ],
)
def test_bad_version_filters(versions: SqlRegistryStore, filter_string: str, message: str) -> None:
    with pytest.raises(SearchSyntaxError, match=message):
        versions.search_model_versions(filter_string=filter_string)


# -- model versions: orders and pages ------------------------------------------------------------------------
def _labels(items: Sequence[Any]) -> list[str]:
    return [f"{v.name}/{v.version}" for v in items]


def test_version_orders(versions: SqlRegistryStore) -> None:
    everything = list(versions.search_model_versions())
    assert _versions(versions, order_by=[RegistryOrder("version_number")]) == [
        "m1/1",
        "m2/1",
        "other/1",
        "m1/2",
        "m2/2",
        "m1/3",
        "m1/4",
    ]
    assert _versions(
        versions, order_by=[RegistryOrder("name", ascending=False), RegistryOrder("version_number")]
    ) == ["other/1", "m2/1", "m2/2", "m1/1", "m1/2", "m1/3", "m1/4"]
    by_created = sorted(everything, key=lambda v: (v.creation_timestamp, v.name, -v.version))
    assert _versions(versions, order_by=[RegistryOrder("creation_timestamp")]) == _labels(by_created)
    by_updated = sorted(everything, key=lambda v: (-v.last_updated_timestamp, v.name, -v.version))
    assert _versions(versions, order_by=[RegistryOrder("last_updated_timestamp", ascending=False)]) == (
        _labels(by_updated)
    )
    with pytest.raises(InvalidParameterValue, match="'stage' for parameter 'order_by'"):
        versions.search_model_versions(order_by=[RegistryOrder("stage")])
    with pytest.raises(InvalidParameterValue, match="appears more than once"):
        versions.search_model_versions(order_by=[RegistryOrder("version_number")] * 2)


@pytest.mark.parametrize(
    "orders",
    [
        [],
        [RegistryOrder("version_number")],
        [RegistryOrder("last_updated_timestamp", ascending=False)],
        [RegistryOrder("creation_timestamp"), RegistryOrder("name", ascending=False)],
    ],
)
def test_version_pages_cover_every_match_once(
    versions: SqlRegistryStore, orders: list[RegistryOrder]
) -> None:
    for i in range(12):
        versions.create_model_version("m2", f"s3://bucket/m2/bulk/{i}")
    whole = _labels(list(versions.search_model_versions(order_by=orders)))
    assert len(whole) == 19
    paged, pages = _all_pages(versions.search_model_versions, 4, order_by=orders)
    assert _labels(paged) == whole
    assert pages == 5

    filtered = "name = 'm2' AND version_number > 3"
    only, _ = _all_pages(versions.search_model_versions, 5, filter_string=filtered, order_by=orders)
    assert sorted(v.version for v in only) == list(range(4, 15))


def test_version_page_tokens_and_sizes(versions: SqlRegistryStore) -> None:
    token = versions.search_model_versions(max_results=2).next_page_token
    assert token is not None
    with pytest.raises(InvalidParameterValue, match="page_token"):
        versions.search_model_versions(max_results=2, page_token=token[:-3])
    with pytest.raises(InvalidParameterValue, match="another query"):
        versions.search_model_versions(max_results=2, page_token=token, filter_string="name = 'm1'")
    with pytest.raises(InvalidParameterValue, match="page_token"):
        versions.search_registered_models(max_results=2, page_token=token)
    with pytest.raises(InvalidParameterValue, match="max_results"):
        versions.search_model_versions(max_results=200_001)
    assert len(versions.search_model_versions(max_results=200_000)) == 7
