"""Pieces of artifact transfers shared by the local, HTTP and S3 repositories.

``log_artifact`` and ``log_artifacts`` check what they are given and plan every artifact path before the
first byte moves (:func:`plan_file_upload`, :func:`plan_dir_upload`), so a bad name in a directory uploads
nothing. ``download_artifacts`` places what it fetches with :func:`download_target`. Local files are written
atomically through a temporary sibling (:func:`reserve_temp`), whose name starts with :data:`TEMP_PREFIX`
and is never listed. A remote body (an HTTP response, an S3 object) is read as a file with
:class:`BodyReader`.
"""

from __future__ import annotations

import ctypes
import errno
import io
import mimetypes
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wayline.artifacts.path import join_path, safe_relative_path
from wayline.errors import invalid_value

#: Name prefix of the temporary siblings used for atomic writes; never listed or downloaded.
TEMP_PREFIX = ".wayline-tmp-"
_TEMP_TOKEN_BYTES = 8
#: The length of a temporary file's name (:func:`reserve_temp`).
TEMP_NAME_LENGTH = len(TEMP_PREFIX) + 2 * _TEMP_TOKEN_BYTES


@dataclass(frozen=True)
class DirUpload:
    """What ``log_artifacts`` writes: the directories (parents first) and ``(local file, artifact path)``."""

    dirs: list[str] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)


def plan_file_upload(local_file: str | Path, artifact_path: str | None) -> tuple[Path, str]:
    """The existing regular file ``local_file`` and the artifact path it goes to, in ``artifact_path``."""
    source = Path(local_file)
    if not source.is_file():
        raise invalid_value("local_file", str(local_file), "not an existing regular file")
    base = safe_relative_path(artifact_path, field="artifact_path")
    return source, safe_relative_path(join_path(base, source.name), field="local_file")


def plan_dir_upload(local_dir: str | Path, artifact_path: str | None) -> DirUpload:
    """Every directory and file below ``local_dir``, recursively, with the artifact paths they go to.

    File names must be safe artifact paths; symbolic links to directories and special files (pipes,
    sockets) are refused, links to files are uploaded by content.
    """
    source = Path(local_dir)
    if not source.is_dir():
        raise invalid_value("local_dir", str(local_dir), "not an existing directory")
    base = safe_relative_path(artifact_path, field="artifact_path")
    plan = DirUpload(dirs=[base] if base else [])
    for current, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(current)
        prefix = here.relative_to(source).as_posix()
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                raise invalid_value("local_dir", str(here / name), "links to directories are refused")
            rel = join_path(prefix, name) if prefix != "." else name
            plan.dirs.append(safe_relative_path(join_path(base, rel), field="local_dir"))
        for name in sorted(filenames):
            file = here / name
            if not file.is_file():
                raise invalid_value("local_dir", str(file), "not a regular file")
            rel = join_path(prefix, name) if prefix != "." else name
            plan.files.append((file, safe_relative_path(join_path(base, rel), field="local_dir")))
    return plan


def download_target(dst_path: str | Path | None, rel: str) -> tuple[Path, Path]:
    """Where ``download_artifacts`` puts the artifact ``rel``: ``(destination, destination / rel)``.

    The destination is ``dst_path`` (created if missing) or, without it, a new temporary directory readable
    by the current user only.
    """
    if dst_path is None:
        destination = Path(tempfile.mkdtemp(prefix="wayline-download-"))
    else:
        destination = Path(dst_path)
        destination.mkdir(parents=True, exist_ok=True)
    return destination, destination.joinpath(*rel.split("/")) if rel else destination


def replace_file(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` atomically: a reader sees the old file or the new one, never neither.

    Replacing a file that was written moments ago is slow on ext4, inside the caller's request: releasing the
    old file's blocks, and the ``auto_da_alloc`` safeguard that writes the new file out when a rename replaces
    a file (together about 35 ms for 64 MiB here). On Linux an existing ``target`` is therefore swapped with
    ``source`` (``renameat2`` with ``RENAME_EXCHANGE``, as atomic), and the old content, now at ``source``
    (a temporary name, never listed), is deleted: at once when it is small, by a background thread from
    :data:`BACKGROUND_UNLINK_BYTES` on. Where the call or the flag is missing (other systems, old kernels,
    some filesystems), ``os.replace``.
    """
    if _exchange is not None and os.path.lexists(target):
        if _exchange(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE) == 0:
            if source.lstat().st_size < BACKGROUND_UNLINK_BYTES:
                source.unlink(missing_ok=True)
            else:
                # Not a daemon: a process that exits right after still deletes the old content first.
                threading.Thread(
                    target=source.unlink, kwargs={"missing_ok": True}, name="wayline-unlink"
                ).start()
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOENT, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(target))
    os.replace(source, target)


def _renameat2() -> Any:
    """libc's ``renameat2`` (Linux, glibc 2.28+), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


#: Old content from this size on is deleted in the background by :func:`replace_file`.
BACKGROUND_UNLINK_BYTES = 8 * 1024 * 1024
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_exchange = _renameat2()


def reserve_temp(directory: Path) -> Path:
    """Create an empty temporary file in ``directory`` (mode from the umask, like any written file)."""
    while True:
        temp = directory / f"{TEMP_PREFIX}{secrets.token_hex(_TEMP_TOKEN_BYTES)}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp


class BodyReader(io.RawIOBase):
    """A readable raw binary file over a remote body's ``read(size) -> bytes`` and ``close()``."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], object]) -> None:
        super().__init__()
        self._read_body = read
        self._close_body = close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._read_body(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._close_body()
        super().close()


def content_type(rel: str) -> str:
    """The ``Content-Type`` an uploaded artifact is stored with: by its name's extension, else binary."""
    return mimetypes.guess_type(rel.rsplit("/", 1)[-1])[0] or "application/octet-stream"


__all__ = [
    "BACKGROUND_UNLINK_BYTES",
    "TEMP_PREFIX",
    "BodyReader",
    "DirUpload",
    "content_type",
    "download_target",
    "plan_dir_upload",
    "plan_file_upload",
    "replace_file",
    "reserve_temp",
]
