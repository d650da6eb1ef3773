"""How the transport sends requests: :class:`HttpConfig`, read from ``WAYLINE_*`` variables, each falling
back to its ``MLFLOW_*`` twin so that a machine set up for the ``mlflow`` client works unchanged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.flags import parse_flag


def _env(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """``(variable, value)`` of ``WAYLINE_<name>``, else ``MLFLOW_<name>``; None when neither is set."""
    for prefix in ("WAYLINE_", "MLFLOW_"):
        value = environ.get(prefix + name)
        if value is not None and value.strip():
            return prefix + name, value.strip()
    return None


def _env_number(environ: Mapping[str, str], name: str, default: float, *, integer: bool) -> float:
    found = _env(environ, name)
    if found is None:
        return default
    variable, text = found
    kind = "integer" if integer else "number"
    try:
        value = float(int(text)) if integer else float(text)
    except ValueError:
        raise invalid_value(variable, text, f"must be a non-negative {kind}") from None
    if not value >= 0 or value == float("inf"):
        raise invalid_value(variable, text, f"must be a non-negative {kind}")
    return value


def _env_bool(environ: Mapping[str, str], name: str) -> bool:
    found = _env(environ, name)
    if found is None:
        return False
    variable, text = found
    return parse_flag(text, field=variable)


def _env_text(environ: Mapping[str, str], name: str) -> str | None:
    found = _env(environ, name)
    return None if found is None else found[1]


@dataclass(frozen=True)
class HttpConfig:
    """How requests are sent. Secrets never appear in ``repr``."""

    max_retries: int = 7
    backoff_factor: float = 2.0
    backoff_jitter: float = 1.0
    timeout: float = 120.0
    pool_maxsize: int = 32
    insecure_tls: bool = False
    server_cert_path: str | None = None
    client_cert_path: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.insecure_tls and self.server_cert_path:
            raise InvalidParameterValue(
                "WAYLINE_TRACKING_INSECURE_TLS and WAYLINE_TRACKING_SERVER_CERT_PATH cannot both be set: "
                "either verify the server against a CA bundle or not at all"
            )
        if (self.username is None) != (self.password is None) and not self.token:
            missing = "PASSWORD" if self.password is None else "USERNAME"
            raise InvalidParameterValue(
                f"Basic authentication needs both WAYLINE_TRACKING_USERNAME and WAYLINE_TRACKING_PASSWORD; "
                f"WAYLINE_TRACKING_{missing} is not set"
            )
        if self.timeout <= 0:
            raise invalid_value("timeout", self.timeout, "must be a positive number of seconds")
        if self.pool_maxsize < 1:
            raise invalid_value("pool_maxsize", self.pool_maxsize, "must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpConfig:
        """Read the ``WAYLINE_`` variables (each falling back to its ``MLFLOW_`` twin); see docs/remote.md."""
        env = os.environ if environ is None else environ
        default = cls()
        timeout = _env_number(env, "HTTP_REQUEST_TIMEOUT", default.timeout, integer=False)
        if timeout == 0:
            raise invalid_value("WAYLINE_HTTP_REQUEST_TIMEOUT", "0", "must be a positive number of seconds")
        return cls(
            max_retries=int(_env_number(env, "HTTP_REQUEST_MAX_RETRIES", default.max_retries, integer=True)),
            backoff_factor=_env_number(
                env, "HTTP_REQUEST_BACKOFF_FACTOR", default.backoff_factor, integer=False
            ),
            backoff_jitter=_env_number(
                env, "HTTP_REQUEST_BACKOFF_JITTER", default.backoff_jitter, integer=False
            ),
            timeout=timeout,
            pool_maxsize=max(
                1, int(_env_number(env, "HTTP_POOL_MAXSIZE", default.pool_maxsize, integer=True))
            ),
            insecure_tls=_env_bool(env, "TRACKING_INSECURE_TLS"),
            server_cert_path=_env_text(env, "TRACKING_SERVER_CERT_PATH"),
            client_cert_path=_env_text(env, "TRACKING_CLIENT_CERT_PATH"),
            username=_env_text(env, "TRACKING_USERNAME"),
            password=_env_text(env, "TRACKING_PASSWORD"),
            token=_env_text(env, "TRACKING_TOKEN"),
        )


__all__ = ["HttpConfig"]
