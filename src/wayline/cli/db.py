"""``wayline db``: the database schema (Alembic revisions) behind a tracking URI."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from wayline.cli.output import echo_json
from wayline.cli.session import Session, pass_session
from wayline.errors import InvalidParameterValue
from wayline.store.resolve import locate

_SQLITE_PREFIX = "sqlite:///"


def database_url(uri: str) -> str:
    """The database URL behind a tracking URI (a folder, ``sqlite:///...`` or ``postgresql://...``)."""
    location = locate(uri)
    if location.kind != "sql":
        raise InvalidParameterValue(
            f"Invalid value {uri!r} for argument 'URI': `wayline db` needs a database (a folder, "
            "sqlite:///file.db or postgresql://...), not a tracking server"
        )
    return location.db_url


def _missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite file that does not exist yet (looking must not create it)."""
    if not url.startswith(_SQLITE_PREFIX):
        return False
    path = url[len(_SQLITE_PREFIX) :]
    return bool(path) and path != ":memory:" and not Path(path).expanduser().exists()


def _shown(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """Manage the database schema behind a tracking URI."""


@db_group.command("upgrade")
@click.argument("uri", required=False, metavar="[URI]")
@pass_session
def upgrade_db(session: Session, uri: str | None) -> None:
    """Migrate the database to the newest schema revision.

    URI is a tracking URI or a database URL (default: the tracking URI's database). Back the database up
    first. Running it again on an up-to-date database changes nothing.
    """
    from wayline.store.sql import migrate
    from wayline.store.sql.engine import make_engine

    engine = make_engine(database_url(uri or session.tracking_uri))
    try:
        before = migrate.current_revision(engine)
        head = migrate.head_revision()
        if before == head:
            click.echo(f"Database {_shown(engine)} is up to date at revision {head}.")
            return
        reached = migrate.upgrade(engine)
        click.echo(f"Upgraded database {_shown(engine)} from {before or '(empty)'} to {reached}.")
    finally:
        engine.dispose()


@db_group.command("current")
@click.argument("uri", required=False, metavar="[URI]")
@click.option("--json", "as_json", is_flag=True, help="Write JSON to stdout.")
@pass_session
def current_db(session: Session, uri: str | None, as_json: bool) -> None:
    """Show the database's schema revision and the newest one this Wayline knows."""
    from wayline.store.sql import migrate
    from wayline.store.sql.engine import make_engine

    url = database_url(uri or session.tracking_uri)
    head = migrate.head_revision()
    if _missing_sqlite_file(url):
        current: str | None = None
        shown = url
    else:
        engine = make_engine(url)
        try:
            current = migrate.current_revision(engine)
            shown = _shown(engine)
        finally:
            engine.dispose()
    if as_json:
        echo_json(
            {
                "database": shown,
                "current_revision": current,
                "head_revision": head,
                "up_to_date": current == head,
            }
        )
        return
    if current == head:
        status = "up to date"
    elif current is None:
        status = (
            "no Wayline schema yet (it is created when the store first opens, or by `wayline db upgrade`)"
        )
    else:
        status = f"not at the head revision: {migrate.UPGRADE_HINT}"
    click.echo(f"Database:         {shown}")
    click.echo(f"Current revision: {current or '(none)'}")
    click.echo(f"Head revision:    {head}")
    click.echo(f"Status:           {status}")
