"""Statements run as the driver's SQL answer as SQLAlchemy's execution does, on both dialects."""

from __future__ import annotations

import sqlalchemy as sa

from wayline.store.sql import SqlTrackingStore
from wayline.store.sql import schema as t
from wayline.store.sql.driver import driver_execute_many, driver_rows
from wayline.store.sql.engine import transaction

_TAGS = sa.select(t.tags.c.key, t.tags.c.value).where(
    t.tags.c.run_id == sa.bindparam("run_id"), t.tags.c.key >= sa.bindparam("from_key")
)
_INSERT = t.tags.insert()


def test_driver_statements_match_sqlalchemy(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", user_id="u", start_time=1, tags=[], run_name="r").info.run_id
    with transaction(store.engine, write=True) as conn:
        driver_execute_many(conn, _INSERT, [{"run_id": run_id, "key": "a", "value": "1", "experiment_id": 0}])
        driver_execute_many(
            conn,
            _INSERT,
            [
                {"experiment_id": 0, "value": "2", "key": "b", "run_id": run_id},
                {"run_id": run_id, "key": "c", "value": "3", "experiment_id": 0},
            ],
        )
    with transaction(store.engine) as conn:
        params = {"from_key": "b", "run_id": run_id}
        fast = driver_rows(conn, _TAGS, params)
        slow = [tuple(row) for row in conn.execute(_TAGS, params)]
        none = driver_rows(conn, _TAGS, {"run_id": "0" * 32, "from_key": ""})
    assert sorted(fast) == sorted(slow)
    assert {("b", "2"), ("c", "3")} <= set(fast)
    assert ("a", "1") not in fast
    assert none == []
