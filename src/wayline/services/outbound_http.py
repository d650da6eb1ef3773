"""One outbound POST to a checked URL, connected to a checked address (webhook deliveries).

The host is resolved and every address checked (:func:`~wayline.services.outbound_url.resolve`), then the
connection is made to one of those addresses, never to the name again: no second lookup for DNS rebinding
to exploit. The request still names the host: ``Host`` header, TLS SNI and certificate verification against
the host name (or the IP address, for literals). Redirects are not followed, no proxy from the environment is
used, and at most ``max_response_bytes`` of the answer are read. Nothing here raises for a network problem:
the outcome says what happened.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from wayline.errors import WaylineError
from wayline.services.outbound_url import IPAddress, OutboundTarget, refusal, resolve

#: How much of a receiver's answer is read (the rest is dropped with the connection).
MAX_RESPONSE_BYTES = 64 * 1024


class OutcomeKind(str, Enum):
    RESPONSE = "response"  # the receiver answered (any status)
    REFUSED = "refused"  # the guard refused the address: never retried
    TLS = "tls"  # the certificate did not verify: never retried
    CONNECTION = "connection"  # no connection, or it broke before an answer
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class HttpOutcome:
    kind: OutcomeKind
    status: int | None = None
    #: The start of the answer's body, decoded as UTF-8 (bad bytes replaced).
    body: str = ""
    error: str | None = None
    #: The ``Retry-After`` header in seconds, when the answer had one.
    retry_after_s: float | None = None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address`` while speaking to ``host`` (its ``Host`` header)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to ``address`` with SNI and certificate verification for ``host``."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, address, timeout)
        self._tls = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def _peer_refused(conn: http.client.HTTPConnection, allow_private: bool) -> str | None:
    """The guard again, on the address the socket is actually connected to."""
    try:
        peer = ipaddress.ip_address(conn.sock.getpeername()[0])
    except (OSError, ValueError, AttributeError) as exc:
        return f"cannot read the connection's address ({exc})"
    return refusal(peer, allow_private=allow_private)


def _connect(
    target: OutboundTarget, addresses: list[IPAddress], timeout_s: float, context: ssl.SSLContext
) -> tuple[http.client.HTTPConnection | None, HttpOutcome | None]:
    """A connection to the first address that answers, or the outcome of the last failure."""
    failure = HttpOutcome(OutcomeKind.CONNECTION, error="no address to connect to")
    for address in addresses:
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPSConnection(target.host, target.port, str(address), timeout_s, context)
        else:
            conn = _PinnedHTTPConnection(target.host, target.port, str(address), timeout_s)
        try:
            conn.connect()
            return conn, None
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            return None, HttpOutcome(
                OutcomeKind.TLS, error=f"TLS certificate not accepted: {exc.verify_message}"
            )
        except TimeoutError:
            conn.close()
            failure = HttpOutcome(OutcomeKind.TIMEOUT, error=f"connecting timed out after {timeout_s:g} s")
        except OSError as exc:
            conn.close()
            failure = HttpOutcome(OutcomeKind.CONNECTION, error=f"cannot connect: {exc}")
    return None, failure


def post(
    target: OutboundTarget,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_private: bool,
    timeout_s: float,
    ssl_context: ssl.SSLContext | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> HttpOutcome:
    """POST ``body`` to ``target`` (see the module docstring); ``timeout_s`` bounds resolving, connecting
    and each read."""
    try:
        addresses = resolve(target, allow_private=allow_private, timeout_s=timeout_s)
    except WaylineError as exc:
        return HttpOutcome(OutcomeKind.REFUSED, error=exc.message)
    conn, failure = _connect(target, addresses, timeout_s, ssl_context or ssl.create_default_context())
    if conn is None:
        return failure or HttpOutcome(OutcomeKind.CONNECTION, error="cannot connect")
    try:
        why = _peer_refused(conn, allow_private)
        if why is not None:
            return HttpOutcome(OutcomeKind.REFUSED, error=f"the connection reached {why}")
        conn.request("POST", target.path, body=body, headers=dict(headers))
        response = conn.getresponse()
        data = response.read(max_response_bytes)
        return HttpOutcome(
            OutcomeKind.RESPONSE,
            status=response.status,
            body=data.decode("utf-8", errors="replace"),
            retry_after_s=_retry_after(response.getheader("Retry-After")),
        )
    except TimeoutError:
        return HttpOutcome(OutcomeKind.TIMEOUT, error=f"no answer within {timeout_s:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return HttpOutcome(OutcomeKind.CONNECTION, error=f"the connection failed: {exc!r}")
    finally:
        conn.close()


__all__ = ["MAX_RESPONSE_BYTES", "HttpOutcome", "OutcomeKind", "post"]
