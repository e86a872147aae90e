"""Schemathesis against the app: every operation of the OpenAPI document the app serves,
as an admin and as a nurse (real tokens from login), answers only what the document says.

For each operation schemathesis generates requests from the document, valid ones and
invalid ones, and checks every response: never a server error, a documented status, a
documented content type, a body and headers matching the documented schema. The
operations come from the generated document, so a route added later is tested as soon
as it is registered, with nothing to add here.

Bounded for the suite's time budget: a few examples per operation and mode, derandomized
(the same requests on every run, so CI is reproducible), no shrinking and no deadline (a
failure is reported as found; a slow request is not a failure). SQLite only: the
PostgreSQL half of the suite drives the same routes through every other API test.

Exclusions: none. ``logout`` would end the session every later operation uses, so each
of its cases logs in afresh (from another address than the generated logins, whose
failures the login throttle counts per address).
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FakeClock
from tests.depth import examples
from tests.factories import EMAILS, PASSWORD, TOTP_SECRETS, totp_code
from tests.integration.api.world import World, build_world

DOCUMENT = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
# Per operation and generation mode: 3 in every run, 6 in make test-deep (tests/depth.py).
# Generating the requests is most of the time (about 60 % of its CPU, 30 % the requests
# themselves): 53 operations x 2 modes x 2 roles took 48 s of CPU with 6, 34 s with 3.
EXAMPLES = examples(every_run=3, deep=6)
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))
CONFIG = schemathesis.Config.from_dict({"generation": {
    # Our tokens authenticate; schemathesis would otherwise make up its own bearer values.
    "with-security-parameters": False,
    # Strings are what UTF-8 can encode (schemathesis' default, said here): no lone
    # surrogates, which the request layer refuses on the sec-input branch.
    "codec": "utf-8",
}})
# Schemathesis' WSGI transport hands the checks the body as sent; an HTTP client would
# undo a Content-Encoding first (the pull gzips large pages for clients that accept it).
IDENTITY = {"Accept-Encoding": "identity"}
# The generated logins fail from the test client's default address; ours come from here.
FRESH_LOGIN_ADDRESS = {"REMOTE_ADDR": "127.0.0.2"}


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """SQLite only (see the module docstring)."""
    path = tmp_path / "infusync.sqlite3"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def world(client: FlaskClient, agency: Any, as_user: Any, enroll: Any) -> World:
    """The agency with devices, documentation, a review item and a draft module."""
    return build_world(client, agency, as_user, enroll)


class Run:
    """One role's pass over the document: who calls, with what, and what came back."""

    def __init__(self, client: FlaskClient, world: World, role: str, staff: dict[str, str],
                 clock: FakeClock):
        self.client, self.world, self.role, self.staff = client, world, role, staff
        self.clock = clock
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: dict[str, set[str]] = defaultdict(set)

    def headers(self, operation: Any) -> dict[str, str]:
        """The credentials the operation asks for, as this role holds them."""
        if operation.path.endswith("/auth/logout"):
            return self.fresh_login()
        security = operation.definition.raw.get("security")
        if security == [{"deviceToken": []}] and self.role.startswith("nurse"):
            return self.world.device.headers
        return self.staff

    def fresh_login(self) -> dict[str, str]:
        """A new token for this role, for an operation that ends the one it uses (the
        admin's TOTP code is accepted once: each login comes one 30-second step later)."""
        self.clock.advance(seconds=30)
        response = self.client.post("/api/v1/auth/login", environ_base=FRESH_LOGIN_ADDRESS,
                                    json={"email": EMAILS[self.role], "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        if response.get_json().get("status") == "mfa_required":
            response = self.client.post(
                "/api/v1/auth/login/mfa", environ_base=FRESH_LOGIN_ADDRESS,
                json={"mfa_token": response.get_json()["mfa_token"],
                      "code": totp_code(self.client.application, TOTP_SECRETS[self.role])})
            assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    def strategy(self, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
        """Generated cases, half of them about records that exist (when there are some)."""
        generated = operation.as_strategy(generation_mode=mode)
        known = self.world.known_path_parameters(operation.path)
        if not known:
            return generated
        return st.one_of(generated,
                         operation.as_strategy(generation_mode=mode, path_parameters=known))

    def check(self, operation: Any) -> None:
        """Run the operation's positive and negative cases, recording what they find."""
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @SETTINGS
            @given(case=self.strategy(operation, mode))
            def call(case: Any) -> None:
                try:
                    response = case.call_and_validate(
                        headers={**self.headers(operation), **IDENTITY}, checks=CHECKS)
                except (AssertionError, BaseExceptionGroup) as failure:
                    self.failures[operation.label].add(str(failure))
                    return
                self.statuses[operation.label][response.status_code] += 1

            try:
                call()
            except Unsatisfiable:
                # Nothing to make invalid: an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label

    def report(self) -> str:
        """Every distinct failure, by operation."""
        return "\n\n".join(f"{label}:\n" + "\n".join(sorted(found))
                           for label, found in sorted(self.failures.items()))


def operations(app: Flask) -> list[Any]:
    """Every operation of the document the app serves, as schemathesis loads it."""
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app, config=CONFIG)
    return [result.ok() for result in schema.get_all_operations()]


def answered(run: Run, success: Callable[[int], bool]) -> set[str]:
    """The operations that answered ``success`` at least once."""
    return {label for label, counts in run.statuses.items() if any(map(success, counts))}


# Its @given is built inside the test: the mark Hypothesis' plugin would add, for make test-deep.
@pytest.mark.hypothesis
@pytest.mark.parametrize("role", ["admin", "nurse_a"])
def test_every_operation_answers_as_documented(app: Flask, client: FlaskClient, world: World,
                                               as_user: Any, role: str,
                                               clock: FakeClock) -> None:
    run = Run(client, world, role, as_user(role), clock)
    found = operations(app)
    assert len(found) >= 50, "the document lost its operations"
    for operation in found:
        run.check(operation)

    assert not run.failures, run.report()
    # The run must have reached the records, not only refusals: its session lived, and
    # every read of a known record (or of a list) answered 200 to the admin.
    assert client.get("/api/v1/auth/me", headers=run.staff).status_code == 200
    if role == "admin":
        reads = {op.label for op in found if op.method.upper() == "GET"
                 and world.knows_every_parameter(op.path)
                 and op.definition.raw.get("security") is None}
        assert reads - answered(run, lambda status: status == 200) == set()
    else:
        assert "GET /api/v1/sync/pull" in answered(run, lambda status: status == 200)
