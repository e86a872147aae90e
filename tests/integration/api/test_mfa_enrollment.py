"""Setting up a second factor: at first login (the CLI's first admin), voluntarily, reset."""

import hashlib
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEvent, MfaChallenge, MfaCredential, MfaRecoveryCode, User
from tests.factories import EMAILS, PASSWORD, login, totp_code
from tests.integration.api.test_auth import assert_error

LOGIN = "/api/v1/auth/login"
FINISH = "/api/v1/auth/login/mfa"
START = "/api/v1/auth/mfa/start"
ENROLL = "/api/v1/auth/mfa/enroll"
CONFIRM = "/api/v1/auth/mfa/confirm"
ME = "/api/v1/auth/me"
FIRST_ADMIN = "first@agency.test"
FIRST_PASSWORD = "a long first admin password"


def create_first_admin(runner):
    result = runner.invoke(args=["users", "create", "--email", FIRST_ADMIN, "--name", "First",
                                 "--role", "admin", "--password-stdin"],
                           input=FIRST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def log_in(client, email, password):
    response = client.post(LOGIN, json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def enroll(client, mfa_token):
    response = client.post(ENROLL, json={"mfa_token": mfa_token})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def confirm(client, mfa_token, code):
    return client.post(CONFIRM, json={"mfa_token": mfa_token, "code": code})


def test_first_admin_from_the_cli_enrolls_at_first_login(app, client, runner):
    create_first_admin(runner)

    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    assert held["status"] == "mfa_enrollment_required"
    assert_error(client.post(FINISH, json={"mfa_token": held["mfa_token"], "code": "123456"}),
                 401, "mfa_token_invalid")  # an enrollment token only enrolls

    enrollment = enroll(client, held["mfa_token"])
    secret = enrollment["secret"]
    uri = urlparse(enrollment["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["infusync"]
    assert FIRST_ADMIN in uri.path.replace("%40", "@")

    confirmed = confirm(client, held["mfa_token"], totp_code(app, secret))
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert set(body) == {"recovery_codes", "token", "expires_at", "user"}
    assert len(set(body["recovery_codes"])) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}(-[a-z2-7]{5}){3}", c) for c in body["recovery_codes"])
    assert client.get(ME, headers=bearer(body["token"])).get_json()["email"] == FIRST_ADMIN

    again = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    assert again["status"] == "mfa_required"
    finished = client.post(FINISH, json={"mfa_token": again["mfa_token"],
                                         "code": totp_code(app, secret, steps=1)})
    assert finished.status_code == 200, finished.get_json()


def test_a_wrong_first_code_does_not_activate(app, client, runner):
    create_first_admin(runner)
    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    secret = enroll(client, held["mfa_token"])["secret"]
    wrong = pyotp.TOTP(pyotp.random_base32()).at(0)

    error = assert_error(confirm(client, held["mfa_token"], wrong), 401, "mfa_code_invalid")

    assert error["details"] == {"attempts_left": 4}
    with app.app_context():
        assert db.session.scalar(sa.select(MfaCredential.confirmed_at)) is None
    assert log_in(client, FIRST_ADMIN, FIRST_PASSWORD)["status"] == "mfa_enrollment_required"
    assert confirm(client, held["mfa_token"], totp_code(app, secret)).status_code == 200


def test_enrolling_again_replaces_the_unconfirmed_secret(app, client, runner):
    create_first_admin(runner)
    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    first = enroll(client, held["mfa_token"])["secret"]
    second = enroll(client, held["mfa_token"])["secret"]

    assert first != second
    assert_error(confirm(client, held["mfa_token"], totp_code(app, first)), 401,
                 "mfa_code_invalid")
    assert confirm(client, held["mfa_token"], totp_code(app, second)).status_code == 200


def test_confirm_before_enroll_is_a_409(client, runner):
    create_first_admin(runner)
    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)

    assert_error(confirm(client, held["mfa_token"], "123456"), 409,
                 "mfa_enrollment_not_started")


def test_a_second_enrollment_token_cannot_confirm_over_a_confirmed_one(app, client, runner):
    create_first_admin(runner)
    first = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    second = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    secret = enroll(client, first["mfa_token"])["secret"]
    assert confirm(client, first["mfa_token"], totp_code(app, secret)).status_code == 200

    assert_error(client.post(ENROLL, json={"mfa_token": second["mfa_token"]}), 409,
                 "mfa_already_enrolled")
    assert_error(confirm(client, second["mfa_token"], totp_code(app, secret, steps=1)), 409,
                 "mfa_already_enrolled")


def test_recovery_codes_are_stored_as_sha256_only(app, client, runner):
    create_first_admin(runner)
    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    secret = enroll(client, held["mfa_token"])["secret"]
    codes = confirm(client, held["mfa_token"], totp_code(app, secret)).get_json()[
        "recovery_codes"]

    with app.app_context():
        stored = set(db.session.scalars(sa.select(MfaRecoveryCode.code_hash)))
        trail = str([(e.action, e.details) for e in db.session.scalars(sa.select(AuditEvent))])
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert secret not in trail
    assert not any(code in trail for code in codes)


def test_any_user_may_enroll_from_her_session(app, client, agency):
    nurse = login(client, "nurse_a")

    assert_error(client.post(START, headers=nurse, json={"password": "not her password"}),
                 403, "wrong_password")
    held = client.post(START, headers=nurse, json={"password": PASSWORD}).get_json()
    assert held["status"] == "mfa_enrollment_required"
    secret = enroll(client, held["mfa_token"])["secret"]
    assert confirm(client, held["mfa_token"], totp_code(app, secret)).status_code == 200

    assert log_in(client, EMAILS["nurse_a"], PASSWORD)["status"] == "mfa_required"


def test_wrong_passwords_at_start_count_as_failed_logins(client, agency):
    nurse = login(client, "nurse_a")
    for _ in range(5):
        client.post(START, headers=nurse, json={"password": "guess-guess-guess"})

    assert_error(client.post(START, headers=nurse, json={"password": PASSWORD}), 429,
                 "too_many_requests")


def test_start_needs_a_session(client, agency):
    assert_error(client.post(START, json={"password": PASSWORD}), 401, "unauthorized")


def test_an_enrolled_user_cannot_enroll_again(client, agency, as_user):
    assert_error(client.post(START, headers=as_user("admin"), json={"password": PASSWORD}),
                 409, "mfa_already_enrolled")


def enroll_nurse(app, client):
    """nurse_a sets up a second factor from her session; her secret."""
    nurse = login(client, "nurse_a")
    held = client.post(START, headers=nurse, json={"password": PASSWORD}).get_json()
    secret = enroll(client, held["mfa_token"])["secret"]
    assert confirm(client, held["mfa_token"], totp_code(app, secret)).status_code == 200
    return secret


def test_admin_resets_a_users_second_factor(app, client, agency, as_user):
    enroll_nurse(app, client)
    pending = log_in(client, EMAILS["nurse_a"], PASSWORD)

    response = client.delete(f"/api/v1/users/{agency['nurse_a']}/mfa", headers=as_user("admin"))

    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MfaCredential)
                                 .where(MfaCredential.user_id == agency["nurse_a"])) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MfaRecoveryCode)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MfaChallenge).where(
            MfaChallenge.user_id == agency["nurse_a"], MfaChallenge.ended_at.is_(None))) == 0
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "mfa_reset")).all()
    assert (event.actor_user_id, event.entity_id) == (agency["admin"], agency["nurse_a"])
    assert event.details == {"had_second_factor": True}
    assert_error(client.post(FINISH, json={"mfa_token": pending["mfa_token"], "code": "123456"}),
                 401, "mfa_token_invalid")
    assert set(log_in(client, EMAILS["nurse_a"], PASSWORD)) == {"token", "expires_at", "user"}


def test_a_reset_admin_enrolls_again_at_next_login(app, client, agency, as_user, runner):
    create_first_admin(runner)
    held = log_in(client, FIRST_ADMIN, FIRST_PASSWORD)
    secret = enroll(client, held["mfa_token"])["secret"]
    assert confirm(client, held["mfa_token"], totp_code(app, secret)).status_code == 200
    with app.app_context():
        first_id = db.session.scalar(sa.select(User.id).where(User.email == FIRST_ADMIN))

    assert client.delete(f"/api/v1/users/{first_id}/mfa",
                         headers=as_user("admin")).status_code == 204

    assert log_in(client, FIRST_ADMIN, FIRST_PASSWORD)["status"] == "mfa_enrollment_required"


def test_reset_is_for_admins_and_not_of_ones_own(client, agency, as_user):
    url = f"/api/v1/users/{agency['admin']}/mfa"
    assert_error(client.delete(url, headers=as_user("admin")), 403, "own_second_factor")
    assert_error(client.delete(url, headers=as_user("coordinator")), 403, "forbidden")
    assert_error(client.delete("/api/v1/users/00000000-0000-4000-8000-000000000000/mfa",
                               headers=as_user("admin")), 404, "not_found")


def test_cli_resets_the_only_admins_second_factor(client, agency, runner):
    result = runner.invoke(args=["users", "reset-mfa", "--email", " Admin@Agency.TEST "])

    assert result.exit_code == 0, result.output
    assert "second factor of admin@agency.test reset" in result.output
    assert log_in(client, EMAILS["admin"], PASSWORD)["status"] == "mfa_enrollment_required"
    unknown = runner.invoke(args=["users", "reset-mfa", "--email", "nobody@agency.test"])
    assert unknown.exit_code == 1
    assert "No user with the email nobody@agency.test" in unknown.output
