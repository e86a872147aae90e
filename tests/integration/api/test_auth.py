"""Staff login, token lifetime (idle and absolute), logout, disabled accounts, throttling."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuthToken
from tests.factories import EMAILS, PASSWORD

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def login(client, email, password=PASSWORD):
    """POST the credentials and return the response."""
    return client.post(LOGIN, json={"email": email, "password": password})


def bearer(response):
    """Authorization headers for the token a successful login returned."""
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def assert_error(response, status, code):
    """``response`` is the one error shape with ``status`` and ``code``."""
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_login_returns_token_expiry_and_user(client, agency, clock):
    response = login(client, EMAILS["nurse_a"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["token"]) >= 32
    assert "." not in body["token"]  # opaque, not a JWT someone could decode
    assert datetime.fromisoformat(body["expires_at"]) == clock() + timedelta(hours=12)
    assert body["user"]["id"] == str(agency["nurse_a"])
    assert body["user"]["email"] == EMAILS["nurse_a"]
    assert body["user"]["role"] == "nurse"
    assert "password_hash" not in body["user"]


def test_token_is_stored_only_as_a_hash(app, client, agency):
    token = login(client, EMAILS["nurse_a"]).get_json()["token"]

    with app.app_context():
        stored = db.session.scalars(select(AuthToken.token_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, agency):
    wrong_password = login(client, EMAILS["nurse_a"], "not the password at all")
    unknown_email = login(client, "nobody@agency.test", "not the password at all")

    first = assert_error(wrong_password, 401, "unauthorized")
    second = assert_error(unknown_email, 401, "unauthorized")
    assert first == second
    assert "token" not in wrong_password.get_json()


def test_email_is_case_insensitive(client, agency):
    response = login(client, "  ANN@Agency.TEST ")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["id"] == str(agency["nurse_a"])


def test_me_returns_the_signed_in_user(client, agency, as_user):
    response = client.get(ME, headers=as_user("physician_a"))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == str(agency["physician_a"])
    assert body["email"] == EMAILS["physician_a"]
    assert body["role"] == "physician"


@pytest.mark.parametrize("header", [
    None,
    "",
    "Bearer",
    "Bearer    ",
    "Basic YW5uQGFnZW5jeS50ZXN0OnBhc3N3b3Jk",
    "Bearer not-a-token-we-issued",
])
def test_missing_or_garbage_authorization_is_401(client, agency, header):
    headers = {} if header is None else {"Authorization": header}

    assert_error(client.get(ME, headers=headers), 401, "unauthorized")


def test_token_idles_out_after_15_minutes_unused(client, agency, clock):
    headers = bearer(login(client, EMAILS["nurse_a"]))

    clock.advance(minutes=16)

    assert_error(client.get(ME, headers=headers), 401, "token_expired")


def test_use_resets_the_idle_timer(client, agency, clock):
    headers = bearer(login(client, EMAILS["nurse_a"]))

    clock.advance(minutes=14)
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(minutes=14)

    assert client.get(ME, headers=headers).status_code == 200


def test_expired_token_stays_expired(client, agency, clock):
    headers = bearer(login(client, EMAILS["nurse_a"]))
    clock.advance(minutes=16)
    assert client.get(ME, headers=headers).status_code == 401

    clock.advance(minutes=1)

    assert_error(client.get(ME, headers=headers), 401, "token_expired")


def test_token_ends_after_12_hours_however_often_it_is_used(client, agency, clock):
    headers = bearer(login(client, EMAILS["nurse_a"]))
    for _ in range(71):  # 71 x 10 minutes = 11 h 50 min
        clock.advance(minutes=10)
        assert client.get(ME, headers=headers).status_code == 200

    clock.advance(minutes=10)

    assert_error(client.get(ME, headers=headers), 401, "token_expired")


def test_logout_revokes_the_token(client, agency):
    headers = bearer(login(client, EMAILS["nurse_a"]))

    response = client.post("/api/v1/auth/logout", headers=headers)

    assert response.status_code == 204
    assert_error(client.get(ME, headers=headers), 401, "unauthorized")
    assert_error(client.post("/api/v1/auth/logout", headers=headers), 401, "unauthorized")


def test_logout_leaves_other_sessions_working(client, agency):
    phone = bearer(login(client, EMAILS["nurse_a"]))
    laptop = bearer(login(client, EMAILS["nurse_a"]))

    client.post("/api/v1/auth/logout", headers=phone)

    assert client.get(ME, headers=laptop).status_code == 200


def test_disabled_user_loses_tokens_and_cannot_log_in(client, agency, as_user):
    nurse = as_user("nurse_a")
    assert client.get(ME, headers=nurse).status_code == 200

    response = client.patch(f"/api/v1/users/{agency['nurse_a']}", json={"active": False},
                            headers=as_user("admin"))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["active"] is False
    assert_error(client.get(ME, headers=nurse), 401, "unauthorized")
    assert_error(client.get("/api/v1/visits", headers=nurse), 401, "unauthorized")
    assert_error(login(client, EMAILS["nurse_a"]), 401, "unauthorized")


def test_sixth_attempt_is_throttled_even_with_the_right_password(client, agency):
    for _ in range(5):
        assert login(client, EMAILS["nurse_a"], "guess-guess-guess").status_code == 401

    response = login(client, EMAILS["nurse_a"])

    error = assert_error(response, 429, "too_many_requests")
    assert error["details"]["retry_after_s"] == 15 * 60
    assert response.headers["Retry-After"] == "900"


def test_throttle_counts_the_account_whatever_the_case_of_the_email(client, agency):
    for variant in ("ann@agency.test", "ANN@agency.test", "Ann@Agency.Test",
                    "ann@AGENCY.test", "ANN@AGENCY.TEST"):
        assert login(client, variant, "guess-guess-guess").status_code == 401

    assert_error(login(client, EMAILS["nurse_a"]), 429, "too_many_requests")


def test_throttle_is_per_account(client, agency):
    for _ in range(5):
        login(client, EMAILS["nurse_a"], "guess-guess-guess")

    assert login(client, EMAILS["nurse_b"]).status_code == 200


def test_success_before_the_limit_resets_the_count(client, agency):
    for _ in range(4):
        assert login(client, EMAILS["nurse_a"], "guess-guess-guess").status_code == 401
    assert login(client, EMAILS["nurse_a"]).status_code == 200

    for _ in range(4):
        assert login(client, EMAILS["nurse_a"], "guess-guess-guess").status_code == 401

    assert login(client, EMAILS["nurse_a"]).status_code == 200


def test_throttle_lifts_after_the_window(client, agency, clock):
    for _ in range(5):
        login(client, EMAILS["nurse_a"], "guess-guess-guess")
    assert login(client, EMAILS["nurse_a"]).status_code == 429

    clock.advance(minutes=16)

    assert login(client, EMAILS["nurse_a"]).status_code == 200
