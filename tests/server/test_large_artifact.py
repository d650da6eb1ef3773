"""A 2 GiB artifact through a real server: uploaded and downloaded as streams, with bounded server memory.

Neither side holds the file: the test generates the body block by block and hashes the download as it
arrives, while a sampler watches the resident memory of the server's whole process tree.
"""

from __future__ import annotations

import hashlib
import http.client
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import requests

from servers import ServerProcess, start_server

SIZE = 2 * 1024**3
BLOCK = 1024 * 1024
MAX_GROWTH = 100 * 1024 * 1024
ARTIFACT = "/api/2.0/mlflow-artifacts/artifacts/0/big/artifacts/huge.bin"


def blocks(size: int) -> Iterator[bytes]:
    """``size`` bytes, each block numbered (a dropped or repeated block changes the hash)."""
    base = bytes(range(256)) * (BLOCK // 256)
    for index in range(size // BLOCK):
        yield index.to_bytes(8, "big") + base[8:]


class RssSampler:
    """The largest resident size of a process and its children, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


def put_stream(server: ServerProcess, path: str, body: Iterator[bytes], size: int) -> int:
    """PUT ``body`` with a Content-Length, one block at a time; return the status."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
    try:
        connection.putrequest("PUT", path)
        connection.putheader("Content-Length", str(size))
        connection.putheader("Content-Type", "application/octet-stream")
        connection.endheaders()
        for block in body:
            connection.send(block)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path / "server", args=("--artifacts-destination", str(tmp_path / "destination")), workers=1
    )
    yield server
    server.stop()


@pytest.mark.slow
def test_two_gib_artifact_streams_through_the_server(local_server: ServerProcess, tmp_path: Path) -> None:
    # Warm up: the first upload and download import and allocate what every later one reuses.
    assert put_stream(local_server, ARTIFACT, blocks(4 * BLOCK), 4 * BLOCK) == 200
    assert len(requests.get(local_server.url + ARTIFACT, timeout=30).content) == 4 * BLOCK

    sent = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for block in blocks(SIZE):
            sent.update(block)
            yield block

    with RssSampler(local_server.process.pid) as sampler:
        baseline = sampler.current()
        assert put_stream(local_server, ARTIFACT, hashed(), SIZE) == 200
        received = hashlib.sha256()
        count = 0
        with requests.get(local_server.url + ARTIFACT, stream=True, timeout=120) as response:
            assert response.status_code == 200
            assert response.headers["Content-Length"] == str(SIZE)
            for chunk in response.iter_content(BLOCK):
                received.update(chunk)
                count += len(chunk)

    assert count == SIZE
    assert received.hexdigest() == sent.hexdigest()
    stored = tmp_path / "destination" / "0" / "big" / "artifacts" / "huge.bin"
    assert stored.stat().st_size == SIZE
    growth = sampler.peak - baseline
    assert growth < MAX_GROWTH, f"the server's memory grew by {growth / 2**20:.0f} MiB"


def test_an_interrupted_upload_leaves_nothing(local_server: ServerProcess, tmp_path: Path) -> None:
    """The client promises 10 MiB, sends 3 MiB and hangs up: no file, no temporary file, server fine."""
    folder = tmp_path / "destination" / "0" / "cut" / "artifacts"

    def wait_for(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30
        while not condition():
            assert time.monotonic() < deadline, "the server never got there"
            time.sleep(0.02)

    def names() -> list[str]:
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    url = urlsplit(local_server.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    connection.putrequest("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/cut/artifacts/partial.bin")
    connection.putheader("Content-Length", str(10 * BLOCK))
    connection.endheaders()
    for block in blocks(3 * BLOCK):
        connection.send(block)
    wait_for(lambda: any(name.startswith(".wayline-tmp-") for name in names()))  # the server is writing
    connection.close()
    wait_for(lambda: not any(name.startswith(".wayline-tmp-") for name in names()))
    assert names() == []
    assert put_stream(local_server, ARTIFACT, blocks(2 * BLOCK), 2 * BLOCK) == 200
