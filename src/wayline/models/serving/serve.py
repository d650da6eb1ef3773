"""Running the scoring server under uvicorn, with one worker process or several sharing one socket.

The model is loaded once in the starting process first, so a model that cannot load fails the command
with a clear error before any worker starts. With one worker that process serves it; with several, each
worker loads the copy the starting process downloaded (and follows the alias on its own). The socket is
bound by :func:`wayline.server.serve.bind_socket`, whose accepted connections get ``TCP_NODELAY``
(keep-alive responses never wait for a delayed ACK).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable

import orjson

from wayline.errors import invalid_value
from wayline.models.serving.app import ScoringApp, ServeOptions
from wayline.models.serving.follower import ModelLoader
from wayline.server.serve import BACKLOG, bind_socket

logger = logging.getLogger(__name__)

APP_FACTORY = "wayline.models.serving.serve:app_from_env"
#: The worker processes' options, as JSON.
OPTIONS_ENV = "WAYLINE_SCORING_SERVER_OPTIONS"


def options_to_env(options: ServeOptions) -> str:
    return orjson.dumps(dataclasses.asdict(options)).decode()


def options_from_env() -> ServeOptions:
    text = os.environ.get(OPTIONS_ENV)
    if not text:
        raise invalid_value(
            OPTIONS_ENV, text, "is not set (the worker was not started by wayline models serve)"
        )
    raw = orjson.loads(text)
    known = {f.name for f in dataclasses.fields(ServeOptions)}
    return ServeOptions(**{k: v for k, v in raw.items() if k in known})


def app_from_env() -> ScoringApp:
    """The worker processes' app factory."""
    return ScoringApp(options_from_env())


def check_options(options: ServeOptions, *, workers: int) -> None:
    if workers < 1:
        raise invalid_value("workers", workers, "must be at least 1")
    if options.max_batch_size < 1:
        raise invalid_value("max_batch_size", options.max_batch_size, "must be at least 1")
    if options.max_wait_ms < 0:
        raise invalid_value("max_wait_ms", options.max_wait_ms, "must not be negative")
    if options.max_body_mib <= 0:
        raise invalid_value("max_body_mib", options.max_body_mib, "must be positive")
    if options.poll_interval_s < 0:
        raise invalid_value(
            "poll_interval", options.poll_interval_s, "must not be negative (0: do not follow)"
        )


def serve(
    options: ServeOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Load the model, bind ``host:port`` (0 picks a free port) and serve until interrupted.

    ``announce`` receives the URL once the model is loaded and the socket listens.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    check_options(options, workers=workers)
    loader = ModelLoader(options.model_uri, tracking_uri=options.tracking_uri, trusted=options.trusted)
    try:
        served = loader.load()
        sock = bind_socket(host, port)
        bound = sock.getsockname()[1]
        common = {
            "log_level": log_level,
            "access_log": False,
            "server_header": False,
            "timeout_keep_alive": 30,
            "backlog": BACKLOG,
            "lifespan": "on",
        }
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{bound}"
        if workers == 1:
            app = ScoringApp(options, served=served, loader=loader)
            config = uvicorn.Config(app, **common)  # type: ignore[arg-type]
            if announce is not None:
                announce(url)
            uvicorn.Server(config).run(sockets=[sock])
            return
        worker_options = dataclasses.replace(
            options, local_dir=str(served.model.path), version=served.version
        )
        del served  # the workers load their own
        os.environ[OPTIONS_ENV] = options_to_env(worker_options)
        config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, **common)  # type: ignore[arg-type]
        if announce is not None:
            announce(url)
        Multiprocess(config, sockets=[sock]).run()
    finally:
        loader.close()


__all__ = ["APP_FACTORY", "OPTIONS_ENV", "app_from_env", "check_options", "options_from_env", "serve"]
