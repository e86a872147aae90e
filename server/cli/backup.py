"""``infusync backup`` and ``infusync restore``: the database and, apart, its keys.

``backup`` runs beside a serving instance (SQLite: the online backup API; PostgreSQL:
``pg_dump`` does the database, this command the keys). ``restore`` builds no app — the
app would make new keys for the empty instance — and is added to the top-level group.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from server import config
from server.backup import key_file, sqlite_online
from server.backup import restore as restoring
from server.cli.database_check import database_label, with_migrated_database

# The name of the configuration key, not a secret.
PASSPHRASE_SETTING = "INFUSYNC_BACKUP_PASSPHRASE"  # noqa: S105
APART = ("keep it apart from the database backups, and the passphrase apart from both: "
         "without this file and its passphrase the backup cannot be read")


def _passphrase(configured: str | None, confirm: bool) -> str:
    """The configured passphrase, or one typed at the prompt."""
    if configured:
        return configured
    return str(click.prompt("Passphrase for the key file", hide_input=True,
                            confirmation_prompt=confirm))


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


@click.command("backup")
@click.option("--to", "to", type=click.Path(path_type=Path),
              help="New file for the database copy (SQLite).")
@click.option("--keys-to", type=click.Path(path_type=Path),
              help="New file for the encrypted keys (default: the database copy + .keys).")
@with_migrated_database
def backup(to: Path | None, keys_to: Path | None) -> None:
    """Copy the database while the server writes, and its keys, encrypted, to a file apart."""
    source = _sqlite_file(str(current_app.config["SQLALCHEMY_DATABASE_URI"]))
    if source is None and to is not None:
        raise click.ClickException(
            f"{database_label(current_app)} is PostgreSQL: back it up with pg_dump "
            "(docs/operations.md, Backups); this command writes its keys: --keys-to FILE")
    if to is None and keys_to is None:
        raise click.ClickException("say where: --to FILE (and/or --keys-to FILE)")
    keys_path = keys_to or Path(f"{to}.keys")
    for path in (to, keys_path):
        if path is not None and path.exists():
            raise click.ClickException(f"{path} exists: a backup never overwrites a file")
    passphrase = _passphrase(current_app.config.get(PASSPHRASE_SETTING), confirm=True)
    keys = key_file.Keys(str(current_app.config["SECRET_KEY"]),
                         bytes(current_app.config["INFUSYNC_DATA_KEY"]))
    try:
        sealed = key_file.seal(keys, passphrase)
        if to is not None and source is not None:
            copied = sqlite_online.copy(source, to)
            click.echo(f"database copied to {copied.path} ({copied.pages} pages, migration "
                       f"{copied.revision}): every change committed before it began")
        key_file.write_new(keys_path, sealed)
    except (key_file.KeyFileError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"keys written to {keys_path}, encrypted with the passphrase; {APART}")


@click.command("restore")
@click.option("--from", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The database copy made by `infusync backup --to` (SQLite).")
@click.option("--keys", "keys_path", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
              help="The key file made beside it by `infusync backup`.")
def restore(source: Path | None, keys_path: Path | None) -> None:
    """Restore a backup and its keys into a new instance (INFUSYNC_INSTANCE_PATH)."""
    settings = config.from_environment()
    target = restoring.target_of(settings, Path(os.getcwd()))
    if source is None and keys_path is None:
        raise click.ClickException("say what: --from BACKUP and --keys KEYFILE")
    keys = None
    if keys_path is not None:
        passphrase = _passphrase(settings.get(PASSPHRASE_SETTING), confirm=False)
        try:
            keys = key_file.open_sealed(keys_path.read_bytes(), passphrase)
        except key_file.KeyFileError as exc:
            raise click.ClickException(f"{keys_path}: {exc}") from exc
    try:
        todo = restoring.restore(source, keys, target)
    except restoring.RestoreRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if source is not None:
        click.echo(f"restored {source} into {target.sqlite_path}")
    if keys is not None:
        click.echo(f"keys restored to {target.data_key_file.parent}")
    for step in todo:
        click.echo(f"still to do: {step}", err=True)
    click.echo("start the server; devices resend what the backup missed "
               "(docs/operations.md, Restore drill)")
