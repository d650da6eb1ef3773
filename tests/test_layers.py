"""The architecture's import rules (DESIGN.md, Layers), checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "wayline"

#: For each layer, the wayline packages it must never import (imports point downward only).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "entities": (
        "wayline.store",
        "wayline.services",
        "wayline.client",
        "wayline.cli",
        "wayline.artifacts",
        "wayline.search",
        "wayline.server",
    ),
    "search": (
        "wayline.store",
        "wayline.services",
        "wayline.client",
        "wayline.cli",
        "wayline.artifacts",
        "wayline.server",
    ),
    "wire": (
        "wayline.store",
        "wayline.services",
        "wayline.client",
        "wayline.cli",
        "wayline.artifacts",
        "wayline.search",
        "wayline.server",
    ),
    "transport": (
        "wayline.store",
        "wayline.services",
        "wayline.client",
        "wayline.cli",
        "wayline.artifacts",
        "wayline.server",
    ),
    "store": ("wayline.services", "wayline.client", "wayline.cli", "wayline.server"),
    "artifacts": ("wayline.store", "wayline.services", "wayline.client", "wayline.cli", "wayline.server"),
    "services": ("wayline.client", "wayline.cli", "wayline.server"),
    "client": ("wayline.cli", "wayline.server"),
}

#: Third-party modules a pure layer must not touch.
PURE_LAYERS = {
    "entities": ("sqlalchemy", "alembic", "psycopg", "pydantic", "httpx", "requests", "click"),
    "wire": ("sqlalchemy", "alembic", "psycopg", "pydantic", "httpx", "requests", "click", "fastapi"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_source_tree_is_found() -> None:
    assert (SRC / "errors.py").is_file()
    assert len(_python_files()) > 10


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_tracker_imports(path: Path) -> None:
    """Wayline is its own implementation: no mlflow (or other tracker) import in src/."""
    for name in _imports(path):
        root = name.split(".")[0]
        assert root not in {"mlflow", "wandb", "clearml", "aim"}, f"{path} imports {name}"


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_downward(layer: str) -> None:
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in _imports(path):
            for banned in FORBIDDEN[layer]:
                inside = name == banned or name.startswith(banned + ".")
                assert not inside, f"{path.relative_to(SRC)} ({layer}) imports {name}"
            for banned in PURE_LAYERS.get(layer, ()):
                assert name.split(".")[0] != banned, (
                    f"{path.relative_to(SRC)} must stay pure but imports {name}"
                )
