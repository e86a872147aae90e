"""The guard in front of every command that touches the database.

Run from another folder, ``infusync`` quietly takes ``./instance`` there: new keys, an empty
SQLite file, then a raw "no such table" traceback. A command wrapped here says on stderr
which instance folder and database it uses, and refuses in one line, naming the database
and ``infusync db upgrade``, when that database is not at the code's migration head.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from server import health
from server.backup import key_check
from server.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def database_label(app: Flask) -> str:
    """The database URL as a person can read it, without its password."""
    url = sa.make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    return url.render_as_string(hide_password=True)


def schema_problem() -> str | None:
    """Why the database cannot serve this code (None when it is at the migration head)."""
    current, heads = health.database_revisions(), health.migration_heads()
    if current == heads:
        return None
    if not current:
        return "has no infusync schema"
    return (f"is at migration {', '.join(sorted(current))}, "
            f"the code needs {', '.join(sorted(heads))}")


def check_database(app: Flask) -> None:
    """Say which instance and database this command uses; refuse an unmigrated one."""
    label = database_label(app)
    click.echo(f"infusync: instance folder {app.instance_path}, database {label}", err=True)
    try:
        problem = schema_problem()
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"cannot open database {label}: {exc.orig}") from exc
    if problem is not None:
        raise click.ClickException(
            f"database {label} {problem}: run `infusync db upgrade` first (with the same "
            "INFUSYNC_INSTANCE_PATH or INFUSYNC_DATABASE_URL)")
    with db.engine.connect() as connection:
        if not key_check.data_key_opens(connection, app.config["INFUSYNC_DATA_KEY"]):
            raise click.ClickException(f"database {label}: {key_check.NO_KEYS}")


def with_migrated_database(command: Callable[P, R]) -> Callable[P, R]:
    """``with_appcontext``, plus the database check, for a command that reads or writes."""

    @functools.wraps(command)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        check_database(current_app)
        return command(*args, **kwargs)

    return with_appcontext(checked)
