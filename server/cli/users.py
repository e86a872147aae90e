"""``infusync users``: create staff accounts from the shell (the first admin, say)."""

from __future__ import annotations

import sys

import click
from marshmallow import ValidationError

from schemas.users import ROLES, UserCreateSchema, UserUpdateSchema
from server import audit, clock
from server.cli.database_check import with_migrated_database
from server.errors import AppError
from server.extensions import current_session
from server.services import users
from server.services.mfa import reset as mfa_reset
from server.services.records import Access

group = click.Group("users", help="Manage staff accounts.")


@group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--competency", "competencies", multiple=True, help="Nurse competency (repeat).")
@click.option("--npi", default=None, help="Physician's NPI.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_migrated_database
def create(email: str, name: str, role: str, competencies: tuple[str, ...], npi: str | None,
           password_stdin: bool) -> None:
    """Create a staff account; the password is read from stdin or prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    payload = {"email": email, "name": name, "role": role, "password": password,
               "competencies": list(competencies), "npi": npi}
    try:
        data = UserCreateSchema().load(payload)
        user = users.create_user(current_session(), data,
                                 Access(audit.Actor(None, "cli"), clock.now(), None))
    except ValidationError as exc:
        raise click.ClickException(f"invalid: {exc.messages}") from exc
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {user.role.value} {user.email} ({user.id})")


@group.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_migrated_database
def set_password(email: str, password_stdin: bool) -> None:
    """Reset an account's password (a locked-out admin, say); all its sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        UserUpdateSchema(only=("password",)).load({"password": password})
        ended = users.reset_password(current_session(), email, password,
                                     Access(audit.Actor(None, "cli"), clock.now(), None))
    except ValidationError as exc:
        raise click.ClickException(f"invalid: {exc.messages}") from exc
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"password set for {email.strip().lower()}; {ended} session(s) ended")


@group.command("reset-mfa")
@click.option("--email", required=True)
@with_migrated_database
def reset_mfa(email: str) -> None:
    """Remove a user's second factor (she sets up a new one at her next login if her role
    requires one): for the only admin who lost both her phone and her recovery codes."""
    try:
        had = mfa_reset.reset_by_email(current_session(), email, audit.Actor(None, "cli"),
                                       clock.now())
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"second factor of {email.strip().lower()} "
               + ("reset" if had else "was not set up; nothing to reset"))
