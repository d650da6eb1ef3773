"""The guard on URLs the server itself calls (webhooks): what may be called, and where it may connect.

``SECURITY.md`` section 2. A URL is checked twice:

* when it is stored (:func:`check_url`): ``http`` or ``https`` only, no credentials, no backslashes,
  whitespace or control characters, a host that is a name or a canonical IP address (``0177.0.0.1``,
  ``0x7f.1``, ``2130706433`` and ``127.1`` are refused, as parsers disagree on what they mean), and, unless
  private targets are allowed, a host that resolves only to public addresses;
* when it is called (:func:`resolve`): the host is resolved again and every address checked, and the caller
  connects to one of those checked addresses (``outbound_http``), so a DNS answer that changes between the
  two checks (DNS rebinding) reaches nothing it should not.

Refused without ``allow_private``: loopback, private (RFC 1918, unique-local ``fc00::/7``, carrier-grade NAT
``100.64/10``), link-local, reserved and every other non-global address, also when wrapped in an IPv6
address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible, 6to4, Teredo, NAT64), and the names ``localhost``
and ``*.localhost``. Refused always: cloud metadata addresses (:data:`METADATA_ADDRESSES`), unspecified,
multicast and broadcast addresses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from wayline.errors import InvalidParameterValue, invalid_value

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048
#: How long resolving a host may take when a URL is stored.
RESOLVE_TIMEOUT_S = 5.0

#: Instance metadata services of the cloud providers (AWS, GCP, Azure, OpenStack; AWS IPv6 and ECS task
#: metadata; Alibaba; Oracle): never a webhook target, whatever the settings say.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "192.0.0.192")
)

#: IANA's special-purpose ranges that are not globally reachable, so that the check does not depend on how
#: complete the running Python's ``is_global`` is (3.11 misses some of ``192.0.0.0/24``, for one).
SPECIAL_PURPOSE: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")


@dataclass(frozen=True)
class OutboundTarget:
    """A checked URL taken apart: what to resolve (``host``, without brackets), where to connect
    (``port``), and what to ask for (``path``, with its query)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str

    @property
    def literal(self) -> IPAddress | None:
        """The host as an IP address when it is one."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def _refuse(field: str, url: object, why: str) -> InvalidParameterValue:
    return invalid_value(field, url, why)


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo client, NAT64, IPv4-compatible)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why the server must not connect to ``ip`` (``"a loopback address"``...), or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    inner = embedded_ipv4(ip)
    candidates: list[IPAddress] = [ip] if inner is None else [ip, inner]
    for address in candidates:
        if address in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if address.is_unspecified:
            return "an unspecified address"
        if address.is_multicast:
            return "a multicast address"
        if address == _BROADCAST:
            return "a broadcast address"
    if allow_private:
        return None
    judged = ip if inner is None else inner  # a wrapped IPv4 address is what the packets reach
    for test, what in (
        (judged.is_loopback, "a loopback address"),
        (judged.is_link_local, "a link-local address"),
        (judged.is_private, "a private address"),
        (judged.is_reserved, "a reserved address"),
        (not judged.is_global or any(judged in net for net in SPECIAL_PURPOSE), "a non-public address"),
    ):
        if test:
            return what
    return None


def _host_of(parts: SplitResult, url: str, field: str) -> str:
    """The host, lower-case, IDNA-encoded, checked for spelling (not for where it points)."""
    raw = parts.hostname or ""
    if not raw:
        raise _refuse(field, url, "must include a host")
    if ":" in raw:  # an IPv6 literal (urlsplit checks the brackets)
        try:
            ipaddress.ip_address(raw)
        except ValueError:
            raise _refuse(field, url, f"{raw!r} is not a valid IPv6 address") from None
        return raw
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _refuse(field, url, f"{raw!r} is not a valid host name") from None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels):
        try:
            canonical = str(ipaddress.IPv4Address(host))
        except ValueError:
            canonical = ""
        if canonical != host:
            raise _refuse(field, url, f"host {raw!r} is not a canonical IPv4 address (write a.b.c.d)")
        return host
    if not _HOST_NAME.match(host) or len(host) > 253:
        raise _refuse(field, url, f"{raw!r} is not a valid host name")
    return host


def parse_url(url: object, *, field: str = "url") -> OutboundTarget:
    """The URL's parts after the checks that need no network (see the module docstring)."""
    if not isinstance(url, str):
        raise invalid_value(field, url, "must be a string")
    if not url.strip():
        raise InvalidParameterValue(f"Missing value for required parameter '{field}'.")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(field, url, f"longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url) or "\\" in url:
        raise _refuse(field, url, "must not contain whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(field, url, f"not a valid URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise _refuse(field, url, "the scheme must be http or https")
    if "@" in parts.netloc:
        raise _refuse(field, url, "must not contain credentials (user:password@)")
    host = _host_of(parts, url, field)
    if port == 0:
        raise _refuse(field, url, "port 0 is not a port")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if not path.isascii():
        raise _refuse(field, url, "the path and query must be ASCII (percent-encode other characters)")
    return OutboundTarget(url, parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _refused_address(
    field: str, target: OutboundTarget, why: str, *, allow_private: bool
) -> InvalidParameterValue:
    verb = "is" if target.literal is not None else "resolves to"
    hint = "" if allow_private or why in _ALWAYS else " unless the server allows private targets"
    return _refuse(field, target.url, f"host {target.host!r} {verb} {why}, which webhooks may not call{hint}")


_ALWAYS = ("a cloud metadata address", "an unspecified address", "a multicast address", "a broadcast address")


def _getaddrinfo(host: str, port: int, timeout_s: float) -> list[str]:
    """The addresses of ``host`` (deduplicated, in the resolver's order), within ``timeout_s``."""
    found: list[str] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP):
                address = str(info[4][0])
                if address not in found:
                    found.append(address)
        except (OSError, UnicodeError) as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, name="wayline-resolve", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"resolving {host!r} took longer than {timeout_s:g} s")
    if failed:
        raise failed[0]
    return found


def resolve(
    target: OutboundTarget, *, allow_private: bool, timeout_s: float = RESOLVE_TIMEOUT_S, field: str = "url"
) -> list[IPAddress]:
    """The addresses the server may connect to for ``target``: every address the host resolves to, each
    allowed (one refused address refuses the URL). InvalidParameterValue naming ``field`` otherwise."""
    host = target.host.rstrip(".") if target.literal is None else target.host
    if not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise _refuse(field, target.url, f"{host!r} is the server itself")
    try:
        names = _getaddrinfo(target.host, target.port, timeout_s)
    except (OSError, UnicodeError) as exc:
        raise _refuse(field, target.url, f"cannot resolve host {target.host!r} ({exc})") from None
    addresses: list[IPAddress] = []
    for name in names:
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            raise _refuse(field, target.url, f"host {target.host!r} resolved to {name!r}") from None
        why = refusal(address, allow_private=allow_private)
        if why is not None:
            raise _refused_address(field, target, why, allow_private=allow_private)
        addresses.append(address)
    if not addresses:
        raise _refuse(field, target.url, f"host {target.host!r} has no address")
    return addresses


def check_url(
    url: object, *, allow_private: bool, timeout_s: float = RESOLVE_TIMEOUT_S, field: str = "url"
) -> OutboundTarget:
    """The check made when a URL is stored: :func:`parse_url`, then (unless private targets are allowed) the
    host must resolve to allowed addresses only. Literal addresses are always checked."""
    target = parse_url(url, field=field)
    if target.literal is not None:
        why = refusal(target.literal, allow_private=allow_private)
        if why is not None:
            raise _refused_address(field, target, why, allow_private=allow_private)
    elif not allow_private:
        resolve(target, allow_private=False, timeout_s=timeout_s, field=field)
    return target


__all__ = [
    "MAX_URL_LENGTH",
    "METADATA_ADDRESSES",
    "SCHEMES",
    "SPECIAL_PURPOSE",
    "IPAddress",
    "OutboundTarget",
    "check_url",
    "embedded_ipv4",
    "parse_url",
    "refusal",
    "resolve",
]
