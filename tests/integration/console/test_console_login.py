"""Signing in to the console: the cookie, the second factor, refusals shown on the form,
and a session that ends exactly when an API token would."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, Role
from tests.factories import EMAILS, PASSWORD, login, make_user, totp_code
from tests.integration.api.test_sessions_end import change, patch_user
from tests.integration.console.browser import csrf_of, post_form, sign_in

BOARD_LESS_HOME = "/console/"


def _signed_in(client: Any) -> bool:
    response = client.get(BOARD_LESS_HOME)
    return not (response.status_code == 302
                and response.headers["Location"].startswith("/console/login"))


def test_the_session_cookie_is_httponly_samesite_lax_and_not_the_token_in_clear(app, agency):
    client = app.test_client()
    response = post_form(client, "/console/login",
                         {"email": EMAILS["coordinator"], "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("infusync_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # development: plain HTTP must work
    assert _signed_in(client)


def test_a_wrong_password_is_shown_on_the_form_with_the_email_kept(app, agency):
    client = app.test_client()
    response = post_form(client, "/console/login",
                         {"email": EMAILS["coordinator"], "password": "not it"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "There is a problem" in page and "Wrong email or password" in page
    assert f'value="{EMAILS["coordinator"]}"' in page and "not it" not in page
    with app.app_context():
        refused = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "login", AuditEvent.outcome == "refused")).all()
    assert len(refused) == 1
    assert not _signed_in(client)


def test_empty_fields_are_named_beside_each_field(app, agency):
    client = app.test_client()
    response = post_form(client, "/console/login", {"email": " ", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#email">Email: Enter your email address.</a>' in page
    assert 'id="password-error-1"' in page and "Enter your password." in page


def test_an_admin_needs_her_code_and_a_wrong_code_is_refused(app, agency):
    client = app.test_client()
    response = post_form(client, "/console/login",
                         {"email": EMAILS["admin"], "password": PASSWORD})
    assert response.headers["Location"].startswith("/console/login/code")
    assert not _signed_in(client)
    refused = post_form(client, "/console/login/code", {"code": "000000"})
    assert refused.status_code == 401
    assert "There is a problem" in refused.get_data(as_text=True)
    assert not _signed_in(client)
    sign_in(client, "admin", steps=1)
    assert _signed_in(client)


def test_sign_out_revokes_the_session(app, agency):
    client = app.test_client()
    sign_in(client, "coordinator")
    cookie = client.get_cookie("infusync_console", path="/console")
    response = post_form(client, "/console/logout", {}, form_page="/console/")
    assert response.status_code == 302
    assert not _signed_in(client)
    replay = app.test_client()  # the old cookie, kept by someone, is dead too
    replay.set_cookie("infusync_console", cookie.value, path="/console")
    assert not _signed_in(replay)


def test_a_password_change_through_the_api_ends_the_console_session(app, client, agency):
    browser = app.test_client()
    sign_in(browser, "nurse_a")
    assert _signed_in(browser)
    assert change(client, login(client, "nurse_a")).status_code == 204
    assert not _signed_in(browser)


def test_deactivating_the_account_ends_the_console_session(app, client, agency):
    browser = app.test_client()
    sign_in(browser, "coordinator")
    admin = login(client, "admin")
    assert patch_user(client, admin, agency["coordinator"], {"active": False}).status_code == 200
    assert not _signed_in(browser)


def test_the_session_idles_out_like_an_api_token(app, clock, agency):
    browser = app.test_client()
    sign_in(browser, "coordinator")
    clock.advance(minutes=14)
    assert _signed_in(browser)  # used: the idle timer restarts
    clock.advance(minutes=16)
    assert not _signed_in(browser)


def test_the_login_page_sends_a_strict_csp_and_no_store(app):
    response = app.test_client().get("/console/login")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert csrf_of(app.test_client(), "/console/login")


def test_the_root_sends_to_the_console(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/console/"


def test_the_console_is_not_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths and not [path for path in paths if "console" in path]


def test_an_admin_without_a_second_factor_sets_one_up_and_is_signed_in(app, agency):
    with app.app_context():
        make_user(Role.ADMIN, "new.admin@agency.test")
        db.session.commit()
    client = app.test_client()
    response = post_form(client, "/console/login",
                         {"email": "new.admin@agency.test", "password": PASSWORD})
    assert response.headers["Location"] == "/console/login/enroll"
    assert not _signed_in(client)
    page = post_form(client, "/console/login/enroll", {})
    secret = re.search(r"<dt>Key</dt><dd><code>([A-Z2-7]+)</code>", page.get_data(as_text=True))
    assert page.status_code == 200 and secret
    wrong = post_form(client, "/console/login/enroll/confirm", {"code": "000000"},
                      form_page="/console/login/enroll")
    assert wrong.status_code == 401 and "There is a problem" in wrong.get_data(as_text=True)
    assert not _signed_in(client)
    code = totp_code(app, secret.group(1))
    done = post_form(client, "/console/login/enroll/confirm", {"code": code},
                     form_page="/console/login/enroll")
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "Your second factor is on" in text
    assert len(re.findall(r"<li><code>", text)) == 10
    assert _signed_in(client)
