"""Artifacts through a tracking server's artifact proxy (``mlflow-artifacts:``) or at a plain HTTP URL.

===================================  ==================================================================
artifact URI                         files live at
===================================  ==================================================================
``mlflow-artifacts:/<path>``         ``<tracking URI>/api/2.0/mlflow-artifacts/artifacts/<path>``
``mlflow-artifacts://host:port/p``   the same routes on ``host:port`` (tracking URI's scheme)
``http(s)://host/prefix``            ``http(s)://host/prefix/<artifact path>``
===================================  ==================================================================

Files are uploaded with ``PUT`` (the body streamed from disk), downloaded with ``GET`` (streamed to a
temporary sibling, then renamed: a download is all or nothing) and deleted with ``DELETE``; directories are
listed with ``GET /api/2.0/mlflow-artifacts/artifacts?path=...``, whose entries are names relative to the
listed directory, as MLflow's server answers. Every path, the ones the caller gives and the ones a listing
returns, goes through :func:`safe_relative_path`, and each segment is percent-encoded into the URL.

Requests go through one :class:`~wayline.transport.HttpTransport` per repository (retries, TLS, timeouts).
Credentials are sent only to the tracking server's own origin: an artifact URI that names another host gets
requests without an Authorization header, so a crafted ``artifact_location`` cannot collect them.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

import requests

from wayline.artifacts.path import join_path, safe_file_path, safe_relative_path, uri_scheme
from wayline.artifacts.transfer import (
    BodyReader,
    content_type,
    download_target,
    plan_dir_upload,
    plan_file_upload,
    replace_file,
    reserve_temp,
)
from wayline.entities import FileInfo
from wayline.errors import (
    ErrorCode,
    InvalidParameterValue,
    ResourceNotFound,
    WaylineError,
    invalid_value,
)
from wayline.transport import HttpConfig, HttpTransport, ServerUrl, parse_server_url, redact_url

#: The proxy's artifact routes below a tracking server's URL.
PROXY_ROOT = "/api/2.0/mlflow-artifacts/artifacts"
_LIST_MARKER = "/mlflow-artifacts/artifacts"
_CHUNK = 1024 * 1024
_TRACKING_ENV = ("WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")


def _encode(rel: str) -> str:
    """A safe relative path as URL path segments, each percent-encoded (``/`` inside a name cannot occur)."""
    return "/".join(quote(segment, safe="") for segment in rel.split("/"))


class HttpArtifactRepository:
    """An :class:`~wayline.artifacts.repository.ArtifactRepository` over HTTP; see the module docstring."""

    def __init__(
        self, uri: str, *, tracking_uri: str | None = None, config: HttpConfig | None = None
    ) -> None:
        scheme = uri_scheme(uri, field="artifact_uri")
        parts = urlsplit(uri)
        if parts.query or parts.fragment or "?" in uri or "#" in uri:
            raise invalid_value(
                "artifact_uri", redact_url(uri), "artifact URIs must not have a query or a fragment"
            )
        if scheme == "mlflow-artifacts":
            server, credentials = _proxy_server(uri, parts.netloc, tracking_uri)
            tail = safe_relative_path(parts.path.lstrip("/"), field="artifact_uri")
            files_path = PROXY_ROOT + (f"/{_quote_path(tail)}" if tail else "")
            list_path: str | None = PROXY_ROOT
        elif scheme in ("http", "https"):
            server = parse_server_url(uri, field="artifact_uri")
            credentials = _same_origin(server, tracking_uri)
            full = safe_relative_path(server.path.lstrip("/"), field="artifact_uri")
            head, marker, rest = f"/{full}".partition(_LIST_MARKER)
            if rest and not rest.startswith("/"):
                marker = ""
            tail = rest.strip("/") if marker else ""
            list_path = head + marker if marker else None
            files_path = f"/{_quote_path(full)}" if full else ""
            server = ServerUrl(server.scheme, server.netloc, "", server.username, server.password)
        else:
            raise invalid_value("artifact_uri", redact_url(uri), "not an mlflow-artifacts: or http(s):// URI")
        self.root_uri = uri
        self._transport = HttpTransport(server, config=config, credentials=credentials)
        self._files_url = server.base + files_path
        self._list_url = None if list_path is None else server.base + _quote_path(list_path)
        self._list_root = unquote(tail)
        # The pooled connections close when the repository is dropped (clients make one per call).
        self._finalizer = weakref.finalize(self, self._transport.close)

    def __repr__(self) -> str:
        return f"HttpArtifactRepository({redact_url(self.root_uri)!r})"

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> HttpArtifactRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------------
    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        """Upload one local file into the directory ``artifact_path`` (the root when None)."""
        self._upload_file(*plan_file_upload(local_file, artifact_path))

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Upload a local directory's files, recursively, into ``artifact_path``; every name is checked
        before the first upload (directories hold no data of their own over HTTP)."""
        for file, rel in plan_dir_upload(local_dir, artifact_path).files:
            self._upload_file(file, rel)

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        rel = safe_file_path(artifact_file)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise invalid_value("data", type(data).__name__, "must be bytes")
        self._put(rel, bytes(data))

    def write_stream(self, artifact_file: str, stream: BinaryIO) -> int:
        """Upload ``stream`` to ``artifact_file``; a stream that cannot seek is first spooled to a private
        temporary file, so a retried request sends the same bytes again."""
        rel = safe_file_path(artifact_file)
        if _seekable(stream):
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            self._put(rel, stream if size else b"")
            return size
        with tempfile.TemporaryFile(prefix="wayline-upload-") as spool:
            size = 0
            while chunk := stream.read(_CHUNK):
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            self._put(rel, spool if size else b"")
        return size

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory; everything under the root (one request per child) when None. A
        missing path does nothing."""
        rel = safe_relative_path(artifact_path, field="artifact_path")
        if not rel and self._list_url is not None:
            for info in self.list_artifacts():
                self.delete_artifacts(info.path)
            return
        with contextlib.suppress(ResourceNotFound):
            self._transport.send("DELETE", self._file_url(rel)).close()

    # -- reading ---------------------------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path``, sorted; ``[]`` for a file or a missing path."""
        rel = safe_relative_path(path, field="path")
        infos = self._listing(rel)
        # Some stores list a file as itself (``a/f`` lists ``f``); like MLflow's client, that means a file.
        if (
            rel
            and len(infos) == 1
            and not infos[0].is_dir
            and infos[0].path == join_path(rel, rel.split("/")[-1])
        ):
            return []
        return infos

    def _listing(self, rel: str) -> list[FileInfo]:
        """The server's listing of the directory ``rel``, each name checked, as paths from the root."""
        if self._list_url is None:
            raise invalid_value(
                "artifact_uri",
                redact_url(self.root_uri),
                f"listing needs a tracking server's artifact proxy URL (one containing {PROXY_ROOT!r})",
            )
        listed = join_path(self._list_root, rel)
        params = {"path": listed} if listed else None
        try:
            answer = self._transport.call("GET", "", params=params, url=self._list_url)
        except ResourceNotFound:
            return []
        infos: list[FileInfo] = []
        for item in answer.get("files") or ():
            name = safe_relative_path(str(item.get("path", "")), field="files.path")
            if not name:
                continue
            size = item.get("file_size")
            is_dir = bool(item.get("is_dir", False))
            infos.append(
                FileInfo(join_path(rel, name), is_dir, None if is_dir or size is None else int(size))
            )
        return sorted(infos, key=lambda info: info.path)

    def open(self, artifact_file: str) -> BinaryIO:
        """A streaming reader of one file; the caller closes it (ResourceNotFound when missing)."""
        rel = safe_file_path(artifact_file)
        response = self._transport.send("GET", self._file_url(rel))
        return io.BufferedReader(_ResponseReader(response, self), buffer_size=_CHUNK)

    def download_artifacts(self, artifact_path: str, dst_path: str | Path | None = None) -> Path:
        """Download a file or a directory to ``dst_path / artifact_path`` and return that local path.

        Without ``dst_path`` the download goes to a new temporary directory readable by the current user only
        (removed again if the download fails).
        """
        rel = safe_relative_path(artifact_path, field="artifact_path")
        destination, local = download_target(dst_path, rel)
        try:
            children = self.list_artifacts(rel) if rel else None
            if rel and not children:
                self._download_single(rel, local)
            else:
                self._download_tree(rel, local, children)
        except BaseException:
            if dst_path is None:
                shutil.rmtree(destination, ignore_errors=True)
            raise
        return local

    # -- internals -------------------------------------------------------------------------------------------
    def _file_url(self, rel: str) -> str:
        return f"{self._files_url}/{_encode(rel)}" if rel else self._files_url

    def _put(self, rel: str, body: Any) -> None:
        self._transport.send(
            "PUT", self._file_url(rel), data=body, headers={"Content-Type": content_type(rel)}
        ).close()

    def _upload_file(self, source: Path, rel: str) -> None:
        with source.open("rb") as body:
            empty = os.fstat(body.fileno()).st_size == 0
            self._put(rel, b"" if empty else body)

    def _download_single(self, rel: str, local: Path) -> None:
        try:
            self._download_file(rel, local)
        except WaylineError as exc:
            # Not a file after all: an empty directory, or one whose only child has its name (``d/d``),
            # which listings cannot tell from a file listed as itself.
            parent = rel.rpartition("/")[0]
            if any(info.is_dir and info.path == rel for info in self._listing(parent)):
                self._download_tree(rel, local, self._listing(rel))
                return
            if isinstance(exc, ResourceNotFound) or exc.error_code is ErrorCode.ENDPOINT_NOT_FOUND:
                raise ResourceNotFound(f"No artifact found at path '{rel}'") from None
            raise

    def _download_tree(self, rel: str, local: Path, children: list[FileInfo] | None) -> None:
        local.mkdir(parents=True, exist_ok=True)
        stack: list[tuple[str, Path, list[FileInfo] | None]] = [(rel, local, children)]
        while stack:
            directory, target, listing = stack.pop()
            for info in listing if listing is not None else self._listing(directory):
                name = info.path[len(directory) + 1 :] if directory else info.path
                path = target.joinpath(*name.split("/"))
                if info.is_dir:
                    path.mkdir(parents=True, exist_ok=True)
                    stack.append((info.path, path, None))
                else:
                    self._download_file(info.path, path)

    def _download_file(self, rel: str, local: Path) -> None:
        """Stream one file into a temporary sibling of ``local``, then rename it over ``local``."""
        if local.is_dir():
            raise invalid_value("dst_path", str(local), "is an existing directory, not a file")
        response = self._transport.send("GET", self._file_url(rel))
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            temp = reserve_temp(local.parent)
        except BaseException:
            response.close()
            raise
        try:
            with response, temp.open("wb") as out:
                try:
                    for chunk in response.iter_content(_CHUNK):
                        out.write(chunk)
                except requests.RequestException as exc:
                    raise WaylineError(
                        f"Download of '{rel}' from {self._transport.server} broke off: {type(exc).__name__}",
                        error_code=ErrorCode.IO_ERROR,
                    ) from None
            replace_file(temp, local)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


class _ResponseReader(BodyReader):
    """A streaming response body as a raw binary file; keeps its repository (and connections) alive."""

    def __init__(self, response: requests.Response, owner: HttpArtifactRepository) -> None:
        super().__init__(self._read_raw, response.close)
        self._response = response
        self._owner = owner

    def _read_raw(self, size: int) -> bytes:
        try:
            data: bytes = self._response.raw.read(size, decode_content=True)
        except Exception as exc:  # urllib3 errors are not OSErrors
            raise WaylineError(
                f"Reading an artifact from {self._owner._transport.server} broke off: {type(exc).__name__}",
                error_code=ErrorCode.IO_ERROR,
            ) from None
        return data


def _quote_path(path: str) -> str:
    """A URL path taken from a URI: already percent-encoded, so only characters illegal in URLs are quoted."""
    return quote(path, safe="/%:@!$&'()*+,;=-._~")


def _proxy_server(uri: str, netloc: str, tracking_uri: str | None) -> tuple[ServerUrl, bool]:
    """The tracking server an ``mlflow-artifacts:`` URI goes through, and whether credentials may be sent."""
    if tracking_uri is None:
        tracking_uri = next(
            (os.environ[n].strip() for n in _TRACKING_ENV if os.environ.get(n, "").strip()), ""
        )
    if uri_scheme(tracking_uri or "-", field="tracking_uri") not in ("http", "https"):
        raise InvalidParameterValue(
            f"Invalid value for parameter 'tracking_uri': artifact URI {uri!r} is served by a tracking "
            "server's artifact proxy, so the tracking URI must be http:// or https:// (the server's URL), "
            "not a local store"
        )
    tracking = parse_server_url(tracking_uri)
    if not netloc or netloc == tracking.netloc:
        return tracking, True
    if "@" in netloc:
        raise invalid_value("artifact_uri", redact_url(uri), "must not carry user info")
    other = parse_server_url(f"{tracking.scheme}://{netloc}", field="artifact_uri")
    return ServerUrl(other.scheme, other.netloc, tracking.path), False


def _same_origin(server: ServerUrl, tracking_uri: str | None) -> bool:
    """Whether env credentials may go to ``server``: yes unless the tracking server is elsewhere."""
    if not tracking_uri or uri_scheme(tracking_uri, field="tracking_uri") not in ("http", "https"):
        return True
    return parse_server_url(tracking_uri).origin.lower() == server.origin.lower()


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


__all__ = ["PROXY_ROOT", "HttpArtifactRepository"]
