"""Login throttling that slows a guesser but cannot be used to lock staff out (issue 10).

Defaults under test: 5 failures per (account, address) and 50 per address in 15 minutes,
20 per account over all addresses in an hour; an address where the account logged in with
the right password within 30 days is spared the address and account limits.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from server.models import AuditEvent, KnownLoginAddress, LoginFailure
from tests.assertions import count_rows, error_of
from tests.factories import EMAILS, PASSWORD

LOGIN = "/api/v1/auth/login"
WRONG = "guess-guess-guess"
HOME = "198.51.100.7"      # where the nurse usually logs in
ELSEWHERE = "192.0.2.44"   # an attacker, or the nurse on a hotel network
CLINIC_NAT = "203.0.113.1"  # one address for every nurse at the clinic


def login(client: FlaskClient, who: str, addr: str, password: str = PASSWORD) -> Any:
    """POST the credentials of ``who`` (a key of EMAILS or an email) from ``addr``."""
    return client.post(LOGIN, json={"email": EMAILS.get(who, who), "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def fail(client: FlaskClient, who: str, addr: str, times: int) -> None:
    """``times`` wrong passwords, each refused as a plain 401."""
    for _ in range(times):
        assert login(client, who, addr, WRONG).status_code == 401


def throttled(response: Any) -> int:
    """The wait a 429 announces, after checking header and details agree."""
    error = error_of(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == str(error["details"]["retry_after_s"])
    return int(error["details"]["retry_after_s"])


def test_five_wrong_passwords_from_one_address_do_not_lock_her_out_from_another(client, agency):
    fail(client, "nurse_a", ELSEWHERE, 5)

    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 15 * 60
    assert login(client, "nurse_a", HOME).status_code == 200


def test_retry_after_is_the_time_left_not_the_window(client, agency, clock):
    for _ in range(5):
        assert login(client, "nurse_a", ELSEWHERE, WRONG).status_code == 401
        clock.advance(minutes=1)
    # The first failure is 5 minutes old: 10 minutes until it stops counting.
    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 10 * 60

    clock.advance(minutes=9, seconds=59)
    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 1

    clock.advance(seconds=1)
    assert login(client, "nurse_a", ELSEWHERE).status_code == 200


def test_refused_attempts_do_not_extend_the_wait(client, agency, clock):
    fail(client, "nurse_a", ELSEWHERE, 5)
    for _ in range(10):
        clock.advance(minutes=1)
        throttled(login(client, "nurse_a", ELSEWHERE, WRONG))

    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 5 * 60
    assert count_rows(client.application, LoginFailure) == 5


def test_twenty_failures_behind_a_clinic_nat_do_not_block_a_sixth_nurse(client, agency):
    # Five colleagues mistype four times each, all from the clinic's one address.
    for who in ("admin", "coordinator", "training_lead", "qc", "nurse_b"):
        fail(client, who, CLINIC_NAT, 4)

    response = login(client, "nurse_a", CLINIC_NAT)

    assert response.status_code == 200, response.get_json()


def test_fifty_failures_from_one_address_hold_accounts_new_to_it(client, agency):
    assert login(client, "nurse_b", CLINIC_NAT).status_code == 200  # she works here
    for number in range(10):  # a password sprayer, five tries at each of ten accounts
        fail(client, f"user{number}@agency.test", CLINIC_NAT, 5)

    assert throttled(login(client, "nurse_a", CLINIC_NAT)) == 15 * 60
    assert login(client, "nurse_b", CLINIC_NAT).status_code == 200
    assert login(client, "nurse_a", HOME).status_code == 200


def test_guesses_from_many_addresses_hold_her_login_only_from_new_ones(client, agency, clock):
    assert login(client, "nurse_a", HOME).status_code == 200
    for number in range(20):  # a botnet: one guess from each of twenty addresses
        fail(client, "nurse_a", f"10.9.0.{number}", 1)
        clock.advance(minutes=1)

    # The first guess is 20 minutes old; it counts for an hour.
    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 40 * 60
    assert login(client, "nurse_a", HOME).status_code == 200


def test_a_known_address_still_has_its_own_limit(client, agency):
    assert login(client, "nurse_a", HOME).status_code == 200
    fail(client, "nurse_a", HOME, 5)

    assert throttled(login(client, "nurse_a", HOME)) == 15 * 60


def test_an_address_is_known_for_thirty_days_after_its_last_success(client, agency, clock):
    assert login(client, "nurse_a", HOME).status_code == 200
    clock.advance(days=31)
    for number in range(20):
        fail(client, "nurse_a", f"10.9.0.{number}", 1)

    throttled(login(client, "nurse_a", HOME))


def test_a_success_remembers_the_address_once_and_clears_only_its_own_failures(app, client,
                                                                               agency):
    fail(client, "nurse_a", ELSEWHERE, 3)
    fail(client, "nurse_a", HOME, 2)

    assert login(client, "nurse_a", HOME).status_code == 200
    assert login(client, "nurse_a", HOME).status_code == 200

    assert count_rows(app, KnownLoginAddress, KnownLoginAddress.user_id == agency["nurse_a"],
                      KnownLoginAddress.remote_addr == HOME) == 1
    assert count_rows(app, LoginFailure, LoginFailure.remote_addr == HOME) == 0
    assert count_rows(app, LoginFailure, LoginFailure.remote_addr == ELSEWHERE) == 3


def test_an_unknown_email_is_throttled_like_a_known_one(client, agency):
    fail(client, "nobody@agency.test", ELSEWHERE, 5)
    fail(client, "nurse_a", ELSEWHERE, 5)

    unknown = login(client, "nobody@agency.test", ELSEWHERE)
    known = login(client, "nurse_a", ELSEWHERE)

    assert throttled(unknown) == throttled(known)
    assert unknown.get_json() == known.get_json()


def test_limits_come_from_configuration(app, client, agency):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"] = 2
    app.config["LOGIN_FAILURE_WINDOW_MINUTES"] = 3
    fail(client, "nurse_a", ELSEWHERE, 2)

    assert throttled(login(client, "nurse_a", ELSEWHERE)) == 3 * 60


def test_old_failures_are_deleted_when_the_account_fails_again(app, client, agency, clock):
    fail(client, "nurse_a", ELSEWHERE, 3)
    clock.advance(minutes=61)

    fail(client, "nurse_a", HOME, 1)

    assert count_rows(app, LoginFailure) == 1
    assert count_rows(app, AuditEvent, AuditEvent.action == "login",
                      AuditEvent.outcome == "refused") == 4


def test_an_email_that_lengthens_when_lower_cased_is_a_plain_401(client, agency):
    email = "\u0130" * 240 + "@agency.test"  # "İ" lower-cases to two characters

    error_of(login(client, email, ELSEWHERE, WRONG), 401, "unauthorized")
