"""Sessions that really end (issue 10, defect 2): a password change or reset revokes the
account's staff tokens (a change she makes herself keeps the token making it), and a
deactivated account's tokens stay dead when it is reactivated."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, AuthToken
from tests.assertions import error_of
from tests.factories import EMAILS, PASSWORD, login

ME = "/api/v1/auth/me"
CHANGE = "/api/v1/auth/password"
NEW_PASSWORD = "a brand new passphrase"


def session_of(client: FlaskClient, who: str, password: str = PASSWORD,
               steps: int = 0) -> dict[str, str]:
    """A fresh login of ``who`` (the admin with her second factor): its Authorization
    headers."""
    return login(client, who, password, steps)


def works(client: FlaskClient, headers: dict[str, str]) -> bool:
    """True when the token is accepted; a refused one must be the plain 401."""
    response = client.get(ME, headers=headers)
    if response.status_code == 200:
        return True
    error_of(response, 401, "unauthorized")
    return False


def events(app: Flask, action: str) -> list[AuditEvent]:
    """The audit events of ``action``, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.at, AuditEvent.id)))


def patch_user(client: FlaskClient, admin: dict[str, str], user_id: Any,
               body: dict[str, Any]) -> Any:
    """PATCH the account, based on whatever version it has now."""
    current = client.get(f"/api/v1/users/{user_id}", headers=admin).get_json()
    return client.patch(f"/api/v1/users/{user_id}", headers=admin,
                        json={**body, "version": current["version"]})


def change(client: FlaskClient, headers: dict[str, str], current: str = PASSWORD,
           new: str = NEW_PASSWORD) -> Any:
    """POST /auth/password with ``headers``."""
    return client.post(CHANGE, headers=headers,
                       json={"current_password": current, "new_password": new})


def test_changing_my_password_ends_my_other_sessions_but_not_this_one(app, client, agency):
    laptop, phone = session_of(client, "nurse_a"), session_of(client, "nurse_a")
    colleague = session_of(client, "nurse_b")

    response = change(client, phone)

    assert response.status_code == 204, response.get_json()
    assert works(client, phone)
    assert not works(client, laptop)
    assert works(client, colleague)
    assert session_of(client, "nurse_a", NEW_PASSWORD)
    error_of(client.post("/api/v1/auth/login",
                         json={"email": EMAILS["nurse_a"], "password": PASSWORD}), 401)
    [event] = events(app, "change_password")
    assert (event.actor_user_id, event.entity_id, event.outcome, event.details) == (
        agency["nurse_a"], agency["nurse_a"], "ok", {"sessions_ended": 1})


def test_a_wrong_current_password_is_422_naming_it_and_changes_nothing(app, client, agency):
    laptop, phone = session_of(client, "nurse_a"), session_of(client, "nurse_a")

    error = error_of(change(client, phone, current="not my password"), 422,
                     "validation_failed")

    assert set(error["details"]) == {"current_password"}
    assert works(client, laptop) and works(client, phone)
    assert session_of(client, "nurse_a", PASSWORD)
    [event] = events(app, "change_password")
    assert (event.entity_id, event.outcome) == (agency["nurse_a"], "refused")


def test_wrong_current_passwords_count_as_failed_logins(client, agency):
    phone = session_of(client, "nurse_a")
    for _ in range(5):
        error_of(change(client, phone, current="not my password"), 422)

    response = change(client, phone)

    error_of(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == "900"


def test_the_new_password_must_be_new_and_long_enough(client, agency):
    phone = session_of(client, "nurse_a")

    same = error_of(change(client, phone, new=PASSWORD), 422)
    short = error_of(change(client, phone, new="short"), 422)

    assert set(same["details"]) == {"new_password"}
    assert set(short["details"]) == {"new_password"}
    assert works(client, phone)


def test_changing_a_password_needs_a_session(client, agency):
    error_of(change(client, {}), 401, "unauthorized")


def test_an_admin_reset_ends_every_session_of_that_account(app, client, agency):
    admin = session_of(client, "admin")
    laptop, phone = session_of(client, "nurse_a"), session_of(client, "nurse_a")

    response = patch_user(client, admin, agency["nurse_a"], {"password": NEW_PASSWORD})

    assert response.status_code == 200, response.get_json()
    assert not works(client, laptop) and not works(client, phone)
    assert works(client, admin)
    assert session_of(client, "nurse_a", NEW_PASSWORD)
    event = events(app, "update")[-1]
    assert event.entity_id == agency["nurse_a"]
    assert event.details == {"fields": ["password"], "sessions_ended": 2}


def test_an_admin_changes_her_own_password_with_the_current_one(app, client, agency):
    admin = session_of(client, "admin")

    error = error_of(patch_user(client, admin, agency["admin"], {"password": NEW_PASSWORD}),
                     422, "validation_failed")

    assert set(error["details"]) == {"password"}
    assert "/auth/password" in error["message"]
    assert session_of(client, "admin", PASSWORD, steps=1)  # her first code is spent


def test_reactivating_an_account_does_not_revive_its_old_tokens(app, client, agency):
    admin = session_of(client, "admin")
    old = session_of(client, "nurse_a")

    assert patch_user(client, admin, agency["nurse_a"], {"active": False}).status_code == 200
    assert patch_user(client, admin, agency["nurse_a"], {"active": True}).status_code == 200

    assert not works(client, old)
    assert works(client, session_of(client, "nurse_a"))
    with app.app_context():
        revoked = db.session.scalars(select(AuthToken.revoked_at).where(
            AuthToken.user_id == agency["nurse_a"])).all()
    assert sorted(r is None for r in revoked) == [False, True]  # the old one, the new one


def test_the_shell_reset_ends_every_session_and_is_audited(app, client, runner, agency):
    laptop = session_of(client, "nurse_a")

    result = runner.invoke(args=["users", "set-password", "--email", "ANN@agency.test",
                                 "--password-stdin"], input=NEW_PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert not works(client, laptop)
    assert session_of(client, "nurse_a", NEW_PASSWORD)
    [event] = events(app, "reset_password")
    assert (event.actor_user_id, event.remote_addr, event.entity_id, event.details) == (
        None, "cli", agency["nurse_a"], {"sessions_ended": 1})


def test_the_shell_reset_refuses_a_short_password_or_an_unknown_email(app, runner, agency):
    short = runner.invoke(args=["users", "set-password", "--email", EMAILS["nurse_a"],
                                "--password-stdin"], input="short\n")
    unknown = runner.invoke(args=["users", "set-password", "--email", "nobody@agency.test",
                                  "--password-stdin"], input=NEW_PASSWORD + "\n")

    assert short.exit_code != 0 and "password" in short.output
    assert unknown.exit_code != 0 and "No account" in unknown.output
    assert events(app, "reset_password") == []
