"""Logins held at the second factor (TOTP): codes, recovery codes, replay, limits, expiry."""

from datetime import datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, MfaCredential, User
from server.services.mfa import credentials
from tests.factories import EMAILS, PASSWORD, TOTP_SECRETS, totp_code
from tests.integration.api.test_auth import assert_error

LOGIN = "/api/v1/auth/login"
FINISH = "/api/v1/auth/login/mfa"
ME = "/api/v1/auth/me"


def password_step(client, who="admin"):
    """The first step of the login: its JSON answer."""
    response = client.post(LOGIN, json={"email": EMAILS[who], "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def finish(client, mfa_token, code):
    return client.post(FINISH, json={"mfa_token": mfa_token, "code": code})


def admin_code(app, steps=0):
    return totp_code(app, TOTP_SECRETS["admin"], steps)


def audit_rows(app, action):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.at)).all()


def test_admin_password_gets_an_mfa_token_not_a_bearer_token(app, client, agency, clock):
    body = password_step(client)

    assert set(body) == {"status", "mfa_token", "expires_at"}
    assert body["status"] == "mfa_required"
    assert len(body["mfa_token"]) >= 32
    assert datetime.fromisoformat(body["expires_at"]) == clock() + timedelta(minutes=5)
    assert client.get(ME, headers={"Authorization": f"Bearer {body['mfa_token']}"}
                      ).status_code == 401
    [held] = [e for e in audit_rows(app, "login") if e.outcome == "mfa_pending"]
    assert held.entity_id == agency["admin"]


def test_right_totp_code_finishes_the_login(app, client, agency, clock):
    body = password_step(client)

    response = finish(client, body["mfa_token"], admin_code(app))

    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert set(result) == {"token", "expires_at", "user"}
    assert datetime.fromisoformat(result["expires_at"]) == clock() + timedelta(hours=12)
    me = client.get(ME, headers={"Authorization": f"Bearer {result['token']}"})
    assert me.get_json()["id"] == str(agency["admin"])
    assert [e.details for e in audit_rows(app, "login") if e.outcome == "ok"] == [
        {"mfa": "totp"}]


def test_wrong_code_is_refused_counted_and_audited(app, client, agency):
    body = password_step(client)
    wrong = "000000" if admin_code(app) != "000000" else "111111"

    error = assert_error(finish(client, body["mfa_token"], wrong), 401, "mfa_code_invalid")

    assert "Wrong or already used code" in error["message"]
    assert error["details"] == {"attempts_left": 4}
    [refused] = audit_rows(app, "login_mfa")
    assert (refused.outcome, refused.actor_user_id) == ("refused", agency["admin"])
    assert refused.details == {"failures": 1}
    assert wrong not in str(refused.details)


def test_fifth_wrong_code_kills_the_mfa_token(app, client, agency):
    body = password_step(client)
    wrong = "000000" if admin_code(app) != "000000" else "111111"
    for left in (4, 3, 2, 1):
        error = assert_error(finish(client, body["mfa_token"], wrong), 401, "mfa_code_invalid")
        assert error["details"] == {"attempts_left": left}

    last = assert_error(finish(client, body["mfa_token"], wrong), 401, "mfa_code_invalid")
    assert "log in again" in last["message"]

    assert_error(finish(client, body["mfa_token"], admin_code(app)), 401, "mfa_token_invalid")
    fresh = password_step(client)
    assert finish(client, fresh["mfa_token"], admin_code(app)).status_code == 200


def test_wrong_codes_are_also_limited_per_user_across_mfa_tokens(app, client, agency):
    wrong = "000000" if admin_code(app) != "000000" else "111111"
    for _ in range(2):
        body = password_step(client)
        for _ in range(5):
            assert finish(client, body["mfa_token"], wrong).status_code == 401

    body = password_step(client)
    error = assert_error(finish(client, body["mfa_token"], admin_code(app)), 429,
                         "too_many_requests")
    assert error["details"] == {"retry_after_s": 900}


def test_mfa_token_is_single_use(app, client, agency, clock):
    body = password_step(client)
    assert finish(client, body["mfa_token"], admin_code(app)).status_code == 200

    clock.advance(seconds=30)
    assert_error(finish(client, body["mfa_token"], admin_code(app)), 401, "mfa_token_invalid")


def test_replayed_totp_code_is_refused(app, client, agency, clock):
    code = admin_code(app)
    assert finish(client, password_step(client)["mfa_token"], code).status_code == 200

    second = password_step(client)
    error = assert_error(finish(client, second["mfa_token"], code), 401, "mfa_code_invalid")
    assert "already used" in error["message"]

    clock.advance(seconds=30)  # the next step's code is new
    assert finish(client, second["mfa_token"], admin_code(app)).status_code == 200


def test_an_older_code_is_refused_after_a_newer_one(app, client, agency):
    newer = admin_code(app, steps=1)  # a phone running 30 s ahead: accepted
    assert finish(client, password_step(client)["mfa_token"], newer).status_code == 200

    assert_error(finish(client, password_step(client)["mfa_token"], admin_code(app)), 401,
                 "mfa_code_invalid")


@pytest.mark.parametrize(("steps", "status"), [(-1, 200), (1, 200), (-2, 401), (2, 401)])
def test_clock_drift_of_one_step_is_tolerated_not_two(app, client, agency, steps, status):
    body = password_step(client)

    assert finish(client, body["mfa_token"], admin_code(app, steps)).status_code == status


def test_mfa_token_expires_after_five_minutes(app, client, agency, clock):
    body = password_step(client)
    clock.advance(minutes=5)

    error = assert_error(finish(client, body["mfa_token"], admin_code(app)), 401,
                         "mfa_token_expired")
    assert "expired" in error["message"]


def test_unknown_mfa_token_is_refused(client, agency, app):
    assert_error(finish(client, "x" * 43, admin_code(app)), 401, "mfa_token_invalid")


@pytest.mark.parametrize("body", [{"mfa_token": "x" * 43}, {"code": "123456"},
                                  {"mfa_token": "x" * 43, "code": "12345"}])
def test_malformed_finish_is_a_422(client, body):
    assert_error(client.post(FINISH, json=body), 422, "validation_failed")


def issue_recovery_codes(app, user_id):
    with app.app_context():
        credential = credentials.credential_of(db.session, user_id)
        codes = credentials.issue_recovery_codes(db.session, credential)
        db.session.commit()
    return codes


def test_recovery_code_works_once_only(app, client, agency):
    codes = issue_recovery_codes(app, agency["admin"])

    assert finish(client, password_step(client)["mfa_token"], codes[0]).status_code == 200
    again = finish(client, password_step(client)["mfa_token"], codes[0])
    assert_error(again, 401, "mfa_code_invalid")
    spaced = codes[1].upper().replace("-", " ")  # typed back from paper
    assert finish(client, password_step(client)["mfa_token"], spaced).status_code == 200
    assert [e.details for e in audit_rows(app, "login") if e.outcome == "ok"] == [
        {"mfa": "recovery_code"}, {"mfa": "recovery_code"}]


def test_nurse_without_mfa_logs_in_as_before(client, agency):
    body = password_step(client, "nurse_a")

    assert set(body) == {"token", "expires_at", "user"}
    assert client.get(ME, headers={"Authorization": f"Bearer {body['token']}"}
                      ).status_code == 200


def test_a_nurse_who_enrolled_voluntarily_is_held_too(app, client, agency, clock):
    from tests.factories import enroll_totp

    with app.app_context():
        enroll_totp(app, db.session.get(User, agency["nurse_a"]), pyotp.random_base32(),
                    clock())
        db.session.commit()

    assert password_step(client, "nurse_a")["status"] == "mfa_required"


def test_a_role_listed_in_configuration_requires_mfa(app, client, agency):
    app.config["MFA_REQUIRED_ROLES"] = ("coordinator",)

    assert password_step(client, "coordinator")["status"] == "mfa_enrollment_required"
    assert set(password_step(client, "qc")) == {"token", "expires_at", "user"}


def test_admin_needs_mfa_even_when_configuration_leaves_it_out(app, client, agency):
    app.config["MFA_REQUIRED_ROLES"] = ("coordinator",)
    with app.app_context():  # an admin without a second factor yet
        db.session.execute(sa.delete(MfaCredential))
        db.session.commit()

    assert password_step(client)["status"] == "mfa_enrollment_required"


def test_wrong_password_still_gets_no_mfa_token(client, agency):
    response = client.post(LOGIN, json={"email": EMAILS["admin"], "password": "wrong guess"})

    error = assert_error(response, 401, "unauthorized")
    assert "mfa_token" not in str(error)


def test_a_user_disabled_meanwhile_cannot_finish(app, client, agency):
    body = password_step(client)
    with app.app_context():
        db.session.get(User, agency["admin"]).active = False
        db.session.commit()

    assert_error(finish(client, body["mfa_token"], admin_code(app)), 401, "unauthorized")


def test_secret_is_sealed_not_stored_in_plain_text(app, agency):
    secret = TOTP_SECRETS["admin"]
    with app.app_context():
        row = db.session.execute(sa.text(
            "SELECT id, secret_sealed FROM mfa_credentials")).one()
        sealed = bytes(row.secret_sealed)
        credential = db.session.scalar(sa.select(MfaCredential))
        key = app.config["INFUSYNC_DATA_KEY"]
        assert credentials.open_secret(credential, key) == secret
        moved = MfaCredential(user_id=credential.user_id, secret_sealed=sealed)
        with pytest.raises(Exception, match="does not decrypt"):
            credentials.open_secret(moved, key)  # bound to its row id
    assert secret.encode() not in sealed
    assert secret.lower().encode() not in sealed
    assert pyotp.TOTP(secret).byte_secret() not in sealed
