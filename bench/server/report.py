"""The report: one rich table per backend on the console and the same tables in a markdown file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from server.figures import Record, Row, compare, problems, ratio, value

PRODUCT_NAMES = {"mlflow": "MLflow", "wayline": "Wayline", "ceiling": "Ceiling"}


@dataclass
class Outcome:
    """What one server produced on one backend: its record (None if it never ran) and what went wrong."""

    product: str
    backend: str
    record: Record | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def all_problems(self) -> list[str]:
        return self.errors + problems(self.record)


Outcomes = dict[str, dict[str, Outcome]]  # backend -> product -> outcome


def number(v: float | None, digits: int) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def times(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:,.1f}×" if r >= 10 else f"{r:,.2f}×"


def verdict(row: Row, *, rich: bool) -> str:
    if row.met is None:
        return ""
    if row.met:
        return "[green]yes" if rich else "yes"
    text = "NO (no figure)" if row.wayline is None else "NO"
    return f"[red]{text}" if rich else f"**{text}**"


@dataclass(frozen=True)
class Report:
    outcomes: Outcomes
    #: "MLflow 3.17.2 (4 workers) vs Wayline ... (4 workers)"
    setup: str
    scenarios: tuple[str, ...]
    notes: tuple[str, ...]
    #: The harness against the null server (None when not measured).
    ceiling: Outcome | None = None

    def ceiling_cells(self, row: Row) -> tuple[str, ...]:
        """The ceiling's figure and the best ratio it allows; empty when no ceiling was measured."""
        if self.ceiling is None:
            return ()
        best = value(self.ceiling.record, row.figure.path)
        if best is None:
            return ("", "")
        return number(best, row.figure.digits), times(ratio(row.figure, row.mlflow, best))

    def rows(self, backend: str) -> list[Row]:
        per_product = self.outcomes[backend]
        mlflow, wayline = per_product.get("mlflow"), per_product.get("wayline")
        return compare(mlflow.record if mlflow else None, wayline.record if wayline else None, self.scenarios)

    def problem_lines(self, backend: str) -> list[str]:
        lines = []
        for product, outcome in sorted(self.outcomes[backend].items()):
            found = outcome.all_problems()
            lines += [f"{PRODUCT_NAMES[product]}: {problem}" for problem in found]
            if found and "server_log" in outcome.files:
                lines.append(f"{PRODUCT_NAMES[product]}: server log {outcome.files['server_log']}")
        return lines

    def table(self, backend: str) -> Table:
        table = Table(title=f"REST server on {backend}: {self.setup}")
        table.add_column("figure")
        for name in ("MLflow", "Wayline", "ratio", "target"):
            table.add_column(name, justify="right")
        table.add_column("met", justify="center")
        if self.ceiling is not None:
            table.add_column("ceiling", justify="right")
            table.add_column("best ratio", justify="right")
        for row in self.rows(backend):
            d = row.figure.digits
            cells = (number(row.mlflow, d), number(row.wayline, d), times(row.ratio), row.target)
            table.add_row(row.figure.label, *cells, verdict(row, rich=True), *self.ceiling_cells(row))
        return table

    def print(self, console: Console) -> None:
        for backend in self.outcomes:
            console.print(self.table(backend))
            for line in self.problem_lines(backend):
                console.print(f"[red]{backend} · {line}", highlight=False)
        if self.ceiling is not None:
            for problem in self.ceiling.all_problems():
                console.print(f"[red]ceiling · {problem}", highlight=False)
        for note in self.notes:
            console.print(note, highlight=False)

    def markdown(self) -> str:
        out = [f"# REST server benchmark: {self.setup}", ""]
        for backend in self.outcomes:
            head = "| figure | MLflow | Wayline | ratio | target | met |"
            rule = "| --- | ---: | ---: | ---: | ---: | :---: |"
            if self.ceiling is not None:
                head, rule = head + " ceiling | best ratio |", rule + " ---: | ---: |"
            out += [f"## {backend}", "", head, rule]
            for row in self.rows(backend):
                d = row.figure.digits
                cells = (number(row.mlflow, d), number(row.wayline, d), times(row.ratio), row.target)
                extra = "".join(f" {cell} |" for cell in self.ceiling_cells(row))
                line = f"| {row.figure.label} | " + " | ".join(cells) + f" | {verdict(row, rich=False)} |"
                out.append(line + extra)
            failed = self.problem_lines(backend)
            if failed:
                out += ["", "Problems:", ""] + [f"- {line}".replace("\n", " ") for line in failed]
            out.append("")
        out += [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"
