"""The report: one rich table (both products, their ratio, Wayline's target) and the same in markdown.

Ratios are Wayline ÷ MLflow for rates and MLflow ÷ Wayline for times, so > 1 always means Wayline is better.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench_common import dig
from rich.console import Console
from rich.table import Table

#: Wayline's target for the p50 of both searches (the issue's "Speed" section).
TARGET_P50_MS = 50.0
BACKEND_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
COLUMNS = ("backend", "measure", "MLflow", "Wayline", "ratio", "Wayline target", "met")


@dataclass(frozen=True)
class Figure:
    label: str
    path: tuple[str, ...]
    higher_is_better: bool
    digits: int
    target_ms: float | None = None


FIGURES = (
    Figure("REST create, registered models/s (5 tags each) †", ("sample", "models_per_s"), True, 1),
    Figure("REST create, model versions/s (2 tags each) †", ("sample", "versions_per_s"), True, 1),
    Figure("search models, 3 tag filters: p50 ms", ("searches", "models", "p50_ms"), False, 1, TARGET_P50_MS),
    Figure("search models, 3 tag filters: p95 ms", ("searches", "models", "p95_ms"), False, 1),
    Figure("search versions by name: p50 ms", ("searches", "versions", "p50_ms"), False, 1, TARGET_P50_MS),
    Figure("search versions by name: p95 ms", ("searches", "versions", "p95_ms"), False, 1),
    Figure(
        "search models, new connection per request: p50 ms", ("searches", "models_close", "p50_ms"), False, 1
    ),
    Figure(
        "search versions, new connection per request: p50 ms",
        ("searches", "versions_close", "p50_ms"),
        False,
        1,
    ),
)

#: backend -> product -> record (see ``registry_bench.measure_product``).
Records = dict[str, dict[str, dict[str, Any]]]


def _number(value: Any, digits: int) -> str:
    return "—" if not isinstance(value, (int, float)) else f"{value:,.{digits}f}"


def _ratio(better: Any, worse: Any) -> str:
    if not isinstance(better, (int, float)) or not isinstance(worse, (int, float)) or not worse:
        return "—"
    r = better / worse
    return f"{r:,.1f}×" if r >= 10 else f"{r:,.2f}×"


def _checked(record: dict[str, Any] | None) -> str | None:
    """ "all correct", "WRONG" or None (nothing measured)."""
    searches = dig(record, ("searches",)) or {}
    if not searches:
        return None
    return "all correct" if all(s.get("correct") for s in searches.values()) else "WRONG"


def rows(records: Records) -> list[tuple[str, ...]]:
    """The table's rows, plain text: backend, measure, MLflow, Wayline, ratio, target, met."""
    out: list[tuple[str, ...]] = []
    for backend, per in records.items():
        name = BACKEND_NAMES.get(backend, backend)
        m_rec, w_rec = per.get("mlflow"), per.get("wayline")
        for figure in FIGURES:
            m, w = dig(m_rec, figure.path), dig(w_rec, figure.path)
            ratio = _ratio(w, m) if figure.higher_is_better else _ratio(m, w)
            target = met = ""
            if figure.target_ms is not None:
                target = f"≤ {figure.target_ms:g} ms"
                met = "—" if not isinstance(w, (int, float)) else ("yes" if w <= figure.target_ms else "NO")
            num_m, num_w = _number(m, figure.digits), _number(w, figure.digits)
            out.append((name, figure.label, num_m, num_w, ratio, target, met))
        checks = [_checked(m_rec), _checked(w_rec)]
        out.append((name, "answers checked", *(c or "—" for c in checks), "", "", ""))
    return out


def print_table(console: Console, title: str, records: Records) -> None:
    table = Table(title=title)
    for column in COLUMNS:
        justify = "left" if column in ("backend", "measure") else "right"
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    previous = ""
    for row in rows(records):
        if previous and row[0] != previous:
            table.add_section()
        met = {"yes": "[green]yes", "NO": "[red]NO"}.get(row[6], row[6])
        checks = [{"WRONG": "[red]WRONG", "all correct": "[green]all correct"}.get(c, c) for c in row[2:4]]
        shown = row[0] if row[0] != previous else ""
        table.add_row(shown, row[1], *checks, *row[4:6], met)
        previous = row[0]
    console.print(table)


def markdown(records: Records) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "| --- | --- | ---: | ---: | ---: | ---: | :---: |"]
    for row in rows(records):
        met = "**NO**" if row[6] == "NO" else row[6]
        checks = ["**WRONG**" if c == "WRONG" else c for c in row[2:4]]
        lines.append("| " + " | ".join([row[0], row[1], *checks, *row[4:6], met]) + " |")
    return "\n".join(lines) + "\n"
