"""A bound list of values as one condition: every value matches itself exactly, on both backends."""

from __future__ import annotations

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
