"""My account: every signed-in person changes her password and manages her own second
factor, through the API's services (test client, on SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, AuthToken, MfaCredential
from server.services.mfa import credentials
from tests.factories import EMAILS, PASSWORD, TOTP_SECRETS, login, totp_code
from tests.integration.console.browser import post_form, sign_in, signed_in, text_of

NEW_PASSWORD = "a brand new passphrase"
KEY = re.compile(r'<code id="totp-key">([A-Z2-7]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-7]{5}(?:-[a-z2-7]{5}){3})</code></li>")


def _events(app, **where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .filter_by(**where))


def _change(client, current, new, again=None):
    return post_form(client, "/console/account/password",
                     {"current_password": current, "new_password": new,
                      "new_password_again": new if again is None else again},
                     form_page="/console/account")


def test_the_header_links_her_name_to_her_account(app, agency):
    client = signed_in(app, "coordinator")
    html = client.get("/console/board").get_data(as_text=True)
    assert 'href="/console/account"' in html
    text = text_of(client.get("/console/account"))
    assert "My account Name Coord Email coord@agency.test Role coordinator" in text
    assert "Second factor Off." in text


def test_a_nurse_changes_her_password_and_her_other_sessions_end(app, agency):
    client = signed_in(app, "nurse_a")
    other = login(app.test_client(), "nurse_a")
    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/account?done=password"
    page = client.get(response.headers["Location"])  # this session goes on
    assert "Your password is changed. Your other sessions have ended" in text_of(page)
    assert app.test_client().get("/api/v1/auth/me", headers=other).status_code == 401
    fresh = app.test_client()
    refused = post_form(fresh, "/console/login", {"email": EMAILS["nurse_a"],
                                                  "password": PASSWORD})
    assert refused.status_code == 401
    accepted = post_form(fresh, "/console/login", {"email": EMAILS["nurse_a"],
                                                   "password": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert _events(app, action="change_password", outcome="ok",
                   entity_id=agency["nurse_a"]) == 1


def test_a_wrong_current_password_is_refused_beside_it_and_never_shown_again(app, agency):
    client = signed_in(app, "nurse_a")
    response = _change(client, "not my password at all", NEW_PASSWORD)
    html, text = response.get_data(as_text=True), text_of(response)
    assert response.status_code == 422
    assert "There is a problem The current password is wrong." in text
    assert "Current password: Not your current password." in text
    assert "not my password at all" not in html and NEW_PASSWORD not in html
    assert _events(app, action="change_password", outcome="refused") == 1
    assert post_form(app.test_client(), "/console/login", {
        "email": EMAILS["nurse_a"], "password": PASSWORD}).status_code == 302


def test_new_passwords_that_differ_or_are_weak_are_refused_and_nothing_changes(app, agency):
    client = signed_in(app, "physician_a")
    differ = _change(client, PASSWORD, NEW_PASSWORD, "a brand new passphrasE")
    assert differ.status_code == 422
    assert "New password again: The two new passwords are not the same." in text_of(differ)
    weak = _change(client, PASSWORD, "short")
    assert weak.status_code == 422
    assert "New password: Length must be between 12 and 200." in text_of(weak)
    empty = _change(client, "", NEW_PASSWORD)
    assert "Current password: Enter your current password." in text_of(empty)
    same = _change(client, PASSWORD, PASSWORD)
    assert "Choose a password different from the current one." in text_of(same)
    assert _events(app, action="change_password") == 0
    assert post_form(app.test_client(), "/console/login", {
        "email": EMAILS["physician_a"], "password": PASSWORD}).status_code == 302


def _start(client, password=PASSWORD):
    return post_form(client, "/console/account/mfa", {"mfa_password": password},
                     form_page="/console/account")


def _turn_on(app, client):
    started = _start(client)
    secret = KEY.search(started.get_data(as_text=True)).group(1)
    confirmed = post_form(client, "/console/account/mfa/confirm",
                          {"code": totp_code(app, secret)}, form_page="/console/account")
    return started, secret, confirmed


def test_a_nurse_turns_on_a_second_factor_with_a_qr_code_and_sees_her_codes_once(app, agency):
    client = signed_in(app, "nurse_a")
    started, secret, confirmed = _turn_on(app, client)
    html = started.get_data(as_text=True)
    assert started.status_code == 200
    assert '<svg viewBox' in html and 'class="qr"' in html and "Your key as a QR code" in html
    assert f'href="otpauth://totp/infusync:ann%40agency.test?secret={secret}' in html
    assert confirmed.status_code == 200
    codes = RECOVERY.findall(confirmed.get_data(as_text=True))
    assert len(codes) == 10
    assert "Your second factor is on" in text_of(confirmed)
    # The confirming login replaced the session: the new cookie works, the page says on.
    page = text_of(client.get("/console/account"))
    assert "Second factor On. Each sign-in asks for a code" in page
    assert "You have 10 unused recovery codes." in page
    with app.app_context():
        tokens = db.session.scalars(select(AuthToken).filter_by(user_id=agency["nurse_a"]))
        assert sorted(t.revoked_at is None for t in tokens) == [False, True]
    # Her next sign-in asks for a code.
    again = post_form(app.test_client(), "/console/login",
                      {"email": EMAILS["nurse_a"], "password": PASSWORD})
    assert again.headers["Location"].startswith("/console/login/code")
    assert _events(app, action="mfa_confirm", entity_id=agency["nurse_a"]) == 1


def test_a_wrong_password_or_code_is_refused_and_the_factor_stays_off(app, agency):
    client = signed_in(app, "nurse_a")
    wrong = _start(client, "not my password at all")
    assert wrong.status_code == 403
    assert "Your password: Not your password." in text_of(wrong)
    started = _start(client)
    assert KEY.search(started.get_data(as_text=True))
    bad = post_form(client, "/console/account/mfa/confirm", {"code": "000000"},
                    form_page="/console/account")
    assert bad.status_code == 422
    assert "Code: Wrong or already used code; 4 more tries" in text_of(bad)
    empty = post_form(client, "/console/account/mfa/confirm", {"code": ""},
                      form_page="/console/account")
    assert "Enter the 6-digit code your authenticator app shows." in text_of(empty)
    with app.app_context():
        assert not credentials.is_enrolled(db.session, agency["nurse_a"])
    assert "Second factor Off." in text_of(client.get("/console/account"))


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(app, agency, clock):
    client = signed_in(app, "admin")
    bad = post_form(client, "/console/account/mfa/recovery-codes", {"codes_code": "123456"},
                    form_page="/console/account")
    assert bad.status_code == 422
    assert "Code: Wrong or already used code." in text_of(bad)
    assert _events(app, action="mfa_recovery_codes", outcome="refused") == 1
    clock.advance(seconds=30)  # her sign-in used this step's code
    made = post_form(client, "/console/account/mfa/recovery-codes",
                     {"codes_code": totp_code(app, TOTP_SECRETS["admin"])},
                     form_page="/console/account")
    assert made.status_code == 200
    first = RECOVERY.findall(made.get_data(as_text=True))
    assert len(first) == 10 and "New recovery codes" in text_of(made)
    again = post_form(client, "/console/account/mfa/recovery-codes",
                      {"codes_code": first[0]}, form_page="/console/account")
    second = RECOVERY.findall(again.get_data(as_text=True))
    assert len(second) == 10 and not set(first) & set(second)
    with app.app_context():
        credential = db.session.scalar(select(MfaCredential).filter_by(user_id=agency["admin"]))
        assert not credentials.use_recovery_code(db.session, credential, first[1], clock())
        assert credentials.use_recovery_code(db.session, credential, second[0], clock())


def test_an_admin_may_not_turn_off_the_factor_her_role_requires(app, agency):
    client = signed_in(app, "admin")
    page = text_of(client.get("/console/account"))
    assert "Your role requires a second factor: it stays on." in page
    refused = post_form(client, "/console/account/mfa/off",
                        {"off_code": totp_code(app, TOTP_SECRETS["admin"], 1)},
                        form_page="/console/account")
    assert refused.status_code == 403
    assert "Your role requires a second factor: it stays on." in text_of(refused)
    with app.app_context():
        assert credentials.is_enrolled(db.session, agency["admin"])


def test_a_nurse_turns_her_second_factor_off_with_a_code(app, agency, clock):
    client = signed_in(app, "nurse_a")
    _started, secret, _confirmed = _turn_on(app, client)
    clock.advance(seconds=30)
    wrong = post_form(client, "/console/account/mfa/off", {"off_code": "12345"},
                      form_page="/console/account")
    assert wrong.status_code == 422 and "Code: Wrong or already used code." in text_of(wrong)
    off = post_form(client, "/console/account/mfa/off", {"off_code": totp_code(app, secret)},
                    form_page="/console/account")
    assert off.status_code == 302
    assert "Your second factor is off." in text_of(client.get(off.headers["Location"]))
    with app.app_context():
        assert not credentials.is_enrolled(db.session, agency["nurse_a"])
    assert _events(app, action="mfa_reset", entity_id=agency["nurse_a"], outcome="ok") == 1
    sign_in(app.test_client(), "nurse_a")  # the password alone again


def test_wrong_codes_on_the_account_page_count_toward_the_login_limit(app, agency):
    client = signed_in(app, "admin")
    token = post_form(client, "/console/account/mfa/recovery-codes", {"codes_code": "000000"},
                      form_page="/console/account")
    assert token.status_code == 422
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', token.get_data(as_text=True))[1]
    for _ in range(9):
        assert client.post("/console/account/mfa/recovery-codes", data={
            "codes_code": "000000", "csrf_token": csrf}).status_code == 422
    stopped = client.post("/console/account/mfa/recovery-codes", data={
        "codes_code": totp_code(app, TOTP_SECRETS["admin"], 1), "csrf_token": csrf})
    assert stopped.status_code == 429
    assert "Too many wrong codes" in text_of(stopped)
    # Signing in again buys no fresh guesses: the same limit holds at the code step.
    fresh = app.test_client()
    held = post_form(fresh, "/console/login", {"email": EMAILS["admin"], "password": PASSWORD})
    assert held.headers["Location"].startswith("/console/login/code")
    refused = post_form(fresh, "/console/login/code",
                        {"code": totp_code(app, TOTP_SECRETS["admin"], 1)})
    assert refused.status_code == 429
