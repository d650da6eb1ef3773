"""A bound list of values as one condition: every value matches itself exactly, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from wayline.store.sql import make_engine
from wayline.store.sql.bound_members import BoundMembers, array_literal

VALUES = ["plain", 'quote"d', "back\\slash", "comma,separated", "{braces}", "NULL", " spaced ", "", "ünï"]
VALUES.append('\\"')  # a backslash, then a double quote

_metadata = sa.MetaData()
_items = sa.Table(
    "bound_members_items",
    _metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
)
#: Built once, like the store's statements, and run with lists of every length.
_BY_NAME = (
    sa.select(_items.c.name).where(BoundMembers(_items.c.name, "names", sa.Text())).order_by(_items.c.name)
)
_BY_NUMBER = sa.select(_items.c.number).where(BoundMembers(_items.c.number, "numbers", sa.Integer()))


def test_array_literal_quotes_every_element() -> None:
    assert array_literal(["a", 'b"c', "d\\e", "f,g"]) == '{"a","b\\"c","d\\\\e","f,g"}'
    assert array_literal([1, 22]) == '{"1","22"}'
    assert array_literal([]) == "{}"


def test_every_value_matches_itself_exactly(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            _metadata.create_all(conn)
            conn.execute(_items.insert(), [{"name": v, "number": i} for i, v in enumerate(VALUES)])
        with engine.connect() as conn:
            for value in VALUES:
                assert conn.execute(_BY_NAME, {"names": [value]}).scalars().all() == [value]
            assert conn.execute(_BY_NAME, {"names": VALUES}).scalars().all() == sorted(VALUES)
            near = ["quote", "back\\\\slash", "comma", "null", "spaced", '"plain"']  # none stored as given
            assert conn.execute(_BY_NAME, {"names": near}).scalars().all() == []
            assert conn.execute(_BY_NAME, {"names": []}).scalars().all() == []
            assert sorted(conn.execute(_BY_NUMBER, {"numbers": [0, 3, 99]}).scalars()) == [0, 3]
    finally:
        with engine.begin() as conn:
            _metadata.drop_all(conn)
        engine.dispose()


@pytest.mark.postgres
def test_postgres_reads_the_list_as_one_array_parameter(postgres_url: str) -> None:
    """The list reaches PostgreSQL as a parameter of the array type, read once per execution. Typed as text
    and cast in SQL, it was converted through the array's text input for every row of a sequential scan: a
    page of 1,000 runs' data took a second until psycopg prepared the statement."""
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            _metadata.create_all(conn)
            conn.execute(_items.insert(), [{"name": f"n{i}", "number": i} for i in range(50)])
        with engine.connect() as conn:
            conn.connection.driver_connection.prepare_threshold = 0  # type: ignore[union-attr]  # prepare at once
            names = [f"n{i}" for i in range(0, 50, 2)]
            assert conn.execute(_BY_NAME, {"names": names}).scalars().all() == sorted(names)
            assert sorted(conn.execute(_BY_NUMBER, {"numbers": [1, 2, 99]}).scalars()) == [1, 2]
            prepared = conn.exec_driver_sql(
                "SELECT statement, parameter_types::text[] FROM pg_prepared_statements"
            ).all()
        selects = [(sql, kinds) for sql, kinds in prepared if sql.startswith("SELECT")]  # not the INSERT
        types = {("names" if "ORDER BY" in sql else "numbers"): list(kinds) for sql, kinds in selects}
        assert types == {"names": ["text[]"], "numbers": ["integer[]"]}, prepared
    finally:
        with engine.begin() as conn:
            _metadata.drop_all(conn)
        engine.dispose()
