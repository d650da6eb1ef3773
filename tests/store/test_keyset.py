"""Keyset paging's "after this row" condition: exact on every row, and seekable on its first sort column."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from wayline.entities import Metric
from wayline.store.sql import SqlTrackingStore, keyset, make_engine
from wayline.store.sql.engine import dispose
from wayline.store.sql.metric_history import history

_grid = sa.Table(
    "grid",
    sa.MetaData(),
    sa.Column("a", sa.Integer, nullable=False),
    sa.Column("b", sa.Integer, nullable=False),
    sa.Column("c", sa.Integer, nullable=False),
)
_ROWS = list(itertools.product(range(3), repeat=3))


@pytest.fixture
def grid(backend: str, db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    _grid.drop(engine, checkfirst=True)
    _grid.create(engine)
    with engine.begin() as conn:
        conn.execute(_grid.insert(), [dict(zip("abc", row, strict=True)) for row in _ROWS])
    yield engine
    _grid.drop(engine)
    dispose(engine)


@pytest.mark.parametrize("directions", list(itertools.product([True, False], repeat=3)), ids=str)
@pytest.mark.parametrize("inclusive", [False, True], ids=["after", "at-or-after"])
def test_selects_exactly_the_rows_after_a_position(
    grid: sa.Engine, directions: tuple[bool, bool, bool], inclusive: bool
) -> None:
    columns = [
        keyset.SortColumn(_grid.c[name], ascending, keyset.NUMBER)
        for name, ascending in zip("abc", directions, strict=True)
    ]

    def position(row: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(v if asc else -v for v, asc in zip(row, directions, strict=True))

    with grid.connect() as conn:
        for start in _ROWS:
            query = sa.select(_grid.c.a, _grid.c.b, _grid.c.c).where(
                keyset.after(columns, start, inclusive=inclusive)
            )
            got = sorted(tuple(row) for row in conn.execute(query))
            want = sorted(
                row
                for row in _ROWS
                if position(row) > position(start) or (inclusive and position(row) == position(start))
            )
            assert got == want, start


def test_a_later_history_page_reads_only_the_blocks_from_its_start(tmp_path: Path) -> None:
    """A later page of a history reads the key's blocks that reach its start step, not the ones before."""
    url = f"sqlite:///{tmp_path / 'wayline.db'}"
    store = SqlTrackingStore(url, str(tmp_path / "artifacts"))
    experiment_id = store.create_experiment("seek")
    run_id = store.create_run(experiment_id, user_id="u", start_time=0).info.run_id
    for start in range(0, 100, 20):  # five blocks of 20 points (a batch of more than APPEND_MAX_NEW)
        points = [Metric("m", float(i), 1000 + i, i) for i in range(start, start + 20)]
        store.log_batch(run_id, metrics=points)
    token = store.get_metric_history(run_id, "m", max_results=50).next_page_token
    store.close()

    engine = make_engine(url)
    statements: list[tuple[str, Any]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _capture(*args: Any) -> None:
        _conn, _cursor, statement, parameters, *_ = args
        if "FROM metric_blocks" in statement:
            statements.append((statement, parameters))

    with engine.connect() as conn:
        page = history(conn, run_id, "m", max_results=20, page_token_text=token)
        assert [m.step for m in page] == list(range(50, 70))
        ((statement, parameters),) = statements
        blocks = conn.exec_driver_sql(
            statement.replace("SELECT ", "SELECT first_step, ", 1), parameters
        ).all()
    dispose(engine)
    assert [row[0] for row in blocks] == [40, 60, 80]
