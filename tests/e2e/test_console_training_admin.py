"""The training lead's and the admin's pages in a real browser against a real
``infusync serve``: a module built with its quiz, published, on the standing matrix; an
enrollment code issued on the devices page, used by a real ``infusync-device``, and the
device revoked (the device then wipes itself)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.console_pages import (
    screenshots,
    serious_violations,
    sign_in,
    signs_in_with_a_new_second_factor,
)
from tests.e2e.test_device_sync import _device, _enroll

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


def _checked(page, name):
    """What axe-core finds serious or critical on this page, and its screenshots."""
    assert serious_violations(page) == [], name
    screenshots(page, name)


def _build_module(page, base):
    page.goto(base + "/console/training")
    page.get_by_label("Title").fill("PICC dressing change")
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_role("status")).to_have_text("The draft is created.")
    page.get_by_label("Summary").fill("Sterile dressing change, every 7 days")
    page.get_by_label("Body (Markdown)").fill("# Steps\n\n- Wash hands\n- **Mask** on")
    page.get_by_role("button", name="Preview the body").click()
    expect(page.locator(".preview strong")).to_have_text("Mask")
    page.get_by_label("Question 1 text").fill("How often is the dressing changed?")
    page.get_by_label("Question 1 option 1").fill("Every 7 days")
    page.get_by_label("Question 1 option 2").fill("Every day")
    page.get_by_role("group", name="Question 1: the correct option(s)").get_by_label(
        "Option 1").check()
    page.get_by_role("button", name="Save and add a question").click()
    page.get_by_label("Question 2 text").fill("Which of these go on before the dressing?")
    page.get_by_label("Answer kind").nth(1).select_option("multiple")
    for number, text in enumerate(("Mask", "Sterile gloves", "Nothing"), start=1):
        page.get_by_label(f"Question 2 option {number}").fill(text)
    correct = page.get_by_role("group", name="Question 2: the correct option(s)")
    correct.get_by_label("Option 1").check()
    correct.get_by_label("Option 2").check()
    page.get_by_label("Pass mark (percent of questions answered exactly right)").fill("100")
    page.get_by_label("Competency this module maintains").select_option("picc-care")
    page.get_by_label("Required: a nurse who has not passed it").check()
    page.get_by_role("group", name="Audience by role").get_by_label("nurse").check()
    page.get_by_label("Due rule").select_option("after_publication")
    page.get_by_label("Days (after publication").fill("30")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("status")).to_have_text("The draft is saved.")


def test_a_lead_builds_a_module_with_a_quiz_publishes_it_and_sees_the_matrix(served, page):
    served.create_user("lead@e2e.test", "training_lead")
    served.create_user("nina@e2e.test", "nurse")
    sign_in(page, served.base, "lead@e2e.test")
    page.goto(served.base + "/console/training")
    page.get_by_label("Title").fill("Hand hygiene")
    page.get_by_role("button", name="Start a draft").click()
    page.get_by_role("button", name="Publish this draft").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Not ready to publish")
    expect(summary.get_by_role("link", name="Quiz: Add at least one question.")).to_be_visible()
    _build_module(page, served.base)
    _checked(page, "training-editor")
    page.get_by_role("button", name="Publish this draft").click()
    expect(page.get_by_role("status")).to_have_text(
        "The module is published; its audience owes it now.")
    page.get_by_role("link", name="All modules").click()
    _checked(page, "training")
    page.get_by_role("link", name="Training standing: nurses by module").click()
    row = page.get_by_role("row").filter(has_text="nina")
    expect(row).to_contain_text("not started")
    expect(page.get_by_role("columnheader", name="PICC dressing change")).to_be_visible()
    _checked(page, "training-matrix")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "training-status.csv"



def test_an_admin_issues_a_code_a_device_enrolls_with_and_revokes_the_device(
        served, page, tmp_path):
    served.create_user("boss@e2e.test", "admin")
    served.create_user("nina@e2e.test", "nurse")
    signs_in_with_a_new_second_factor(page, served.base, "boss@e2e.test")
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("row").filter(has_text="nina@e2e.test")).to_contain_text("active")
    _checked(page, "users")
    page.get_by_role("link", name="Devices").click()
    page.get_by_label("Nurse", exact=True).select_option(label="nina (nina@e2e.test)")
    page.get_by_role("button", name="Issue an enrollment code").click()
    code = page.locator("#enrollment-code").inner_text()
    expect(page.get_by_role("img", name="Enrollment code as a QR code")).to_be_visible()
    _checked(page, "devices-code")
    store = tmp_path / "nina.sqlite3"
    _enroll(store, served.base, code)
    page.get_by_role("link", name="Devices").click()
    row = page.get_by_role("row").filter(has_text="infusync reference client")
    expect(row).to_contain_text("active")
    row.get_by_label("Lost or stolen").check()
    row.get_by_role("button", name="Revoke and wipe infusync reference client").click()
    expect(page.get_by_role("status")).to_contain_text("The device is revoked")
    expect(page.get_by_role("row").filter(has_text="infusync reference client")).to_contain_text(
        "revoked")
    _checked(page, "devices")
    synced = _device(store, "sync")
    assert synced.returncode != 0 and "wiped" in synced.stderr + synced.stdout
    page.get_by_role("link", name="Pumps").click()
    expect(page.get_by_role("heading", name="Pumps", level=1)).to_be_visible()
    _checked(page, "pumps")
