"""An artifact store in a folder on the local filesystem.

Every path goes through :func:`safe_relative_path`, and the real path it names (after following symbolic
links) must lie inside the real root. A symbolic link that leads outside the root is refused when named and
invisible in listings and directory downloads; deleting it removes the link only. Writes are atomic (a
temporary sibling, then :func:`replace_file`) and copies stream through :mod:`shutil`: no file is ever held
in memory whole.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from wayline.artifacts.path import join_path, safe_relative_path, uri_scheme
from wayline.artifacts.transfer import (
    TEMP_NAME_LENGTH,
    TEMP_PREFIX,
    download_target,
    plan_dir_upload,
    plan_file_upload,
    replace_file,
    reserve_temp,
)
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound, invalid_value

#: Bytes read from a stream at a time by :meth:`LocalArtifactRepository.write_stream`.
STREAM_CHUNK_SIZE = 1024 * 1024
_WINDOWS_DRIVE_PATH = re.compile(r"^/[A-Za-z]:")


class LocalArtifactRepository:
    """Artifacts under ``root``: a plain path (relative to the working directory) or a ``file:`` URI.

    ``file:`` URIs must name an absolute path with an empty or ``localhost`` host (``file:///srv/a``,
    ``file://localhost/srv/a``, ``file:/srv/a``); the path is percent-decoded. The root is created on first
    write.
    """

    def __init__(self, root: str | Path) -> None:
        self.root: Path = _root_path(root)
        self.root_uri: str = root if isinstance(root, str) and uri_scheme(root) == "file" else str(self.root)

    def __repr__(self) -> str:
        return f"LocalArtifactRepository({self.root_uri!r})"

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        """Copy one local file into the directory ``artifact_path`` (the root when None)."""
        source, rel = plan_file_upload(local_file, artifact_path)
        _atomic_copy(source, self._writable_file(rel, "local_file", str(local_file)))

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents, recursively, into ``artifact_path``.

        Everything is checked before anything is written (see :func:`plan_dir_upload`: file names must be
        safe artifact paths, links to directories and special files are refused), and every target must
        resolve inside the root. Links to files are copied by content.
        """
        plan = plan_dir_upload(local_dir, artifact_path)
        for rel in [*plan.dirs, *(rel for _, rel in plan.files)]:
            self._real(rel, "local_dir", str(local_dir))
        for rel in plan.dirs:
            self._make_dirs(rel, "local_dir", str(local_dir))
        for file, rel in plan.files:
            _atomic_copy(file, self._writable_file(rel, "local_dir", str(local_dir)))

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` to ``artifact_file`` atomically: readers see the old or the new content."""
        rel = safe_relative_path(artifact_file, field="artifact_file")
        _write_atomically(
            self._writable_file(rel, "artifact_file", artifact_file), lambda out: out.write(data)
        )

    def write_stream(self, artifact_file: str, stream: BinaryIO) -> int:
        """Copy ``stream`` to ``artifact_file`` in bounded chunks, atomically; return the bytes written.

        The content goes to a temporary sibling first and is renamed over the target once the stream ends,
        so readers never see a partial file; if reading or writing fails, the target is left untouched.
        """
        rel = safe_relative_path(artifact_file, field="artifact_file")
        target = self._writable_file(rel, "artifact_file", artifact_file)
        return _write_atomically(target, lambda out: _copy_stream(stream, out))

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree; everything under the root (not the root) when None.

        Deleting a path that does not exist does nothing. A symbolic link is removed, never followed.
        """
        rel = safe_relative_path(artifact_path, field="artifact_path")
        if not rel:
            real_root = Path(os.path.realpath(self.root))
            if real_root.is_dir():
                for entry in real_root.iterdir():
                    _remove(entry)
            return
        parent, _, name = rel.rpartition("/")
        target = self._real(parent, "artifact_path", artifact_path) / name
        _check_lengths(name, str(target), _limits(self.root), "artifact_path", artifact_path)
        _remove(target)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path``, sorted by path; ``[]`` for a file or a missing path."""
        rel = safe_relative_path(path, field="path")
        directory = self._real(rel, "path", path)
        if not directory.is_dir():
            return []
        real_root = os.path.realpath(self.root)
        infos = [
            FileInfo(path=join_path(rel, name), is_dir=is_dir, file_size=None if is_dir else size)
            for name, _, is_dir, size in _children(directory, real_root)
        ]
        return sorted(infos, key=lambda info: info.path)

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> Path:
        """Copy a file or a directory to ``dst_path / artifact_path`` and return that local path.

        Without ``dst_path`` the copy goes to a new temporary directory readable by the current user only.
        """
        rel = safe_relative_path(artifact_path, field="artifact_path")
        source = self._real(rel, "artifact_path", artifact_path)
        if not (source.is_file() or source.is_dir()):
            raise ResourceNotFound(f"No artifact found at path '{rel}'")
        local = download_target(dst_path, rel)[1]
        if source.is_file():
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, local)
            return local
        local.mkdir(parents=True, exist_ok=True)
        for sub, real, is_dir in _walk(source, os.path.realpath(self.root)):
            target = local.joinpath(*sub.split("/"))
            if is_dir:
                target.mkdir(exist_ok=True)
            else:
                shutil.copyfile(real, target)
        return local

    def open(self, artifact_file: str) -> BinaryIO:
        """Open a file for streaming reads; the caller closes it."""
        rel = safe_relative_path(artifact_file, field="artifact_file")
        real = self._real(rel, "artifact_file", artifact_file)
        if real.is_dir():
            raise invalid_value("artifact_file", artifact_file, "is a directory, not a file")
        if not real.is_file():
            raise ResourceNotFound(f"No artifact found at path '{rel}'")
        return real.open("rb")

    def _real(self, rel: str, field: str, original: object) -> Path:
        """The real path of the safe relative path ``rel``; refused unless it lies inside the real root and
        the filesystem can name it."""
        real_root = os.path.realpath(self.root)
        limits = _limits(real_root)
        _check_lengths(rel, "", limits, field, original)
        real = os.path.realpath(os.path.join(real_root, *rel.split("/"))) if rel else real_root
        if not _is_within(real, real_root):
            raise invalid_value(field, original, "resolves outside the artifact root")
        _check_lengths("", real, limits, field, original)
        return Path(real)

    def _make_dirs(self, rel: str, field: str, original: object) -> None:
        _make_real_dirs(self._real(rel, field, original), field, original)

    def _writable_file(self, rel: str, field: str, original: object) -> Path:
        """The real path to write ``rel`` to, with its parent directories created."""
        if not rel:
            raise invalid_value(field, original, "must name a file, not the artifact root")
        parent = self._real(rel, field, original).parent
        sibling = os.path.join(parent, "t" * TEMP_NAME_LENGTH)  # as long as the temporary sibling's path
        _check_lengths("", sibling, _limits(self.root), field, original)
        _make_real_dirs(parent, field, original)
        target = self._real(rel, field, original)  # again: the directories now exist
        if target.is_dir():
            raise invalid_value(field, original, "is an existing directory")
        return target


def _limits(root: str | Path) -> tuple[int, int]:
    """``NAME_MAX`` and ``PATH_MAX`` of the filesystem that holds ``root`` (or would: the root is created on
    first write), read from its nearest existing folder."""
    existing = os.path.abspath(root)
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    return _filesystem_limits(existing)


@functools.lru_cache(maxsize=64)
def _filesystem_limits(folder: str) -> tuple[int, int]:
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # an unknown name, no pathconf (Windows)
        return 255, 4096


def _check_lengths(rel: str, real: str, limits: tuple[int, int], field: str, original: object) -> None:
    """Refuse a name in ``rel`` longer than the filesystem allows (``NAME_MAX``, 255 bytes on most) and a
    real path ``real`` as long as ``PATH_MAX``: the system call would fail with ``ENAMETOOLONG``."""
    name_max, path_max = limits
    if any(len(os.fsencode(name)) > name_max for name in rel.split("/") if name):
        raise invalid_value(field, original, f"has a name longer than {name_max} bytes")
    if len(os.fsencode(real)) >= path_max:
        raise invalid_value(field, original, "is too long for the filesystem")


def _make_real_dirs(directory: Path, field: str, original: object) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise invalid_value(field, original, "a part of the path is an existing file") from None


def _root_path(root: str | Path) -> Path:
    """The absolute local path of a plain path or a ``file:`` URI."""
    if isinstance(root, Path):
        text = str(root)
    elif uri_scheme(root) == "file":
        text = _file_uri_path(root)
    elif uri_scheme(root) == "":
        text = root
    else:
        raise invalid_value("artifact_uri", root, "not a local path or a file: URI")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise invalid_value("artifact_uri", str(root), "must not contain NUL or control characters")
    return Path(os.path.abspath(text))


def _file_uri_path(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise invalid_value("artifact_uri", uri, "file: URIs must not have a query or a fragment")
    if parts.netloc not in ("", "localhost"):
        raise invalid_value("artifact_uri", uri, "file: URIs must have an empty host or 'localhost'")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise invalid_value("artifact_uri", uri, "file: URIs must hold an absolute path")
    if ".." in path.replace("\\", "/").split("/"):
        raise invalid_value("artifact_uri", uri, "must not contain '..' segments")
    if os.name == "nt" and _WINDOWS_DRIVE_PATH.match(path):
        path = path[1:]
    return path


def _is_within(real: str, real_root: str) -> bool:
    return real == real_root or os.path.commonpath([real, real_root]) == real_root


def _is_visible(name: str) -> bool:
    """Whether a directory entry is addressable as an artifact (temporary and unsafe names are not)."""
    if name.startswith(TEMP_PREFIX):
        return False
    try:
        return safe_relative_path(name) == name
    except InvalidParameterValue:
        return False


def _children(directory: Path, real_root: str) -> Iterator[tuple[str, Path, bool, int]]:
    """``(name, real path, is_dir, size)`` of each visible child: files and directories inside the root."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _is_visible(entry.name):
                continue
            real = os.path.realpath(entry.path)
            if not _is_within(real, real_root):
                continue
            try:
                info = os.stat(real)
            except OSError:  # dangling link, or a race with a delete
                continue
            if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
                yield entry.name, Path(real), stat.S_ISDIR(info.st_mode), info.st_size


def _walk(top: Path, real_root: str) -> Iterator[tuple[str, Path, bool]]:
    """``(relative path, real path, is_dir)`` below ``top``, parents first; follows links inside the root."""
    stack: list[tuple[str, Path, frozenset[Path]]] = [("", top, frozenset({top}))]
    while stack:
        prefix, directory, seen = stack.pop()
        for name, real, is_dir, _ in sorted(_children(directory, real_root)):
            rel = join_path(prefix, name)
            if is_dir:
                if real in seen:
                    continue
                yield rel, real, True
                stack.append((rel, real, seen | {real}))
            else:
                yield rel, real, False


def _write_atomically(target: Path, fill: Callable[[BinaryIO], int]) -> int:
    """Write a temporary sibling of ``target`` with ``fill``, then rename it over ``target``; the target is
    left untouched if anything fails. Returns what ``fill`` returned (the bytes written). Like every other
    artifact write here (and MLflow's), it is not fsynced: readers never see a partial file, and the page
    cache, not each upload, decides when the bytes reach the disk."""
    temp = reserve_temp(target.parent)
    try:
        with temp.open("wb") as out:
            written = fill(out)
        replace_file(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return written


def _atomic_copy(source: Path, target: Path) -> None:
    """Stream ``source`` into a temporary sibling of ``target``, then rename it over ``target``."""
    temp = reserve_temp(target.parent)
    try:
        shutil.copyfile(source, temp)
        replace_file(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _copy_stream(source: BinaryIO, out: BinaryIO) -> int:
    """Copy ``source`` to ``out`` until EOF, one bounded chunk at a time; return the bytes copied."""
    written = 0
    while True:
        chunk = source.read(STREAM_CHUNK_SIZE)
        if not chunk:
            return written
        out.write(chunk)
        written += len(chunk)


def _remove(path: Path) -> None:
    """Remove a file, a link (not its target) or a directory tree; nothing if absent."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


__all__ = ["LocalArtifactRepository"]
