"""A real ``infusync serve`` (gunicorn) process on a free loopback port."""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask

from server import config, create_app
from tests.conftest import fresh_postgres_database

BIN = Path(sys.executable).parent
PASSWORD = "a long enough e2e password"  # every e2e user's, long enough for the policy


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running server and a tiny JSON client for it.

    ``domain`` is the email domain of the staff a test makes: ``e2e.test`` on a server of
    its own, a domain of each test's own on a server tests share (``shared_served``).
    """

    def __init__(self, base: str, env: dict[str, str], domain: str = "e2e.test") -> None:
        self.base = base
        self.env = env
        self.domain = domain
        self.folder = Path(env["INFUSYNC_INSTANCE_PATH"])  # its keys and serve.log
        self.database_url = env["INFUSYNC_DATABASE_URL"]
        self._admin_apps: dict[str, Flask] = {}  # shared by for_test() views

    def for_test(self) -> Server:
        """The same server for one more test, with a new email domain of its own."""
        view = copy.copy(self)
        view.domain = f"t{secrets.token_hex(4)}.e2e.test"
        return view

    def email(self, name: str) -> str:
        """``name`` at this test's domain (her display name stays ``name``)."""
        return f"{name}@{self.domain}"

    def unique(self, text: str) -> str:
        """``text`` made this test's own (an MRN, say) on a server tests share."""
        return text if self.domain == "e2e.test" else f"{text}-{self.domain.split('.')[0]}"

    def request(self, method: str, path: str, body: Any = None,
                token: str | None = None) -> tuple[int, Any]:
        """Send one request; return the status and the decoded JSON body (or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run the ``infusync`` command against the same database."""
        return subprocess.run([str(BIN / "infusync"), *args], input=stdin, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)

    def admin(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run an ``infusync`` command in this process, on the same database and keys.

        The same command as ``cli`` (its options, its guard, its output), without a new
        interpreter: one costs about 2.5 s of CPU (importing and building the app), and a
        test sets up several staff and enrollment codes. ``cli`` stays for the commands a
        test is about (a backup, a key rotation, a job run).
        """
        app = self._admin()
        result = app.test_cli_runner().invoke(args=list(args), input=stdin)
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()  # no connection held between steps
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(["infusync", *args], result.exit_code,
                                           result.stdout, result.stderr)

    def _admin(self) -> Flask:
        """The app ``infusync`` would build from the served process's environment (its
        keys are in the instance folder by now), less the served-only answer checks."""
        if "app" not in self._admin_apps:
            environment = {k: v for k, v in self.env.items()
                           if k != "INFUSYNC_WIRE_SCHEMA_CHECK"}
            self._admin_apps["app"] = create_app(config.from_environment(environment))
        return self._admin_apps["app"]

    def create_user(self, email: str, role: str, *options: str) -> str:
        """Add a staff member the way an admin does (``infusync users create``); her id.

        ``options`` are further CLI flags (``"--competency", "picc-care"``).
        """
        result = self.admin("users", "create", "--email", email, "--name", email.split("@")[0],
                          "--role", role, "--password-stdin", *options, stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        return result.stdout.split("(")[-1].rstrip(")\n")

    def login(self, email: str, totp_secret: str | None = None, steps: int = 0) -> str:
        """Log in as a user made by ``create_user``; her bearer token. With a second factor,
        the code is computed from ``totp_secret`` (``steps`` 30-second steps ahead, since a
        code used once is refused for the rest of its step)."""
        status, body = self.request("POST", "/api/v1/auth/login",
                                    {"email": email, "password": PASSWORD})
        assert status == 200, body
        if body.get("status") == "mfa_required":
            assert totp_secret, f"{email} has a second factor: pass her totp_secret"
            code = pyotp.TOTP(totp_secret).at(time.time() + 30 * steps)
            status, body = self.request("POST", "/api/v1/auth/login/mfa",
                                        {"mfa_token": body["mfa_token"], "code": code})
            assert status == 200, body
        return str(body["token"])


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    """Return once ``base`` answers /healthz; fail when the process exits or never does."""
    # 30 s was not enough on a 2-core machine under a full parallel run (three processes
    # each import and build the app); waiting longer costs nothing when it comes up sooner.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("infusync serve exited early")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("infusync serve did not come up in 90 s")


@contextmanager
def serve(database_url: str, folder: Path, *args: str, port: int | None = None,
          **extra_env: str) -> Iterator[Server]:
    """``infusync serve`` with two workers on ``database_url`` (``args`` added to its
    command line, on ``port`` or a free one), ``extra_env`` on top."""
    port = port or free_port()
    # INFUSYNC_WIRE_SCHEMA_CHECK: the served process validates each push result and pull
    # page it answers against schemas/json, and answers 500 to its own mistake.
    env = {**os.environ, "INFUSYNC_DATABASE_URL": database_url,
           "INFUSYNC_INSTANCE_PATH": str(folder), "INFUSYNC_WIRE_SCHEMA_CHECK": "true",
           **extra_env}
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "infusync"), "serve", "--port", str(port), "--workers", "2", *args],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield Server(base, env)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """``infusync serve`` with two workers on an empty, migrated database."""
    with serve(database_url, tmp_path) as server:
        yield server


class SharedServers:
    """One ``infusync serve`` per backend for the whole session, started on first use.

    Starting one costs about 6.5 s of CPU (three processes each import and build the app),
    more than most API tests spend on their own steps. Tests that only need their own
    staff, patients and devices (not an empty database, nor a configuration of their own)
    share one: each makes its names with ``Server.email`` and ``Server.unique``.
    """

    def __init__(self, stack: ExitStack, folder: Path) -> None:
        self.stack, self.folder = stack, folder
        self.servers: dict[str, Server] = {}

    def get(self, backend: str, request: pytest.FixtureRequest) -> Server:
        """The backend's server, started (on a migrated database of its own) if need be."""
        if backend not in self.servers:
            folder = self.folder / backend
            folder.mkdir()
            if backend == "sqlite":
                path = folder / "infusync.sqlite3"
                shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
                url = f"sqlite:///{path}"
            else:
                url = self.stack.enter_context(fresh_postgres_database("infusync_e2e", folder))
            self.servers[backend] = self.stack.enter_context(serve(url, folder))
        return self.servers[backend]


@pytest.fixture(scope="session")
def shared_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServers]:
    """The session's shared servers, stopped (and their databases dropped) at its end."""
    with ExitStack() as stack:
        yield SharedServers(stack, tmp_path_factory.mktemp("shared-served"))


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_served(request: pytest.FixtureRequest, shared_servers: SharedServers) -> Server:
    """A served server on each backend that tests share, with this test's own domain.

    A module whose tests can share one overrides ``served`` with it; its tests must not
    read ``database_url`` (another database) but ``served.database_url``.
    """
    return shared_servers.get(request.param, request).for_test()


# Debian's Chromium: Playwright's own browser download cannot work on the agency's machines
# nor in CI (.ci/run installs the package when it is missing).
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole test session (each test opens its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page at 1280 px (no cookies from another test)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
