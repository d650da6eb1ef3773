"""The transport itself: one ``requests`` session per server, with the pool, retries, credentials and TLS
settings of an :class:`HttpConfig`."""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from urllib3.exceptions import InsecureRequestWarning

from wayline import __version__
from wayline.errors import ErrorCode, InvalidState, WaylineError
from wayline.transport.config import HttpConfig
from wayline.transport.failure import error_from_response, excerpt, transport_error
from wayline.transport.retry import build_retry
from wayline.transport.url import ServerUrl, parse_server_url

log = logging.getLogger("wayline.transport")


class _BearerAuth(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class HttpTransport:
    """Requests to one server: ``call`` for JSON RPCs, ``send`` for anything else (streams).

    ``credentials=False`` sends no Authorization header (for URLs outside the tracking server's origin).
    """

    def __init__(
        self, url: str | ServerUrl, *, config: HttpConfig | None = None, credentials: bool = True
    ) -> None:
        self.server = url if isinstance(url, ServerUrl) else parse_server_url(url)
        self.config = config or HttpConfig.from_env()
        self._auth = self._make_auth() if credentials else None
        self._secrets = self._secret_strings()
        self._verify: bool | str = (
            False if self.config.insecure_tls else (self.config.server_cert_path or True)
        )
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._pid = 0
        self._closed = False
        if self.config.insecure_tls and self.server.scheme == "https":
            _allow_unverified(self.server)

    def __repr__(self) -> str:
        return f"HttpTransport({str(self.server)!r})"

    @property
    def base_url(self) -> str:
        return self.server.base

    # -- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the pooled connections; the transport refuses requests afterwards. Idempotent."""
        with self._lock:
            self._closed = True
            session, self._session = self._session, None
        if session is not None:
            session.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _current_session(self) -> requests.Session:
        with self._lock:
            if self._closed:
                raise InvalidState(f"The connection to {self.server} is closed")
            if self._session is None or self._pid != os.getpid():
                stale, self._session = self._session, self._new_session()
                self._pid = os.getpid()
                if stale is not None:  # inherited through fork: drop the parent's connections
                    stale.close()
            return self._session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=self.config.pool_maxsize, max_retries=build_retry(self.config)
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"wayline/{__version__}"
        if self._auth is not None:
            session.auth = self._auth
        if self.config.client_cert_path:
            session.cert = self.config.client_cert_path
        return session

    def _make_auth(self) -> AuthBase | None:
        cfg = self.config
        if cfg.token:
            return _BearerAuth(cfg.token)
        if cfg.username is not None and cfg.password is not None:
            return HTTPBasicAuth(cfg.username, cfg.password)
        if self.server.username is not None:
            return HTTPBasicAuth(self.server.username, self.server.password or "")
        return None

    def _secret_strings(self) -> tuple[str, ...]:
        found = [self.config.token, self.config.password, self.server.password]
        for user, secret in (
            (self.config.username, self.config.password),
            (self.server.username, self.server.password),
        ):
            if user is not None and secret:
                found.append(base64.b64encode(f"{user}:{secret}".encode()).decode("ascii"))
        return tuple(sorted({s for s in found if s and len(s) >= 3}, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` with every credential of this transport replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- requests --------------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """One JSON RPC to ``path`` below the server URL (or to the absolute ``url`` on this server);
        returns the decoded object (``{}`` for an empty answer)."""
        data = None if body is None else orjson.dumps(body)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        target = url if url is not None else self.base_url + path
        path = urlsplit(target).path
        response = self.send(method, target, params=params, data=data, headers=headers)
        try:
            content = response.content
        except requests.RequestException as exc:
            raise self._no_answer(exc, method, path) from None
        finally:
            response.close()
        if not content.strip():
            return {}
        try:
            decoded = orjson.loads(content)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            raise WaylineError(
                f"{self.server} answered {method} {path} with a body that is not a JSON object: "
                f"{excerpt(content, self.scrub)}",
                error_code=ErrorCode.INTERNAL_ERROR,
            )
        return decoded

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send a request to an absolute ``url`` on this server and return the streaming response (the caller
        reads and closes it). Any status other than 2xx raises the decoded error."""
        method = method.upper()
        path = urlsplit(url).path
        session = self._current_session()
        try:
            response = session.request(
                method,
                url,
                params=params,
                data=data,
                headers=dict(headers or {}),
                timeout=self.config.timeout,
                verify=self._verify,
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._no_answer(exc, method, path) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        if response.status_code >= 300:
            try:
                raise error_from_response(response, method, path, server=self.server, scrub=self.scrub)
            finally:
                response.close()
        return response

    def _no_answer(self, exc: Exception, method: str, path: str) -> WaylineError:
        return transport_error(exc, method, path, server=self.server, config=self.config, scrub=self.scrub)


_unverified_hosts: set[str] = set()


def _allow_unverified(server: ServerUrl) -> None:
    """Silence urllib3's per-request warning for a host the user chose not to verify; log that once."""
    host = urlsplit(server.origin).hostname or ""
    warnings.filterwarnings(
        "ignore",
        message=f"Unverified HTTPS request is being made to host '{re.escape(host)}'",
        category=InsecureRequestWarning,
    )
    if host not in _unverified_hosts:
        _unverified_hosts.add(host)
        log.warning("TLS certificates of %s are not verified (insecure TLS is on)", server.origin)


__all__ = ["HttpTransport"]
