"""The UI benchmark's table (figure | MLflow | Wayline | ratio | target) and its JSON document."""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any

from ui.browser import Figure

#: Figure name -> (label, Wayline's target in ms).
FIGURES: dict[str, tuple[str, float]] = {
    "runs_page": ("runs page interactive, ms", 1500.0),
    "sort": ("sort by a metric applied, ms", 500.0),
    "filter": ("filter applied, ms", 500.0),
    "chart": ("long-metric chart drawn, ms", 500.0),
}


def counted(figure: Figure) -> list[float]:
    """The timed attempts' milliseconds (the warm-up, attempt 0, is not counted)."""
    return [a.ms for a in figure.attempts[1:] if a.ms is not None]


def median(figure: Figure | None) -> float | None:
    values = counted(figure) if figure else []
    return statistics.median(values) if values else None


def failure(figure: Figure | None) -> str | None:
    """Why a figure has no median: "timeout" or the first error."""
    if figure is None:
        return "not run"
    errors = [a.error for a in figure.attempts if a.error]
    if median(figure) is None:
        return errors[0] if errors else "no attempt"
    return None


def cell(figure: Figure | None) -> str:
    value = median(figure)
    if value is not None:
        failed = sum(1 for a in figure.attempts[1:] if a.ms is None) if figure else 0
        return f"{value:,.0f}" + (f" ({failed} failed)" if failed else "")
    reason = failure(figure) or ""
    return reason if len(reason) <= 40 else reason[:37] + "..."


def ratio(mlflow: Figure | None, wayline: Figure | None) -> str:
    """MLflow ÷ Wayline (> 1: Wayline faster); a lower bound when MLflow timed out."""
    w = median(wayline)
    m = median(mlflow)
    if w is None or w <= 0:
        return ""
    if m is None:
        if mlflow is not None and failure(mlflow) == "timeout":
            return f"> {mlflow.timeout_ms / w:,.0f}×"
        return ""
    return f"{m / w:,.1f}×" if m / w < 100 else f"{m / w:,.0f}×"


def rows(results: dict[str, dict[str, Figure]]) -> list[list[str]]:
    out = []
    for name, (label, target) in FIGURES.items():
        m = results.get("mlflow", {}).get(name)
        w = results.get("wayline", {}).get(name)
        met = ""
        if w is not None:
            value = median(w)
            met = "yes" if value is not None and value <= target else "no"
        out.append([label, cell(m), cell(w), ratio(m, w), f"≤ {target:,.0f}", met])
    return out


def figure_json(figure: Figure) -> dict[str, Any]:
    values = counted(figure)
    return {
        "method": figure.method,
        "median_ms": median(figure),
        "min_ms": min(values) if values else None,
        "max_ms": max(values) if values else None,
        "counted": len(values),
        "failure": failure(figure),
        "attempts": [asdict(a) for a in figure.attempts],
        "page_errors": figure.page_errors[:20],
    }
