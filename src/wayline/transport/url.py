"""Server URLs: ``http(s)://host[:port][/prefix]``, with user info taken out (and never shown)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from wayline.errors import invalid_value


@dataclass(frozen=True)
class ServerUrl:
    """An ``http(s)://`` URL split into what requests are sent to and the credentials it carried."""

    scheme: str
    netloc: str  # host[:port], without user info
    path: str  # without a trailing slash
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def base(self) -> str:
        return self.origin + self.path

    def __str__(self) -> str:
        return self.base


def parse_server_url(url: str, *, field: str = "tracking_uri") -> ServerUrl:
    """Validate an ``http(s)://host[:port][/prefix]`` URL; user info becomes basic-auth credentials."""
    if not isinstance(url, str) or not url.strip():
        raise invalid_value(field, url, "must be an http:// or https:// URL")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise invalid_value(field, redact_url(url), "must not contain control characters")
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
        parts.port  # noqa: B018 (validates the port)
    except ValueError as exc:
        raise invalid_value(field, redact_url(url), f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise invalid_value(field, redact_url(url), "must be an http:// or https:// URL")
    if not hostname:
        raise invalid_value(field, redact_url(url), "has no host")
    if parts.query or parts.fragment:
        raise invalid_value(field, redact_url(url), "must not have a query or a fragment")
    userinfo, _, netloc = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user)
        password = unquote(secret) if has_password else ""
    return ServerUrl(scheme, netloc, parts.path.rstrip("/"), username, password)


def redact_url(url: str) -> str:
    """``url`` without its user info, for messages."""
    return re.sub(r"(?<=://)[^/@]*@", "", url)


__all__ = ["ServerUrl", "parse_server_url", "redact_url"]
