"""Put a backup and its keys into a new instance (``infusync restore``).

Runs without building the app: ``create_app`` would generate fresh development keys into
the instance folder (or, in production, refuse to start without the key files this very
command is about to write). It reads the same configuration (``server.config``) to learn
where the instance keeps its database and keys, and refuses anything that would mix two
instances: an existing database, existing keys of another instance, a key file whose data
key does not open the backup's server keys — and a backup without any keys at all.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.backup import key_check, sqlite_online
from server.backup.key_file import KeyFileError, Keys, write_new

NO_KEY_FILE = (
    "refused: no keys. This backup's server keys and every stored push are encrypted under "
    "the data key of the instance that made it, and a backup never holds that key. Pass "
    "the key file written beside it by `infusync backup` (--keys FILE) and its passphrase"
)


class RestoreRefused(Exception):
    """Why this restore would not give a working instance; nothing was written."""


@dataclass(frozen=True)
class Target:
    """Where the configured instance keeps its database and keys."""

    instance: Path
    database_url: str
    data_key_file: Path
    secret_key_file: Path
    secret_key_set: bool

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, or None when the database is not SQLite."""
        url = sa.make_url(self.database_url)
        return Path(url.database or "") if url.get_backend_name() == "sqlite" else None


def target_of(settings: Mapping[str, Any], cwd: Path) -> Target:
    """The instance ``settings`` (``server.config.from_environment()``) describe."""
    instance = Path(settings.get("INFUSYNC_INSTANCE_PATH") or cwd / "instance").resolve()
    url = settings.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / 'infusync.sqlite3'}"
    return Target(
        instance=instance, database_url=str(url),
        data_key_file=Path(settings.get("INFUSYNC_DATA_KEY_FILE") or instance / "keys/data_key"),
        secret_key_file=Path(settings.get("INFUSYNC_SECRET_KEY_FILE")
                             or instance / "keys/secret_key"),
        secret_key_set=bool(settings.get("SECRET_KEY")))


def _encoded(raw: bytes) -> bytes:
    """A key as ``server/keys.py`` reads it: base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _secret_raw(secret_key: str) -> bytes | None:
    """The secret key's bytes when it came from a key file (hex of them), else None."""
    try:
        raw = bytes.fromhex(secret_key)
    except ValueError:
        return None
    return raw if len(raw) >= 32 else None


def _opens(database: Path, data_key: bytes) -> bool:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return key_check.data_key_opens(connection, data_key)
    finally:
        engine.dispose()


def _existing_data_key(target: Target) -> bytes | None:
    if not target.data_key_file.exists():
        return None
    text = target.data_key_file.read_text().strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_keys(backup: Path | None, keys: Keys | None, target: Target) -> None:
    """Refuse keys that do not open the backup, or a restore with no keys that do."""
    existing = _existing_data_key(target)
    if keys is None:
        if backup is None or existing is None or not _opens(backup, existing):
            raise RestoreRefused(NO_KEY_FILE)
        return
    if backup is not None and not _opens(backup, keys.data_key):
        raise RestoreRefused("refused: this key file does not belong to this backup (its data "
                             "key does not open the backup's server keys)")
    if existing is not None and existing != keys.data_key:
        raise RestoreRefused(f"refused: {target.data_key_file} holds another instance's data "
                             "key; restore into a new instance")


def write_keys(keys: Keys, target: Target) -> list[str]:
    """Write the keys where the instance reads them; what a person must still do."""
    todo: list[str] = []
    target.data_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not target.data_key_file.exists():
        write_new(target.data_key_file, _encoded(keys.data_key))
    raw = _secret_raw(keys.secret_key)
    if target.secret_key_set or raw is None:
        todo.append("set INFUSYNC_SECRET_KEY to the backed-up secret key, or devices must "
                    "pull from scratch (their cursors will not be recognised)")
    elif not target.secret_key_file.exists():
        target.secret_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_new(target.secret_key_file, _encoded(raw))
    return todo


def check_database(backup: Path, target: Target) -> Path:
    """The SQLite file to restore into; refuse a PostgreSQL target or an existing file."""
    path = target.sqlite_path
    if path is None:
        raise RestoreRefused("refused: the configured database is not SQLite; restore it with "
                             "pg_restore (docs/operations.md, Backups), then this command "
                             "with --keys alone")
    if sqlite_online.revision_of(backup) is None:
        raise RestoreRefused(f"refused: {backup} is not an infusync database backup")
    if path.exists() and path.stat().st_size > 0:
        raise RestoreRefused(f"refused: {path} exists; restore into a new instance (another "
                             "INFUSYNC_INSTANCE_PATH), never over a database")
    return path


def restore(backup: Path | None, keys: Keys | None, target: Target) -> list[str]:
    """Check everything, then write the keys and copy the database; what is left to do."""
    database = check_database(backup, target) if backup is not None else None
    check_keys(backup, keys, target)
    todo: list[str] = []
    try:
        if keys is not None:
            todo = write_keys(keys, target)
    except KeyFileError as exc:
        raise RestoreRefused(str(exc)) from exc
    if backup is not None and database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup, database)
        with database.open("rb") as handle:
            os.fsync(handle.fileno())
    return todo
