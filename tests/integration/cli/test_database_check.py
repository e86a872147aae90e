"""Commands that touch the database name it, and refuse one that was never migrated."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from server import create_app
from tests.conftest import TEST_PASSWORD, empty_postgres_database

BIN = Path(sys.executable).parent
CREATE_ADMIN = ["users", "create", "--email", "first@agency.test", "--name", "First",
                "--role", "admin", "--password-stdin"]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody ran ``infusync db upgrade`` on, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"
        return
    with empty_postgres_database("infusync_empty") as url:
        yield url


@pytest.fixture
def unmigrated_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "INFUSYNC_INSTANCE_PATH": str(tmp_path / "instance")})
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def shown(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def test_a_command_says_which_instance_and_database_it_uses(app, runner, database_url):
    result = runner.invoke(args=CREATE_ADMIN, input=TEST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert f"instance folder {app.instance_path}" in result.stderr
    assert f"database {shown(database_url)}" in result.stderr
    assert result.stdout.startswith("created admin first@agency.test")


@pytest.mark.parametrize("command", [CREATE_ADMIN, ["seed-demo"], ["keys", "list"],
                                     ["jobs", "run", "missed_visits"]])
def test_an_unmigrated_database_is_refused_in_one_line(unmigrated_app, empty_database_url,
                                                       command):
    result = unmigrated_app.test_cli_runner().invoke(args=command,
                                                     input=TEST_PASSWORD + "\n")
    assert result.exit_code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert f"database {shown(empty_database_url)} has no infusync schema" in error
    assert "infusync db upgrade" in error
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""


def test_run_from_another_folder_it_names_that_folder_and_refuses(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("INFUSYNC_")}
    result = subprocess.run([str(BIN / "infusync"), *CREATE_ADMIN], cwd=tmp_path, env=env,
                            input=TEST_PASSWORD + "\n", capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert f"instance folder {tmp_path / 'instance'}" in result.stderr
    assert "infusync db upgrade" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
