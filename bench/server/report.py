"""The report: one rich table per backend on the console and the same tables in a markdown file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from server.figures import Record, Row, compare, problems

PRODUCT_NAMES = {"mlflow": "MLflow", "wayline": "Wayline"}


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
        for row in self.rows(backend):
            d = row.figure.digits
            cells = (number(row.mlflow, d), number(row.wayline, d), times(row.ratio), row.target)
            table.add_row(row.figure.label, *cells, verdict(row, rich=True))
        return table

    def print(self, console: Console) -> None:
        for backend in self.outcomes:
            console.print(self.table(backend))
            for line in self.problem_lines(backend):
                console.print(f"[red]{backend} · {line}", highlight=False)
        for note in self.notes:
            console.print(note, highlight=False)

    def markdown(self) -> str:
        out = [f"# REST server benchmark: {self.setup}", ""]
        for backend in self.outcomes:
            out += [f"## {backend}", "", "| figure | MLflow | Wayline | ratio | target | met |"]
            out.append("| --- | ---: | ---: | ---: | ---: | :---: |")
            for row in self.rows(backend):
                d = row.figure.digits
                cells = (number(row.mlflow, d), number(row.wayline, d), times(row.ratio), row.target)
                out.append(
                    f"| {row.figure.label} | " + " | ".join(cells) + f" | {verdict(row, rich=False)} |"
                )
            failed = self.problem_lines(backend)
            if failed:
                out += ["", "Problems:", ""] + [f"- {line}".replace("\n", " ") for line in failed]
            out.append("")
        out += [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"
