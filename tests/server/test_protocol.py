"""A response leaves the server in one write (``wayline.server.protocol``), on a real server."""

from __future__ import annotations

import hashlib
import socket
import struct

import pytest
import requests

from servers import ServerProcess

#: ``struct tcp_info`` (linux/tcp.h): ``tcpi_segs_in``, the segments this socket has received, at byte 140.
_SEGS_IN = 140


def _segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, _SEGS_IN)[0])


def _host_port(server: ServerProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _read_response(sock: socket.socket, buffer: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One response from ``sock`` (by its Content-Length): its head, its body, and what followed it."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-response"
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    length = int(lengths[0].split(b":", 1)[1])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        rest += chunk
    return head, rest[:length], rest[length:]


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's")
@pytest.mark.parametrize(
    "path", ["/health", "/version", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"]
)
def test_a_keep_alive_response_arrives_as_one_segment(live_server: ServerProcess, path: str) -> None:
    """uvicorn writes a response's head and body separately: two segments with TCP_NODELAY. Wayline's
    protocol sends them as one, so each request costs the client one arrival."""
    with socket.create_connection(_host_port(live_server), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = f"GET {path} HTTP/1.1\r\nHost: wayline\r\n\r\n".encode()
        for _ in range(10):  # past the connection's start, where the kernel acknowledges at once
            sock.sendall(request)
            _read_response(sock)
        before = _segments_in(sock)
        for _ in range(40):
            sock.sendall(request)
            head, body, extra = _read_response(sock)
            assert head.startswith(b"HTTP/1.1 200")
            assert body
            assert extra == b""
        assert (_segments_in(sock) - before) / 40 < 1.25


def test_a_response_before_connection_close_arrives_whole(sqlite_server: ServerProcess) -> None:
    """The server closes a ``Connection: close`` request's connection after its answer: what the protocol
    held back is written before the close."""
    with socket.create_connection(_host_port(sqlite_server), timeout=10) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: wayline\r\nConnection: close\r\n\r\n")
        head, body, extra = _read_response(sock)
        assert head.startswith(b"HTTP/1.1 200")
        assert body.decode()
        assert extra == b""
        assert sock.recv(1) == b""  # closed after the whole answer


def test_pipelined_requests_are_answered_in_order(sqlite_server: ServerProcess) -> None:
    """Answers held for one loop turn keep their order, also when requests arrive back to back."""
    with socket.create_connection(_host_port(sqlite_server), timeout=10) as sock:
        sock.sendall(
            b"GET /health HTTP/1.1\r\nHost: w\r\n\r\n"
            b"GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\nHost: w\r\n\r\n"
            b"GET /version HTTP/1.1\r\nHost: w\r\n\r\n"
        )
        _, first, rest = _read_response(sock)
        _, second, rest = _read_response(sock, rest)
        _, third, rest = _read_response(sock, rest)
    assert first == b"OK"
    assert b'"experiment_id":"0"' in second.replace(b" ", b"")
    assert third == requests.get(sqlite_server.url + "/version", timeout=10).content
    assert rest == b""


def test_a_streamed_download_is_whole_and_in_order(sqlite_server: ServerProcess) -> None:
    """A body streamed in chunks above and below the coalescing limit arrives byte for byte."""
    api = sqlite_server.url + "/api/2.0/mlflow"
    experiment = requests.post(f"{api}/experiments/create", json={"name": "coalesce-stream"}, timeout=10)
    run = requests.post(
        f"{api}/runs/create", json={"experiment_id": experiment.json()["experiment_id"]}, timeout=10
    ).json()["run"]["info"]
    data = bytes(range(256)) * (3 * 1024 * 1024 // 256) + b"tail"  # 3 MiB and 4 bytes, patterned
    path = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    url = f"{sqlite_server.url}/api/2.0/mlflow-artifacts/artifacts/{path}/blob.bin"
    assert requests.put(url, data=data, timeout=30).status_code == 200
    got = requests.get(url, timeout=30)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(data).hexdigest()
