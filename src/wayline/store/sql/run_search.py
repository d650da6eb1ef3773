"""``search_runs``: the filter as SQL, ORDER BY latest metrics/params/tags/attributes, keyset pages.

Order keys: missing values (a run that lacks the metric, param or tag, or a NULL ``end_time``) sort last in
both directions; NaN sorts above every number (last ascending, first descending, before missing values). Every
order ends with ``run_id ASC``, so pages are stable; the default order is ``start_time DESC, run_id ASC``. The
page's metrics, params, tags and inputs are then loaded with a few IN queries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import _de_clone
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Join

from wayline.entities import Page, Run, ViewType
from wayline.errors import InvalidParameterValue
from wayline.search import And, Comparison, Expr, Key, OrderBy, parse_filter, parse_order_by
from wayline.store.sql import experiments, keyset, page_token, runs
from wayline.store.sql import schema as t
from wayline.store.sql.driver import driver_rows
from wayline.store.sql.search_sql import (
    KEY_TABLES,
    Predicate,
    compile_run_filter,
    in_experiments,
    joinable,
    key_condition,
)
from wayline.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD

#: A row of a search statement: the driver's tuple (``driver_rows``) or SQLAlchemy's row (general path).
Row = Sequence[Any]

_KIND = "runs"
_DEFAULT_ORDER = [OrderBy(Key("attribute", "start_time"), ascending=False)]
_ATTRIBUTES: dict[str, tuple[sa.Column[Any], tuple[type, ...], bool]] = {
    # name: (column, token types, nullable)
    "run_id": (t.runs.c.run_id, keyset.STRING, False),
    "run_name": (t.runs.c.name, keyset.STRING, False),
    "status": (t.runs.c.status, keyset.STRING, False),
    "user_id": (t.runs.c.user_id, keyset.STRING, False),
    "artifact_uri": (t.runs.c.artifact_uri, keyset.STRING, False),
    "lifecycle_stage": (t.runs.c.lifecycle_stage, keyset.STRING, False),
    "experiment_id": (t.runs.c.experiment_id, keyset.NUMBER, False),
    "start_time": (t.runs.c.start_time, keyset.NUMBER, False),
    "end_time": (t.runs.c.end_time, keyset.NUMBER, True),
}
_KEY_TABLES = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}


@lru_cache(maxsize=64)
def _alias(kind: str, name: str) -> FromClause:
    """The metric, param or tag table under ``name``, made once: an alias's column collection costs more to
    build than the rest of a search statement's term, and the alias itself never changes."""
    return KEY_TABLES[kind].alias(name)


@lru_cache(maxsize=256)
def _sort_columns(order: tuple[OrderBy, ...]) -> tuple[tuple[keyset.SortColumn, ...], FromClause]:
    """The sort columns of ``order`` and the joins they read from, built once per order (immutable
    expressions, shared by every search with that order; building them cost ~1 ms)."""
    columns: list[keyset.SortColumn] = []
    source: FromClause = t.runs
    for i, item in enumerate(order or _DEFAULT_ORDER):
        kind, name, asc = item.key.kind, item.key.name, item.ascending
        if kind == "attribute" and name in _ATTRIBUTES:
            column, types, nullable = _ATTRIBUTES[name]
            if nullable:
                columns.extend(keyset.nullable(column, 0, asc, types))
            else:
                columns.append(keyset.SortColumn(column, asc, types))
            continue
        if kind not in _KEY_TABLES:
            raise InvalidParameterValue(
                f"Invalid value for parameter 'order_by': runs cannot be ordered by {kind} '{name}'"
            )
        alias = _KEY_TABLES[kind].alias(f"order_{i}")
        source = source.outerjoin(alias, sa.and_(alias.c.run_id == t.runs.c.run_id, alias.c.key == name))
        if kind == "metric":
            nan_rank = sa.case((alias.c.is_nan == sa.true(), 1), else_=0)
            columns.append(keyset.SortColumn(keyset.missing_flag(alias.c.value), True, keyset.NUMBER))
            columns.append(keyset.SortColumn(nan_rank, asc, keyset.NUMBER))
            columns.append(keyset.SortColumn(sa.func.coalesce(alias.c.value, 0.0), asc, keyset.NUMBER))
        else:
            columns.extend(keyset.nullable(alias.c.value, "", asc, keyset.STRING))
    columns.append(keyset.SortColumn(t.runs.c.run_id, True, keyset.STRING))
    return tuple(columns), source


class _CrossJoin(Join):
    """An inner join that SQLite performs in the written order (``CROSS JOIN ... ON``: the left side is the
    outer loop); other databases get a plain JOIN."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(element: _CrossJoin, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLCompiler.visit_join with another keyword; the linter's edges as it records them.
    linter = kw.pop("from_linter", None)
    kw.pop("asfrom", None)
    if linter is not None:
        left_from, right_from = element.left._from_objects, element.right._from_objects
        linter.edges.update(itertools.product(_de_clone(left_from), _de_clone(right_from)))
    left = element.left._compiler_dispatch(compiler, asfrom=True, from_linter=linter, **kw)
    right = element.right._compiler_dispatch(compiler, asfrom=True, from_linter=linter, **kw)
    assert element.onclause is not None  # _cross_join always gives one
    on = element.onclause._compiler_dispatch(compiler, from_linter=linter, **kw)
    return f"{left} CROSS JOIN {right} ON {on}"


def _cross_join(left: FromClause, right: FromClause, on: Predicate) -> FromClause:
    return _CrossJoin(left, right, on)


def _inner_join(left: FromClause, right: FromClause, on: Predicate) -> FromClause:
    return left.join(right, on)


def _filter_terms(
    expr: Expr | None, dialect: str, experiment_ids: Sequence[int], run_id: ColumnElement[Any]
) -> tuple[list[tuple[FromClause, Predicate]], list[Predicate]]:
    """The filter's top-level AND terms that compare a metric, param or tag, each as a table alias and the
    condition that picks its row of the run whose id is ``run_id`` (one per run: a key is unique per run);
    and the other terms as conditions on ``runs``. The key rows read are those of ``experiment_ids``, the
    experiments the caller restricts the runs to: a row's experiment is its run's, so no match changes, and
    the planner can start from the most selective ``(experiment_id, key, value)`` index (a param equal to a
    rare value in one experiment of 20 sharing the key, on PostgreSQL: ~0.1 ms instead of a 45 ms scan of
    every experiment's rows of the key)."""
    if expr is None:
        return [], []
    rows: list[tuple[FromClause, Predicate]] = []
    where: list[Predicate] = []
    for i, term in enumerate(expr.items if isinstance(expr, And) else (expr,)):
        if isinstance(term, Comparison) and joinable(term):
            alias = _alias(term.key.kind, f"filter_{i}")
            on = sa.and_(
                alias.c.run_id == run_id,
                in_experiments(alias.c.experiment_id, experiment_ids),
                alias.c.key == term.key.name,
                key_condition(term, alias, dialect),
            )
            rows.append((alias, on))
        else:
            where.append(compile_run_filter(term, dialect, experiment_ids))
    return rows, where


def _filter(
    source: FromClause,
    expr: Expr | None,
    dialect: str,
    experiment_ids: Sequence[int],
    *,
    join: Callable[[FromClause, FromClause, Predicate], FromClause] = _inner_join,
) -> tuple[FromClause, list[Predicate]]:
    """``source`` (which holds ``runs``) inner-joined with the rows of the filter's terms on metrics, params
    and tags (see :func:`_filter_terms`), and the other terms as WHERE conditions."""
    terms, where = _filter_terms(expr, dialect, experiment_ids, t.runs.c.run_id)
    return _joined(source, terms, join), where


def _joined(
    source: FromClause,
    terms: Sequence[tuple[FromClause, Predicate]],
    join: Callable[[FromClause, FromClause, Predicate], FromClause] = _inner_join,
) -> FromClause:
    """``source`` joined with each of the filter terms' tables on its condition (:func:`_filter_terms`)."""
    for alias, on in terms:
        source = join(source, alias, on)
    return source


#: The filter as inner joins and WHERE conditions on ``runs``, for other queries over the matching runs.
filter_runs = _filter


def search(
    conn: sa.Connection,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token_text: str | None,
) -> Page[Run]:
    size = keyset.check_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    ids = sorted({i for i in (experiments.parse_id(e) for e in experiment_ids) if i is not None})
    expr = parse_filter(filter_string, "run")
    order = parse_order_by(order_by, "run")
    columns, _ = _sort_columns(tuple(order))
    query_id = page_token.fingerprint(_KIND, ids, view_type.value, filter_string or "", list(order_by or ()))
    values = None
    if page_token_text:
        values = page_token.decode(page_token_text, _KIND, query_id, [c.types for c in columns])
    if not ids:
        return Page([], None)
    shape = _Shape(
        conn.dialect.name, filter_string or "", expr, tuple(ids), tuple(s.value for s in view_type.stages)
    )
    rows: Sequence[Row]
    last: list[list[page_token.TokenValue]] | None
    if len(order) == 1 and order[0].key.kind in _KEY_TABLES:
        rows, last = _search_by_key(
            conn, order[0], shape=shape, values=values, token_text=page_token_text, limit=size + 1
        )
    else:
        stmt = _general_page(shape, tuple(order), values is not None, size + 1)
        after = {} if values is None else {_after_name(i): value for i, value in enumerate(values)}
        rows = driver_rows(conn, stmt, after)
        last = None  # only the page's last row's sort values are needed, for the token
    token = None
    if len(rows) > size:
        rows = rows[:size]
        resume = keyset.values_of(rows[size - 1], columns) if last is None else last[size - 1]
        token = page_token.encode(_KIND, query_id, resume)
    return Page(runs.load(conn, rows), token)


@dataclass(frozen=True)
class _Shape:
    """What a search's statements are built from, besides the order and the page: the dialect, the filter
    (its text, so that literals equal in Python but typed apart, such as ``1`` and ``1.0``, never share a
    statement, and its parsed form), the experiments and the lifecycle stages. Hashable, so that the
    statements are built once per shape (``_SHAPES``)."""

    dialect: str
    filter_text: str
    expr: Expr | None
    experiment_ids: tuple[int, ...]
    stages: tuple[str, ...]

    def scope(self) -> tuple[Predicate, ...]:
        return _scope(self.experiment_ids, self.stages)

    def stage(self) -> Predicate:
        """The lifecycle-stage condition of ``scope`` alone, for a run looked up by the id of a row already
        restricted to the search's experiments (a metric's, param's or tag's experiment is its run's)."""
        return _scope(self.experiment_ids, self.stages)[1]


#: How many statement sets each process keeps: one per search shape, order, first or later page, page size.
_SHAPES = 256


@lru_cache(maxsize=_SHAPES)
def _scope(experiment_ids: tuple[int, ...], stages: tuple[str, ...]) -> tuple[Predicate, ...]:
    """The runs of the search's experiments and lifecycle stages. One experiment or stage is compared with
    ``=``: an ``IN`` list is a parameter that SQLAlchemy renders into the statement's text at every execution
    (~0.1 ms for a search's head on PostgreSQL)."""
    stage = t.runs.c.lifecycle_stage
    return (
        in_experiments(t.runs.c.experiment_id, experiment_ids),
        stage == stages[0] if len(stages) == 1 else stage.in_(stages),
    )


def _after_name(position: int) -> str:
    """The bound parameter of a later page's ``position``-th sort value (general path)."""
    return f"after_{position}"


@lru_cache(maxsize=_SHAPES)
def _general_page(shape: _Shape, order: tuple[OrderBy, ...], resumed: bool, limit: int) -> sa.Select[Any]:
    """A page of the general path, built once per shape, order and page size: every match, sorted on the
    order's expressions, after the last row's sort values when ``resumed`` (bound as ``_after_name(i)``).
    Building it costs more than the database takes to run it on a small experiment, and a statement object
    reused also keeps SQLAlchemy's cache key, which it computes once per object."""
    columns, source = _sort_columns(order)

    def page(experiment_ids: tuple[int, ...]) -> sa.Select[Any]:
        joined, where = _filter(source, shape.expr, shape.dialect, experiment_ids)
        stmt = (
            sa.select(t.runs, *keyset.labelled(columns))
            .select_from(joined)
            .where(*_scope(experiment_ids, shape.stages), *where)
        )
        if resumed:
            bound = [sa.bindparam(_after_name(i), type_=c.expr.type) for i, c in enumerate(columns)]
            stmt = stmt.where(keyset.after(columns, bound))
        return stmt.order_by(*keyset.order_by(columns)).limit(limit)

    if not (_merges(shape) and all(item.key.kind == "attribute" for item in order)):
        return page(shape.experiment_ids)
    # Several experiments ordered by attributes (the default order, by start time): each experiment's page
    # is read in its ``(experiment_id, lifecycle_stage, start_time)`` index order and only those are merged,
    # instead of sorting every run of the experiments.
    return _merged(
        [page((experiment_id,)) for experiment_id in shape.experiment_ids],
        lambda merged: [
            merged[f"_s{i}"].asc() if c.ascending else merged[f"_s{i}"].desc() for i, c in enumerate(columns)
        ],
        limit,
    )


#: On PostgreSQL a search of at most this many experiments reads each one's part in its own order and merges
#: them (one subquery each); over more, the experiments' rows are read and sorted at once.
_MERGED_EXPERIMENTS = 32


def _merges(shape: _Shape) -> bool:
    """Whether the search reads each of its experiments apart and merges them (``_merged``): on PostgreSQL,
    for 2 to ``_MERGED_EXPERIMENTS`` experiments. On SQLite, where a head's walk only finds its last entry,
    merged heads measured slower than one sort (~70-100 ms against ~45-55 ms, 20 experiments)."""
    return shape.dialect == "postgresql" and 1 < len(shape.experiment_ids) <= _MERGED_EXPERIMENTS


def _merged(
    parts: Sequence[sa.Select[Any]],
    order: Callable[[Any], list[ColumnElement[Any]]],
    limit: int,
) -> sa.Select[Any]:
    """The first ``limit`` rows of ``parts`` (one experiment's first ``limit`` rows each, in order), in the
    order that ``order`` gives on the merged columns."""
    union = sa.union_all(*(sa.select(part.subquery(f"experiment_{i}")) for i, part in enumerate(parts)))
    merged = union.subquery("experiments")
    return sa.select(merged).order_by(*order(merged.c)).limit(limit)


# -- one metric, param or tag order key: segments walked in index order ------------------------------------
#: The fast path looks for the runs it still needs among the first rows of the key's index, in order: a
#: short head (``_PROBE_SHORT_*``), then a long one (``_PROBE_*``: this many times as many rows); only when
#: both hold too few matches does it read the whole segment with the filter driving.
_PROBE_FACTOR = 20
_PROBE_MIN = 1000
_PROBE_SHORT_FACTOR = 4
_PROBE_SHORT_MIN = 200


@dataclass(frozen=True)
class _Segment:
    """Part of the order in which every sort value but the key's value is constant: for a metric, the runs
    with a number, the runs with NaN (all stored as 0, so ordered by ``run_id``), the runs lacking the key;
    for a param or tag, the runs with the key and the runs lacking it. ``rank`` is the segment's leading token
    values (``missing`` and, for a metric, ``nan_rank``, as ``_sort_columns`` defines them)."""

    rank: tuple[int, ...]
    present: bool
    is_nan: bool = False


def _segments(kind: str, ascending: bool) -> list[_Segment]:
    if kind != "metric":
        return [_Segment((0,), present=True), _Segment((1,), present=False)]
    numbers = _Segment((0, 0), present=True)
    nans = _Segment((0, 1), present=True, is_nan=True)
    missing = _Segment((1, 0), present=False)
    return [numbers, nans, missing] if ascending else [nans, numbers, missing]


@dataclass(frozen=True)
class _KeyOrder:
    """One metric, param or tag order key, and what the page is restricted to: ``own`` are the filter's
    top-level comparisons of the key itself (``metrics.rmse < 0.5`` ordered by ``metrics.rmse``), applied to
    the key's own rows as the index is walked; ``expr`` is the rest of the filter."""

    table: sa.Table
    name: str
    ascending: bool
    expr: Expr | None
    shape: _Shape
    own: tuple[Comparison, ...] = ()

    @property
    def dialect(self) -> str:
        return self.shape.dialect


def _split_own(expr: Expr | None, key: Key) -> tuple[tuple[Comparison, ...], Expr | None]:
    """The top-level AND terms of ``expr`` that compare ``key`` (as inner joins would), and the rest."""
    terms = expr.items if isinstance(expr, And) else (() if expr is None else (expr,))
    own = tuple(term for term in terms if isinstance(term, Comparison) and term.key == key and joinable(term))
    if not own:
        return (), expr
    rest = tuple(term for term in terms if term not in own)
    return own, (None if not rest else rest[0] if len(rest) == 1 else And(rest))


def _search_by_key(
    conn: sa.Connection,
    item: OrderBy,
    *,
    shape: _Shape,
    values: list[Any] | None,
    token_text: str | None,
    limit: int,
) -> tuple[list[Row], list[list[page_token.TokenValue]]]:
    """Ordered by one metric, param or tag: one query per segment of the order (see ``_Segment``), each
    ordered by plain columns (``value``, ``run_id``) so that it can walk the ``(key, [is_nan,] value)`` index
    and stop after ``limit`` rows, instead of sorting every match on CASE expressions; later segments are only
    read while the page is not full. The page token has the general path's shape, so it names the segment."""
    kind = item.key.kind
    own, rest = _split_own(shape.expr, item.key)
    key = _KeyOrder(_KEY_TABLES[kind], item.key.name, item.ascending, rest, shape, own)
    rank_size = 2 if kind == "metric" else 1
    start = tuple(values[:rank_size]) if values is not None else None
    rows: list[Row] = []
    last: list[list[page_token.TokenValue]] = []
    segments = _segments(kind, item.ascending)
    ranks = [segment.rank for segment in segments]
    if start is not None:
        if start not in ranks:
            raise page_token.invalid(token_text, "malformed sort values")
        segments = segments[ranks.index(start) :]
    placeholder: page_token.TokenValue = 0.0 if kind == "metric" else ""
    for segment in segments:
        resume = values if values is not None and start == segment.rank else None
        found = _read_segment(conn, key, segment, resume, limit - len(rows))
        for row, value in found:
            rows.append(row)
            sort_value = placeholder if value is None else value
            if kind == "metric":
                sort_value = float(sort_value)  # type: ignore[arg-type]
            last.append([*segment.rank, sort_value, runs.run_id_of(row)])
        if len(rows) >= limit:
            break
    return rows, last


def _read_segment(
    conn: sa.Connection, key: _KeyOrder, segment: _Segment, resume: list[Any] | None, limit: int
) -> list[tuple[Row, Any]]:
    """Up to ``limit`` runs of ``segment`` in order, each with its value of the key.

    A present key is read from bounded heads of its index first: the first ``probe`` entries in order, then,
    if they held too few matches, the entries after the first head's last one (its edge) up to the longer
    probe, looking for the matches still missing rather than a whole page, so that no entry is read twice
    (a filter matching one run in eight: the second head starts at the 401st entry, not the first). On
    PostgreSQL a head is a subquery with LIMIT whose entries each look up their run and the filter
    (``_head_query``); on SQLite it is read in index order with its join order forced
    (``_read_head_in_order``). Either way the head drives whatever the statistics, and the database stops
    at the page's last match. Only if the heads held too few matches and the segment goes on is the whole
    segment read, with the planner's choice of plan (a selective filter).

    Rows are fetched in one call and the key's value read by position (``_value`` is the last column of
    every segment query): iterating a result fetches row by row, and a row's mapping view costs more than
    the rest of reading it."""
    queries = _segment_queries(key, segment, resume is not None, limit)
    after = {} if resume is None else {_RESUME_VALUE: resume[-2], _RESUME_RUN_ID: resume[-1]}
    if not segment.present:
        if key.own:  # the filter compares the key, so every match has it
            return []
        return [(row, None) for row in driver_rows(conn, queries.lacking(), after)]
    found: list[tuple[Row, Any]] = []
    head_queries, start, read = queries, after, 0
    for probe in _probes(limit):
        if probe <= read:
            continue
        matches, edge = _read_head(conn, head_queries, probe - read, start)
        found += matches
        if len(found) >= limit or edge is None:
            return found[:limit]
        # The next head starts after this one's edge (a later page's statements, bound to the edge) and
        # stops at the matches still missing.
        head_queries = _segment_queries(key, segment, True, _rounded_up(limit - len(found), limit))
        start, read = {_RESUME_VALUE: edge[1], _RESUME_RUN_ID: edge[0]}, probe
    # Few matches per index entry: let the filter drive.
    return [(row, row[-1]) for row in driver_rows(conn, queries.whole(), after)]


def _rounded_up(missing: int, limit: int) -> int:
    """The page size a later head is built for: ``missing`` rounded up to a power of two, at most ``limit``.
    It reads at most twice the matches still missing, and a shape keeps a few statement sets, not one per
    count (building one costs ~2 ms)."""
    return min(limit, 1 << (missing - 1).bit_length())


def _read_head(
    conn: sa.Connection, queries: _SegmentQueries, probe: int, after: dict[str, Any]
) -> tuple[list[tuple[Row, Any]], Row | None]:
    """The matches among the first ``probe`` entries of the segment after ``after``, and the ``probe``-th
    entry, ``(run_id, value)``: none when the head was the rest of the segment (it has fewer entries), and
    not read on PostgreSQL when the head alone filled the page."""
    if queries.key.dialect == "sqlite":
        return _read_head_in_order(conn, queries, probe, after)
    found: list[tuple[Row, Any]] = [(row, row[-1]) for row in driver_rows(conn, queries.head(probe), after)]
    if len(found) >= queries.limit:
        return found, None
    return found, _first(driver_rows(conn, queries.edge(probe), after))


def _read_head_in_order(
    conn: sa.Connection, queries: _SegmentQueries, probe: int, after: dict[str, Any]
) -> tuple[list[tuple[Row, Any]], Row | None]:
    """The matches among the first ``probe`` entries of the segment, read on SQLite in the index's order:
    the ``probe``-th entry (the edge) is found first (an index-only step), then the runs whose entry is not
    beyond it are read with the key's table as the outer loop (``CROSS JOIN``), ordered as its index is, so
    SQLite stops at the page's last match instead of joining the whole head and sorting it in a temporary
    b-tree (a page of 100 among 400 entries: ~0.5 against ~1.3 ms). Also returns the edge (none: the head
    was the rest of the segment)."""
    edge = _first(driver_rows(conn, queries.edge(probe), after))
    if edge is None:
        rows = driver_rows(conn, queries.in_order(bounded=False), after)
    else:
        bound = {**after, _EDGE_RUN_ID: edge[0], _EDGE_VALUE: edge[1]}
        rows = driver_rows(conn, queries.in_order(bounded=True), bound)
    return [(row, row[-1]) for row in rows], edge


def _first(rows: Sequence[Row]) -> Row | None:
    return rows[0] if rows else None


#: The bound parameters of a later page's statements: the last row's value of the key and its run id.
_RESUME_VALUE, _RESUME_RUN_ID = "resume_value", "resume_run_id"
#: The bound parameters of an in-order head (SQLite): the value and run id of its last entry.
_EDGE_VALUE, _EDGE_RUN_ID = "edge_value", "edge_run_id"


class _SegmentQueries:
    """The statements that read one segment, each built when first asked for and then kept, for every search
    of the same shape (``_segment_queries``). A later page's (``resumed``) take the last row's value and run
    id as bound parameters (``_RESUME_VALUE``, ``_RESUME_RUN_ID``), so that they serve every page."""

    def __init__(self, key: _KeyOrder, segment: _Segment, resumed: bool, limit: int) -> None:
        self.key = key
        self.segment = segment
        self.resumed = resumed
        self.limit = limit
        self._built: dict[tuple[str, int], sa.Select[Any]] = {}

    def _kept(self, name: str, probe: int, build: Callable[[], sa.Select[Any]]) -> sa.Select[Any]:
        stmt = self._built.get((name, probe))
        if stmt is None:  # two threads may both build it: the same immutable statement either way
            stmt = self._built[(name, probe)] = build()
        return stmt

    def _bounded(self, probe: int) -> sa.Select[Any]:
        """The first ``probe`` entries of the key's index in the segment, in order. When the search merges
        its experiments (``_merges``), each one's first ``probe`` entries are walked in its index order and
        only those are sorted, instead of every entry of the key in those experiments (20 experiments of
        2,000 runs sharing the keys, ordered by a metric and filtered: ~40-65 ms instead of ~100-115 ms in
        the store)."""
        order = _index_order(self.key)
        if not _merges(self.key.shape):
            return _key_rows(self.key, self.segment, self.resumed).order_by(*order).limit(probe)
        heads = [
            _key_rows(self.key, self.segment, self.resumed, experiment_ids=(experiment_id,))
            .order_by(*order)
            .limit(probe)
            for experiment_id in self.key.shape.experiment_ids
        ]
        return _merged(heads, lambda merged: _value_order(merged, self.key.ascending), probe)

    def head(self, probe: int) -> sa.Select[Any]:
        """The matches among the first ``probe`` entries of the key's index in the segment (PostgreSQL)."""
        return self._kept(
            "head",
            probe,
            lambda: _head_query(self.key, self._bounded(probe)).limit(self.limit),
        )

    def edge(self, probe: int) -> sa.Select[Any]:
        """The ``probe``-th entry of the key's index in the segment, ``(run_id, value)``; none if shorter."""
        return self._kept("edge", probe, lambda: self._bounded(probe).limit(1).offset(probe - 1))

    def in_order(self, *, bounded: bool) -> sa.Select[Any]:
        """The matches of the segment in the key's index order, up to the bound edge entry when
        ``bounded`` (SQLite)."""
        return self._kept(
            "in_order",
            int(bounded),
            lambda: _in_order_query(self.key, self.segment, self.resumed, bounded).limit(self.limit),
        )

    def whole(self) -> sa.Select[Any]:
        """The whole segment with the filter driving. SQLite has no statistics (nothing runs ANALYZE) and
        would walk the order key's index anyway; comparing ``key || ''`` keeps it from starting there."""
        return self._kept(
            "whole",
            0,
            lambda: _present_query(
                self.key, _key_rows(self.key, self.segment, self.resumed, walk=False)
            ).limit(self.limit),
        )

    def lacking(self) -> sa.Select[Any]:
        return self._kept("lacking", 0, lambda: _lacking_query(self.key, self.resumed).limit(self.limit))


@lru_cache(maxsize=_SHAPES)
def _segment_queries(key: _KeyOrder, segment: _Segment, resumed: bool, limit: int) -> _SegmentQueries:
    """The statements of a segment, kept per search shape, order key, first or later page and page size:
    building them took ~2 ms a search, and a statement object reused keeps SQLAlchemy's cache key too."""
    return _SegmentQueries(key, segment, resumed, limit)


def _probes(limit: int) -> tuple[int, ...]:
    """The heads of the index read in turn: a short one that a filter matching a fair share of the runs
    fills (most searches), then a long one, before the filter is left to drive."""
    return (max(limit * _PROBE_SHORT_FACTOR, _PROBE_SHORT_MIN), max(limit * _PROBE_FACTOR, _PROBE_MIN))


def _value_order(columns: Any, ascending: bool) -> list[ColumnElement[Any]]:
    value = columns.value
    return [value.asc() if ascending else value.desc(), columns.run_id.asc()]


def _prefixed(key: _KeyOrder) -> bool:
    """Whether the key's index holds a prefix of the value (params and tags on PostgreSQL)."""
    return key.dialect == "postgresql" and key.table is not t.latest_metrics


def _index_order(key: _KeyOrder) -> list[ColumnElement[Any]]:
    """The segment's order on the key's table, as its index can deliver it: on PostgreSQL, params and tags
    are ordered by the indexed prefix first (the same order, since text compares byte-wise), so the index
    is walked and only rows with equal prefixes are sorted (an incremental sort)."""
    order = _value_order(key.table.c, key.ascending)
    if _prefixed(key):
        prefix = t.value_prefix(key.table.c.value)
        order.insert(0, prefix.asc() if key.ascending else prefix.desc())
    return order


def _key_rows(
    key: _KeyOrder,
    segment: _Segment,
    resumed: bool,
    *,
    walk: bool = True,
    table: FromClause | None = None,
    experiment_ids: tuple[int, ...] = (),
) -> sa.Select[Any]:
    """``(run_id, value)`` of the segment's rows of the key's table (or of ``table``, an alias of it), after
    the bound last row when ``resumed``. With ``walk``, the rows of the search's experiments (or of
    ``experiment_ids``): the key's ``(experiment_id, key, ...)`` index is then walked in order for one
    experiment, and for several its entries of those experiments are read, never other experiments' (which
    share keys such as ``loss``). With ``walk`` false, SQLite cannot start from that index (it looks rows up
    by ``(run_id, key)``)."""
    table = key.table if table is None else table
    value = table.c.value
    name_of: ColumnElement[str] = table.c.key
    scope: list[Predicate] = []
    if walk:
        scope.append(in_experiments(table.c.experiment_id, experiment_ids or key.shape.experiment_ids))
    elif key.dialect == "sqlite":
        name_of = table.c.key.concat("")
    stmt = sa.select(table.c.run_id, value).where(
        *scope, name_of == key.name, *(key_condition(term, table, key.dialect) for term in key.own)
    )
    if key.table is t.latest_metrics:
        stmt = stmt.where(table.c.is_nan == sa.literal(segment.is_nan, sa.Boolean))
    if resumed:
        last_value = sa.bindparam(_RESUME_VALUE, type_=value.type)
        last_id = sa.bindparam(_RESUME_RUN_ID, type_=table.c.run_id.type)
        beyond = value > last_value if key.ascending else value < last_value
        reached = value >= last_value if key.ascending else value <= last_value
        stmt = stmt.where(reached, sa.or_(beyond, table.c.run_id > last_id))
        if _prefixed(key):  # implied by ``reached``; bounds the walk of the prefix index
            prefix, last_prefix = t.value_prefix(value), t.value_prefix(last_value)
            stmt = stmt.where(prefix >= last_prefix if key.ascending else prefix <= last_prefix)
    return stmt


def _present_query(key: _KeyOrder, rows: sa.Select[Any]) -> sa.Select[Any]:
    """The runs whose key row is in ``rows`` and that pass the filter, in the key's order."""
    order_0 = rows.subquery("order_0")
    on = order_0.c.run_id == t.runs.c.run_id
    source, where = _filter(order_0.join(t.runs, on), key.expr, key.dialect, key.shape.experiment_ids)
    stmt = sa.select(t.runs, order_0.c.value.label("_value")).select_from(source)
    return stmt.where(*key.shape.scope(), *where).order_by(*_value_order(order_0.c, key.ascending))


def _head_query(key: _KeyOrder, rows: sa.Select[Any]) -> sa.Select[Any]:
    """The runs whose key row is in ``rows``, a bounded head of the key's index, that pass the filter, in the
    key's order (PostgreSQL). Each head entry first looks up the filter's rows of its run (an index probe
    per term on metrics, params and tags), then, if they all match, the run with the filter's other terms,
    each in a ``LATERAL`` subquery that ``OFFSET 0`` keeps PostgreSQL from flattening into the outer join:
    the planner would hash-join the head with a scan of every run of the experiments and every row the filter
    matches, which grows with the experiments and needs a sort after; these nested loops are bounded by the
    head, keep its order and stop at the page's last match (2,000 runs, a page of 100 among 404 entries:
    ~2.5 against ~5 ms of execution in EXPLAIN ANALYZE; ~5 against ~7 ms for the whole query in the store).
    Probing the filter's rows before the run reads a run only for the entries that match: a filter that
    matches one entry in two, over 10,000 runs, 1.0 against 1.2 ms for the statement. The run's subquery
    takes its id from the filter's row, not from the head's: PostgreSQL's custom plans otherwise joined the
    run first (their estimate of the filter's rows per run was 9), reading a run for every entry (~1.26
    against ~1.34 ms a statement, with the client's part). The run is looked up by its id and stage only: the
    head's rows are of the search's experiments already, and with the experiment in the condition too,
    PostgreSQL's plans for an experiment newer than the table's statistics (estimated to hold no runs) read
    the run through the ``(experiment_id, lifecycle_stage, start_time, run_id)`` index, every entry of the
    experiment for each head entry (~10 against ~0.6 ms a statement, 2,000 runs in the experiment)."""
    order_0 = rows.subquery("order_0")
    terms, where = _filter_terms(key.expr, key.dialect, key.shape.experiment_ids, order_0.c.run_id)
    source: FromClause = order_0
    run_id: ColumnElement[Any] = order_0.c.run_id
    if terms:
        (first, first_on), *others = terms
        matched = _joined(first, others)
        checks: sa.Select[Any] = sa.select(first.c.run_id).select_from(matched)
        matched_run = checks.where(first_on).offset(0).lateral("matched")
        source = source.join(matched_run, sa.true())
        # The run is looked up by the filter's row, so it comes after it whatever the planner's estimates.
        run_id = matched_run.c.run_id
    run = (
        sa.select(t.runs).where(t.runs.c.run_id == run_id, key.shape.stage(), *where).offset(0).lateral("run")
    )
    stmt = sa.select(*run.c, order_0.c.value.label("_value")).select_from(source.join(run, sa.true()))
    return stmt.order_by(*_value_order(order_0.c, key.ascending))


def _in_order_query(key: _KeyOrder, segment: _Segment, resumed: bool, bounded: bool) -> sa.Select[Any]:
    """The runs whose row of the key is in the segment (up to the bound edge entry when ``bounded``) and
    that pass the filter, with the key's table joined first (``CROSS JOIN``) and ordered as its index is:
    SQLite walks the index and stops at the ``LIMIT``-th match. The key's table is aliased, so that a filter's
    subquery on the same table (``metrics.m IS NOT NULL``) is not correlated to it."""
    table = key.table.alias("order_0")
    rows = _key_rows(key, segment, resumed, table=table)
    source, where = _filter(
        _cross_join(table, t.runs, table.c.run_id == t.runs.c.run_id),
        key.expr,
        key.dialect,
        key.shape.experiment_ids,
        join=_cross_join,
    )
    edge: list[Predicate] = []
    if bounded:
        # First in the WHERE clause: of two bounds on the value (this one and a filter's, ``metrics.m <
        # 0.5``), SQLite walks the index up to the first it reads, and past the edge every entry is read in
        # vain when the head held too few matches.
        value, run_id = table.c.value, table.c.run_id
        edge_value = sa.bindparam(_EDGE_VALUE, type_=value.type)
        edge_run_id = sa.bindparam(_EDGE_RUN_ID, type_=run_id.type)
        within = value <= edge_value if key.ascending else value >= edge_value
        before = value < edge_value if key.ascending else value > edge_value
        edge = [within, sa.or_(before, run_id <= edge_run_id)]
    stmt = sa.select(t.runs, table.c.value.label("_value")).select_from(source)
    assert rows.whereclause is not None  # _key_rows always names the key
    stmt = stmt.where(*edge, rows.whereclause, *key.shape.scope(), *where)
    return stmt.order_by(*_value_order(table.c, key.ascending))


def _lacking_query(key: _KeyOrder, resumed: bool) -> sa.Select[Any]:
    """The runs that lack the key and pass the filter, by ``run_id`` (after the bound last one when
    ``resumed``)."""
    run_id = t.runs.c.run_id
    source, where = _filter(t.runs, key.expr, key.dialect, key.shape.experiment_ids)
    lacking = ~sa.exists().where(key.table.c.run_id == run_id, key.table.c.key == key.name)
    stmt = (
        sa.select(t.runs, sa.null().label("_value"))
        .select_from(source)
        .where(*key.shape.scope(), *where, lacking)
    )
    if resumed:
        stmt = stmt.where(run_id > sa.bindparam(_RESUME_RUN_ID, type_=run_id.type))
    return stmt.order_by(run_id)


__all__ = ["filter_runs", "search"]
