"""The ``wayline`` command: the root group, global options and the one place errors become exit codes.

Exit codes: 0 on success; 1 when Wayline refuses or fails (one line ``Error: <message>`` on stderr, or
``Error: internal error: <type>`` for a bug, with the traceback only when ``WAYLINE_DEBUG=1``); 2 for usage
errors (unknown option, missing argument), as click reports them.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

import click

from wayline import __version__
from wayline.cli.db import db_group
from wayline.cli.experiments import experiments_group
from wayline.cli.models import models_group
from wayline.cli.runs import runs_group
from wayline.cli.server import server_command
from wayline.cli.session import Session
from wayline.errors import WaylineError
from wayline.store.resolve import tracking_uri_from_env

DEBUG_ENV = "WAYLINE_DEBUG"


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unknown error"


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


class _CliLogHandler(logging.Handler):
    """Library log records reach stderr only with ``WAYLINE_DEBUG=1`` (errors are reported in one line)."""

    def emit(self, record: logging.LogRecord) -> None:
        if _debug():
            try:
                sys.stderr.write(self.format(record) + "\n")
            except Exception:  # pragma: no cover - a closed stream
                self.handleError(record)


def _configure_logging() -> None:
    logger = logging.getLogger("wayline")
    if not any(isinstance(h, _CliLogHandler) for h in logger.handlers):
        handler = _CliLogHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


class CommandFailed(click.ClickException):
    """A refusal or failure shown as ``Error: <message>`` on stderr, exit code 1."""

    exit_code = 1


class WaylineGroup(click.Group):
    """A group that turns every error below it into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except WaylineError as exc:
            raise CommandFailed(_one_line(exc.message)) from exc
        except Exception as exc:
            if _debug():
                traceback.print_exc(file=sys.stderr)
            raise CommandFailed(f"internal error: {type(exc).__name__}") from exc


@click.group(
    cls=WaylineGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--tracking-uri",
    metavar="URI",
    envvar=["WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI"],
    show_envvar=True,
    help="Where runs are tracked: a folder (default ./wayline-data), sqlite:///file.db or postgresql://...",
)
@click.version_option(__version__, "--version", prog_name="wayline", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, tracking_uri: str | None) -> None:
    """Wayline: track, compare and ship machine-learning runs."""
    _configure_logging()
    uri = (tracking_uri or "").strip() or tracking_uri_from_env()
    session = Session(uri)
    ctx.obj = session
    ctx.call_on_close(session.close)


cli.add_command(experiments_group)
cli.add_command(runs_group)
cli.add_command(models_group)
cli.add_command(db_group)
cli.add_command(server_command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="wayline")
