"""INFUSYNC_TRUSTED_PROXIES: which address a request came from, for the throttle and audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.config import ConfigError, from_environment
from server.extensions import db
from server.models import AuditEvent
from tests.assertions import error_of
from tests.conftest import app_on
from tests.factories import EMAILS, PASSWORD, build_agency

SOCKET = "10.0.0.2"  # the reverse proxy, as the app's socket sees it
CLIENT = "203.0.113.5"
OTHER_CLIENT = "203.0.113.6"


@pytest.fixture
def proxied_app(database_url: str, tmp_path: Any, clock: Any) -> Iterator[Flask]:
    """The app behind one trusted reverse proxy."""
    with app_on(database_url, tmp_path, clock, TRUSTED_PROXIES=1) as app:
        build_agency(app, clock())
        yield app


def login(client: FlaskClient, forwarded_for: str, password: str = PASSWORD) -> Any:
    """Log nurse_a in through the proxy at SOCKET, which says the client is ``forwarded_for``."""
    return client.post("/api/v1/auth/login",
                       json={"email": EMAILS["nurse_a"], "password": password},
                       environ_base={"REMOTE_ADDR": SOCKET},
                       headers={"X-Forwarded-For": forwarded_for})


def last_login_address(app: Flask) -> str | None:
    """The addresses the login audit events recorded, successful logins last."""
    with app.app_context():
        return db.session.scalars(select(AuditEvent.remote_addr)
                                  .where(AuditEvent.action == "login")
                                  .order_by(AuditEvent.outcome == "ok")).all()[-1]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, client, agency):
    for number in range(5):  # a guesser claiming a new address each time
        assert login(client, f"192.0.2.{number}", "guess-guess-guess").status_code == 401

    error_of(login(client, OTHER_CLIENT), 429, "too_many_requests")
    assert last_login_address(app) == SOCKET


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(proxied_app):
    client = proxied_app.test_client()
    for _ in range(5):
        assert login(client, CLIENT, "guess-guess-guess").status_code == 401

    error_of(login(client, CLIENT), 429, "too_many_requests")
    assert login(client, OTHER_CLIENT).status_code == 200
    assert last_login_address(proxied_app) == OTHER_CLIENT


def test_behind_one_proxy_only_the_address_the_proxy_appended_counts(proxied_app):
    client = proxied_app.test_client()
    for number in range(5):  # the client's own X-Forwarded-For, before the proxy's entry
        spoofed = f"192.0.2.{number}, {CLIENT}"
        assert login(client, spoofed, "guess-guess-guess").status_code == 401

    error_of(login(client, f"192.0.2.99, {CLIENT}"), 429, "too_many_requests")


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_socket(proxied_app):
    client = proxied_app.test_client()

    assert login(client, "not-an-address").status_code == 200

    assert last_login_address(proxied_app) == SOCKET


def test_trusted_proxies_cannot_be_negative():
    with pytest.raises(ConfigError, match="INFUSYNC_TRUSTED_PROXIES"):
        from_environment({"INFUSYNC_TRUSTED_PROXIES": "-1"})
    assert from_environment({})["TRUSTED_PROXIES"] == 0
    assert from_environment({"INFUSYNC_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
