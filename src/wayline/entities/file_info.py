"""Artifact listings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileInfo:
    """One entry of an artifact listing; ``path`` is relative to the listed root, with ``/`` separators."""

    path: str
    is_dir: bool
    file_size: int | None = None
