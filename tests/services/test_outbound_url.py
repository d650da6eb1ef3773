"""The outbound URL guard (SECURITY.md section 2): every spelling of a forbidden target is refused when a
URL is stored and again when it is called, naming the field; private targets open only when allowed, cloud
metadata never."""

from __future__ import annotations

import ipaddress

import pytest

from loopback import Reply, serve
from wayline.errors import InvalidParameterValue
from wayline.services import outbound_http
from wayline.services.outbound_http import OutcomeKind
from wayline.services.outbound_url import check_url, embedded_ipv4, parse_url, refusal, resolve

REFUSED_TARGETS = [
    # loopback, every spelling
    "http://127.0.0.1/hook",
    "http://127.0.0.2:8080/hook",
    "http://2130706433/",  # decimal
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://127.1/",  # short form
    "http://127.0.0.1./",  # trailing dot
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[2002:7f00:1::]/",  # 6to4
    "http://[64:ff9b::7f00:1]/",  # NAT64
    "http://localhost/",
    "http://localhost./",  # trailing dot
    "http://LocalHost:5000/",
    "http://ci.localhost/",
    # private, link-local, shared, reserved
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://192.0.0.8/",
    "http://198.18.0.1/",
    "http://240.0.0.1/",
    "http://169.254.1.1/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://192.0.2.1/",  # documentation ranges
    "http://203.0.113.7/",
    "http://[2001:db8::1]/",
    # metadata, unspecified, multicast, broadcast
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
]

MALFORMED = [
    "ftp://203.0.113.7/",
    "file:///etc/passwd",
    "gopher://203.0.113.7/",
    "javascript:alert(1)",
    "203.0.113.7/hook",  # no scheme
    "http:///hook",  # no host
    "http://user:pw@203.0.113.7/",  # credentials
    "http://user@203.0.113.7/",
    "http://203.0.113.7\\@127.0.0.1/",  # backslash: parsers disagree on the host
    "http://203.0.113.7/a b",
    "http://203.0.113.7/\r\nX-Injected: 1",
    "http://203.0.113.7:0/",
    "http://203.0.113.7:99999/",
    "http://1.2.3.4.5/",
    "http://a..b/",
    "http://[::1/",
    "http://203.0.113.7/caf\u00e9",
    "http://" + "a" * 2050 + ".org/",
]


@pytest.mark.parametrize("url", REFUSED_TARGETS)
def test_forbidden_targets_are_refused_naming_the_field(url: str) -> None:
    with pytest.raises(InvalidParameterValue, match=r"for parameter 'url'"):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_refused_even_when_private_targets_are_allowed(url: str) -> None:
    with pytest.raises(InvalidParameterValue, match=r"parameter 'url'"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://0.0.0.0:8080/",
        "http://224.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
    ],
)
def test_metadata_and_odd_spellings_stay_refused_when_private_targets_are_allowed(url: str) -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'url'"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://[::1]/", "http://10.1.2.3/", "http://192.168.0.10:8080/x"]
)
def test_private_targets_open_when_allowed(url: str) -> None:
    assert check_url(url, allow_private=True).url == url


def test_public_literals_pass_without_a_lookup() -> None:
    target = check_url("https://[2606:4700:4700::1111]:8443/a/b?c=d#frag", allow_private=False)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "2606:4700:4700::1111",
        8443,
        "/a/b?c=d",
    )
    plain = check_url("HTTP://8.8.8.8", allow_private=False)
    assert (plain.scheme, plain.port, plain.path) == ("http", 80, "/")


def test_public_addresses_pass() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_refusal_names_the_kind_of_address() -> None:
    def why(address: str, allow_private: bool = False) -> str | None:
        return refusal(ipaddress.ip_address(address), allow_private=allow_private)

    assert why("127.0.0.1") == "a loopback address"
    assert why("::ffff:127.0.0.1") == "a loopback address"
    assert why("10.0.0.1") == "a private address"
    assert why("169.254.169.254", allow_private=True) == "a cloud metadata address"
    assert why("fe80::1") == "a link-local address"
    assert why("224.0.0.1", allow_private=True) == "a multicast address"
    assert why("127.0.0.1", allow_private=True) is None


def test_embedded_ipv4_addresses_are_unwrapped() -> None:
    for wrapped in ("::ffff:10.0.0.1", "2002:a00:1::", "64:ff9b::a00:1", "::10.0.0.1"):
        assert embedded_ipv4(ipaddress.ip_address(wrapped)) == ipaddress.IPv4Address("10.0.0.1"), wrapped
    teredo = ipaddress.ip_address("2001:0:4136:e378:8000:63bf:f5ff:fffe")
    assert embedded_ipv4(teredo) == ipaddress.IPv4Address("10.0.0.1")
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1")) is None


def test_unresolvable_hosts_are_refused_when_stored() -> None:
    with pytest.raises(InvalidParameterValue, match=r"cannot resolve host 'no-such-host\.invalid'"):
        check_url("http://no-such-host.invalid/hook", allow_private=False)


def test_names_are_resolved_and_checked_at_call_time() -> None:
    """A name that resolved elsewhere when it was stored is checked again when it is called: ``localhost``
    stands for a name whose DNS answer was changed to a loopback address."""
    target = parse_url("http://localhost:9/hook")
    with pytest.raises(InvalidParameterValue, match="the server itself"):
        resolve(target, allow_private=False)
    assert ipaddress.ip_address("127.0.0.1") in resolve(target, allow_private=True)


def test_the_sender_never_connects_to_a_refused_address() -> None:
    with serve(lambda _: Reply(200)) as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        for url in (f"http://localhost:{port}/hook", f"http://127.0.0.1:{port}/hook"):
            outcome = outbound_http.post(
                parse_url(url), b"{}", {"Content-Type": "application/json"}, allow_private=False, timeout_s=5
            )
            assert outcome.kind is OutcomeKind.REFUSED, url
            assert outcome.status is None
        assert receiver.seen == []
        allowed = outbound_http.post(
            parse_url(f"http://localhost:{port}/hook"), b"{}", {}, allow_private=True, timeout_s=5
        )
        assert (allowed.kind, allowed.status) == (OutcomeKind.RESPONSE, 200)
        assert receiver.seen[0].headers["host"] == f"localhost:{port}"  # the name, not the address
