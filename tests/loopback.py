"""A scriptable HTTP(S) server on a loopback port, for transport tests: it records every request and answers
with what the test's function returns (a status, a body, headers; or it drops the connection, or holds the
answer back until the test ends). Also makes a throwaway CA with server and client certificates for TLS."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # as sent, still percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    client_port: int
    at: float  # time.monotonic() when the request arrived


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    drop: bool = False  # close the connection without answering
    hold: bool = False  # answer only when the server closes (the client times out first)


Responder = Callable[[Seen], Reply]


class LoopbackServer:
    def __init__(self, respond: Responder, tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.seen: list[Seen] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self._read_body()
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    client_port=self.client_address[1],
                    at=time.monotonic(),
                )
                server.seen.append(seen)
                reply = server.respond(seen)
                if reply.drop:
                    self.close_connection = True
                    return
                if reply.hold:
                    server.release.wait(30)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    self.close_connection = True

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        port = self._httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def serve(respond: Responder, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(respond, tls)
    try:
        yield server
    finally:
        server.close()


def script(*replies: Reply) -> Responder:
    """Answer with ``replies`` in turn, then repeat the last one."""
    queue = list(replies)

    def respond(_: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


# -- TLS ----------------------------------------------------------------------------------------------------
@dataclass
class Certificates:
    ca: Path  # the CA certificate (PEM), what clients verify the server against
    server_cert: Path
    server_key: Path
    client: Path  # the client certificate and its key in one PEM file

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def make_certificates(folder: Path) -> Certificates:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("wayline test CA"))
        .issuer_name(name("wayline test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common: str, usage: x509.ObjectIdentifier, san: x509.GeneralName | None) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if san is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), pem_key(key)

    server_pem, server_key = leaf(
        "127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    )
    client_pem, client_key = leaf("wayline test client", ExtendedKeyUsageOID.CLIENT_AUTH, None)
    folder.mkdir(parents=True, exist_ok=True)
    certs = Certificates(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client=folder / "client.pem",
    )
    certs.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.server_cert.write_bytes(server_pem)
    certs.server_key.write_bytes(server_key)
    certs.client.write_bytes(client_pem + client_key)
    return certs


# -- environment ---------------------------------------------------------------------------------------------
HTTP_SETTINGS = (
    "HTTP_REQUEST_MAX_RETRIES",
    "HTTP_REQUEST_BACKOFF_FACTOR",
    "HTTP_REQUEST_BACKOFF_JITTER",
    "HTTP_REQUEST_TIMEOUT",
    "HTTP_POOL_MAXSIZE",
    "TRACKING_INSECURE_TLS",
    "TRACKING_SERVER_CERT_PATH",
    "TRACKING_CLIENT_CERT_PATH",
    "TRACKING_USERNAME",
    "TRACKING_PASSWORD",
    "TRACKING_TOKEN",
)


def quiet_http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials or TLS settings from the machine; retries without waiting between them."""
    for name in HTTP_SETTINGS:
        monkeypatch.delenv(f"WAYLINE_{name}", raising=False)
        monkeypatch.delenv(f"MLFLOW_{name}", raising=False)
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_BACKOFF_JITTER", "0")
