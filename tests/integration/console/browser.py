"""Signing in to the console through its own forms, as a browser does (test client)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import EMAILS, PASSWORD, TOTP_SECRETS, totp_code

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    page = client.get(path, follow_redirects=True)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF field on {path} ({page.status_code})"
    return found.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, str],
              form_page: str | None = None) -> TestResponse:
    """POST ``data`` with the CSRF token of the form at ``form_page`` (default ``path``)."""
    token = csrf_of(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token})


def sign_in(client: FlaskClient, who: str, steps: int = 0) -> None:
    """Sign ``who`` of the test agency in (the admin with her TOTP code)."""
    response = post_form(client, "/console/login",
                         {"email": EMAILS[who], "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].startswith("/console/login/code"):
        code = totp_code(client.application, TOTP_SECRETS[who], steps)
        response = post_form(client, "/console/login/code", {"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)
    assert not response.headers["Location"].startswith("/console/login")


def text_of(response: TestResponse) -> str:
    """The page's text as a person reads it: tags dropped, whitespace collapsed."""
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def dashed_text_of(response: TestResponse) -> str:
    """The page's text, its en dashes (time ranges) written as hyphens."""
    return text_of(response).replace("\u2013", "-")


def signed_in(app: Flask, who: str) -> FlaskClient:
    """A test client of ``app`` signed in to the console as ``who``."""
    client = app.test_client()
    sign_in(client, who)
    return client
