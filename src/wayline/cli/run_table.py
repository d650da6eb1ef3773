"""The ``runs list`` table: fixed run columns, then the latest metrics and params that fit the console."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table

from wayline.cli.output import format_duration, format_number, format_timestamp, make_table, truncate
from wayline.entities import Run
from wayline.errors import InvalidParameterValue

ColumnKind = Literal["metrics", "params", "tags"]

_PREFIXES: dict[str, ColumnKind] = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
}

#: Characters of a short run id.
SHORT_ID = 8
#: Widest run name, and widest metric/param/tag cell, before truncation.
NAME_WIDTH = 24
CELL_WIDTH = 18
#: Extra columns shown by default: at least this many when runs have metrics or params (columns shrink to
#: fit), and at most ``MAX_EXTRA`` however wide the console.
MIN_EXTRA = 1
MAX_EXTRA = 12
#: What a column costs besides its content: the gap to the next column.
COLUMN_OVERHEAD = 2

FIXED_HEADERS = ("Run ID", "Name", "Status", "Started", "Duration")

#: Search-key kinds that have a column (an order-by key's column is shown first).
SORT_KINDS: dict[str, ColumnKind] = {"metric": "metrics", "param": "params", "tag": "tags"}


@dataclass(frozen=True)
class DataColumn:
    """A ``metrics.<key>``, ``params.<key>`` or ``tags.<key>`` column."""

    kind: ColumnKind
    key: str

    @property
    def name(self) -> str:
        """As written in ``--columns``: ``metrics.rmse``."""
        return f"{self.kind}.{self.key}"

    @property
    def header(self) -> str:
        """Two lines: ``metric`` over the key (truncated)."""
        return f"{self.kind[:-1]}\n{truncate(self.key, CELL_WIDTH)}"

    def cell(self, run: Run) -> str:
        if self.kind == "metrics":
            value = run.data.metric_values.get(self.key)
            return "-" if value is None else format_number(value)
        source = run.data.params if self.kind == "params" else run.data.tags
        text = source.get(self.key)
        return "-" if text is None else truncate(text, CELL_WIDTH)


def parse_columns(values: Sequence[str]) -> list[DataColumn]:
    """``--columns`` values: comma-separated ``metrics.<key>``, ``params.<key>`` or ``tags.<key>``."""
    columns: list[DataColumn] = []
    for value in values:
        for raw in value.split(","):
            item = raw.strip()
            if not item:
                continue
            prefix, dot, key = item.partition(".")
            kind = _PREFIXES.get(prefix.lower())
            if kind is None or not dot or not key:
                raise InvalidParameterValue(
                    f"Invalid value {item!r} for option '--columns': "
                    "expected metrics.<key>, params.<key> or tags.<key>"
                )
            column = DataColumn(kind, key)
            if column not in columns:
                columns.append(column)
    return columns


def _fixed_cells(run: Run) -> list[str]:
    info = run.info
    return [
        info.run_id[:SHORT_ID],
        truncate(info.run_name, NAME_WIDTH),
        info.status.value,
        format_timestamp(info.start_time, seconds=False),
        format_duration(info.start_time, info.end_time),
    ]


def _width(column: DataColumn, runs: Sequence[Run]) -> int:
    widest = max((len(column.cell(run)) for run in runs), default=1)
    return max(*(len(line) for line in column.header.split("\n")), widest) + COLUMN_OVERHEAD


def default_columns(
    runs: Sequence[Run], width: int, *, preferred: Sequence[DataColumn] = ()
) -> list[DataColumn]:
    """``preferred`` (the sort keys) first, then the keys most runs have (metrics before params on ties),
    as many as fit in ``width`` characters."""
    metric_counts = Counter(m.key for run in runs for m in run.data.metrics)
    param_counts = Counter(key for run in runs for key in run.data.params)
    candidates = sorted(
        [(-n, 0, DataColumn("metrics", k)) for k, n in metric_counts.items()]
        + [(-n, 1, DataColumn("params", k)) for k, n in param_counts.items()],
        key=lambda item: (item[0], item[1], item[2].key),
    )
    candidates = [(0, -1, c) for c in preferred] + [c for c in candidates if c[2] not in preferred]
    rows = [_fixed_cells(run) for run in runs]
    fixed = sum(
        max([len(header), *(len(row[i]) for row in rows)]) + COLUMN_OVERHEAD
        for i, header in enumerate(FIXED_HEADERS)
    )
    budget = width - fixed
    chosen: list[DataColumn] = []
    for _, _, column in candidates:
        if len(chosen) >= MAX_EXTRA:
            break
        cost = _width(column, runs)
        if cost > budget and len(chosen) >= MIN_EXTRA:
            break
        chosen.append(column)
        budget -= cost
    return chosen


def runs_table(runs: Sequence[Run], columns: Sequence[DataColumn]) -> Table:
    table = make_table(*FIXED_HEADERS, *(c.header for c in columns))
    for run in runs:
        table.add_row(*_fixed_cells(run), *(c.cell(run) for c in columns))
    return table
