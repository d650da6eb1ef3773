"""The server's settings: command-line flags or ``WAYLINE_*`` environment variables.

The CLI writes every flag into the environment before uvicorn starts its workers, and each worker builds its
app from the environment (:func:`ServerSettings.from_env`), so that all workers share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from wayline.errors import invalid_value
from wayline.flags import parse_flag
from wayline.store import pool_limits
from wayline.store.pool_limits import PoolLimits
from wayline.store.resolve import DEFAULT_TRACKING_URI

#: Where a setting comes from in the environment (the MLflow names are honoured where MLflow has one).
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "backend_store_uri": ("WAYLINE_BACKEND_STORE_URI",),
    "artifacts_destination": ("WAYLINE_ARTIFACTS_DESTINATION",),
    "default_artifact_root": ("WAYLINE_DEFAULT_ARTIFACT_ROOT",),
    "serve_artifacts": ("WAYLINE_SERVE_ARTIFACTS",),
    "host": ("WAYLINE_HOST",),
    "port": ("WAYLINE_PORT",),
    "workers": ("WAYLINE_WORKERS",),
    "max_body_mib": ("WAYLINE_MAX_BODY_MIB",),
    "log_level": ("WAYLINE_LOG_LEVEL",),
    "default_user": ("WAYLINE_DEFAULT_USER",),
    "admins": ("WAYLINE_ADMINS",),
    "webhook_allow_private": ("WAYLINE_WEBHOOK_ALLOW_PRIVATE",),
    "webhook_max_attempts": ("WAYLINE_WEBHOOK_MAX_ATTEMPTS",),
    "webhook_timeout_s": ("WAYLINE_WEBHOOK_TIMEOUT_S",),
    "registry_approvers": ("WAYLINE_REGISTRY_APPROVERS",),
    "allow_self_approval": ("WAYLINE_ALLOW_SELF_APPROVAL",),
    "ui_dir": ("WAYLINE_UI_DIR",),
    "db_pool_size": pool_limits.ENV_NAMES["size"],
    "db_max_overflow": pool_limits.ENV_NAMES["max_overflow"],
    "db_pool_timeout_s": pool_limits.ENV_NAMES["timeout_s"],
}
#: The pool limit each ``db_*`` setting sets.
_POOL_FIELDS = {"size": "db_pool_size", "max_overflow": "db_max_overflow", "timeout_s": "db_pool_timeout_s"}


#: uvicorn's log levels, most severe first.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


@dataclass(frozen=True)
class ServerSettings:
    """Everything a server process needs; stateless, so that replicas can share one database and store."""

    backend_store_uri: str = DEFAULT_TRACKING_URI
    #: Where proxied artifacts live (a folder or ``s3://bucket/prefix``); None: ``<data dir>/artifacts``.
    artifacts_destination: str | None = None
    #: Artifact root for new experiments when artifacts are not proxied (clients write there directly).
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    #: Largest JSON request body accepted, in MiB (artifact uploads stream and have no such limit).
    max_body_mib: int = 32
    log_level: str = "info"
    #: Who acts when a request names no user (no HTTP Basic credentials): recorded in the registry's history.
    default_user: str = ""
    #: Administrators (user names separated by commas); empty: everyone, until users exist.
    admins: str = ""
    #: Let webhooks call loopback, private and link-local addresses (never cloud metadata addresses).
    webhook_allow_private: bool = False
    #: Attempts per webhook delivery (retries after connection errors, timeouts, 429 and 5xx).
    webhook_max_attempts: int = 5
    #: Seconds a webhook receiver has to accept the connection and to answer.
    webhook_timeout_s: int = 10
    #: Who approves model-registry transition requests and changes protected models directly (user or group
    #: names separated by commas); empty: everyone, until users exist.
    registry_approvers: str = ""
    #: Let a requester approve their own transition request.
    allow_self_approval: bool = False
    #: The built web UI served at ``/``; None: the bundle installed with Wayline (``server/ui_bundle``).
    ui_dir: str | None = None
    #: PostgreSQL connections each worker keeps open, opens beyond those under load, and the seconds a request
    #: waits for a free one (see ``wayline.store.pool_limits``).
    db_pool_size: int = PoolLimits.size
    db_max_overflow: int = PoolLimits.max_overflow
    db_pool_timeout_s: int = PoolLimits.timeout_s

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            for name in ENV_NAMES.get(f.name, ()):
                raw = env.get(name, "").strip()
                if raw:
                    values[f.name] = _convert(f.name, raw, cls.__dataclass_fields__[f.name].type)
                    break
        return cls(**values).checked()  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings in a worker process."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[ENV_NAMES[f.name][0]] = (
                ("true" if value else "false") if isinstance(value, bool) else str(value)
            )
        return out

    def checked(self) -> ServerSettings:
        if not 0 <= self.port < 65536:
            raise invalid_value("port", self.port, "must be between 0 (any free port) and 65535")
        if self.workers < 1:
            raise invalid_value("workers", self.workers, "must be at least 1")
        if self.max_body_mib < 1:
            raise invalid_value("max_body_mib", self.max_body_mib, "must be at least 1")
        if not 1 <= self.webhook_max_attempts <= 20:
            raise invalid_value("webhook_max_attempts", self.webhook_max_attempts, "must be between 1 and 20")
        if not 1 <= self.webhook_timeout_s <= 300:
            raise invalid_value("webhook_timeout_s", self.webhook_timeout_s, "must be between 1 and 300")
        if self.log_level.lower() not in LOG_LEVELS:
            raise invalid_value("log_level", self.log_level, f"must be one of {', '.join(LOG_LEVELS)}")
        self.pool_limits.checked(names=_POOL_FIELDS)
        from wayline.services.registry_validation import validate_person

        validate_person(self.default_user, field="default_user")
        for name in self.approvers:
            validate_person(name, field="registry_approvers")
        return self

    @property
    def pool_limits(self) -> PoolLimits:
        """The connection pool of each worker's engine (PostgreSQL)."""
        return PoolLimits(**{limit: getattr(self, name) for limit, name in _POOL_FIELDS.items()})

    @property
    def approvers(self) -> tuple[str, ...]:
        """The names in :attr:`registry_approvers` (spaces around them ignored)."""
        from wayline.services.registry_validation import names_in

        return names_in(self.registry_approvers)

    @property
    def resolved_artifacts_destination(self) -> str:
        """The proxied artifact store: the flag, else ``artifacts`` beside the embedded database."""
        if self.artifacts_destination:
            return self.artifacts_destination
        from wayline.store.resolve import locate

        location = locate(self.backend_store_uri)
        if location.kind == "sql" and location.db_url.startswith("sqlite:///"):
            return str(Path(location.db_url[len("sqlite:///") :]).parent / "artifacts")
        return str(Path(DEFAULT_TRACKING_URI).resolve() / "artifacts")

    def with_overrides(self, **changes: object) -> ServerSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).checked()  # type: ignore[arg-type]


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    if "bool" in kind:
        return parse_flag(raw, field=ENV_NAMES[name][0])
    if kind.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise invalid_value(ENV_NAMES[name][0], raw, "must be an integer") from None
    return raw
