"""A nurse in a real browser against a real ``infusync serve``: she opens her week, changes
her password on her account page, signs out and in again with the new one. A physician's
page shows his patient. The nurse's week, the account page (with a refusal) and the
physician's patients pass axe-core, with screenshots at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server
from tests.e2e.console_pages import screenshots, serious_violations, sign_in
from tests.e2e.test_console_patients import _order
from tests.e2e.test_device_sync import _patient, _visit

# One database: what the browser sees does not depend on it, and each page's rules run on
# both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("shared_served", ["postgresql"], indirect=True)]


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served

NEW_PASSWORD = "my new and longer passphrase"


def _agency(served):
    """A nurse with a visit in two hours, and a physician treating that patient."""
    served.create_user(served.email("coord"), "coordinator")
    nurse_id = served.create_user(served.email("nina"), "nurse")
    physician_id = served.create_user(served.email("drp"), "physician", "--npi", "1234567893")
    token = served.login(served.email("coord"))
    patient = _patient(served, token, "E2E-N", "Olive", "Oakes")
    _visit(served, token, patient, nurse_id, 2)
    _order(served, token, patient, physician_id, 10)


def _change_password(page):
    """A refused change (the two new ones differ), then the right one."""
    page.get_by_role("link", name=re.compile(r"^nina \(nurse\).*my account$")).click()
    page.get_by_label("Current password").fill("a long enough e2e password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change my password").click()
    assert "The two new passwords are not the same." in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Current password").input_value() == ""
    assert serious_violations(page) == []
    screenshots(page, "account")
    page.get_by_label("Current password").fill("a long enough e2e password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")


def test_a_nurse_changes_her_password_and_signs_in_with_the_new_one(served, page):
    _agency(served)
    sign_in(page, served.base, served.email("nina"))
    expect(page.get_by_role("heading", name="My week", level=1)).to_be_visible()
    assert "Oakes, Olive" in page.get_by_role("main").inner_text()
    assert serious_violations(page) == []
    screenshots(page, "my-week")
    _change_password(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(served.email("nina"))
    page.get_by_label("Password").fill("a long enough e2e password")
    page.get_by_role("button", name="Sign in").click()
    assert "Wrong email or password" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My week", level=1)).to_be_visible()


def test_a_physician_sees_his_patient_and_the_page_passes_axe(served, page):
    _agency(served)
    sign_in(page, served.base, served.email("drp"))
    expect(page.get_by_role("heading", name="My patients", level=1)).to_be_visible()
    assert "Oakes, Olive" in page.get_by_role("main").inner_text()
    assert "cefazolin" in page.get_by_role("main").inner_text()
    assert serious_violations(page) == []
    screenshots(page, "my-patients")
