"""The one seam every artifact store implements."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from wayline.entities import FileInfo


@runtime_checkable
class ArtifactRepository(Protocol):
    """A tree of files under one root URI.

    Every ``artifact_path`` is relative to the root, uses ``/`` separators, and must stay inside the root: an
    implementation refuses anything else with :class:`wayline.errors.InvalidParameterValue` naming the field.
    """

    root_uri: str

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        """Copy one local file into the directory ``artifact_path`` (the root when None)."""
        ...

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents, recursively, into ``artifact_path``."""
        ...

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` to the file ``artifact_file`` (a path relative to the root, with its file name)."""
        ...

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path``, sorted by path; paths in the result are relative to the root."""
        ...

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> Path:
        """Copy a file or directory to ``dst_path`` (a new private temporary directory when None)."""
        ...

    def write_stream(self, artifact_file: str, stream: BinaryIO) -> int:
        """Write the file ``artifact_file`` from ``stream`` (read until EOF in bounded chunks, never whole);
        return the number of bytes written. The file appears only once complete."""
        ...

    def open(self, artifact_file: str) -> BinaryIO:
        """Open a file for streaming reads (ResourceNotFound when missing)."""
        ...

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or directory (everything when None)."""
        ...
