"""Docs are tested: the public API, the error table and the system tags must be documented."""

from __future__ import annotations

from pathlib import Path

import pytest

import wayline
from wayline import errors
from wayline.client import context
from wayline.store.sql.schema import metadata

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(n for n in wayline.__all__ if not n.startswith("_")))
def test_every_public_name_is_in_the_tracking_docs(name: str) -> None:
    text = _doc("tracking.md")
    assert any(s in text for s in (f"`{name}", f"{name}(", f"wayline.{name}")), name


@pytest.mark.parametrize(
    "cls",
    sorted(
        (c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.WaylineError)),
        key=lambda c: c.__name__,
    ),
    ids=lambda c: c.__name__,
)
def test_every_error_class_is_in_the_error_table(cls: type[errors.WaylineError]) -> None:
    if cls is errors.WaylineError:
        return
    text = _doc("errors.md")
    assert f"`{cls.__name__}`" in text
    assert f"`{cls.default_code.value}`" in text


def test_every_system_tag_is_documented() -> None:
    text = _doc("tracking.md")
    for tag in (*context.SYSTEM_TAG_KEYS, context.PARENT_RUN_ID):
        assert f"`{tag}`" in text, tag


@pytest.mark.parametrize("table", sorted(metadata.tables), ids=str)
def test_every_table_is_in_the_storage_docs(table: str) -> None:
    assert f"`{table}`" in _doc("storage.md")


def test_environment_artifacts_are_documented() -> None:
    text = _doc("tracking.md")
    assert context.REQUIREMENTS_ARTIFACT in text
    assert context.PYTHON_ARTIFACT in text
    assert context.DISABLE_ENV in text
