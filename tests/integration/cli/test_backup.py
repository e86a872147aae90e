"""``infusync backup`` / ``infusync restore``: the database and its keys, kept apart, restored
into a new instance; a restore without its keys, or with another instance's, says so."""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server import create_app
from server.backup import key_check, key_file
from server.cli.main import cli
from server.extensions import db
from server.models import Patient
from server.services import server_keys
from tests.conftest import app_on, empty_postgres_database

PASSPHRASE = "a long and private passphrase"


@pytest.fixture
def keyed_app(app, clock):
    """The app with its server keys made (sealed under its data key) and a passphrase set."""
    app.config["INFUSYNC_BACKUP_PASSPHRASE"] = PASSPHRASE
    app.config["SECRET_KEY"] = secrets.token_hex(32)  # as server/keys.py makes it
    with app.app_context():
        server_keys.ensure_keys(db.session, app.config["INFUSYNC_DATA_KEY"], clock())
    return app


def restore(instance: Path, *args: str, passphrase: str = PASSPHRASE):
    env = {"INFUSYNC_INSTANCE_PATH": str(instance), "INFUSYNC_BACKUP_PASSPHRASE": passphrase,
           "INFUSYNC_DATABASE_URL": "", "INFUSYNC_DATA_KEY_FILE": "",
           "INFUSYNC_SECRET_KEY_FILE": "", "INFUSYNC_SECRET_KEY": ""}
    return CliRunner().invoke(cli, ["restore", *args], env=env)


def patients(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Patient))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_restored_into_a_new_instance_serves_with_the_same_keys(
        keyed_app, agency, tmp_path):
    copy = tmp_path / "backups" / "monday.sqlite3"
    result = keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(copy)])
    assert result.exit_code == 0, result.output
    assert f"keys written to {copy}.keys" in result.output and "keep it apart" in result.output
    raw_key = keyed_app.config["INFUSYNC_DATA_KEY"]
    assert base64.b64encode(raw_key) not in Path(f"{copy}.keys").read_bytes()

    new = tmp_path / "restored"
    restored = restore(new, "--from", str(copy), "--keys", f"{copy}.keys")
    assert restored.exit_code == 0, restored.output
    app = create_app({"TESTING": True, "INFUSYNC_INSTANCE_PATH": str(new)})
    assert app.config["INFUSYNC_DATA_KEY"] == raw_key
    assert app.config["SECRET_KEY"] == keyed_app.config["SECRET_KEY"]
    assert patients(app) == patients(keyed_app) > 0
    listed = app.test_cli_runner().invoke(args=["keys", "list"])
    assert listed.exit_code == 0, listed.output
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_restore_without_the_key_file_says_so_and_writes_nothing(keyed_app, agency,
                                                                  tmp_path):
    copy = tmp_path / "monday.sqlite3"
    assert keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(copy)]).exit_code == 0
    new = tmp_path / "restored"
    result = restore(new, "--from", str(copy))
    assert result.exit_code == 1
    assert "refused: no keys" in result.output
    assert "encrypted under the data key of the instance that made it" in result.output
    assert not (new / "infusync.sqlite3").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wrong_passphrase_or_another_instances_keys_are_refused(keyed_app, agency,
                                                                 tmp_path):
    copy = tmp_path / "monday.sqlite3"
    assert keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(copy)]).exit_code == 0
    new = tmp_path / "restored"
    wrong = restore(new, "--from", str(copy), "--keys", f"{copy}.keys",
                    passphrase="not the passphrase at all")
    assert wrong.exit_code == 1
    assert "the passphrase does not open this key file" in wrong.output

    other = key_file.Keys(secrets.token_hex(32), secrets.token_bytes(32))
    key_file.write_new(tmp_path / "other.keys", key_file.seal(other, PASSPHRASE))
    mixed = restore(new, "--from", str(copy), "--keys", str(tmp_path / "other.keys"))
    assert mixed.exit_code == 1
    assert "this key file does not belong to this backup" in mixed.output
    assert not (new / "infusync.sqlite3").exists() and not (new / "keys").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_never_overwrites_and_refuses_a_short_passphrase(keyed_app, tmp_path):
    copy = tmp_path / "monday.sqlite3"
    copy.write_text("yesterday's backup")
    result = keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(copy)])
    assert result.exit_code == 1 and "exists" in result.output
    assert copy.read_text() == "yesterday's backup"
    (tmp_path / "tuesday.sqlite3.keys").write_text("yesterday's keys")
    result = keyed_app.test_cli_runner().invoke(
        args=["backup", "--to", str(tmp_path / "tuesday.sqlite3")])
    assert result.exit_code == 1 and "tuesday.sqlite3.keys exists" in result.output
    assert not (tmp_path / "tuesday.sqlite3").exists()  # no copy without its key file
    keyed_app.config["INFUSYNC_BACKUP_PASSPHRASE"] = "short"
    result = keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "b")])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    assert not (tmp_path / "b").exists()


def test_a_database_started_with_another_data_key_is_refused_in_words(
        keyed_app, database_url, tmp_path, clock):
    """A database copied (or pg_restored) without its keys gets fresh ones: say so."""
    with app_on(database_url, tmp_path / "elsewhere", clock,
                INFUSYNC_DATA_KEY=secrets.token_bytes(32)) as stranger:
        result = stranger.test_cli_runner().invoke(args=["keys", "list"])
    assert result.exit_code == 1
    assert "the data key does not open this database's server keys" in result.output
    assert "infusync restore --keys FILE" in result.output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_is_backed_up_by_pg_dump_and_its_keys_by_infusync(keyed_app, tmp_path):
    result = keyed_app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "x")])
    assert result.exit_code == 1 and "back it up with pg_dump" in result.output
    keys = tmp_path / "pg.keys"
    result = keyed_app.test_cli_runner().invoke(args=["backup", "--keys-to", str(keys)])
    assert result.exit_code == 0, result.output
    assert keys.exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pg_dump_and_pg_restore_with_the_key_file_give_a_working_instance(
        keyed_app, agency, database_url, tmp_path):
    dump, keys = tmp_path / "monday.dump", tmp_path / "monday.keys"
    plain = sa.make_url(database_url).set(drivername="postgresql")
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}",
                    plain.render_as_string(hide_password=False)], check=True)
    assert keyed_app.test_cli_runner().invoke(
        args=["backup", "--keys-to", str(keys)]).exit_code == 0
    with empty_postgres_database("infusync_restored") as url:
        target = sa.make_url(url).set(drivername="postgresql")
        subprocess.run(["pg_restore", "--no-owner", "--dbname",
                        target.render_as_string(hide_password=False), str(dump)], check=True)
        new = tmp_path / "restored"
        env = {"INFUSYNC_INSTANCE_PATH": str(new), "INFUSYNC_BACKUP_PASSPHRASE": PASSPHRASE,
               "INFUSYNC_DATABASE_URL": url}
        without = CliRunner().invoke(cli, ["restore"], env=env)
        assert without.exit_code == 1 and "--from BACKUP and --keys KEYFILE" in without.output
        restored = CliRunner().invoke(cli, ["restore", "--keys", str(keys)], env=env)
        assert restored.exit_code == 0, restored.output
        app = create_app({"TESTING": True, "INFUSYNC_INSTANCE_PATH": str(new),
                          "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            with db.engine.connect() as connection:
                assert key_check.data_key_opens(connection, app.config["INFUSYNC_DATA_KEY"])
                assert connection.scalar(sa.select(sa.func.count()).select_from(Patient)) > 0
            db.engine.dispose()

