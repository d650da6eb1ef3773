"""Metric points are stored in blocks: ``metric_blocks`` replaces ``metrics``.

A row per point made ingest pay PostgreSQL's per-row cost for every point (a heap tuple, a primary-key index
entry, their WAL records): a batch of 1,000 points of two keys was 1,000 rows and 1,000 index entries, ~6.7 ms
through ``COPY``. As blocks it goes in as two rows of packed arrays, ~1 ms. A block holds points of one key of
one run: steps and timestamps as little-endian 64-bit integers, values as little-endian doubles (NaN stored
as NaN, where ``metrics`` had ``value = 0, is_nan = true``), in history order ``(step, timestamp, NaN last,
value)``, each point once; ``(last_step, last_timestamp, last_value)`` is its last point (``last_value``
NULL for NaN) and ``first_step`` its first step.

The upgrade reads the points in history order as they come from the database (never the whole table at
once) and writes each key's points as blocks of at most 1,000, inserted a batch at a time; then ``metrics``
goes. The downgrade recreates ``metrics`` as revision 0008 has it (revision 0007's primary key over every
column, WITHOUT ROWID on SQLite) and expands the blocks back into rows; a point stored twice (possible in
blocks, which a small write appends to) is kept once.

The packing is a frozen copy of ``metric_blocks.pack``: a migration never changes once released.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from math import isnan, nan
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Points per block written by the upgrade (as many as one ``log_batch`` may hold).
_BLOCK_POINTS = 1000
#: Rows fetched at a time from the table being read: points (upgrade), blocks (downgrade, ~24 kB each).
_FETCH_POINTS = 10_000
_FETCH_BLOCKS = 100
#: Blocks per INSERT batch (upgrade; downgrade on PostgreSQL), rows per INSERT batch (downgrade on SQLite).
_INSERT_BLOCKS = 100
_INSERT_ROWS = 10_000
#: The packed arrays are little-endian whatever the machine.
_SWAP = sys.byteorder == "big"

_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")
_BLOCKS = "metric_blocks"
_BLOCK_INDEX = "ix_metric_blocks_run_key_block"

#: ``(step, timestamp, value)``, NaN as ``nan``.
_Point = tuple[int, int, float]


def _text(length: int) -> sa.types.TypeEngine[str]:
    """A string compared byte-wise (frozen copy of ``schema.bytewise_text``)."""
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def _packed(kind: str, values: Iterable[Any]) -> bytes:
    packed = array(kind, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpacked(kind: str, data: bytes) -> list[Any]:
    unpacked = array(kind)
    unpacked.frombytes(data)
    if _SWAP:
        unpacked.byteswap()
    return unpacked.tolist()


def _same(a: _Point, b: _Point) -> bool:
    """Whether two points are one (NaN equals NaN)."""
    return a[0] == b[0] and a[1] == b[1] and (a[2] == b[2] or (isnan(a[2]) and isnan(b[2])))


def _block_row(run_id: str, key: str, points: Sequence[_Point]) -> dict[str, Any]:
    """The row of a block of ``points``, already in history order and each once."""
    last_step, last_timestamp, last_value = points[-1]
    return {
        "run_id": run_id,
        "key": key,
        "n": len(points),
        "first_step": points[0][0],
        "last_step": last_step,
        "last_timestamp": last_timestamp,
        "last_value": None if isnan(last_value) else last_value,
        "ordered": True,
        "steps": _packed("q", (p[0] for p in points)),
        "timestamps": _packed("q", (p[1] for p in points)),
        "vals": _packed("d", (p[2] for p in points)),
    }


def _blocks(rows: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Block rows from metric rows ordered by ``(run_id, key, step, timestamp, is_nan, value)``: each key's
    points in runs of at most ``_BLOCK_POINTS``, a point equal to the one before it dropped (two NaN rows of
    one step and timestamp are one point)."""
    run_key: tuple[str, str] | None = None
    points: list[_Point] = []
    last: _Point = (0, 0, nan)
    for run_id, key, step, timestamp, value, is_nan in rows:
        point = (int(step), int(timestamp), nan if is_nan else float(value))
        if run_key != (run_id, key):
            if run_key is not None:
                yield _block_row(*run_key, points)
            run_key, points = (run_id, key), []
        elif _same(point, last):
            continue
        elif len(points) == _BLOCK_POINTS:
            yield _block_row(*run_key, points)
            points = []
        points.append(point)
        last = point
    if run_key is not None:
        yield _block_row(*run_key, points)


def _streamed(conn: sa.Connection, query: str, rows: int) -> sa.CursorResult[Any]:
    """The rows of ``query`` fetched ``rows`` at a time (a server-side cursor on PostgreSQL)."""
    return conn.execute(sa.text(query), execution_options={"yield_per": rows})


def _insert_batches(
    conn: sa.Connection, insert: sa.Executable, rows: Iterable[dict[str, Any]], size: int
) -> None:
    """``insert`` executed for ``rows``, ``size`` rows at a time."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            conn.execute(insert, batch)
            batch = []
    if batch:
        conn.execute(insert, batch)


def upgrade() -> None:
    conn = op.get_bind()
    blocks = op.create_table(
        _BLOCKS,
        sa.Column(
            "block",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("key", _text(250), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("first_step", sa.BigInteger, nullable=False),
        sa.Column("last_step", sa.BigInteger, nullable=False),
        sa.Column("last_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_value", sa.Double, nullable=True),
        sa.Column("ordered", sa.Boolean, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=False),
        sa.Column("timestamps", sa.LargeBinary, nullable=False),
        sa.Column("vals", sa.LargeBinary, nullable=False),
    )
    op.create_index(_BLOCK_INDEX, _BLOCKS, ["run_id", "key", "block"])
    if conn.dialect.name == "postgresql":
        # Out of line and uncompressed: pglz's attempt on each array of doubles made a batch 3x slower.
        op.execute(
            f"ALTER TABLE {_BLOCKS} ALTER COLUMN steps SET STORAGE EXTERNAL, "
            "ALTER COLUMN timestamps SET STORAGE EXTERNAL, ALTER COLUMN vals SET STORAGE EXTERNAL"
        )
    insert = blocks.insert()
    columns = ", ".join(_COLUMNS)
    result = _streamed(
        conn,
        f"SELECT {columns} FROM metrics ORDER BY run_id, key, step, timestamp, is_nan, value",
        _FETCH_POINTS,
    )
    try:
        _insert_batches(conn, insert, _blocks(result), _INSERT_BLOCKS)
    finally:
        result.close()
    op.drop_table("metrics")


def _expanded(blocks: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Each block's points as four lists, ``steps``, ``timestamps``, ``vals`` (NaN as 0) and ``nans``."""
    for run_id, key, steps, timestamps, vals in blocks:
        values = _unpacked("d", vals)
        nans = [isnan(value) for value in values]
        yield {
            "run_id": run_id,
            "key": key,
            "steps": _unpacked("q", steps),
            "timestamps": _unpacked("q", timestamps),
            "vals": [0.0 if nan_value else value for value, nan_value in zip(values, nans, strict=True)],
            "nans": nans,
        }


def _metric_rows(blocks: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each point of :func:`_expanded` blocks as a ``metrics`` row."""
    for block in blocks:
        run_id, key = block["run_id"], block["key"]
        for point in zip(block["steps"], block["timestamps"], block["vals"], block["nans"], strict=True):
            yield dict(zip(_COLUMNS, (run_id, key, *point), strict=True))


#: On PostgreSQL a block goes in as one statement, its arrays unnested (a row per point through
#: ``executemany`` took four times as long).
_PG_INSERT_BLOCK = sa.text(
    "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
    "SELECT :run_id, :key, p.s, p.t, p.v, p.n FROM unnest(CAST(:steps AS BIGINT[]), "
    "CAST(:timestamps AS BIGINT[]), CAST(:vals AS DOUBLE PRECISION[]), CAST(:nans AS BOOLEAN[])) "
    "AS p(s, t, v, n) ON CONFLICT DO NOTHING"
)


def downgrade() -> None:
    conn = op.get_bind()
    metrics = op.create_table(
        "metrics",
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("key", _text(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint(*_COLUMNS, name="pk_metrics"),
        sqlite_with_rowid=False,
    )
    result = _streamed(
        conn,
        f"SELECT run_id, key, steps, timestamps, vals FROM {_BLOCKS} ORDER BY run_id, key, block",
        _FETCH_BLOCKS,
    )
    # A point stored twice (in two blocks, or twice in an unordered block) goes in once.
    try:
        if conn.dialect.name == "postgresql":
            _insert_batches(conn, _PG_INSERT_BLOCK, _expanded(result), _INSERT_BLOCKS)
        else:
            insert = sqlite.insert(metrics).on_conflict_do_nothing()
            _insert_batches(conn, insert, _metric_rows(_expanded(result)), _INSERT_ROWS)
    finally:
        result.close()
    op.drop_index(_BLOCK_INDEX, table_name=_BLOCKS)
    op.drop_table(_BLOCKS)
