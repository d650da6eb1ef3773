"""How the CLI shows things: rich tables, JSON in MLflow's shape, times, numbers and truncation.

Everything the CLI prints for people goes through a :class:`rich.console.Console` made with markup, emoji and
highlighting off, so names such as ``[prod]`` or ``:x:`` are shown as written. Machine-readable output
(``--json``) is plain JSON on stdout in the shape the tracking server sends (:mod:`wayline.wire.tracking`):
times are integer milliseconds since the epoch, empty fields are left out and non-finite metric values are
the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

import click
from rich import box
from rich.console import Console
from rich.table import Table

from wayline.entities import Experiment, Run, RunData
from wayline.wire.tracking import Json, experiment_to_json, run_to_json

#: Ellipsis appended to truncated values.
ELLIPSIS = "…"


def make_console(*, stderr: bool = False) -> Console:
    """A console for the current invocation (it reads ``COLUMNS`` and the terminal when made)."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def make_table(*headers: str, title: str | None = None) -> Table:
    """A compact table; every column keeps to one line and ends long values with an ellipsis."""
    table = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="ellipsis")
    return table


# -- text formatting ---------------------------------------------------------------------------------------
def truncate(value: str, width: int, *, keep_end: bool = False) -> str:
    """``value`` on one line and at most ``width`` characters, with an ellipsis where it was cut.

    ``keep_end`` cuts the start instead of the end (for paths, whose end tells them apart).
    """
    text = " ".join(value.splitlines()) if "\n" in value or "\r" in value else value
    if width < 1:
        return ""
    if len(text) <= width:
        return text
    if keep_end:
        return ELLIPSIS + text[len(text) - width + 1 :]
    return text[: width - 1] + ELLIPSIS


def format_timestamp(ms: int | None, *, seconds: bool = True) -> str:
    """Milliseconds since the epoch as local time, ``YYYY-MM-DD HH:MM:SS``; ``-`` when unset."""
    if ms is None:
        return "-"
    try:
        moment = datetime.fromtimestamp(ms / 1000)
    except (OverflowError, OSError, ValueError):
        return str(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_duration(start_ms: int | None, end_ms: int | None) -> str:
    """Time between two instants in ms: ``850ms``, ``12.3s``, ``4m 05s``, ``2h 03m``, ``3d 04h``."""
    if start_ms is None or end_ms is None or end_ms < start_ms:
        return "-"
    ms = end_ms - start_ms
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_number(value: float) -> str:
    """A metric value in at most 6 significant digits (``nan``, ``inf`` and ``-inf`` as such)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def format_size(size: int | None) -> str:
    if size is None:
        return "-"
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def format_tags(tags: Mapping[str, str], width: int = 40) -> str:
    """``k=v, k2=v2`` in key order, truncated to ``width``."""
    return truncate(", ".join(f"{k}={v}" for k, v in sorted(tags.items())), width)


# -- JSON --------------------------------------------------------------------------------------------------
def _by_key(mapping: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(mapping.items()))


def experiment_json(experiment: Experiment) -> Json:
    """The experiment as the tracking server sends it, its tags in key order."""
    return experiment_to_json(replace(experiment, tags=_by_key(experiment.tags)))


def run_json(run: Run) -> Json:
    """The run as the tracking server sends it, its metrics, params and tags in key order."""
    data = RunData(
        metrics=tuple(sorted(run.data.metrics, key=lambda m: m.key)),
        params=_by_key(run.data.params),
        tags=_by_key(run.data.tags),
    )
    return run_to_json(replace(run, data=data))


def echo_json(value: object) -> None:
    """Write ``value`` as indented JSON (strict: no NaN literals) to stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False))


def key_values(rows: Iterable[tuple[str, str]], *, title: str | None = None) -> Table:
    """A two-column table of labels and values (values may be long; they wrap)."""
    table = Table(
        box=None,
        title=title,
        title_justify="left",
        pad_edge=False,
        show_header=False,
    )
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("value", overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    return table
