"""A metric's history: every point, ordered by ``(step, timestamp)``, paged with keyset tokens.

Within equal ``(step, timestamp)`` points are ordered by value (NaN after numbers). Identical points may exist
(nothing makes history rows unique), so a token holds the last point's sort values plus how many points equal
to it were already returned; the next page starts at that point and skips them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wayline.entities import Metric, Page
from wayline.store.sql import keyset, page_token, runs
from wayline.store.sql import schema as t
from wayline.store.tracking import METRIC_HISTORY_MAX_RESULTS

_KIND = "metric-history"
_TOKEN_TYPES = (keyset.NUMBER, keyset.NUMBER, keyset.NUMBER, keyset.NUMBER, (int,))


def _sort_key(row: Any) -> tuple[int, int, int, float]:
    return (row.step, row.timestamp, int(row.is_nan), row.value)


def history(
    conn: sa.Connection,
    run_id: str,
    key: str,
    *,
    max_results: int | None,
    page_token_text: str | None,
) -> Page[Metric]:
    """All points when neither ``max_results`` nor a token is given; else pages of ``max_results``
    (default and maximum: ``METRIC_HISTORY_MAX_RESULTS``)."""
    runs.get_row(conn, run_id)
    m = t.metrics
    nan_rank = sa.case((m.c.is_nan == sa.true(), 1), else_=0)
    columns = [
        keyset.SortColumn(m.c.step, True, keyset.NUMBER),
        keyset.SortColumn(m.c.timestamp, True, keyset.NUMBER),
        keyset.SortColumn(nan_rank, True, keyset.NUMBER),
        keyset.SortColumn(m.c.value, True, keyset.NUMBER),
    ]
    stmt = (
        sa.select(m.c.key, m.c.step, m.c.timestamp, m.c.value, m.c.is_nan)
        .where(m.c.run_id == run_id, m.c.key == key)
        .order_by(*keyset.order_by(columns))
    )
    if max_results is None and not page_token_text:
        return Page([runs.metric_of(row) for row in conn.execute(stmt)], None)
    size = keyset.check_max_results(
        METRIC_HISTORY_MAX_RESULTS if max_results is None else max_results, METRIC_HISTORY_MAX_RESULTS
    )
    query_id = page_token.fingerprint(_KIND, run_id, key)
    skip = 0
    start: tuple[Any, ...] | None = None
    if page_token_text:
        *values, skip = page_token.decode(page_token_text, _KIND, query_id, _TOKEN_TYPES)
        if skip < 0:
            raise page_token.invalid(page_token_text, "malformed sort values")
        start = tuple(values)
        same = [c.expr == v for c, v in zip(columns, values, strict=True)]
        at_or_after = sa.or_(keyset.after(columns, values), sa.and_(*same))
        stmt = stmt.where(at_or_after)
    rows = list(conn.execute(stmt.limit(size + skip + 1)))[skip:]
    token = None
    if len(rows) > size:
        rows = rows[:size]
        last = _sort_key(rows[-1])
        equal = 0
        for row in reversed(rows):
            if _sort_key(row) != last:
                break
            equal += 1
        if equal == len(rows) and start is not None and last == start:
            equal += skip
        token = page_token.encode(_KIND, query_id, [*last, equal])
    return Page([runs.metric_of(row) for row in rows], token)


__all__ = ["history"]
