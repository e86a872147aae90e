"""An admin made with ``infusync users create`` (the agency's first, say) logs in to a real
server: she sets up her second factor at the first login, and needs a TOTP code from then on."""

import time

import pyotp
import pytest

from tests.e2e.conftest import PASSWORD, Server


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server tests share: the first login asks any CLI-made admin for a second factor,
    whether or not the agency has other staff."""
    return shared_served


def test_first_admin_enrolls_then_logs_in_with_a_code(served):
    boss = served.email("boss")
    # The shipped command line in a process of its own (other tests set staff up in-process).
    made = served.cli("users", "create", "--email", boss, "--name", "Boss",
                      "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"created admin {boss} (")

    status, held = served.request("POST", "/api/v1/auth/login",
                                  {"email": boss, "password": PASSWORD})
    assert (status, held["status"]) == (200, "mfa_enrollment_required"), held
    status, enrollment = served.request("POST", "/api/v1/auth/mfa/enroll",
                                        {"mfa_token": held["mfa_token"]})
    assert status == 200, enrollment
    secret = enrollment["secret"]
    status, confirmed = served.request("POST", "/api/v1/auth/mfa/confirm", {
        "mfa_token": held["mfa_token"], "code": pyotp.TOTP(secret).at(time.time())})
    assert status == 200, confirmed
    assert len(confirmed["recovery_codes"]) == 10

    status, me = served.request("GET", "/api/v1/auth/me", token=confirmed["token"])
    assert (status, me["role"]) == (200, "admin")
    # The confirmation used this step's code: the next login sends the next step's.
    token = served.login(boss, totp_secret=secret, steps=1)
    status, users = served.request("GET", "/api/v1/users", token=token)
    assert status == 200, users
